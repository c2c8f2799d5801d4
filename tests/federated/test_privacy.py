"""DP-SGD plans, accounting and the private training step (Opacus)."""

import itertools

import numpy as np
import pytest
import torch
from opacus.accountants import RDPAccountant

from agora.federated.errors import PrivacyError
from agora.federated.privacy import (
    RDP_ORDERS,
    DpSgdPlan,
    make_private,
    plan_dp_sgd,
    poisson_batches,
    secret_generator,
)
from agora.health.xray import ImageSplit, TrainConfig, build_model, train_local
from agora.health.xray.model import state_to_arrays


def _plan(**change: float) -> DpSgdPlan:
    settings = {
        "epsilon": 8.0,
        "delta": 1e-5,
        "max_grad_norm": 1.0,
        "batch_size": 64,
        "samples": 640,
        "rounds": 5,
        "local_epochs": 2,
    }
    return plan_dp_sgd(**(settings | change))  # type: ignore[arg-type]


def test_the_whole_job_stays_within_epsilon() -> None:
    plan = _plan()

    # 5 rounds x 2 epochs x 10 steps, each taking a row with probability 0.1.
    assert (plan.sample_rate, plan.steps_per_round, plan.rounds) == (0.1, 20, 5)
    spent = plan.epsilon_spent()
    assert 7.8 < spent <= 8.0  # calibrated to the target, never past it
    # The same figure from Opacus's accountant, composed step by step.
    accountant = RDPAccountant()
    for _ in range(100):
        accountant.step(noise_multiplier=plan.noise_multiplier, sample_rate=0.1)
    assert accountant.get_epsilon(1e-5, alphas=list(RDP_ORDERS)) == pytest.approx(spent)
    # Opacus's default orders give a looser (larger) bound, never a smaller one.
    assert accountant.get_epsilon(delta=1e-5) >= spent


def test_epsilon_grows_round_by_round() -> None:
    plan = _plan()

    spent = [plan.epsilon_spent(rounds) for rounds in range(plan.rounds + 1)]

    assert spent[0] == 0.0
    assert all(a < b for a, b in itertools.pairwise(spent))
    with pytest.raises(PrivacyError):
        plan.epsilon_spent(plan.rounds + 1)


def test_a_tighter_budget_or_a_longer_job_needs_more_noise() -> None:
    base = _plan().noise_multiplier

    assert _plan(epsilon=2.0).noise_multiplier > base
    assert _plan(rounds=10).noise_multiplier > base
    assert _plan(samples=6400).noise_multiplier < base  # amplification


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"delta": 1 / 640}, "delta not below 1/rows"),
        ({"delta": 0.0}, "delta not positive"),
        ({"epsilon": -1.0}, "epsilon not positive"),
        ({"max_grad_norm": 0.0}, "clipping bound not positive"),
        ({"samples": 0}, "no rows"),
        ({"batch_size": 0}, "empty batches"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_plan_that_breaks_a_rule_is_refused(
    change: dict[str, float], rule: str
) -> None:
    with pytest.raises(PrivacyError):
        _plan(**change)


def test_batchnorm_cannot_train_under_dp_sgd() -> None:
    model = build_model(seed=0)  # BatchNorm mixes the examples of a batch
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    with pytest.raises(PrivacyError, match="BatchNorm"):
        make_private(model, optimizer, _plan(), generator=secret_generator())


def test_poisson_batches_take_rows_at_the_sample_rate() -> None:
    plan = _plan()

    batches = list(
        poisson_batches(640, plan, generator=torch.Generator().manual_seed(3))
    )

    assert len(batches) == plan.steps_per_round
    sizes = np.array([len(batch) for batch in batches])
    assert 40 < sizes.mean() < 90  # expected 64
    assert len(set(sizes.tolist())) > 1  # sizes vary: not fixed batches
    assert all(int(batch.max()) < 640 for batch in batches if len(batch))


@pytest.fixture(scope="module")
def small_split() -> ImageSplit:
    rng = np.random.default_rng(0)
    labels = np.arange(96) % 2
    images = rng.integers(0, 255, size=(96, 28, 28), dtype=np.uint8)
    images[labels == 1, 10:18, 10:18] = 255
    return ImageSplit(images, labels)


def test_private_training_is_noisy_even_from_the_same_seed(
    small_split: ImageSplit,
) -> None:
    # The noise comes from the operating system, not from the job's public
    # seed: two runs from the same seed and weights must differ.
    plan = _plan(samples=96, batch_size=32, rounds=1, local_epochs=1, delta=1e-4)
    config = TrainConfig(local_epochs=1, augment=False)
    states = []
    for _ in range(2):
        model = build_model(seed=0, norm="group")
        stats = train_local(
            model,
            small_split,
            config=config,
            round_index=0,
            total_rounds=1,
            seed=5,
            privacy=plan,
            noise=secret_generator(),
        )
        assert stats.num_examples == 96 and np.isfinite(stats.loss)
        states.append(state_to_arrays(model))

    first, second = states
    assert set(first) == set(second)
    assert not all(np.array_equal(first[name], second[name]) for name in first)
    assert all(np.isfinite(array).all() for array in first.values())
