"""Providers' contributions to a finished job, and their payout weights.

Per round t, the model coalition S would have produced is what the job's
aggregation rule makes of S's accepted updates (FedAvg: their
example-weighted average; the empty coalition keeps the previous model),
so a poisoned update that a robust rule outvotes in the full round still
shows its harm in the small coalitions it decides; its utility is the
coordinator's validation score. The round's exact Shapley values are
summed over rounds (Song et al. 2019, multi-round reconstruction; see
:mod:`agora.federated.shapley`). A provider with no accepted update in a
round contributes nothing to that round's coalitions.
"""

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from agora.federated.arrays import Arrays
from agora.federated.audit import Provider, RoundHistory
from agora.federated.errors import ContributionError
from agora.federated.shapley import Coalition, exact_shapley, weights_from_shapley

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Contributions:
    """Shapley value per provider (in provider order) and payout weights."""

    shapley: list[float]
    weights_bps: list[int]
    per_round: list[list[float]]
    evaluations: int
    utilities: list[dict[Coalition, float]] = field(default_factory=list)
    """Per round, the utility measured for each coalition of provider
    indices with an accepted update: what an auditor without the
    validation data recomputes the Shapley values from
    (:func:`shapley_from_utilities`)."""


class _RoundGame:
    """The cooperative game of one round: coalition -> validation utility."""

    def __init__(
        self,
        providers: Sequence[Provider],
        past: RoundHistory,
        utility: Callable[[Arrays], float],
    ) -> None:
        self.providers = providers
        self.past = past
        self.utility = utility
        self.cache: dict[Coalition, float] = {}

    def __call__(self, coalition: Coalition) -> float:
        # Players without an accepted update this round add nothing.
        members = frozenset(
            self.providers[i].index
            for i in coalition
            if self.providers[i].index in self.past.updates
        )
        if members not in self.cache:
            model = self.past.combine(sorted(members))
            self.cache[members] = self.utility(model)
        return self.cache[members]


def measure_contributions(
    providers: Sequence[Provider],
    history: Sequence[RoundHistory],
    utility: Callable[[Arrays], float],
) -> Contributions:
    """Exact multi-round Shapley values of ``providers`` over ``history``."""
    totals = [0.0] * len(providers)
    per_round: list[list[float]] = []
    evaluations = 0

    utilities: list[dict[Coalition, float]] = []
    for past in history:
        game = _RoundGame(providers, past, utility)
        values = exact_shapley(len(providers), game)
        evaluations += len(game.cache)
        per_round.append(values)
        utilities.append(dict(game.cache))
        totals = [total + value for total, value in zip(totals, values, strict=True)]

    delivered = {index for past in history for index in past.updates}
    weights = weights_from_shapley(
        totals, eligible=[p.index in delivered for p in providers]
    )
    logger.info("contributions measured with %s model evaluations", evaluations)
    return Contributions(totals, weights, per_round, evaluations, utilities)


def shapley_from_utilities(
    providers: Sequence[Provider],
    accepted: Sequence[frozenset[int]],
    utilities: Sequence[Mapping[Coalition, float]],
) -> Contributions:
    """The contributions that recorded per-round coalition utilities imply.

    ``accepted`` holds, per round, the indices of the providers whose update
    was accepted; ``utilities`` the utility of each subset of them (as
    :attr:`Contributions.utilities` records). Values and weights come out
    exactly as :func:`measure_contributions` computes them from the models.
    Raises :class:`~agora.federated.errors.ContributionError` naming the
    round and coalition whose utility is not recorded.
    """
    if len(accepted) != len(utilities):
        raise ContributionError("one set of utilities per round is needed")
    totals = [0.0] * len(providers)
    per_round: list[list[float]] = []
    for number, (members, measured) in enumerate(
        zip(accepted, utilities, strict=True), start=1
    ):

        def game(
            coalition: Coalition,
            members: frozenset[int] = members,
            measured: Mapping[Coalition, float] = measured,
            number: int = number,
        ) -> float:
            present = frozenset(
                providers[i].index for i in coalition if providers[i].index in members
            )
            if present not in measured:
                raise ContributionError(
                    f"round {number}: no utility recorded for providers "
                    f"{sorted(present)}"
                )
            return measured[present]

        values = exact_shapley(len(providers), game)
        per_round.append(values)
        totals = [total + value for total, value in zip(totals, values, strict=True)]

    delivered = set().union(*accepted) if accepted else set()
    weights = weights_from_shapley(
        totals, eligible=[p.index in delivered for p in providers]
    )
    evaluations = sum(len(measured) for measured in utilities)
    return Contributions(
        totals, weights, per_round, evaluations, list(map(dict, utilities))
    )
