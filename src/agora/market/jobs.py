"""Federated training jobs on ``DataMarket``: match, train, audit, pay.

:class:`TrainingMarket` is the safe recipe over the ledger clients: it
publishes specs and dataset schemas to the blockstore before their CIDs go
on chain, and carries a job through its life cycle:

    offer_dataset → post_job (reward escrowed) → apply (matched on chain)
    → run_job: start → rounds (each committed) → contributions → finalize

Training itself is injected (a :class:`LocalTrainer` per provider and the
coordinator's scoring functions), so the same market runs the X-ray job and
the credit job.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from eth_typing import ChecksumAddress

from agora.errors import AgoraError
from agora.federated.arrays import Arrays
from agora.federated.audit import Provider, RoundAuditor, RoundHistory, RoundRecord
from agora.federated.clientapp import LocalTrainer
from agora.federated.contributions import Contributions, measure_contributions
from agora.federated.merkle import InclusionProof, verify_inclusion
from agora.federated.robust import RobustRule
from agora.federated.simulation import (
    RoundEvaluator,
    SimulationResources,
    quiet_flower,
    run_simulated_job,
)
from agora.federated.strategy import AuditedFedAvg
from agora.ledger import Account, Deployment
from agora.ledger.clients.datamarket import DataMarketClient
from agora.ledger.errors import LedgerError, NotFoundError
from agora.ledger.hashing import label_set_hash, modality_hash
from agora.ledger.model import DatasetId, JobId, TokenAmount, TxHash
from agora.market.artifacts import publish_job_artifacts
from agora.market.consent import InclusionSet
from agora.market.errors import (
    InvalidJobSpecError,
    JobFailedError,
    MissingInclusionError,
)
from agora.market.privacy import PrivacyOutcome, privacy_cost, privacy_spent
from agora.market.spec import DatasetSchema, TrainingJobSpec, load_spec, publish
from agora.vault.blockstore import BlockStore, Cid

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Payout:
    """What one provider earned from a finalised job."""

    provider: Provider
    shapley: float
    weight_bps: int
    amount: TokenAmount


@dataclass(frozen=True)
class JobOutcome:
    """A finalised job: its rounds, contributions and money flows."""

    job_id: JobId
    spec_cid: Cid
    model: Arrays
    rounds: list[RoundRecord]
    contributions: Contributions
    payouts: list[Payout]
    escrow: TokenAmount
    refund: TokenAmount
    start_tx: TxHash
    finalize_tx: TxHash
    history: list[RoundHistory] = field(default_factory=list)
    """Each round's previous model, accepted updates and aggregate, from
    which the committed aggregates and the contributions can be recomputed."""
    manifest_cid: Cid | None = None
    """The job's audit manifest (:mod:`agora.market.artifacts`), on chain."""
    privacy: PrivacyOutcome | None = None
    """Each provider's epsilon spent, for a job with differential privacy."""


