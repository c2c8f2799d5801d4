"""Additive secret sharing: sums come out right; shares reveal nothing alone."""

import random

import pytest

from agora.privacy import SharingError, aggregate, reconstruct, split
from agora.privacy.secret_sharing import MAX_VALUE, MODULUS


@pytest.mark.parametrize("value", [0, 1, 12_345, MAX_VALUE])
@pytest.mark.parametrize("parties", [2, 3, 5])
def test_shares_reconstruct_the_value(value: int, parties: int) -> None:
    shares = split(value, parties=parties)

    assert len(shares) == parties
    assert all(0 <= share < MODULUS for share in shares)
    assert reconstruct(shares) == value


def test_aggregate_is_the_sum_of_figures() -> None:
    assert aggregate([120_000, 0, 35_500, 0]) == 155_500


def test_a_share_is_independent_of_the_value() -> None:
    # With the same randomness, the first share is the same whatever the
    # value: it carries no information about it (only the last one absorbs it).
    first_of = [
        split(value, parties=2, randbelow=random.Random(7).randrange)[0]
        for value in (0, 1, 10**9)
    ]
    assert len(set(first_of)) == 1


@pytest.mark.parametrize(
    ("value", "parties", "rule"),
    [(5, 1, "fewer than two"), (-1, 3, "between"), (MAX_VALUE + 1, 3, "between")],
)
def test_sharing_refuses_what_would_reveal_or_overflow(
    value: int, parties: int, rule: str
) -> None:
    with pytest.raises(SharingError, match=rule):
        split(value, parties=parties)
