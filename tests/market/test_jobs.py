"""A whole data job on the embedded ledger and Flower's Simulation Engine.

The model is a small linear regression trained by gradient descent, so the
run takes seconds; one provider's trainer breaks in round 2 (NaN weights),
as a faulty hospital would. Everything else is the production path.
"""

import sys
from dataclasses import dataclass
from pathlib import Path

import cloudpickle
import numpy as np
import pytest

from agora.federated.arrays import Arrays
from agora.federated.errors import InclusionProofError
from agora.federated.simulation import SimulationResources
from agora.ledger import (
    Account,
    Deployment,
    Inclusion,
    JobId,
    JobState,
    MilliEpsilon,
    Role,
    TokenAmount,
    connect,
    deploy,
    label_set_hash,
    modality_hash,
    tokens,
)
from agora.market.audit import audit_job
from agora.market.errors import (
    InvalidJobSpecError,
    JobFailedError,
    MissingInclusionError,
)
from agora.market.jobs import JobOutcome, TrainingMarket, verify_committed_inclusion
from agora.market.spec import DatasetSchema, TrainingJobSpec, parse_spec, publish
from agora.settings import Settings
from agora.vault.blockstore import BlockStore

# Ray workers import this module by value: it is not on their sys.path.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

TRUE_WEIGHTS = np.array([1.0, -2.0, 0.5], dtype=np.float64)


def _data(seed: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, 3))
    return features, features @ TRUE_WEIGHTS + rng.normal(scale=0.1, size=rows)


@dataclass(frozen=True)
class LinearTrainer:
    """Gradient descent on provider ``i``'s rows; provider 1 breaks in round 2."""

    def train(
        self, arrays: Arrays, *, partition_id: int, server_round: int, total_rounds: int
    ) -> tuple[Arrays, int, float]:
        features, targets = _data(partition_id, 40 * (partition_id + 1))
        weights = arrays["w"].copy()
        for _ in range(20):
            gradient = features.T @ (features @ weights - targets) / len(targets)
            weights -= 0.1 * gradient
        if partition_id == 1 and server_round == 2:
            weights[:] = np.nan
        loss = float(np.mean((features @ weights - targets) ** 2))
        return {"w": weights}, len(targets), loss


@dataclass
class PostedJob:
    deployment: Deployment
    market: TrainingMarket
    job_id: JobId
    spec: TrainingJobSpec
    buyer: Account
    hospitals: list[Account]
    reward: TokenAmount
    admin: Account


def _post_job(tmp_path: Path, *, purpose: str | None = None) -> PostedJob:
    """Three hospitals matched to a three-round regression job (a
    consent-scoped one with ``purpose``)."""
    chain = connect(Settings(chain_url=None, cache_dir=tmp_path / "cache"))
    admin = chain.new_account("admin")
    deployment = deploy(chain, admin)
    buyer = chain.new_account("buyer")
    hospitals = [chain.new_account(f"hospital-{i}") for i in range(3)]
    deployment.consortium.add_member(
        buyer.address, "buyer", Role.BUYER | Role.COORDINATOR, account=admin
    )
    for i, hospital in enumerate(hospitals):
        deployment.consortium.add_member(
            hospital.address, f"hospital-{i}", Role.HOSPITAL, account=admin
        )
    reward = TokenAmount(tokens(100) + 7)  # odd: rounding dust must be refunded
    deployment.token.mint(buyer.address, reward, account=admin)
    market = TrainingMarket(deployment, BlockStore(tmp_path / "blocks"))

    spec = TrainingJobSpec(
        task="regression",
        modality="tabular/3",
        labels=("y", "unused"),
        model="linear",
        rounds=3,
        local_epochs=1,
        min_samples=10,
        min_providers=3,
        max_providers=3,
        max_update_norm=100.0,
        seed=0,
        purpose=purpose,
    )
    job_id, _ = market.post_job(
        buyer,
        spec,
        reward=reward,
        deadline=chain.now() + 3600,
        coordinator=buyer.address,
    )
    for i, hospital in enumerate(hospitals):
        dataset = market.offer_dataset(
            hospital,
            DatasetSchema(
                modality="tabular/3",
                labels=("y", "unused"),
                shape=(3,),
                dtype="float64",
                samples=40 * (i + 1),
                label_counts={},
            ),
        )
        market.apply(hospital, job_id, dataset)
    return PostedJob(deployment, market, job_id, spec, buyer, hospitals, reward, admin)