class TrainingMarket:
    """The data-job side of the marketplace, over one ledger deployment."""

    def __init__(self, deployment: Deployment, store: BlockStore) -> None:
        self.deployment = deployment
        self.store = store

    def offer_dataset(self, owner: Account, schema: DatasetSchema) -> DatasetId:
        """Publish ``schema`` and register the offer (metadata only) on chain."""
        schema_cid = publish(self.store, schema)
        return self.deployment.data_market.register_dataset(
            modality=modality_hash(schema.modality),
            label_set=label_set_hash(schema.labels),
            samples=schema.samples,
            schema_cid=schema_cid,
            account=owner,
        )

    def post_job(
        self,
        buyer: Account,
        spec: TrainingJobSpec,
        *,
        reward: TokenAmount,
        deadline: int,
        coordinator: ChecksumAddress,
    ) -> tuple[JobId, Cid]:
        """Publish ``spec``, escrow ``reward`` and post the job.

        A spec with ``privacy`` posts its epsilon as the job's privacy cost,
        which each applying dataset's on-chain budget must cover.
        """
        spec_cid = publish(self.store, spec)
        market = self.deployment.data_market
        self.deployment.token.approve(market.address, reward, account=buyer)
        job_id = market.post_job(
            spec_cid=spec_cid,
            modality=modality_hash(spec.modality),
            label_set=label_set_hash(spec.labels),
            min_samples=spec.min_samples,
            reward=reward,
            min_providers=spec.min_providers,
            max_providers=spec.max_providers,
            deadline=deadline,
            coordinator=coordinator,
            account=buyer,
            privacy_cost=privacy_cost(spec),
        )
        return job_id, spec_cid

    def apply(self, provider: Account, job_id: JobId, dataset_id: DatasetId) -> TxHash:
        """Apply to ``job_id`` with a dataset; the contract checks the match
        and, for a private job, reserves its epsilon on the dataset's budget.

        First the provider reads the spec behind the job's CID and checks
        that the privacy cost on chain is the spec's epsilon: a job posted
        with a smaller cost would train at the spec's epsilon while charging
        the budget less. A mismatch raises :class:`InvalidJobSpecError`.
        """
        market = self.deployment.data_market
        job = market.get_job(job_id)
        spec = load_spec(self.store, job.spec_cid)
        if privacy_cost(spec) != job.privacy_cost:
            raise InvalidJobSpecError(
                f"job {job_id} charges {job.privacy_cost} milli-epsilon on chain "
                f"but its spec asks for {privacy_cost(spec)}"
            )
        return market.apply(job_id, dataset_id, account=provider)

    def declare_inclusion(
        self, provider: Account, job_id: JobId, included: InclusionSet
    ) -> TxHash:
        """Declare on chain, as a provider of a consent-scoped job, the
        records it will train on (see :mod:`agora.market.consent`)."""
        return self.deployment.data_market.declare_inclusion(
            job_id, included.inclusion, account=provider
        )

    def run_job(
        self,
        job_id: JobId,
        spec: TrainingJobSpec,
        *,
        coordinator: Account,
        names: dict[ChecksumAddress, str],
        trainer: LocalTrainer,
        initial: Arrays,
        utility: Callable[[Arrays], float],
        evaluate: RoundEvaluator | None = None,
        on_round: Callable[[RoundRecord], None] | None = None,
        resources: SimulationResources | None = None,
        utility_description: str = "validation score of the coordinator",
        validation_cid: str | None = None,
    ) -> JobOutcome:
        """Start the job, train it round by round, measure, publish and pay.

        Provider ``i`` of the job (on-chain application order) trains on
        partition ``i`` of ``trainer``. ``utility`` scores a model on the
        coordinator's validation data, for contributions;
        ``utility_description`` says in the manifest what it measures, and
        ``validation_cid`` names the validation set if it is published.
        An update may claim at most the samples its provider offered, or
        for a consent-scoped job (``spec.purpose``) the records it declared
        included; there, a provider that declared nothing raises
        :class:`MissingInclusionError` before the job starts. Before paying,
        every round's updates, aggregate and record and the job's manifest
        are published to the store, and the manifest's CID goes on chain
        (:mod:`agora.market.artifacts`).
        """
        market = self.deployment.data_market
        job = market.get_job(job_id)
        providers = [
            Provider(
                index,
                names.get(address, address),
                address,
                max_examples=examples_bound(market, job_id, address, spec),
            )
            for index, address in enumerate(market.providers(job_id))
        ]
        start_tx = market.start_job(job_id, account=coordinator)
        logger.info("job %s started with %s providers", job_id, len(providers))

        def commit(server_round: int, root: bytes, aggregate_hash: bytes) -> str:
            return market.commit_round(
                job_id, server_round, root, aggregate_hash, account=coordinator
            )

        auditor = RoundAuditor(
            job_id=job_id,
            providers=providers,
            committer=commit,
            max_update_norm=spec.max_update_norm,
            aggregation=RobustRule(spec.aggregation),
            byzantine=spec.byzantine or 0,
        )

        # Train (every round is committed as soon as it is aggregated),
        # measure and publish. Whatever stops the job here, the escrow goes
        # back to the buyer instead of staying locked in a running job.
        try:
            with quiet_flower():
                model = run_simulated_job(
                    strategy=AuditedFedAvg(auditor, on_round=on_round),
                    trainer=trainer,
                    initial=initial,
                    rounds=spec.rounds,
                    evaluate=evaluate,
                    resources=resources,
                )
            contributions = measure_contributions(providers, auditor.history, utility)
            # The epsilon each provider spent, by the accountant, over the
            # rounds it was asked to train.
            privacy = privacy_spent(spec, providers, rounds=len(auditor.records))

            # Publish what an auditor re-derives the job from; its root goes on
            # chain before the payment, which freezes it.
            manifest_cid, _ = publish_job_artifacts(
                self.store,
                job_id=job_id,
                spec_cid=job.spec_cid,
                providers=providers,
                initial=initial,
                records=auditor.records,
                history=auditor.history,
                contributions=contributions,
                utility=utility_description,
                validation_cid=validation_cid,
            )
            market.publish_manifest(job_id, manifest_cid, account=coordinator)
        except AgoraError as exc:
            self._abort(job_id, coordinator, reason=str(exc) or type(exc).__name__)
            raise JobFailedError(
                f"job {job_id} aborted and its escrow refunded: {exc}"
            ) from exc
        except BaseException as exc:
            # Ctrl-C, or a bug in a trainer's utility or in ours: refund
            # first, then let the original surface unchanged.
            self._abort(job_id, coordinator, reason=type(exc).__name__)
            raise

        # Pay by contribution; then read back what the contract paid, and
        # check nothing was created or lost.
        finalize_tx = market.finalize(
            job_id, contributions.weights_bps, account=coordinator
        )
        payouts = [
            Payout(
                provider,
                contributions.shapley[provider.index],
                contributions.weights_bps[provider.index],
                market.payout(job_id, provider.address),
            )
            for provider in providers
        ]
        refund = market.refunded(job_id)
        if sum(p.amount for p in payouts) + refund != job.reward:
            raise JobFailedError(f"job {job_id}: payouts and refund do not add up")
        return JobOutcome(
            job_id=job_id,
            spec_cid=Cid(job.spec_cid),
            model=model,
            rounds=auditor.records,
            contributions=contributions,
            payouts=payouts,
            escrow=job.reward,
            refund=refund,
            start_tx=start_tx,
            finalize_tx=finalize_tx,
            history=auditor.history,
            manifest_cid=manifest_cid,
            privacy=privacy,
        )

    def _abort(self, job_id: JobId, coordinator: Account, *, reason: str) -> None:
        logger.error("job %s failed (%s); aborting it", job_id, reason)
        try:
            self.deployment.data_market.abort(job_id, account=coordinator)
        except LedgerError:
            logger.exception("job %s could not be aborted; escrow still held", job_id)


