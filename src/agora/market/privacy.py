"""The privacy a job's providers spend: the spec's DP-SGD, per provider.

A job spec with a ``privacy`` section asks every provider to train under
DP-SGD within the spec's ``(epsilon, delta)``. Each provider fixes its noise
from its own row count (:func:`provider_plan`, the same computation on both
sides), so the epsilon a provider spends is public knowledge given the spec
and the dataset's registered size; :func:`privacy_spent` recomputes it for
the job outcome. The ledger holds each dataset's budget and charges the
spec's epsilon, the bound every provider stays within.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from agora.federated.audit import Provider
from agora.federated.errors import PrivacyError
from agora.federated.privacy import DpSgdPlan, plan_dp_sgd
from agora.ledger.model import MilliEpsilon
from agora.market.spec import PrivacySpec, TrainingJobSpec


@dataclass(frozen=True)
class ProviderPrivacy:
    """What one provider's training cost in privacy."""

    provider: Provider
    epsilon_spent: float
    noise_multiplier: float
    sample_rate: float
    steps: int


@dataclass(frozen=True)
class PrivacyOutcome:
    """The privacy a finished job spent, provider by provider."""

    epsilon: float
    """The spec's bound (what the ledger charged each dataset)."""
    delta: float
    providers: list[ProviderPrivacy]

    @property
    def spent(self) -> dict[str, float]:
        """Epsilon spent by provider name."""
        return {p.provider.name: p.epsilon_spent for p in self.providers}


def privacy_cost(spec: TrainingJobSpec) -> MilliEpsilon:
    """What the job charges each dataset's on-chain budget (0: no DP)."""
    if spec.privacy is None:
        return MilliEpsilon(0)
    return MilliEpsilon(spec.privacy.milli_epsilon)


def provider_plan(
    privacy: PrivacySpec, *, samples: int, rounds: int, local_epochs: int
) -> DpSgdPlan:
    """The DP-SGD plan of a provider with ``samples`` rows for a whole job.

    Raises :class:`~agora.federated.errors.PrivacyError` when the spec's
    ``delta`` is not below ``1 / samples``.
    """
    return plan_dp_sgd(
        epsilon=privacy.epsilon,
        delta=privacy.delta,
        max_grad_norm=privacy.max_grad_norm,
        batch_size=privacy.batch_size,
        samples=samples,
        rounds=rounds,
        local_epochs=local_epochs,
    )


def privacy_spent(
    spec: TrainingJobSpec, providers: Sequence[Provider], *, rounds: int
) -> PrivacyOutcome | None:
    """Each provider's epsilon after ``rounds`` rounds, by the accountant.

    A provider's size is the one its dataset registered on chain
    (``Provider.max_examples``); ``None`` for a job without DP.
    """
    if spec.privacy is None:
        return None
    spent = []
    for provider in providers:
        if provider.max_examples is None:
            raise PrivacyError(f"{provider.name} has no registered size")
        plan = provider_plan(
            spec.privacy,
            samples=provider.max_examples,
            rounds=spec.rounds,
            local_epochs=spec.local_epochs,
        )
        spent.append(
            ProviderPrivacy(
                provider,
                epsilon_spent=plan.epsilon_spent(rounds),
                noise_multiplier=plan.noise_multiplier,
                sample_rate=plan.sample_rate,
                steps=rounds * plan.steps_per_round,
            )
        )
    return PrivacyOutcome(spec.privacy.epsilon, spec.privacy.delta, spent)
