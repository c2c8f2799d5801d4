"""Canonical hashing and averaging of model arrays."""

import numpy as np
import pytest

from agora.federated.arrays import (
    aggregate_digest,
    arrays_from_canonical,
    canonical_bytes,
    from_record,
    to_record,
    update_digest,
    weighted_average,
)

ARRAYS = {
    "b": np.arange(6, dtype=np.float32).reshape(2, 3),
    "a": np.array(7, dtype=np.int64),
}


def test_hash_ignores_dict_order_byte_order_and_layout() -> None:
    reordered = {
        "a": ARRAYS["a"].astype(">i8"),
        "b": np.asfortranarray(ARRAYS["b"]).astype(">f4"),
    }
    assert canonical_bytes(reordered) == canonical_bytes(ARRAYS)


@pytest.mark.parametrize(
    "changed",
    [
        {**ARRAYS, "b": ARRAYS["b"].reshape(3, 2)},
        {**ARRAYS, "b": ARRAYS["b"].astype(np.float64)},
        {**ARRAYS, "b": ARRAYS["b"] + np.float32(1e-7)},
        {"c": ARRAYS["b"], "a": ARRAYS["a"]},
    ],
    ids=["shape", "dtype", "value", "name"],
)
def test_any_change_changes_the_hash(changed: dict[str, np.ndarray]) -> None:
    digest = update_digest(ARRAYS, job_id=1, server_round=1, provider="0xa")
    assert update_digest(changed, job_id=1, server_round=1, provider="0xa") != digest


def test_update_hash_is_bound_to_job_round_and_provider() -> None:
    base = update_digest(ARRAYS, job_id=1, server_round=2, provider="0xa")
    assert update_digest(ARRAYS, job_id=2, server_round=2, provider="0xa") != base
    assert update_digest(ARRAYS, job_id=1, server_round=3, provider="0xa") != base
    assert update_digest(ARRAYS, job_id=1, server_round=2, provider="0xb") != base
    assert aggregate_digest(ARRAYS, job_id=1, server_round=2) != base


def test_weighted_average_keeps_dtypes_and_weights() -> None:
    first = {"w": np.array([0.0, 4.0], np.float32), "n": np.array(2, np.int64)}
    second = {"w": np.array([4.0, 0.0], np.float32), "n": np.array(5, np.int64)}
    mean = weighted_average([first, second], [3, 1])
    np.testing.assert_allclose(mean["w"], [1.0, 3.0])
    assert mean["w"].dtype == np.float32
    assert mean["n"].dtype == np.int64 and int(mean["n"]) == 3  # 2.75 rounds to 3


@pytest.mark.parametrize("weights", [[0, 0], [0.0]], ids=["zero-sum", "length"])
def test_weighted_average_refuses_zero_or_mismatched_weights(
    weights: list[float],
) -> None:
    with pytest.raises(ValueError, match="weight"):
        weighted_average([ARRAYS, ARRAYS], weights)


def test_flower_record_round_trip_is_exact() -> None:
    back = from_record(to_record(ARRAYS))
    assert list(back) == list(ARRAYS)
    assert canonical_bytes(back) == canonical_bytes(ARRAYS)


def test_canonical_bytes_parse_back_exactly() -> None:
    mixed = {
        **ARRAYS,
        "flag": np.array([True, False]),
        "big": np.arange(4, dtype=">f8"),  # big-endian in, little-endian out
    }
    parsed = arrays_from_canonical(canonical_bytes(mixed))
    assert sorted(parsed) == sorted(mixed)
    for name, array in mixed.items():
        np.testing.assert_array_equal(parsed[name], array)
        assert parsed[name].dtype == array.dtype.newbyteorder("<")
    assert canonical_bytes(parsed) == canonical_bytes(mixed)


def _swap_names(data: bytes) -> bytes:
    # Two one-letter arrays: re-emit them in reverse name order.
    parsed = arrays_from_canonical(data)
    fields = [canonical_bytes({name: parsed[name]})[8:] for name in sorted(parsed)]
    return data[:8] + b"".join(reversed(fields))


CANONICAL = canonical_bytes(ARRAYS)
OBJECT_ARRAY = canonical_bytes({"o": np.zeros(1, dtype=np.int8)}).replace(
    b"|i1", b"|O8"
)


@pytest.mark.parametrize(
    ("rule", "data"),
    [
        ("truncated", CANONICAL[:-1]),
        ("trailing bytes", CANONICAL + b"\x00"),
        ("names out of order", _swap_names(CANONICAL)),
        ("object dtype (a pickle)", OBJECT_ARRAY),
        ("empty input", b""),
        ("unknown dtype", CANONICAL.replace(b"<f4", b"<z9")),
    ],
)
def test_non_canonical_arrays_are_refused(rule: str, data: bytes) -> None:
    with pytest.raises(ValueError):
        arrays_from_canonical(data)
