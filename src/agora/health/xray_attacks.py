"""The X-ray market job under attack: one hospital misbehaves, the job goes on.

Support for ``benchmarks/fl_attacks.py`` and the attack tests. Each call of
:func:`run_attack_job` deploys a fresh embedded ledger, lets the three
hospitals of the health demo offer their non-IID parts, posts a job with
the chosen aggregation rule in its spec, and runs it through
:meth:`TrainingMarket.run_job` with a
:class:`~agora.federated.faults.FaultyTrainer`: hospital ``attacker``
carries out the attack in its own ClientApp, the others train honestly.
The final model is scored on the official test split.

Attacks run in every round but ``dropout``, in which the provider fails
from the middle round on and never comes back.

The same job runs under differential privacy when the setup has a
``privacy`` section (``benchmarks/fl_dp.py``, the DP tests): the spec
carries it, the hospitals train the GroupNorm model under DP-SGD, and each
hospital may first set its dataset's on-chain privacy budget.
"""

import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from agora.federated.clientapp import LocalTrainer
from agora.federated.faults import Attack, FaultyTrainer
from agora.federated.simulation import SimulationResources
from agora.health.demo import MAX_UPDATE_NORM
from agora.health.xray import ImageSplit, TrainConfig, load_pneumoniamnist
from agora.health.xray_job import (
    LABELS,
    MODALITY,
    MODEL_NAME,
    PRIVATE_MODEL_NAME,
    XrayCoordinator,
    XrayTrainer,
    auc_or_chance,
    initial_model,
    probabilities,
    stratified_rows,
)
from agora.ledger import (
    Account,
    DatasetId,
    Deployment,
    JobId,
    MilliEpsilon,
    Role,
    connect,
    deploy,
    tokens,
)
from agora.market.jobs import JobOutcome, TrainingMarket
from agora.market.spec import (
    Aggregation,
    DatasetSchema,
    PrivacySpec,
    TrainingJobSpec,
)
from agora.settings import Settings
from agora.vault.blockstore import BlockStore

HOSPITALS = ("hospital-a", "hospital-b", "hospital-c")


@dataclass(frozen=True)
class AttackSetup:
    """One configuration shared by the clean run and every attacked run."""

    data_dir: Path
    work_dir: Path
    rounds: int = 10
    local_epochs: int = 2
    seed: int = 7
    attacker: int = 0
    """The misbehaving hospital; 0 is the largest (55 % of the rows)."""
    max_rows: int | None = None
    """Rows per hospital (stratified), for smoke runs; all when ``None``."""
    eval_rows: int | None = None
    """Validation and test rows scored (stratified); all when ``None``."""
    resources: SimulationResources | None = None
    privacy: PrivacySpec | None = None
    """The job's differential privacy; none for a plain job."""
    privacy_budget: MilliEpsilon | None = None
    """Each hospital's on-chain privacy budget for its dataset; unlimited
    when ``None``."""
    lr: float | None = None
    """The hospitals' learning rate; :class:`TrainConfig`'s when ``None``."""


@dataclass(frozen=True)
class AttackRun:
    """One job's outcome and scores."""

    attack: Attack | None
    aggregation: str
    outcome: JobOutcome
    test_auc: float
    wall_s: float

    @property
    def rejected(self) -> dict[str, int]:
        """Rejected updates over all rounds, by rule."""
        rules = Counter(r.rule for rec in self.outcome.rounds for r in rec.rejected)
        return dict(sorted(rules.items()))

    @property
    def missing(self) -> int:
        """Provider-rounds without a reply."""
        return sum(len(record.missing) for record in self.outcome.rounds)


