"""The credit model as a federated market job among the lending platforms.

The same ``DataMarket`` flow as the X-ray job (:mod:`agora.market.jobs`): a
buyer, the consortium's credit bureau, posts the job with its reward
escrowed; each platform offers its train rows (metadata only) and applies,
matched on chain; every round is validated, hashed and committed; Shapley
contributions on the bureau's validation split set the payouts.

:class:`CreditTrainer` is what each platform runs inside its Flower
ClientApp: it carries the settings to find its rows and the fitted
standardisation, and ships back only weights. (In this embedded simulation
every worker reads the one shared table and keeps its own platform's rows;
in a deployment each platform's SuperNode has only its own.)
:class:`CreditCoordinator` is the bureau's side: it scores models on the
validation split it holds.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from eth_typing import ChecksumAddress

from agora.federated.arrays import Arrays
from agora.federated.audit import RoundRecord
from agora.federated.simulation import SimulationResources
from agora.ledger import Account, JobId, Role, TokenAmount
from agora.lending.consortium import LendingConsortium
from agora.lending.credit import (
    DEFAULT_SHARES,
    CreditEncoder,
    CreditNet,
    CreditSplits,
    CreditTable,
    CreditTrainConfig,
    PartitionRow,
    PlatformShare,
    auc,
    build_model,
    describe_partition,
    fit_encoder,
    load_credit_table,
    load_state_arrays,
    local_moments,
    partition_by_age,
    predict_proba,
    split_holdout,
    state_to_arrays,
    train_centralized,
    train_local,
)
from agora.market.jobs import JobOutcome, TrainingMarket
from agora.market.spec import DatasetSchema, TrainingJobSpec

logger = logging.getLogger(__name__)

MODALITY = "tabular/credit-card-default-tw"
LABELS = ("repaid", "default")
MODEL_NAME = "creditnet-mlp-64-32"
BUREAU_NAME = "Joint Credit Bureau"
"""The job's buyer and coordinator: the consortium's own credit bureau."""

MAX_UPDATE_NORM = 20.0
"""Bound on the L2 change of one update. Clean updates of this model moved
at most 2.7 (round 1 of the default run, shrinking to 0.06 by round 20 as
the learning rate decays; see the round records in result.json); a runaway
or scaled update does not stay under it."""


@dataclass(frozen=True)
class CreditData:
    """The table split once per run: what each side holds."""

    splits: CreditSplits
    parts: list[np.ndarray]
    rows: list[PartitionRow]
    encoder: CreditEncoder
    shares: tuple[PlatformShare, ...] = DEFAULT_SHARES


def prepare_credit_data(
    data_dir: Path, *, seed: int, shares: tuple[PlatformShare, ...] = DEFAULT_SHARES
) -> CreditData:
    """Load the table, split it, and fit the standardisation from the
    platforms' moments (each platform's aggregates, never its rows)."""
    splits = split_holdout(load_credit_table(data_dir), seed=seed)
    parts = partition_by_age(splits.train, seed=seed, shares=shares)
    encoder = fit_encoder([local_moments(splits.train.subset(p)) for p in parts])
    rows = describe_partition(splits.train, parts, shares)
    return CreditData(splits, parts, rows, encoder, shares)


@lru_cache(maxsize=4)
def _platform_tables(
    data_dir: Path, seed: int, shares: tuple[PlatformShare, ...]
) -> tuple[CreditTable, ...]:
    """Each platform's train rows, loaded once per worker process."""
    train = split_holdout(load_credit_table(data_dir), seed=seed).train
    parts = partition_by_age(train, seed=seed, shares=shares)
    return tuple(train.subset(part) for part in parts)


@dataclass(frozen=True)
class CreditTrainer:
    """One platform's local training, selected by its partition id."""

    data_dir: Path
    seed: int
    encoder: CreditEncoder
    config: CreditTrainConfig
    shares: tuple[PlatformShare, ...] = DEFAULT_SHARES
    threads: int = 1

    def train(
        self,
        arrays: Arrays,
        *,
        partition_id: int,
        server_round: int,
        total_rounds: int,
    ) -> tuple[Arrays, int, float]:
        """Train the global model on this platform's rows for one round."""
        torch.set_num_threads(self.threads)
        table = _platform_tables(self.data_dir, self.seed, self.shares)[partition_id]
        model = build_model(self.encoder.width, config=self.config)
        load_state_arrays(model, arrays)
        loss = train_local(
            model,
            self.encoder.encode(table),
            table.labels,
            config=self.config,
            round_index=server_round - 1,
            total_rounds=total_rounds,
            seed=self.seed * 1_000 + partition_id,
        )
        return dict(state_to_arrays(model)), len(table), loss


@dataclass
class CreditCoordinator:
    """The bureau's scoring of models on its validation split."""

    inputs: np.ndarray
    labels: np.ndarray
    config: CreditTrainConfig
    val_auc_per_round: dict[int, float] = field(default_factory=dict)

    def utility(self, arrays: Arrays) -> float:
        """Validation AUC of ``arrays``: the contribution game's payoff."""
        return auc(self.labels, probabilities(arrays, self.inputs, self.config))

    def on_round(self, server_round: int, arrays: Arrays) -> dict[str, float]:
        """Score the global model after a round (round 0: initial model)."""
        score = self.utility(arrays)
        self.val_auc_per_round[server_round] = score
        return {"val-auc": score}