def _run(posted: PostedJob, trainer: object) -> JobOutcome:
    val_x, val_y = _data(99, 200)
    return posted.market.run_job(
        posted.job_id,
        posted.spec,
        coordinator=posted.buyer,
        names={h.address: f"hospital-{i}" for i, h in enumerate(posted.hospitals)},
        trainer=trainer,  # type: ignore[arg-type]
        initial={"w": np.zeros(3)},
        utility=lambda arrays: -float(np.mean((val_x @ arrays["w"] - val_y) ** 2)),
        resources=SimulationResources(num_cpus=2, cpus_per_client=0.5),
    )


def test_job_runs_commits_every_round_and_pays_by_contribution(tmp_path: Path) -> None:
    posted = _post_job(tmp_path)
    deployment, job_id, reward = posted.deployment, posted.job_id, posted.reward
    outcome = _run(posted, LinearTrainer())

    # The model learned, despite the broken update.
    np.testing.assert_allclose(outcome.model["w"], TRUE_WEIGHTS, atol=0.2)
    second = outcome.rounds[1]
    assert [(r.provider.index, r.rule) for r in second.rejected] == [(1, "non-finite")]

    # Every round is on chain as recorded, and every accepted update proves
    # its inclusion against the on-chain root.
    data_market = deployment.data_market
    job = data_market.get_job(job_id)
    assert job.state is JobState.FINALIZED and job.rounds_committed == 3
    for record in outcome.rounds:
        committed = data_market.round_commitment(job_id, record.server_round)
        assert committed.updates_root == record.updates_root
        assert committed.aggregate_hash == record.aggregate_hash
        for update in record.accepted:
            # The provider's own receipt, computed in its worker process.
            assert update.provider_digest == update.digest
            _, proof = record.proof_for(update.provider.index)
            verify_committed_inclusion(
                deployment, job_id, record.server_round, update.provider_digest, proof
            )
        # A leaf that was never committed does not verify.
        if record.accepted:
            _, proof = record.proof_for(record.accepted[0].provider.index)
            with pytest.raises(InclusionProofError):
                verify_committed_inclusion(
                    deployment, job_id, record.server_round, b"\x00" * 32, proof
                )

    # Anyone re-derives the job from the chain and the published artifacts:
    # the Flower-trained updates and aggregates match their commitments.
    assert outcome.manifest_cid == data_market.manifest_cid(job_id)
    report = audit_job(deployment, posted.market.store, job_id)
    assert report.ok, [str(m) for m in report.mismatches]
    assert report.rounds[1].rejected == [(posted.hospitals[1].address, "non-finite")]

    # Paid by contribution; escrow conserved to the last base unit.
    assert sum(p.weight_bps for p in outcome.payouts) == 10_000
    paid = sum(p.amount for p in outcome.payouts)
    assert paid + outcome.refund == reward
    assert 0 < outcome.refund < 3  # dust only
    for payout in outcome.payouts:
        assert deployment.token.balance_of(payout.provider.address) == payout.amount
    assert max(outcome.payouts, key=lambda p: p.shapley).amount == max(
        p.amount for p in outcome.payouts
    )


@dataclass(frozen=True)
class BrokenTrainer:
    """Every hospital sends NaN weights, every round."""

    def train(
        self, arrays: Arrays, *, partition_id: int, server_round: int, total_rounds: int
    ) -> tuple[Arrays, int, float]:
        return {"w": np.full(3, np.nan)}, 10, float("nan")


def test_job_without_a_valid_update_is_aborted_and_refunded(tmp_path: Path) -> None:
    posted = _post_job(tmp_path)
    token = posted.deployment.token
    with pytest.raises(JobFailedError, match="no provider delivered a valid update"):
        _run(posted, BrokenTrainer())

    data_market = posted.deployment.data_market
    assert data_market.get_job(posted.job_id).state is JobState.CANCELLED
    assert data_market.refunded(posted.job_id) == posted.reward
    assert token.balance_of(posted.buyer.address) == posted.reward
    assert all(token.balance_of(h.address) == 0 for h in posted.hospitals)