def examples_bound(
    market: DataMarketClient,
    job_id: JobId,
    provider: ChecksumAddress,
    spec: TrainingJobSpec,
) -> int:
    """The most examples one update of ``provider`` may claim in ``job_id``
    (rule ``num-examples``): the samples its dataset offered, or for a
    consent-scoped job (``spec.purpose``) the records it declared included.

    Raises :class:`MissingInclusionError` for a consent-scoped job whose
    provider declared nothing on chain.
    """
    if spec.purpose is None:
        return market.dataset(market.provider_dataset(job_id, provider)).samples
    try:
        return market.inclusion(job_id, provider).count
    except NotFoundError:
        raise MissingInclusionError(
            f"job {job_id} is consent-scoped but {provider} declared no inclusion"
        ) from None


def verify_committed_inclusion(
    deployment: Deployment,
    job_id: JobId,
    server_round: int,
    leaf: bytes,
    proof: InclusionProof,
) -> None:
    """A provider's check that its update hash is in the round's on-chain root.

    Reads the root from ``DataMarket`` (not from the coordinator), so a
    coordinator that left an update out, or swapped it, is caught. Raises
    :class:`~agora.federated.errors.InclusionProofError` if the proof fails.
    """
    committed = deployment.data_market.round_commitment(job_id, server_round)
    verify_inclusion(leaf, proof, committed.updates_root)


def verify_receipts(deployment: Deployment, outcome: JobOutcome) -> int:
    """Every provider checks its own receipts against the on-chain roots;
    returns the number of updates checked.

    The leaf is the hash the provider computed on its side before sending
    (its receipt), not the coordinator's; only the audit path comes from
    the coordinator, and the root comes from the chain. Raises
    :class:`~agora.federated.errors.InclusionProofError` on the first
    update that is not where the coordinator says.
    """
    checked = 0
    for record in outcome.rounds:
        for update in record.accepted:
            if update.provider_digest is None:
                continue
            _, proof = record.proof_for(update.provider.index)
            verify_committed_inclusion(
                deployment,
                outcome.job_id,
                record.server_round,
                update.provider_digest,
                proof,
            )
            checked += 1
    return checked
