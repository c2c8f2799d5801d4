"""Import batches: a Merkle root to anchor, a proof for each record.

A batch is the records one import stored for one patient. Its root is the
RFC 6962 Merkle Tree Hash whose leaves are the SHA-256 digests of the
records' stored (canonical) bytes, in record id order, so that the root
does not depend on the order the Bundle listed them in. Anchoring the root
(``Anchor`` contract, one transaction per batch) lets the patient later show
one record with its :class:`RecordProof` and anyone check it unaltered
against the chain. ::

    >>> batch = build_batch(Did("did:key:z6Mk"), {RecordId("Patient/p"): b"{}"})
    >>> proof = batch.proof(RecordId("Patient/p"))
    >>> verify_record(b"{}", proof, batch.root)
    >>> verify_record(b"{ }", proof, batch.root)
    Traceback (most recent call last):
    ...
    agora.health.fhir.errors.RecordProofError: inclusion-proof: ...
"""

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from agora.federated.errors import InclusionProofError
from agora.federated.merkle import (
    InclusionProof,
    inclusion_proof,
    merkle_root,
    verify_inclusion,
)
from agora.health.fhir.errors import FhirRule, RecordProofError
from agora.health.fhir.resources import RecordId
from agora.identity.document import Did
from agora.ledger import Account, AnchorClient, AnchorId, anchor_kind

logger = logging.getLogger(__name__)

ANCHOR_TOPIC = "health-record"
"""Prefix of the Anchor ``kind`` of a patient's import batches."""


def batch_kind(owner: Did) -> bytes:
    """The Anchor ``kind`` of ``owner``'s batches: one history per patient
    and anchoring account."""
    return anchor_kind(f"{ANCHOR_TOPIC}:{owner}")


@dataclass(frozen=True)
class RecordProof:
    """What shows one record to be in an anchored batch."""

    owner: Did
    record_id: RecordId
    inclusion: InclusionProof


@dataclass(frozen=True)
class RecordBatch:
    """One patient's records of one import, as Merkle leaves."""

    owner: Did
    record_ids: tuple[RecordId, ...]
    leaves: tuple[bytes, ...]
    root: bytes

    def proof(self, record_id: RecordId) -> RecordProof:
        """The inclusion proof of ``record_id``; :class:`KeyError` if the
        batch does not hold it."""
        try:
            index = self.record_ids.index(record_id)
        except ValueError:
            raise KeyError(record_id) from None
        return RecordProof(self.owner, record_id, inclusion_proof(self.leaves, index))


def build_batch(owner: Did, records: Mapping[RecordId, bytes]) -> RecordBatch:
    """The batch of ``records`` (record id to stored bytes)."""
    record_ids = tuple(sorted(records))
    leaves = tuple(hashlib.sha256(records[r]).digest() for r in record_ids)
    return RecordBatch(owner, record_ids, leaves, merkle_root(leaves))


def verify_record(data: bytes, proof: RecordProof, root: bytes) -> None:
    """Check that ``data`` is the record ``proof`` names in the batch whose
    root is ``root``; raises :class:`RecordProofError` if not."""
    leaf = hashlib.sha256(data).digest()
    try:
        verify_inclusion(leaf, proof.inclusion, root)
    except InclusionProofError as exc:
        raise RecordProofError(
            FhirRule.INCLUSION_PROOF,
            f"record {proof.inclusion.index} of {proof.inclusion.tree_size} "
            "is not in the batch",
        ) from exc


def anchor_batch(
    batch: RecordBatch, client: AnchorClient, *, account: Account, uri: str = ""
) -> AnchorId:
    """Anchor ``batch``'s root under :func:`batch_kind` as ``account`` (a
    consortium member); returns the anchor id."""
    anchor_id = client.anchor(batch.root, batch_kind(batch.owner), uri, account=account)
    logger.info(
        "import batch of %d records for %s anchored as %s",
        len(batch.record_ids),
        batch.owner,
        anchor_id,
    )
    return anchor_id
