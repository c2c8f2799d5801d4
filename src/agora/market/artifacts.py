"""A job's published artifacts: what anyone needs to re-derive it.

The coordinator publishes to the content-addressed store, per round, each
accepted update and the aggregate (canonical array bytes,
:func:`~agora.federated.arrays.canonical_bytes`) and a :class:`RoundArtifact`
(who was accepted with which update hash, who was rejected by which rule,
who dropped out, and the aggregation rule as applied); at the end a
:class:`JobManifest` linking the spec, the initial model, every round and
the contributions. The manifest's CID goes on chain
(``DataMarket.publishManifest``) before the job is finalised, so the
payouts and the manifest are frozen together. :mod:`agora.market.audit`
reads them back.

Shapley values need the buyer's validation data, which is not published.
The manifest therefore records every coalition utility the coordinator
measured: from those, anyone recomputes the Shapley values, weights and
payouts; the utilities themselves are re-derivable only by whoever holds
the validation data (``validation_cid`` names it when it is published).
"""

import json
import logging
from collections.abc import Sequence
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from agora.federated.arrays import Arrays, arrays_from_canonical, canonical_bytes
from agora.federated.audit import Provider, RoundHistory, RoundRecord
from agora.federated.contributions import Contributions
from agora.market.errors import (
    ArtifactCorruptError,
    ArtifactMalformedError,
    ArtifactMissingError,
)
from agora.vault.blockstore import RAW, BlockBackend, BlockRef, Cid, parse_block_ref
from agora.vault.errors import BlockIntegrityError, BlockNotFoundError, InvalidCidError

logger = logging.getLogger(__name__)


class _Artifact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def canonical_json(self) -> bytes:
        """The bytes that are published and addressed by the CID."""
        return json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":")
        ).encode()


class AcceptedEntry(_Artifact):
    """A provider whose update passed validation and was aggregated."""

    index: int
    provider: str
    num_examples: int
    update_hash: str
    """:func:`~agora.federated.arrays.update_digest`, hex: the Merkle leaf."""
    update_cid: str


class RejectedEntry(_Artifact):
    """A provider whose update broke a validation rule."""

    index: int
    provider: str
    rule: str
    detail: str


class DroppedEntry(_Artifact):
    """A provider that sent no reply this round."""

    index: int
    provider: str


class Aggregation(_Artifact):
    """The spec's rule and what it became with this round's update count."""

    rule: str
    byzantine: int
    applied: str


class RoundArtifact(_Artifact):
    """One round as the coordinator ran it."""

    version: Literal[1] = 1
    job_id: int
    round: int
    accepted: tuple[AcceptedEntry, ...]
    rejected: tuple[RejectedEntry, ...]
    dropped: tuple[DroppedEntry, ...]
    aggregation: Aggregation
    kept_previous_model: bool
    updates_root: str
    aggregate_hash: str
    aggregate_cid: str


class CoalitionUtility(_Artifact):
    """The utility of the model a set of providers' updates made in a round."""

    providers: tuple[int, ...]
    utility: float


class ContributionRecord(_Artifact):
    """How contributions were measured, and what was measured."""

    method: str
    utility: str
    """What the utility is, in words (e.g. ROC AUC on 524 held-out images)."""
    validation_cid: str | None
    """The published validation set, when the buyer published it."""
    utilities: tuple[tuple[CoalitionUtility, ...], ...]
    """Per round, every coalition utility that was measured."""
    shapley: tuple[float, ...]
    weights_bps: tuple[int, ...]


class RoundLink(_Artifact):
    """Where one round's artifact is."""

    round: int
    record_cid: str


class JobManifest(_Artifact):
    """The root of a job's artifacts; its CID is on chain."""

    version: Literal[1] = 1
    job_id: int
    spec_cid: str
    providers: tuple[str, ...]
    initial_model_cid: str
    rounds: tuple[RoundLink, ...]
    contributions: ContributionRecord


_DocumentT = TypeVar("_DocumentT", bound=_Artifact)


