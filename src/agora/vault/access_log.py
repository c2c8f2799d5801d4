"""Proxies' access logs: batches of accesses anchored as Merkle roots.

Each re-encryption a proxy serves becomes an :class:`AccessEntry`. The
proxy publishes its pending entries as one :class:`AccessBatch`, a raw
block of canonical JSON in the blockstore (so its CID names exactly these
bytes), and anchors the RFC 6962 root of the entries in ``Anchor`` under
:data:`ACCESS_LOG_KIND`, with ``ipfs://<CID>`` as the anchor's URI. One
transaction covers any number of accesses (DESIGN.md, "Ledger").

Anyone holding the batch re-derives the root and compares it with the
anchor (:func:`read_batch`). The batch names grant ids, record ids and
keccak256 hashes of the requesters' DIDs, never a DID itself.
"""

import json
import logging
from dataclasses import dataclass

from eth_typing import ChecksumAddress
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agora.federated.merkle import merkle_root
from agora.ledger import Account, AnchorClient, AnchorId, AnchorRecord, anchor_kind
from agora.vault.blockstore import RAW, BlockBackend, BlockRef, Cid, parse_block_ref
from agora.vault.errors import AccessLogError, AccessLogRule, InvalidCidError

logger = logging.getLogger(__name__)

ACCESS_LOG_KIND = anchor_kind("consent-access-log")
"""The ``Anchor`` kind of every proxy's access-log batches."""

FORMAT = "agora-consent-access/v1"
_URI_SCHEME = "ipfs://"


class AccessEntry(BaseModel):
    """One access a proxy served: which grant, which record, who, when."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    grant_id: int = Field(ge=1)
    record_id: str = Field(min_length=1)
    requester_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    """keccak256 of the requester's DID, hex (the grant's grantee hash)."""
    timestamp: int = Field(ge=0)
    """Chain time (latest block) when the proxy checked the grant and
    served the request."""
    nonce: str = Field(pattern=r"^[0-9a-f]{32}$")
    """The request's nonce: it makes every entry, hence every leaf, unique."""

    def leaf(self) -> bytes:
        """The entry's Merkle leaf: its canonical JSON."""
        return _canonical(self.model_dump())


class AccessBatch(BaseModel):
    """A proxy's batch of entries, as published (wire format, JSON)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: str = Field(pattern=f"^{FORMAT}$")
    proxy: str
    """The proxy's account, which anchors the batch."""
    entries: tuple[AccessEntry, ...] = Field(min_length=1)

    def root(self) -> bytes:
        """RFC 6962 root over the entries' leaves, in batch order."""
        return merkle_root([entry.leaf() for entry in self.entries])

    def to_block(self) -> bytes:
        """Canonical JSON: the same batch, the same CID."""
        return _canonical(self.model_dump())


@dataclass(frozen=True)
class AnchoredBatch:
    """A batch, where it is stored, and the anchor that commits to it."""

    batch: AccessBatch
    cid: Cid
    anchor_id: AnchorId
    proxy: ChecksumAddress
    timestamp: int
    """Chain time of the anchoring block."""


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def publish_batch(
    store: BlockBackend,
    anchor: AnchorClient,
    entries: list[AccessEntry],
    *,
    account: Account,
) -> AnchoredBatch:
    """Store ``entries`` as one batch and anchor its root as ``account``."""
    batch = AccessBatch(format=FORMAT, proxy=account.address, entries=tuple(entries))
    block = batch.to_block()
    ref = BlockRef.of(RAW, block)
    store.put_block(ref, block)
    store.pin(ref)

    anchor_id = anchor.anchor(
        batch.root(), ACCESS_LOG_KIND, _URI_SCHEME + ref.cid, account=account
    )
    logger.info(
        "anchored %d accesses as %s (anchor %d)", len(entries), ref.cid, anchor_id
    )
    record = anchor.get(anchor_id)
    return AnchoredBatch(batch, ref.cid, anchor_id, account.address, record.timestamp)


def read_batch(store: BlockBackend, record: AnchorRecord) -> AnchoredBatch:
    """The batch ``record`` anchors, verified against it.

    Raises :class:`AccessLogError` naming the rule the batch breaks, or
    the blockstore's errors when its block is missing or corrupt.
    """
    if not record.uri.startswith(_URI_SCHEME):
        raise AccessLogError(AccessLogRule.URI, f"anchor {record.anchor_id}")
    try:
        ref = parse_block_ref(record.uri.removeprefix(_URI_SCHEME))
    except InvalidCidError:
        raise AccessLogError(AccessLogRule.URI, f"anchor {record.anchor_id}") from None

    try:
        batch = AccessBatch.model_validate_json(store.get_block(ref))
    except ValidationError as exc:
        raise AccessLogError(
            AccessLogRule.FORMAT, f"batch {ref.cid} is not an access log"
        ) from exc
    if batch.root() != record.root:
        raise AccessLogError(
            AccessLogRule.ROOT,
            f"batch {ref.cid} does not hash to anchor {record.anchor_id}",
        )
    if batch.proxy.lower() != record.writer.lower():
        raise AccessLogError(
            AccessLogRule.WRITER, f"batch {ref.cid} names another proxy than its writer"
        )
    return AnchoredBatch(
        batch, ref.cid, record.anchor_id, record.writer, record.timestamp
    )


def anchored_batches(store: BlockBackend, anchor: AnchorClient) -> list[AnchoredBatch]:
    """Every access-log batch any proxy anchored, verified, oldest first."""
    return [read_batch(store, record) for record in anchor.of_kind(ACCESS_LOG_KIND)]