def test_job_whose_utility_crashes_is_aborted_and_refunded(tmp_path: Path) -> None:
    """A bug on the coordinator's side (here the utility raising ValueError,
    as sklearn does on non-finite scores) still refunds the buyer, and the
    bug itself surfaces unchanged instead of being dressed as a job error."""
    posted = _post_job(tmp_path)

    def crashing_utility(arrays: Arrays) -> float:
        raise ValueError("Input contains NaN")

    with pytest.raises(ValueError, match="Input contains NaN"):
        posted.market.run_job(
            posted.job_id,
            posted.spec,
            coordinator=posted.buyer,
            names={h.address: f"h{i}" for i, h in enumerate(posted.hospitals)},
            trainer=LinearTrainer(),
            initial={"w": np.zeros(3)},
            utility=crashing_utility,
            resources=SimulationResources(num_cpus=2, cpus_per_client=0.5),
        )

    data_market = posted.deployment.data_market
    assert data_market.get_job(posted.job_id).state is JobState.CANCELLED
    assert data_market.refunded(posted.job_id) == posted.reward
    assert posted.deployment.token.balance_of(posted.buyer.address) == posted.reward


def test_consent_scoped_job_bounds_updates_by_the_declared_count(
    tmp_path: Path,
) -> None:
    """Rule num-examples: in a consent-scoped job an update may claim no
    more examples than its provider declared included, even if it offered
    more. Hospital 2 offered 120 rows but declared 100 consented ones, and
    its trainer still reports 120."""
    posted = _post_job(tmp_path, purpose="research:regression")
    data_market = posted.deployment.data_market
    for hospital, count in zip(posted.hospitals, (40, 80, 100), strict=True):
        root = bytes([count]) * 32
        data_market.declare_inclusion(
            posted.job_id, Inclusion(root, count), account=hospital
        )

    outcome = _run(posted, LinearTrainer())

    for record in outcome.rounds:
        assert [u.provider.name for u in record.accepted][:1] == ["hospital-0"]
        over = [r for r in record.rejected if r.provider.name == "hospital-2"]
        assert [r.rule for r in over] == ["num-examples"]
        assert "120 exceeds the bound of 100" in over[0].detail
    assert outcome.payouts[2].amount == 0


def test_consent_scoped_job_needs_every_providers_inclusion(tmp_path: Path) -> None:
    posted = _post_job(tmp_path, purpose="research:regression")
    data_market = posted.deployment.data_market
    for hospital in posted.hospitals[:2]:
        data_market.declare_inclusion(
            posted.job_id, Inclusion(bytes([1]) * 32, 40), account=hospital
        )

    with pytest.raises(MissingInclusionError, match="declared no inclusion"):
        _run(posted, LinearTrainer())

    # Refused before it started: the buyer may still cancel after the deadline.
    assert data_market.get_job(posted.job_id).state is JobState.OPEN


def test_a_job_charging_less_than_its_spec_is_refused_by_the_provider(
    tmp_path: Path,
) -> None:
    # The buyer publishes a spec of epsilon 8 but posts the job on chain
    # with a cost of 0.001: the provider's check catches it before applying.
    posted = _post_job(tmp_path)
    deployment, hospital = posted.deployment, posted.hospitals[0]
    spec = parse_spec(
        {
            **posted.spec.model_dump(),
            "privacy": {
                "mechanism": "dp-sgd",
                "epsilon": 8.0,
                "delta": 1e-5,
                "max_grad_norm": 1.0,
                "batch_size": 16,
            },
        }
    )
    reward = tokens(1)
    deployment.token.mint(posted.buyer.address, reward, account=posted.admin)
    deployment.token.approve(
        deployment.data_market.address, reward, account=posted.buyer
    )
    cheap = deployment.data_market.post_job(
        spec_cid=publish(posted.market.store, spec),
        modality=modality_hash(spec.modality),
        label_set=label_set_hash(spec.labels),
        min_samples=spec.min_samples,
        reward=reward,
        min_providers=1,
        max_providers=3,
        deadline=deployment.data_market.chain.now() + 3_600,
        coordinator=posted.buyer.address,
        account=posted.buyer,
        privacy_cost=MilliEpsilon(1),
    )
    dataset = deployment.data_market.provider_dataset(posted.job_id, hospital.address)

    with pytest.raises(InvalidJobSpecError, match="charges 1 milli-epsilon"):
        posted.market.apply(hospital, cheap, dataset)

    assert deployment.data_market.providers(cheap) == []
    assert deployment.data_market.dataset(dataset).privacy_spent == 0
