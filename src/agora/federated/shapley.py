"""Contribution measurement: exact Shapley values and payout weights.

Federated Shapley values follow the multi-round reconstruction of Song, Tong
and Wei, "Profit Allocation for Federated Learning" (IEEE Big Data 2019): in
every round, the model a coalition S would have produced is rebuilt from the
previous global model and the updates of S alone, scored on the coordinator's
validation split, and the round's Shapley values are summed over rounds. No
retraining is needed, and with at most :data:`MAX_EXACT_PLAYERS` providers
every coalition is evaluated (2^n models per round), so the values are exact
for the utility chosen, not Monte Carlo estimates.
"""

import math
from collections.abc import Callable, Sequence
from itertools import combinations

from agora.federated.errors import ContributionError
from agora.ledger.hashing import to_basis_points

MAX_EXACT_PLAYERS = 6
"""Largest number of providers for which every coalition is evaluated."""

Coalition = frozenset[int]


def exact_shapley(
    num_players: int, utility: Callable[[Coalition], float]
) -> list[float]:
    """Shapley value of each player ``0..num_players-1`` under ``utility``.

    ``utility`` is called once per coalition (including the empty one).

    Example (a symmetric game splits the value equally)::

        >>> exact_shapley(2, lambda s: float(len(s) == 2))
        [0.5, 0.5]
    """
    if not 1 <= num_players <= MAX_EXACT_PLAYERS:
        raise ContributionError(
            f"exact Shapley needs 1..{MAX_EXACT_PLAYERS} providers, got {num_players}"
        )

    values = {
        frozenset(members): utility(frozenset(members))
        for size in range(num_players + 1)
        for members in combinations(range(num_players), size)
    }

    # phi_i = sum over S not containing i of |S|!(n-|S|-1)!/n! * (v(S+i) - v(S))
    n_factorial = math.factorial(num_players)
    shapley = [0.0] * num_players
    for coalition, value in values.items():
        weight = (
            math.factorial(len(coalition))
            * math.factorial(num_players - len(coalition) - 1)
            / n_factorial
            if len(coalition) < num_players
            else 0.0
        )
        for player in range(num_players):
            if player not in coalition:
                shapley[player] += weight * (values[coalition | {player}] - value)
    return shapley


def weights_from_shapley(
    shapley: Sequence[float], *, eligible: Sequence[bool] | None = None
) -> list[int]:
    """Turn Shapley values into basis-point weights summing to 10,000.

    Only ``eligible`` providers (by default all; in a job, those with at
    least one accepted update) can earn. Negative values (a provider whose
    updates hurt the validation score) earn nothing. If no eligible provider
    has a positive value, the eligible ones share equally: they delivered
    valid work. With no eligible provider there is nobody to pay.
    """
    if not shapley:
        raise ContributionError("no providers to weigh")
    mask = [True] * len(shapley) if eligible is None else list(eligible)
    if len(mask) != len(shapley):
        raise ContributionError("one eligibility flag per provider is needed")
    if not any(mask):
        raise ContributionError("no provider delivered a valid update")
    positive = [
        max(value, 0.0) if ok and math.isfinite(value) else 0.0
        for value, ok in zip(shapley, mask, strict=True)
    ]
    if sum(positive) <= 0.0:
        positive = [1.0 if ok else 0.0 for ok in mask]
    return to_basis_points(positive)
