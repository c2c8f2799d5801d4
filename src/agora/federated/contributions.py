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
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agora.federated.arrays import Arrays
from agora.federated.audit import Provider, RoundHistory
from agora.federated.shapley import Coalition, exact_shapley, weights_from_shapley

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Contributions:
    """Shapley value per provider (in provider order) and payout weights."""

    shapley: list[float]
    weights_bps: list[int]
    per_round: list[list[float]]
    evaluations: int


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

    for past in history:
        game = _RoundGame(providers, past, utility)
        values = exact_shapley(len(providers), game)
        evaluations += len(game.cache)
        per_round.append(values)
        totals = [total + value for total, value in zip(totals, values, strict=True)]

    delivered = {index for past in history for index in past.updates}
    weights = weights_from_shapley(
        totals, eligible=[p.index in delivered for p in providers]
    )
    logger.info("contributions measured with %s model evaluations", evaluations)
    return Contributions(totals, weights, per_round, evaluations)
