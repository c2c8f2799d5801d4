"""The audited round: validate, hash, aggregate, commit.

:class:`RoundAuditor` holds everything the coordinator does with a round's
updates that does not depend on how they arrived (Flower simulation or
deployment), so it can be tested on plain arrays:

1. validate each update (:mod:`agora.federated.validation`); a rejected
   update is logged and recorded, and the round goes on with the others;
2. hash each accepted update canonically (:func:`update_digest`);
3. aggregate the accepted updates by the job's rule (FedAvg by example
   count, or a robust rule of :mod:`agora.federated.robust`), or keep the
   previous model if none was accepted (never a NaN model);
4. commit the Merkle root of the update hashes and the aggregate's hash
   through the injected :class:`RoundCommitter` (the ledger in production).

Rounds are timed, so that the audit's share of a round can be reported.
"""

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from eth_typing import ChecksumAddress

from agora.federated.arrays import Arrays, aggregate_digest, update_digest
from agora.federated.errors import InvalidUpdateError
from agora.federated.merkle import InclusionProof, inclusion_proof, merkle_root
from agora.federated.robust import RobustRule, aggregate_round
from agora.federated.validation import check_round, validate_update

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Provider:
    """A data provider of a job, in its on-chain application order."""

    index: int
    name: str
    address: ChecksumAddress
    max_examples: int | None = None
    """Rows the provider offered on chain, or for a consent-scoped job the
    records it declared included; a reply may not claim more."""


@dataclass(frozen=True)
class Submission:
    """One provider's reply to a training round, before any check."""

    provider_index: int
    arrays: Arrays
    num_examples: object
    train_loss: float = float("nan")
    provider_digest: bytes | None = None
    """The update's hash as the provider computed it, if it sent one."""
    server_round: int | None = None
    """The round the provider says this update answers (``wrong-round``);
    ``None`` where the transport itself ties replies to the round."""


@dataclass(frozen=True)
class AcceptedUpdate:
    """An update that passed validation and went into the aggregate."""

    provider: Provider
    num_examples: int
    norm: float
    digest: bytes
    train_loss: float
    provider_digest: bytes | None = None
    """The provider's own hash of its update (equal to ``digest`` when sent)."""


@dataclass(frozen=True)
class RejectedUpdate:
    """An update that broke a validation rule and was left out."""

    provider: Provider
    rule: str
    detail: str


@dataclass
class RoundRecord:
    """What happened in one round, as committed and as measured."""

    server_round: int
    accepted: list[AcceptedUpdate]
    rejected: list[RejectedUpdate]
    missing: list[Provider]
    updates_root: bytes
    aggregate_hash: bytes
    tx_hash: str
    audit_seconds: float
    round_seconds: float = 0.0
    kept_previous_model: bool = False
    aggregation: str = str(RobustRule.MEAN)
    """The rule as applied this round, with its tolerance where it has one
    (``trimmed-mean(trim=1)``): what to recompute the aggregate with."""

    @property
    def leaves(self) -> list[bytes]:
        """The committed leaves (update hashes) in tree order."""
        return [update.digest for update in self.accepted]

    def proof_for(self, provider_index: int) -> tuple[bytes, InclusionProof]:
        """The leaf and inclusion proof of one provider's accepted update."""
        for position, update in enumerate(self.accepted):
            if update.provider.index == provider_index:
                return update.digest, inclusion_proof(self.leaves, position)
        raise LookupError(
            f"provider {provider_index} has no accepted update in round "
            f"{self.server_round}"
        )


class RoundCommitter(Protocol):
    """Writes a round commitment somewhere durable; returns a receipt id."""

    def __call__(
        self, server_round: int, updates_root: bytes, aggregate_hash: bytes, /
    ) -> str: ...


@dataclass
class RoundHistory:
    """The models of a round, kept for contribution measurement."""

    previous: Arrays
    updates: dict[int, Arrays]
    weights: dict[int, int]
    aggregate: Arrays
    rule: RobustRule = RobustRule.MEAN
    byzantine: int = 0

    def combine(self, members: Sequence[int]) -> Arrays:
        """The model the job's rule makes of these providers' updates
        (the previous model for none), as contribution measurement needs."""
        if not members:
            return self.previous
        model, _ = aggregate_round(
            self.rule,
            [self.updates[m] for m in members],
            [self.weights[m] for m in members],
            byzantine=self.byzantine,
        )
        return model


