"""Exact Shapley values and basis-point weights."""

import math

import pytest

from agora.federated.errors import ContributionError
from agora.federated.shapley import exact_shapley, weights_from_shapley
from agora.ledger import BPS


def test_additive_game_gives_each_player_its_own_value() -> None:
    own = [3.0, 1.0, 0.5, 0.0]
    values = exact_shapley(4, lambda s: sum(own[i] for i in s))
    assert values == pytest.approx(own)


def test_glove_game_known_answer() -> None:
    # Player 0 holds a left glove, players 1 and 2 right gloves; a pair is
    # worth 1. The textbook Shapley values are (2/3, 1/6, 1/6).
    def pairs(s: frozenset[int]) -> float:
        return float(0 in s and (1 in s or 2 in s))

    assert exact_shapley(3, pairs) == pytest.approx([2 / 3, 1 / 6, 1 / 6])


def test_efficiency_sum_equals_grand_coalition_value() -> None:
    def game(s: frozenset[int]) -> float:
        return math.sqrt(sum(i + 1 for i in s))

    values = exact_shapley(6, game)
    assert sum(values) == pytest.approx(game(frozenset(range(6))) - game(frozenset()))


@pytest.mark.parametrize("players", [0, 7])
def test_player_count_outside_exact_range_is_refused(players: int) -> None:
    with pytest.raises(ContributionError):
        exact_shapley(players, lambda s: 0.0)


@pytest.mark.parametrize(
    ("shapley", "expected"),
    [
        ([1.0, 1.0, 1.0], [3334, 3333, 3333]),
        ([0.6, 0.3, 0.1], [6000, 3000, 1000]),
        ([0.5, -0.2, 0.5], [5000, 0, 5000]),
        ([-1.0, 0.0, float("nan")], [3334, 3333, 3333]),
    ],
    ids=["thirds", "proportional", "negative-earns-nothing", "no-positive-value"],
)
def test_weights_sum_to_exactly_10000(
    shapley: list[float], expected: list[int]
) -> None:
    weights = weights_from_shapley(shapley)
    assert weights == expected
    assert sum(weights) == BPS


def test_weights_of_no_provider_are_refused() -> None:
    with pytest.raises(ContributionError):
        weights_from_shapley([])


def test_only_eligible_providers_earn() -> None:
    assert weights_from_shapley([0.5, 0.9, 0.1], eligible=[True, False, True]) == [
        8333,
        0,
        1667,
    ]
    # No positive value: the eligible ones share equally, the others get nothing.
    assert weights_from_shapley([0.0, -1.0, 0.0], eligible=[True, True, False]) == [
        5000,
        5000,
        0,
    ]


def test_nobody_eligible_means_nobody_to_pay() -> None:
    with pytest.raises(ContributionError, match="no provider delivered"):
        weights_from_shapley([0.0, 0.0], eligible=[False, False])