def attack_rounds(attack: Attack, rounds: int) -> frozenset[int] | None:
    """The rounds an attack runs in: every round, or from the middle on for
    ``dropout``."""
    if attack is Attack.DROPOUT:
        return frozenset(range(rounds // 2 + 1, rounds + 1))
    return None


def honest_trainer(setup: AttackSetup) -> XrayTrainer:
    """The hospitals' honest training for ``setup``."""
    config = replace(TrainConfig(), local_epochs=setup.local_epochs)
    if setup.lr is not None:
        config = replace(config, lr=setup.lr)
    return XrayTrainer(
        setup.data_dir.resolve(),
        setup.seed,
        config,
        max_rows=setup.max_rows,
        privacy=setup.privacy,
    )


def run_attack_job(
    setup: AttackSetup,
    attack: Attack | None,
    *,
    aggregation: Aggregation = "fedavg",
    byzantine: int | None = None,
) -> AttackRun:
    """Run the X-ray job once, clean (``attack=None``) or under ``attack``
    by hospital ``setup.attacker``."""
    started = time.perf_counter()
    honest = honest_trainer(setup)
    trainer: LocalTrainer = honest
    if attack is not None:
        trainer = FaultyTrainer(
            honest,
            attack,
            setup.attacker,
            rounds=attack_rounds(attack, setup.rounds),
            poisoned=replace(honest, flip_labels=True),
        )
    outcome, test_auc = run_xray_job(
        setup,
        trainer,
        aggregation=aggregation,
        byzantine=byzantine,
        label=f"{attack or 'clean'}-{aggregation}",
    )
    return AttackRun(
        attack, aggregation, outcome, test_auc, time.perf_counter() - started
    )


def run_xray_job(
    setup: AttackSetup,
    trainer: LocalTrainer,
    *,
    aggregation: Aggregation = "fedavg",
    byzantine: int | None = None,
    label: str = "job",
) -> tuple[JobOutcome, float]:
    """Run the X-ray job with ``trainer`` (honest or faulty) through the
    market on a fresh embedded ledger; return its outcome and test AUC."""
    posted = post_xray_job(
        setup,
        aggregation=aggregation,
        byzantine=byzantine,
        work=setup.work_dir / label,
    )
    return run_posted_job(setup, posted, trainer)


def run_posted_job(
    setup: AttackSetup, posted: "PostedXrayJob", trainer: LocalTrainer
) -> tuple[JobOutcome, float]:
    """Run a job of :func:`post_xray_job`; return its outcome and test AUC."""
    data = load_pneumoniamnist(setup.data_dir)

    # Train, measure contributions, pay; then score on the test split.
    coordinator = XrayCoordinator(_rows(data.val, setup.eval_rows, setup.seed))
    outcome = posted.market.run_job(
        posted.job_id,
        posted.spec,
        coordinator=posted.buyer,
        names=dict(zip((h.address for h in posted.hospitals), HOSPITALS, strict=True)),
        trainer=trainer,
        initial=initial_model(
            setup.seed, norm="batch" if setup.privacy is None else "group"
        ),
        utility=coordinator.utility,
        resources=setup.resources,
    )
    test = _rows(data.test, setup.eval_rows, setup.seed)
    test_auc = auc_or_chance(test.labels, probabilities(outcome.model, test))
    return outcome, test_auc


@dataclass(frozen=True)
class PostedXrayJob:
    """A posted X-ray job with its hospitals matched, on a fresh ledger."""

    deployment: Deployment
    market: TrainingMarket
    job_id: JobId
    spec: TrainingJobSpec
    buyer: Account
    hospitals: list[Account]
    datasets: list[DatasetId]
    """Each hospital's dataset offer, in hospital order."""


def post_xray_job(
    setup: AttackSetup,
    *,
    aggregation: Aggregation = "fedavg",
    byzantine: int | None = None,
    work: Path,
) -> PostedXrayJob:
    """A fresh ledger and market with the job posted and the hospitals
    matched, each offering the rows it will train on (and setting its
    budget first when ``setup.privacy_budget`` is given)."""
    honest = honest_trainer(setup)
    chain = connect(Settings(chain_url=None, cache_dir=setup.work_dir / "cache"))
    admin = chain.new_account("admin")
    deployment = deploy(chain, admin)
    buyer = chain.new_account("buyer")
    hospitals = [chain.new_account(h) for h in HOSPITALS]
    deployment.consortium.add_member(
        buyer.address, "buyer", Role.BUYER | Role.COORDINATOR, account=admin
    )
    for hospital_name, hospital in zip(HOSPITALS, hospitals, strict=True):
        deployment.consortium.add_member(
            hospital.address, hospital_name, Role.HOSPITAL, account=admin
        )
    reward = tokens(1_000)
    # Enough for a second job: the privacy tests post one against the
    # budgets the first spent.
    deployment.token.mint(buyer.address, tokens(2_000), account=admin)
    market = TrainingMarket(deployment, BlockStore(work / "blocks"))
    spec = TrainingJobSpec(
        task="pneumonia-detection",
        modality=MODALITY,
        labels=LABELS,
        model=MODEL_NAME if setup.privacy is None else PRIVATE_MODEL_NAME,
        rounds=setup.rounds,
        local_epochs=setup.local_epochs,
        min_samples=10,
        min_providers=len(hospitals),
        max_providers=len(hospitals),
        max_update_norm=MAX_UPDATE_NORM,
        aggregation=aggregation,
        byzantine=byzantine,
        seed=setup.seed,
        privacy=setup.privacy,
    )
    job_id, _ = market.post_job(
        buyer,
        spec,
        reward=reward,
        deadline=chain.now() + 86_400,
        coordinator=buyer.address,
    )
    datasets = []
    for index, hospital in enumerate(hospitals):
        split = honest.split(index)
        normal, pneumonia = (int(n) for n in np.bincount(split.labels, minlength=2))
        dataset = market.offer_dataset(
            hospital,
            DatasetSchema(
                modality=MODALITY,
                labels=LABELS,
                shape=(28, 28),
                dtype="uint8",
                samples=len(split),
                label_counts={"normal": normal, "pneumonia": pneumonia},
            ),
        )
        if setup.privacy_budget is not None:
            deployment.data_market.set_privacy_budget(
                dataset, setup.privacy_budget, account=hospital
            )
        market.apply(hospital, job_id, dataset)
        datasets.append(dataset)
    return PostedXrayJob(deployment, market, job_id, spec, buyer, hospitals, datasets)


def _rows(split: ImageSplit, count: int | None, seed: int) -> ImageSplit:
    """A class-stratified draw of ``count`` rows (all when ``None``)."""
    if count is None or count >= len(split):
        return split
    return split.subset(stratified_rows(split.labels, count, seed=seed))