@dataclass
class RoundAuditor:
    """Audits rounds of one job; see the module docstring for the steps."""

    job_id: int
    providers: Sequence[Provider]
    committer: RoundCommitter
    max_update_norm: float
    clock: Callable[[], float] = time.perf_counter
    records: list[RoundRecord] = field(default_factory=list)
    history: list[RoundHistory] = field(default_factory=list)
    aggregation: RobustRule = RobustRule.MEAN
    byzantine: int = 0
    """Bad updates the robust rule is to tolerate (ignored by FedAvg)."""

    def audit_round(
        self, server_round: int, previous: Arrays, submissions: Sequence[Submission]
    ) -> tuple[Arrays, RoundRecord]:
        """Audit one round; return the new global model and the round's record."""
        started = self.clock()
        by_index = {provider.index: provider for provider in self.providers}

        # Validate and hash, in provider order so the tree order is stable.
        accepted: list[tuple[AcceptedUpdate, Arrays]] = []
        rejected: list[RejectedUpdate] = []
        seen: set[int] = set()
        for submission in sorted(submissions, key=lambda s: s.provider_index):
            provider = by_index.get(submission.provider_index)
            if provider is None or submission.provider_index in seen:
                logger.warning(
                    "job %s round %s: reply from unknown or repeated provider %s",
                    self.job_id,
                    server_round,
                    submission.provider_index,
                )
                continue
            seen.add(submission.provider_index)
            try:
                if submission.server_round is not None:
                    check_round(submission.server_round, server_round)
                valid = validate_update(
                    submission.arrays,
                    previous,
                    num_examples=submission.num_examples,
                    max_norm=self.max_update_norm,
                    max_examples=provider.max_examples,
                )
            except InvalidUpdateError as exc:
                logger.warning(
                    "job %s round %s: rejected update of %s (%s)",
                    self.job_id,
                    server_round,
                    provider.name,
                    exc.rule,
                )
                rejected.append(RejectedUpdate(provider, exc.rule, exc.detail))
                continue
            digest = update_digest(
                submission.arrays,
                job_id=self.job_id,
                server_round=server_round,
                provider=provider.address,
            )
            if submission.provider_digest not in (None, digest):
                # What arrived is not what the provider hashed and will check
                # against the chain: altered in transit, or a confused client.
                logger.warning(
                    "job %s round %s: update of %s does not match its receipt",
                    self.job_id,
                    server_round,
                    provider.name,
                )
                rejected.append(
                    RejectedUpdate(
                        provider, "digest-mismatch", "update differs from its receipt"
                    )
                )
                continue
            update = AcceptedUpdate(
                provider,
                valid.num_examples,
                valid.norm,
                digest,
                submission.train_loss,
                submission.provider_digest,
            )
            accepted.append((update, submission.arrays))
        missing = [p for p in self.providers if p.index not in seen]

        # Aggregate by the job's rule, or keep the previous model when
        # nothing passed.
        applied = str(self.aggregation)
        if accepted:
            aggregate, applied = aggregate_round(
                self.aggregation,
                [arrays for _, arrays in accepted],
                [update.num_examples for update, _ in accepted],
                byzantine=self.byzantine,
            )
        else:
            logger.warning(
                "job %s round %s: no valid update, keeping the previous model",
                self.job_id,
                server_round,
            )
            aggregate = previous

        # Commit the round.
        root = merkle_root([update.digest for update, _ in accepted])
        aggregate_hash = aggregate_digest(
            aggregate, job_id=self.job_id, server_round=server_round
        )
        tx_hash = self.committer(server_round, root, aggregate_hash)

        record = RoundRecord(
            server_round=server_round,
            accepted=[update for update, _ in accepted],
            rejected=rejected,
            missing=missing,
            updates_root=root,
            aggregate_hash=aggregate_hash,
            tx_hash=tx_hash,
            audit_seconds=self.clock() - started,
            kept_previous_model=not accepted,
            aggregation=applied,
        )
        self.records.append(record)
        self.history.append(
            RoundHistory(
                previous=previous,
                updates={u.provider.index: arrays for u, arrays in accepted},
                weights={u.provider.index: u.num_examples for u, _ in accepted},
                aggregate=aggregate,
                rule=self.aggregation,
                byzantine=self.byzantine,
            )
        )
        return aggregate, record
