"""Differential privacy for a provider's local training: DP-SGD with Opacus.

A provider that trains under DP-SGD (Abadi et al. 2016, "Deep Learning with
Differential Privacy") draws each step's batch by Poisson sampling, clips
every example's gradient to an L2 bound and adds Gaussian noise to their
sum. :func:`plan_dp_sgd` fixes, before the first round, the noise that
keeps the whole job (every round and local epoch) within the target
``(epsilon, delta)`` under Opacus's RDP accountant (Mironov 2017); the
accountant is deterministic, so the provider and anyone who knows its row
count recompute the same epsilon (:meth:`DpSgdPlan.epsilon_spent`).

The noise and the sampling must be secret: they are drawn from a generator
seeded from the operating system (:func:`secret_generator`), never from the
job's published seed, which would let anyone subtract the noise again.
"""

import math
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from opacus import GradSampleModule
from opacus.accountants import RDPAccountant
from opacus.accountants.utils import get_noise_multiplier
from opacus.optimizers import DPOptimizer
from opacus.validators import ModuleValidator
from torch import nn

from agora.federated.errors import PrivacyError

RDP_ORDERS = tuple([1 + tenth / 10 for tenth in range(1, 100)] + list(range(12, 512)))
"""The Renyi orders the accountant tries: Opacus's defaults stop at 63,
which at epsilon near 8 is where the best bound lies, so the range goes on
to 511 (a tighter, still valid bound; Mironov 2017, section 6)."""


@dataclass(frozen=True)
class DpSgdPlan:
    """One provider's DP-SGD settings for a whole job, fixed before round 1."""

    noise_multiplier: float
    """Standard deviation of the noise over ``max_grad_norm``."""
    sample_rate: float
    """Probability that a row is in a step's batch."""
    steps_per_round: int
    rounds: int
    max_grad_norm: float
    expected_batch_size: int
    epsilon: float
    """The target the whole job stays within."""
    delta: float

    def epsilon_spent(self, rounds: int | None = None) -> float:
        """The epsilon spent after ``rounds`` rounds (all of them by default),
        by the RDP accountant at this plan's ``delta``."""
        done = self.rounds if rounds is None else rounds
        if not 0 <= done <= self.rounds:
            raise PrivacyError(f"rounds {done} outside 0..{self.rounds}")
        if done == 0:
            return 0.0
        accountant = RDPAccountant()
        accountant.history.append(
            (self.noise_multiplier, self.sample_rate, done * self.steps_per_round)
        )
        return float(accountant.get_epsilon(delta=self.delta, alphas=list(RDP_ORDERS)))


def plan_dp_sgd(
    *,
    epsilon: float,
    delta: float,
    max_grad_norm: float,
    batch_size: int,
    samples: int,
    rounds: int,
    local_epochs: int,
) -> DpSgdPlan:
    """The noise that keeps ``rounds * local_epochs`` epochs on ``samples``
    rows within ``(epsilon, delta)``.

    An epoch is ``ceil(samples / batch_size)`` steps, each with sample rate
    ``batch_size / samples`` (capped at 1). Raises :class:`PrivacyError`
    when ``delta`` is not below ``1 / samples`` or a setting is out of range.

    Example::

        >>> plan = plan_dp_sgd(epsilon=8.0, delta=1e-5, max_grad_norm=1.0,
        ...                    batch_size=256, samples=1500, rounds=10,
        ...                    local_epochs=2)
        >>> plan.epsilon_spent() <= 8.0
        True
    """
    if samples < 1 or rounds < 1 or local_epochs < 1 or batch_size < 1:
        raise PrivacyError("samples, rounds, local_epochs and batch_size must be >= 1")
    if not epsilon > 0.0 or not max_grad_norm > 0.0:
        raise PrivacyError("epsilon and max_grad_norm must be positive")
    # A delta of 1/n or more is met by a mechanism that publishes a whole
    # row now and then (Dwork & Roth 2014, section 2.3).
    if not 0.0 < delta < 1.0 / samples:
        raise PrivacyError(f"delta {delta} is not below 1/{samples} (1/rows)")

    sample_rate = min(1.0, batch_size / samples)
    steps_per_round = local_epochs * math.ceil(samples / batch_size)
    try:
        noise = get_noise_multiplier(
            target_epsilon=epsilon,
            target_delta=delta,
            sample_rate=sample_rate,
            steps=rounds * steps_per_round,
            accountant="rdp",
            alphas=list(RDP_ORDERS),
        )
    except ValueError as exc:
        raise PrivacyError(f"no noise meets epsilon {epsilon}: {exc}") from exc
    return DpSgdPlan(
        noise_multiplier=float(noise),
        sample_rate=sample_rate,
        steps_per_round=steps_per_round,
        rounds=rounds,
        max_grad_norm=max_grad_norm,
        expected_batch_size=batch_size,
        epsilon=epsilon,
        delta=delta,
    )


def secret_generator() -> torch.Generator:
    """A torch generator seeded from the operating system's randomness."""
    return torch.Generator().manual_seed(secrets.randbits(63))


def make_private(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    plan: DpSgdPlan,
    *,
    generator: torch.Generator,
) -> tuple[GradSampleModule, DPOptimizer]:
    """Wrap ``model`` for per-example gradients and ``optimizer`` to clip
    them and add the plan's noise (drawn from ``generator``).

    The model must be free of layers that mix examples (BatchNorm); those
    raise :class:`PrivacyError`. Train through the returned module with a
    mean-reduced loss; the weights stay those of ``model``.
    """
    problems = ModuleValidator.validate(model, strict=False)
    if problems:
        raise PrivacyError(f"model cannot train under DP-SGD: {problems[0]}")
    private_model = GradSampleModule(model)
    private_optimizer = DPOptimizer(
        optimizer,
        noise_multiplier=plan.noise_multiplier,
        max_grad_norm=plan.max_grad_norm,
        expected_batch_size=plan.expected_batch_size,
        loss_reduction="mean",
        generator=generator,
    )
    return private_model, private_optimizer


def poisson_batches(
    count: int, plan: DpSgdPlan, *, generator: torch.Generator
) -> Iterator[torch.Tensor]:
    """One round's batches: each of ``plan.steps_per_round`` steps takes
    every row independently with probability ``plan.sample_rate``.

    Poisson sampling is what the accountant's amplification by subsampling
    assumes; batches vary in size and may (very rarely) be empty.
    """
    for _ in range(plan.steps_per_round):
        taken = torch.rand(count, generator=generator) < plan.sample_rate
        yield torch.nonzero(taken).squeeze(1)
