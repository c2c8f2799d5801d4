"""Where imported records go: the :class:`RecordSink` protocol.

Import hands each record to a sink as its canonical bytes with its index
entry; the entry's ``owner`` is the patient's DID. :class:`VaultSink`
encrypts each record into the patient's vault (``agora.vault``).
:class:`MemorySink` (tests) and :class:`FolderSink` (``agora health
import``) store **plaintext**: they are for synthetic data and development,
not for real patients' records. ::

    >>> sink = MemorySink()
    >>> entry = IndexEntry(owner=Did("did:key:z6Mk"), record_id=RecordId("Patient/p"),
    ...                    resource_type="Patient", digest="00")
    >>> sink.put(entry.record_id, b"{}", entry)
    >>> sink.get(entry.owner, entry.record_id)
    b'{}'
"""

import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from agora.health.fhir.errors import FhirRule, PatientLinkError
from agora.health.fhir.index import IndexEntry, RecordIndex
from agora.health.fhir.resources import RecordId
from agora.identity.document import Did
from agora.ledger import Category
from agora.vault.blockstore import BlockBackend
from agora.vault.objects import put_encrypted
from agora.vault.reencryption import PublicKey
from agora.vault.scope import RecordId as VaultRecordId
from agora.vault.sharing import SharedRecord

INDEX_FILE = "index.jsonl"
"""The index of one owner's folder in a :class:`FolderSink`, a JSON object
per line."""


class RecordSink(Protocol):
    """Storage for imported records."""

    def put(self, record_id: RecordId, data: bytes, entry: IndexEntry) -> None:
        """Store ``data`` as ``record_id`` of ``entry.owner``, replacing any
        earlier version, and keep ``entry`` in the owner's index."""


class MemorySink:
    """Records and index in memory."""

    def __init__(self) -> None:
        self.records: dict[tuple[Did, RecordId], bytes] = {}
        self.index = RecordIndex()

    def put(self, record_id: RecordId, data: bytes, entry: IndexEntry) -> None:
        """See :meth:`RecordSink.put`."""
        self.records[entry.owner, record_id] = data
        self.index.add(entry)

    def get(self, owner: Did, record_id: RecordId) -> bytes:
        """The stored bytes; :class:`KeyError` if there are none."""
        return self.records[owner, record_id]


class FolderSink:
    """Records as files, ``ROOT/<owner>/<Type>/<id>.json``, and each owner's
    index as ``ROOT/<owner>/index.jsonl``; ``<owner>`` is the DID with ``:``
    replaced by ``_``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, record_id: RecordId, data: bytes, entry: IndexEntry) -> None:
        """See :meth:`RecordSink.put`."""
        path = self._path(entry.owner, record_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        with (self._folder(entry.owner) / INDEX_FILE).open("a") as index:
            index.write(json.dumps(entry.to_json()) + "\n")

    def get(self, owner: Did, record_id: RecordId) -> bytes:
        """The stored bytes; :class:`FileNotFoundError` if there are none."""
        return self._path(owner, record_id).read_bytes()

    def index(self, owner: Did) -> RecordIndex:
        """The owner's index as written so far; a record put again counts
        once, with its latest entry."""
        path = self._folder(owner) / INDEX_FILE
        lines = path.read_text().splitlines() if path.exists() else []
        latest: dict[RecordId, IndexEntry] = {}
        for line in lines:
            entry = IndexEntry.from_json(json.loads(line))
            latest.pop(entry.record_id, None)
            latest[entry.record_id] = entry
        return RecordIndex(latest.values())

    def _folder(self, owner: Did) -> Path:
        # DID syntax (W3C DID Core §3.1) allows no '/', so a checked DID
        # cannot leave the root; the check is repeated here for other callers.
        name = owner.replace(":", "_")
        if not owner.startswith("did:") or "/" in owner or name in {".", ".."}:
            raise PatientLinkError(FhirRule.INVALID_DID, "not a DID")
        return self.root / name

    def _path(self, owner: Did, record_id: RecordId) -> Path:
        # Record ids are ``Type/id`` with an id of FHIR id characters, which
        # the loader checked: at most one '/', never a path step.
        resource_type, _, resource_id = record_id.partition("/")
        return self._folder(owner) / resource_type / f"{resource_id}.json"


class VaultSink:
    """Records encrypted one by one into the vault, each wrapped to its
    owner's Umbral key; the index and each owner's catalog (record id,
    category, envelope CID) stay with the sink, the patient's node.

    ``owners`` gives the public key of every DID records may be filed
    under; a record for any other DID is refused before it is stored.
    """

    def __init__(self, store: BlockBackend, owners: Mapping[Did, PublicKey]) -> None:
        self.store = store
        self.index = RecordIndex()
        self._owners = dict(owners)
        self._catalogs: dict[Did, dict[RecordId, SharedRecord]] = {}

    def put(self, record_id: RecordId, data: bytes, entry: IndexEntry) -> None:
        """See :meth:`RecordSink.put`."""
        key = self._owners.get(entry.owner)
        if key is None:
            raise PatientLinkError(FhirRule.NO_DID, "no vault key for the record's DID")
        envelope = put_encrypted(self.store, io.BytesIO(data), key)
        catalog = self._catalogs.setdefault(entry.owner, {})
        catalog[record_id] = SharedRecord(
            VaultRecordId(record_id), Category.of(entry.resource_type), envelope
        )
        self.index.add(entry)

    def catalog(self, owner: Did) -> tuple[SharedRecord, ...]:
        """``owner``'s records as stored, by record id."""
        records = self._catalogs.get(owner, {})
        return tuple(records[record_id] for record_id in sorted(records))