def publish_job_artifacts(
    store: BlockBackend,
    *,
    job_id: int,
    spec_cid: str,
    providers: Sequence[Provider],
    initial: Arrays,
    records: Sequence[RoundRecord],
    history: Sequence[RoundHistory],
    contributions: Contributions,
    utility: str,
    validation_cid: str | None = None,
) -> tuple[Cid, JobManifest]:
    """Publish every round's updates, aggregate and record, then the
    manifest; return the manifest and its CID (for ``publishManifest``)."""
    rounds: list[RoundLink] = []
    for record, past in zip(records, history, strict=True):
        artifact = round_artifact(store, job_id, record, past)
        rounds.append(
            RoundLink(
                round=record.server_round,
                record_cid=put(store, artifact.canonical_json()),
            )
        )

    manifest = JobManifest(
        job_id=job_id,
        spec_cid=spec_cid,
        providers=tuple(provider.address for provider in providers),
        initial_model_cid=put(store, canonical_bytes(initial)),
        rounds=tuple(rounds),
        contributions=ContributionRecord(
            method="shapley-multi-round/exact",
            utility=utility,
            validation_cid=validation_cid,
            utilities=tuple(
                tuple(
                    CoalitionUtility(providers=tuple(sorted(members)), utility=value)
                    for members, value in sorted(
                        measured.items(),
                        key=lambda item: (len(item[0]), sorted(item[0])),
                    )
                )
                for measured in contributions.utilities
            ),
            shapley=tuple(contributions.shapley),
            weights_bps=tuple(contributions.weights_bps),
        ),
    )
    cid = put(store, manifest.canonical_json())
    logger.info("job %s: manifest %s published", job_id, cid)
    return cid, manifest


def round_artifact(
    store: BlockBackend, job_id: int, record: RoundRecord, past: RoundHistory
) -> RoundArtifact:
    """Publish one round's updates and aggregate; return its record."""
    accepted = tuple(
        AcceptedEntry(
            index=update.provider.index,
            provider=update.provider.address,
            num_examples=update.num_examples,
            update_hash=update.digest.hex(),
            update_cid=put(store, canonical_bytes(past.updates[update.provider.index])),
        )
        for update in record.accepted
    )
    return RoundArtifact(
        job_id=job_id,
        round=record.server_round,
        accepted=accepted,
        rejected=tuple(
            RejectedEntry(
                index=r.provider.index,
                provider=r.provider.address,
                rule=r.rule,
                detail=r.detail,
            )
            for r in record.rejected
        ),
        dropped=tuple(
            DroppedEntry(index=p.index, provider=p.address) for p in record.missing
        ),
        aggregation=Aggregation(
            rule=str(past.rule), byzantine=past.byzantine, applied=record.aggregation
        ),
        kept_previous_model=record.kept_previous_model,
        updates_root=record.updates_root.hex(),
        aggregate_hash=record.aggregate_hash.hex(),
        aggregate_cid=put(store, canonical_bytes(past.aggregate)),
    )


def put(store: BlockBackend, data: bytes) -> Cid:
    """Store ``data`` as a raw block; return its CIDv1."""
    ref = BlockRef.of(RAW, data)
    store.put_block(ref, data)
    return ref.cid


def fetch(store: BlockBackend, cid: str, what: str) -> bytes:
    """The bytes at ``cid``, checked against it; ``what`` names the
    artifact (round and provider) in the error if they are missing or
    altered."""
    try:
        return store.get_block(_ref(cid, what))
    except BlockNotFoundError as exc:
        raise ArtifactMissingError(f"{what}: block {cid} is not in the store") from exc
    except BlockIntegrityError as exc:
        raise ArtifactCorruptError(
            f"{what}: block {cid} does not match its CID"
        ) from exc


def _ref(cid: str, what: str) -> BlockRef:
    try:
        return parse_block_ref(cid)
    except InvalidCidError as exc:
        raise ArtifactMalformedError(f"{what}: {cid!r} is not a CID") from exc


def fetch_arrays(store: BlockBackend, cid: str, what: str) -> Arrays:
    """Model arrays published at ``cid``."""
    data = fetch(store, cid, what)
    try:
        return arrays_from_canonical(data)
    except ValueError as exc:
        raise ArtifactMalformedError(f"{what}: not canonical arrays ({exc})") from exc


def fetch_document(
    store: BlockBackend, cid: str, kind: type[_DocumentT], what: str
) -> _DocumentT:
    """A JSON artifact (round record, manifest) published at ``cid``."""
    data = fetch(store, cid, what)
    try:
        return kind.model_validate_json(data)
    except ValidationError as exc:
        raise ArtifactMalformedError(f"{what}: not a valid {kind.__name__}") from exc
