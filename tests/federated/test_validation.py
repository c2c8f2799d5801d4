"""Update validation: each rule rejects its case, by name."""

import numpy as np
import pytest

from agora.federated.errors import InvalidUpdateError
from agora.federated.validation import update_norm, validate_update

GLOBAL = {
    "conv.weight": np.zeros((2, 3), dtype=np.float32),
    "bn.num_batches_tracked": np.array(4, dtype=np.int64),
}


def _update(delta: float = 0.1) -> dict[str, np.ndarray]:
    return {
        "conv.weight": np.full((2, 3), delta, dtype=np.float32),
        "bn.num_batches_tracked": np.array(9, dtype=np.int64),
    }


def test_valid_update_reports_count_and_norm() -> None:
    valid = validate_update(_update(0.5), GLOBAL, num_examples=12, max_norm=10.0)
    assert valid.num_examples == 12
    assert valid.norm == pytest.approx(np.sqrt(6 * 0.25))


BROKEN = {
    "num-examples: zero would divide by zero": ("num-examples", _update(), 0),
    "num-examples: negative": ("num-examples", _update(), -3),
    "num-examples: fractional": ("num-examples", _update(), 2.5),
    "num-examples: missing": ("num-examples", _update(), None),
    "num-examples: bool is not a count": ("num-examples", _update(), True),
    "missing-arrays: one dropped": (
        "missing-arrays",
        {"conv.weight": np.zeros((2, 3), np.float32)},
        5,
    ),
    "missing-arrays: one added": (
        "missing-arrays",
        {**_update(), "extra": np.zeros(1)},
        5,
    ),
    "shape-mismatch: wrong shape": (
        "shape-mismatch",
        {**_update(), "conv.weight": np.zeros((3, 2), np.float32)},
        5,
    ),
    "shape-mismatch: float where int expected": (
        "shape-mismatch",
        {**_update(), "bn.num_batches_tracked": np.array(1.5)},
        5,
    ),
    "non-finite: NaN": ("non-finite", _update(float("nan")), 5),
    "non-finite: infinity": ("non-finite", _update(float("inf")), 5),
    "norm-bound: oversize update": ("norm-bound", _update(1e6), 5),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_update_is_rejected_naming_the_rule(case: str) -> None:
    rule, update, count = BROKEN[case]
    with pytest.raises(InvalidUpdateError) as caught:
        validate_update(update, GLOBAL, num_examples=count, max_norm=10.0)
    assert caught.value.rule == rule


def test_norm_ignores_integer_buffers() -> None:
    update = {**_update(0.0), "bn.num_batches_tracked": np.array(10**9, np.int64)}
    assert update_norm(update, GLOBAL) == 0.0


def test_more_examples_than_offered_on_chain_is_rejected() -> None:
    with pytest.raises(InvalidUpdateError) as caught:
        validate_update(
            _update(), GLOBAL, num_examples=101, max_norm=10.0, max_examples=100
        )
    assert caught.value.rule == "num-examples"
    valid = validate_update(
        _update(), GLOBAL, num_examples=100, max_norm=10.0, max_examples=100
    )
    assert valid.num_examples == 100