def initial_model(width: int, config: CreditTrainConfig, seed: int) -> Arrays:
    """The job's starting weights, from the job's seed."""
    return dict(state_to_arrays(build_model(width, config=config, seed=seed)))


def probabilities(
    arrays: Arrays, inputs: np.ndarray, config: CreditTrainConfig
) -> np.ndarray:
    """Predicted default probabilities of a model on encoded rows."""
    model = build_model(inputs.shape[1], config=config)
    load_state_arrays(model, arrays)
    return predict_proba(model, inputs)


@dataclass(frozen=True)
class CreditJobPlan:
    """What the bureau posts: rounds, local training and the reward."""

    rounds: int
    config: CreditTrainConfig
    seed: int
    reward: TokenAmount


def run_credit_job(
    consortium: LendingConsortium,
    market: TrainingMarket,
    data: CreditData,
    plan: CreditJobPlan,
    *,
    data_dir: Path,
    on_posted: Callable[[JobId, str], None] | None = None,
    on_round: Callable[[RoundRecord], None] | None = None,
    resources: SimulationResources | None = None,
    bureau: Account | None = None,
) -> tuple[JobOutcome, CreditCoordinator]:
    """Admit the bureau, post the job, let the platforms apply, train, pay.

    ``bureau`` is the job's buyer account; a new one when None.
    """
    ledger, admin = consortium.ledger, consortium.admin
    bureau = bureau or consortium.chain.new_account(BUREAU_NAME)
    ledger.consortium.add_member(
        bureau.address, BUREAU_NAME, Role.BUYER | Role.COORDINATOR, account=admin
    )
    ledger.token.mint(bureau.address, plan.reward, account=admin)
    platforms = [consortium.platforms[row.name].account for row in data.rows]

    # Each platform offers its rows (metadata only; the rows stay home).
    dataset_ids = [
        market.offer_dataset(platform, _schema(row))
        for platform, row in zip(platforms, data.rows, strict=True)
    ]

    # The bureau posts the job with the reward escrowed; the platforms
    # apply and the contract checks each offer matches.
    spec = TrainingJobSpec(
        task="credit-default",
        modality=MODALITY,
        labels=LABELS,
        model=MODEL_NAME,
        rounds=plan.rounds,
        local_epochs=plan.config.local_epochs,
        min_samples=1_000,
        min_providers=len(platforms),
        max_providers=len(platforms),
        max_update_norm=MAX_UPDATE_NORM,
        seed=plan.seed,
    )
    job_id, spec_cid = market.post_job(
        bureau,
        spec,
        reward=plan.reward,
        deadline=consortium.chain.now() + 86_400,
        coordinator=bureau.address,
    )
    for platform, dataset_id in zip(platforms, dataset_ids, strict=True):
        market.apply(platform, job_id, dataset_id)
    if on_posted is not None:
        on_posted(job_id, spec_cid)
    logger.info("credit job %s posted and matched", job_id)

    coordinator = CreditCoordinator(
        data.encoder.encode(data.splits.val), data.splits.val.labels, plan.config
    )
    names: dict[ChecksumAddress, str] = {
        platform.address: row.name
        for platform, row in zip(platforms, data.rows, strict=True)
    }
    outcome = market.run_job(
        job_id,
        spec,
        coordinator=bureau,
        names=names,
        trainer=CreditTrainer(
            data_dir.resolve(), plan.seed, data.encoder, plan.config, data.shares
        ),
        initial=initial_model(data.encoder.width, plan.config, plan.seed),
        utility=coordinator.utility,
        evaluate=coordinator.on_round,
        on_round=on_round,
        resources=resources or SimulationResources(),
    )
    return outcome, coordinator


def _schema(row: PartitionRow) -> DatasetSchema:
    return DatasetSchema(
        modality=MODALITY,
        labels=LABELS,
        shape=(23,),
        dtype="int64",
        samples=row.samples,
        label_counts={"repaid": row.samples - row.defaults, "default": row.defaults},
    )


@dataclass(frozen=True)
class CreditScorer:
    """The trained model as a loan decision's :data:`Scorer`: a credit
    file (a row of ``table``, the held-out test split) to a probability of
    default."""

    arrays: Arrays
    encoder: CreditEncoder
    table: CreditTable
    config: CreditTrainConfig

    def __call__(self, credit_file: int) -> float:
        row = self.table.subset(np.array([credit_file]))
        inputs = self.encoder.encode(row)
        return float(probabilities(self.arrays, inputs, self.config)[0])


def train_baseline(
    data: CreditData, plan: CreditJobPlan, *, threads: int = 1
) -> CreditNet:
    """The centralised baseline of ``plan``: the same model, initial weights
    and schedule on the platforms' pooled train rows.

    Runs on ``threads`` torch threads, as each platform does: for a model
    this small more threads mostly add synchronisation.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return train_centralized(
            data.encoder.encode(data.splits.train),
            data.splits.train.labels,
            config=plan.config,
            rounds=plan.rounds,
            seed=plan.seed,
        )
    finally:
        torch.set_num_threads(previous)
