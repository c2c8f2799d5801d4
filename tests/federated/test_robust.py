"""Robust aggregation: one poisoned update cannot move the result far."""

from collections.abc import Callable

import numpy as np
import pytest

from agora.federated.arrays import Arrays, weighted_average
from agora.federated.robust import (
    RobustRule,
    aggregate_round,
    aggregator,
    coordinate_median,
    krum,
    krum_scores,
    trimmed_mean,
)

RNG = np.random.default_rng(3)
HONEST: list[Arrays] = [
    {
        "conv": np.full((3, 3), 1.0) + RNG.normal(0, 0.05, (3, 3)),
        "bias": np.array([0.5, -0.5]) + RNG.normal(0, 0.05, 2),
        "num_batches_tracked": np.array(100 + i, dtype=np.int64),
    }
    for i in range(4)
]


def _poison(kind: str) -> Arrays:
    base = HONEST[0]
    if kind == "huge-norm":
        return {k: (v * 1e6).astype(v.dtype) for k, v in base.items()}
    if kind == "sign-flip":
        return {k: (-10 * v).astype(v.dtype) for k, v in base.items()}
    return {k: v.astype(v.dtype) + 50 for k, v in base.items()}


def _distance(a: Arrays, b: Arrays) -> float:
    return float(
        sum(
            np.linalg.norm(a[k].astype(float) - b[k].astype(float))
            for k in ("conv", "bias")
        )
    )


CLEAN = weighted_average(HONEST, [1.0] * len(HONEST))


@pytest.mark.parametrize("attack", ["huge-norm", "sign-flip", "shifted"])
@pytest.mark.parametrize(
    "rule",
    [
        lambda u: trimmed_mean(u, trim=1),
        coordinate_median,
        lambda u: krum(u, byzantine=1),
        lambda u: krum(u, byzantine=1, select=3),
    ],
    ids=["trimmed-mean", "median", "krum", "multi-krum"],
)
def test_one_poisoned_update_barely_moves_the_result(
    attack: str, rule: Callable[[list[Arrays]], Arrays]
) -> None:
    poisoned = [*HONEST, _poison(attack)]

    robust = rule(poisoned)
    plain = weighted_average(poisoned, [1.0] * len(poisoned))

    assert _distance(robust, CLEAN) < 0.3
    assert _distance(plain, CLEAN) > 10 * _distance(robust, CLEAN)


def test_integer_arrays_keep_their_dtype() -> None:
    for result in (
        trimmed_mean(HONEST, trim=1),
        coordinate_median(HONEST),
        krum(HONEST, byzantine=0),
    ):
        assert result["num_batches_tracked"].dtype == np.int64
        assert result["conv"].dtype == HONEST[0]["conv"].dtype


def test_krum_scores_the_outlier_worst() -> None:
    scores = krum_scores([*HONEST, _poison("shifted")], byzantine=1)
    assert int(np.argmax(scores)) == len(HONEST)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: trimmed_mean(HONEST[:2], trim=1), "at least 3"),
        (lambda: trimmed_mean(HONEST, trim=-1), "negative"),
        (lambda: krum(HONEST, byzantine=1), "at least 5"),
        (lambda: krum(HONEST, byzantine=0, select=9), "select"),
        (lambda: coordinate_median([]), "at least 1"),
    ],
)
def test_too_few_updates_for_the_tolerance_are_refused(
    call: Callable[[], Arrays], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_rules_by_name() -> None:
    assert aggregator(RobustRule.MEAN, byzantine=1) is None
    median = aggregator(RobustRule.MEDIAN, byzantine=1)
    assert median is not None
    assert _distance(median(HONEST), coordinate_median(HONEST)) == 0.0


@pytest.mark.parametrize(
    ("rule", "count", "applied"),
    [
        (RobustRule.MEAN, 2, "fedavg"),
        (RobustRule.TRIMMED_MEAN, 5, "trimmed-mean(trim=1)"),
        (RobustRule.TRIMMED_MEAN, 2, "trimmed-mean(trim=0)"),
        (RobustRule.MEDIAN, 4, "coordinate-median"),
        (RobustRule.KRUM, 5, "krum(f=1,m=1)"),
        (RobustRule.KRUM, 4, "krum(f=0,m=1)"),
        (RobustRule.MULTI_KRUM, 5, "multi-krum(f=1,m=4)"),
        (RobustRule.KRUM, 2, "coordinate-median"),
    ],
)
def test_round_rule_lowers_its_tolerance_to_what_the_count_allows(
    rule: RobustRule, count: int, applied: str
) -> None:
    updates = [*HONEST, _poison("shifted")][:count]
    model, description = aggregate_round(rule, updates, [1.0] * count, byzantine=1)
    assert description == applied
    assert model["conv"].shape == (3, 3)


def test_multi_krum_by_name_averages_the_n_minus_f_best() -> None:
    poisoned = [*HONEST, _poison("huge-norm")]
    rule = aggregator(RobustRule.MULTI_KRUM, byzantine=1)
    assert rule is not None
    assert _distance(rule(poisoned), CLEAN) < 1e-9
