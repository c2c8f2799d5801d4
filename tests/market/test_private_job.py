"""A private (DP-SGD) X-ray job through the market, on a small subset.

Three hospitals (120 rows each) set an on-chain privacy budget of 5.0 on
their datasets and train a two-round job of epsilon 3.0 under DP-SGD; every
step is the production path (embedded ledger, Flower's Simulation Engine,
Opacus). The job spends its epsilon on chain, each hospital's accountant
stays within it, and a second job of the same epsilon no longer fits.
"""

import os
from pathlib import Path

import numpy as np
import pytest
from opacus.accountants import RDPAccountant

from agora.federated.privacy import RDP_ORDERS
from agora.federated.simulation import SimulationResources
from agora.health.xray import NPZ_NAME
from agora.health.xray_attacks import (
    AttackSetup,
    PostedXrayJob,
    honest_trainer,
    post_xray_job,
    run_posted_job,
)
from agora.health.xray_job import initial_model
from agora.ledger import ContractRevertError, JobId, JobState, MilliEpsilon, tokens
from agora.market.jobs import JobOutcome
from agora.market.spec import PrivacySpec

DATA_DIR = Path(
    os.environ.get(
        "AGORA_DATA_DIR", Path(__file__).parents[2].parent / "shared" / "data"
    )
)
PRIVACY = PrivacySpec(
    mechanism="dp-sgd", epsilon=3.0, delta=1e-4, max_grad_norm=1.0, batch_size=32
)


@pytest.fixture(scope="module")
def private_job(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[AttackSetup, PostedXrayJob, JobOutcome]:
    if not (DATA_DIR / NPZ_NAME).is_file():
        pytest.skip(f"{NPZ_NAME} not in {DATA_DIR}; set AGORA_DATA_DIR")
    work = tmp_path_factory.mktemp("private")
    setup = AttackSetup(
        DATA_DIR,
        work,
        rounds=2,
        local_epochs=1,
        max_rows=120,
        eval_rows=200,
        resources=SimulationResources(num_cpus=2, cpus_per_client=0.5),
        privacy=PRIVACY,
        privacy_budget=MilliEpsilon(5_000),
    )
    posted = post_xray_job(setup, work=work / "job")
    outcome, _ = run_posted_job(setup, posted, honest_trainer(setup))
    return setup, posted, outcome


def test_each_provider_spends_at_most_the_spec_epsilon(
    private_job: tuple[AttackSetup, PostedXrayJob, JobOutcome],
) -> None:
    setup, _, outcome = private_job

    assert outcome.privacy is not None
    assert (outcome.privacy.epsilon, outcome.privacy.delta) == (3.0, 1e-4)
    assert len(outcome.privacy.providers) == 3
    for spent in outcome.privacy.providers:
        # 120 rows, expected batch 32: 4 steps a round at sample rate 0.267.
        assert (spent.sample_rate, spent.steps) == (pytest.approx(32 / 120), 8)
        assert 2.9 < spent.epsilon_spent <= 3.0
        # Opacus's accountant, step by step, agrees.
        accountant = RDPAccountant()
        for _ in range(spent.steps):
            accountant.step(
                noise_multiplier=spent.noise_multiplier, sample_rate=spent.sample_rate
            )
        assert accountant.get_epsilon(1e-4, alphas=list(RDP_ORDERS)) == (
            pytest.approx(spent.epsilon_spent)
        )

    # The job trained: the model moved from its start and is finite.
    start = initial_model(setup.seed, norm="group")
    assert set(outcome.model) == set(start)
    assert all(np.isfinite(array).all() for array in outcome.model.values())
    assert not all(np.array_equal(outcome.model[n], start[n]) for n in start)


def test_the_chain_records_the_spend(
    private_job: tuple[AttackSetup, PostedXrayJob, JobOutcome],
) -> None:
    _, posted, outcome = private_job
    data_market = posted.deployment.data_market

    job = data_market.get_job(outcome.job_id)
    assert job.state is JobState.FINALIZED
    assert job.privacy_cost == 3_000
    for dataset_id in posted.datasets:
        dataset = data_market.dataset(dataset_id)
        assert (dataset.privacy_budget, dataset.privacy_spent) == (5_000, 3_000)
        assert dataset.privacy_remaining == 2_000


def test_a_job_past_the_remaining_budget_is_refused_on_chain(
    private_job: tuple[AttackSetup, PostedXrayJob, JobOutcome],
) -> None:
    _, posted, _ = private_job
    market, chain = posted.market, posted.deployment.data_market.chain

    def post(spec_privacy: PrivacySpec | None) -> JobId:
        job_id, _ = market.post_job(
            posted.buyer,
            posted.spec.model_copy(update={"privacy": spec_privacy}),
            reward=tokens(10),
            deadline=chain.now() + 3_600,
            coordinator=posted.buyer.address,
        )
        return job_id

    # Rule: epsilon 3.0 does not fit in the 2.0 left.
    second = post(PRIVACY)
    with pytest.raises(ContractRevertError) as refused:
        market.apply(posted.hospitals[0], second, posted.datasets[0])
    assert refused.value.reason == "datamarket: privacy budget exhausted"

    # Rule: a job without differential privacy never fits a finite budget.
    plain = post(None)
    with pytest.raises(ContractRevertError) as refused:
        market.apply(posted.hospitals[1], plain, posted.datasets[1])
    assert refused.value.reason == "datamarket: dataset needs a private job"

    # A job within what is left still fits, and spends it.
    smaller = post(PRIVACY.model_copy(update={"epsilon": 2.0}))
    market.apply(posted.hospitals[2], smaller, posted.datasets[2])
    assert posted.deployment.data_market.dataset(posted.datasets[2]).privacy_spent == (
        5_000
    )
