"""Canonical hashes and basis-point weights, against independent encodings."""

import pytest
from eth_utils.crypto import keccak

from agora.ledger import (
    BPS,
    InvalidArgumentError,
    label_set_hash,
    modality_hash,
    to_basis_points,
)


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _abi_string_array(items: list[str]) -> bytes:
    """ABI ``string[]`` written out by hand from the Solidity ABI spec."""
    heads, tails = b"", b""
    offset = 32 * len(items)
    for item in items:
        data = item.encode()
        tail = _word(len(data)) + data + bytes(-len(data) % 32)
        heads += _word(offset)
        tails += tail
        offset += len(tail)
    return _word(32) + _word(len(items)) + heads + tails


def test_label_set_hash_known_answer() -> None:
    expected = keccak(_abi_string_array(["normal", "pneumonia"]))
    assert label_set_hash(["pneumonia", "normal"]) == expected


def test_label_set_hash_ignores_order_and_repetition() -> None:
    assert label_set_hash(["b", "a", "b"]) == label_set_hash(["a", "b"])
    assert label_set_hash(["a", "b"]) != label_set_hash(["a", "b", "c"])


def test_label_set_hash_has_no_separator_collisions() -> None:
    assert label_set_hash(["a,b"]) != label_set_hash(["a", "b"])
    assert label_set_hash(["ab"]) != label_set_hash(["a", "b"])


def test_label_set_hash_handles_unicode() -> None:
    expected = keccak(_abi_string_array(["Ödem", "žádný"]))
    assert label_set_hash(["žádný", "Ödem"]) == expected


@pytest.mark.parametrize(
    "labels",
    [[], [""], ["normal", ""], "normal"],
    ids=["empty-set", "empty-label", "one-empty-label", "bare-string"],
)
def test_malformed_label_set_is_rejected(labels: list[str]) -> None:
    with pytest.raises(InvalidArgumentError):
        label_set_hash(labels)


def test_modality_hash_is_keccak_of_utf8() -> None:
    name = "xray/chest-28x28-grey"
    assert modality_hash(name) == keccak(name.encode())
    assert len(modality_hash(name)) == 32
    with pytest.raises(InvalidArgumentError):
        modality_hash("")


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        ([1.0], [10_000]),
        ([1.0, 1.0, 1.0], [3334, 3333, 3333]),
        ([0.25, 0.75], [2500, 7500]),
        ([0.0, 2.0], [0, 10_000]),
        ([1.0, 2.0, 2.0, 2.0], [1429, 2857, 2857, 2857]),
    ],
)
def test_to_basis_points(weights: list[float], expected: list[int]) -> None:
    points = to_basis_points(weights)
    assert points == expected
    assert sum(points) == BPS


def test_to_basis_points_always_sums_exactly() -> None:
    for count in range(1, 17):
        weights = [1.0 / (i + 3) for i in range(count)]
        assert sum(to_basis_points(weights)) == BPS


@pytest.mark.parametrize(
    "weights",
    [[], [0.0, 0.0], [-0.1, 1.1], [float("nan"), 1.0], [float("inf")]],
    ids=["none", "all-zero", "negative", "nan", "infinite"],
)
def test_malformed_weights_are_rejected(weights: list[float]) -> None:
    with pytest.raises(InvalidArgumentError):
        to_basis_points(weights)
