"""What a grant covers, and how a proxy tells a record is covered.

A grant's scope on chain (``Consent.vy``) is a Merkle root over a set of
record ids, a :class:`~agora.ledger.Category` mask, or both. A proxy,
asked to re-encrypt one object, must know which record that object is and
what category it has: an Umbral key fragment opens *every* capsule wrapped
to the owner's key, so the proxy's scope check is all that keeps a grant
for conditions from opening the owner's other records.

That link is a :class:`RecordLabel`: the owner's signature, with the key of
the account that owns the grant, over (record id, category, envelope CID).
The grantee carries the labels of the records shared with it and shows one
with each request; for a record-set scope, with the record id's inclusion
proof in the grant's root. Record ids are sorted by their UTF-8 bytes and
hashed as an RFC 6962 tree (:mod:`agora.federated.merkle`).

Example::

    >>> ids = ["Condition/c1", "MedicationRequest/m1"]
    >>> root = records_root(ids)
    >>> verify_inclusion(b"Condition/c1", record_proof(ids, "Condition/c1"), root)
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NewType

from eth_typing import ChecksumAddress

from agora.federated.errors import InclusionProofError
from agora.federated.merkle import (
    InclusionProof,
    inclusion_proof,
    merkle_root,
    verify_inclusion,
)
from agora.identity.errors import InvalidSignatureError
from agora.identity.keys import KeyPair, KeyType, verify_recoverable
from agora.ledger import NO_RECORDS, Account, Category, Grant
from agora.vault.blockstore import Cid
from agora.vault.errors import ForeignLabelError, OutOfScopeError

__all__ = [
    "InclusionProof",
    "RecordId",
    "RecordLabel",
    "Scope",
    "check_covered",
    "record_proof",
    "records_root",
    "verify_inclusion",
]

RecordId = NewType("RecordId", str)
"""A record's id in its owner's vault; FHIR records use ``Type/id``."""

NO_CATEGORIES = Category(0)
"""The category mask of a scope made of record ids only."""

_LABEL_DOMAIN = b"agora-consent/v1 record label\n"


def _sorted_ids(record_ids: Iterable[str]) -> list[bytes]:
    return sorted({record_id.encode() for record_id in record_ids})


def records_root(record_ids: Iterable[str]) -> bytes:
    """The scope root of a set of record ids (duplicates count once)."""
    leaves = _sorted_ids(record_ids)
    if not leaves:
        raise OutOfScopeError("a record set needs at least one record id")
    return merkle_root(leaves)


def record_proof(record_ids: Iterable[str], record_id: str) -> InclusionProof:
    """The proof that ``record_id`` is in :func:`records_root` of the set."""
    leaves = _sorted_ids(record_ids)
    try:
        return inclusion_proof(leaves, leaves.index(record_id.encode()))
    except ValueError:
        raise OutOfScopeError("the record is not in the set") from None


@dataclass(frozen=True)
class Scope:
    """What a grant covers: ``records`` by id, and any of ``categories``."""

    records: frozenset[RecordId] = frozenset()
    categories: Category = NO_CATEGORIES

    def __post_init__(self) -> None:
        if not self.records and not self.categories:
            raise OutOfScopeError("a scope names records, categories or both")

    @property
    def root(self) -> bytes:
        """The records root for the chain, ``NO_RECORDS`` for none."""
        return records_root(self.records) if self.records else NO_RECORDS

    def admits(self, record_id: str, category: Category) -> bool:
        """Whether the scope covers a record (the owner's side of the rule)."""
        return bool(category & self.categories) or record_id in self.records


@dataclass(frozen=True)
class RecordLabel:
    """The owner's signed statement: record ``record_id``, of ``category``,
    is the object at ``envelope``."""

    record_id: RecordId
    category: Category
    envelope: Cid
    signature: bytes = field(repr=False)

    @classmethod
    def sign(
        cls, record_id: str, category: Category, envelope: Cid, *, owner: Account
    ) -> "RecordLabel":
        """Label a record with the owner account's key (ES256K)."""
        pair = KeyPair.from_private_bytes(KeyType.SECP256K1, bytes(owner.key))
        message = _label_message(record_id, category, envelope)
        return cls(RecordId(record_id), category, envelope, pair.sign(message))

    def verify(self, owner: ChecksumAddress) -> None:
        """Raise :class:`ForeignLabelError` unless ``owner`` signed this."""
        message = _label_message(self.record_id, self.category, self.envelope)
        try:
            verify_recoverable(self.signature, message, owner)
        except InvalidSignatureError:
            raise ForeignLabelError(
                "the record label is not signed by the grant's owner"
            ) from None


def _label_message(record_id: str, category: Category, envelope: str) -> bytes:
    body = {"category": int(category), "envelope": envelope, "record": record_id}
    return (
        _LABEL_DOMAIN + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    )


def check_covered(
    grant: Grant, label: RecordLabel, proof: InclusionProof | None
) -> None:
    """A proxy's check that ``grant`` covers the labelled record.

    The label must be the grant owner's; then either its category is in
    the grant's mask or ``proof`` leads from its record id to the grant's
    records root. Raises :class:`ForeignLabelError` or
    :class:`OutOfScopeError`.
    """
    label.verify(grant.owner)
    if label.category & grant.categories:
        return
    if grant.records_root == NO_RECORDS or proof is None:
        raise OutOfScopeError(f"grant {grant.grant_id} does not cover the record")
    try:
        verify_inclusion(label.record_id.encode(), proof, grant.records_root)
    except InclusionProofError:
        raise OutOfScopeError(
            f"the record is not in grant {grant.grant_id}'s record set"
        ) from None
