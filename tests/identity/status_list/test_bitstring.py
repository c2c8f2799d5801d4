"""Bitstring Status List encoding: spec vector, bit order, malformed input."""

import base64
import gzip

import pytest

from agora.identity.status_list import (
    MAX_ENTRIES,
    MIN_ENTRIES,
    Bitstring,
    MalformedStatusListError,
    StatusIndexError,
    StatusRule,
)

# W3C Bitstring Status List v1.0, Example 2 (BitstringStatusListCredential):
# an empty list of the minimum size.
SPEC_EMPTY_LIST = (
    "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
)


def _encode(raw: bytes) -> str:
    compressed = gzip.compress(raw, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode()


def test_spec_example_decodes_to_an_empty_minimum_list() -> None:
    bits = Bitstring.decode(SPEC_EMPTY_LIST)

    assert bits.size == MIN_ENTRIES == 131_072
    assert bits == Bitstring()


def test_index_zero_is_the_left_most_bit() -> None:
    bits = Bitstring()
    bits.set(0)
    bits.set(9)

    assert Bitstring.decode(_encode(b"\x80\x40" + bytes(MIN_ENTRIES // 8 - 2))) == bits


def test_round_trip_and_clear() -> None:
    bits = Bitstring(MIN_ENTRIES * 2)
    for index in (0, 7, 8, MIN_ENTRIES, MIN_ENTRIES * 2 - 1):
        bits.set(index)

    decoded = Bitstring.decode(bits.encode())
    decoded.set(7, False)

    assert decoded.size == MIN_ENTRIES * 2
    assert [decoded.get(i) for i in (0, 7, 8, MIN_ENTRIES * 2 - 1)] == [
        True,
        False,
        True,
        True,
    ]


def test_encoding_is_reproducible() -> None:
    bits = Bitstring()
    bits.set(42)

    assert bits.encode() == Bitstring.decode(bits.encode()).encode()


@pytest.mark.parametrize("index", [-1, MIN_ENTRIES, MIN_ENTRIES + 8])
def test_rule_index_range(index: int) -> None:
    bits = Bitstring()

    with pytest.raises(StatusIndexError) as info:
        bits.get(index)
    assert info.value.rule is StatusRule.INDEX_RANGE
    with pytest.raises(StatusIndexError):
        bits.set(index)


@pytest.mark.parametrize("size", [0, 8, MIN_ENTRIES - 8, MIN_ENTRIES + 1])
def test_rule_length_on_creation(size: int) -> None:
    with pytest.raises(MalformedStatusListError) as info:
        Bitstring(size)
    assert info.value.rule is StatusRule.LENGTH


_VALID = Bitstring().encode()
_GZIP = gzip.compress(bytes(MIN_ENTRIES // 8), mtime=0)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("rule", "encoded"),
    [
        pytest.param(StatusRule.MULTIBASE, _VALID[1:], id="multibase-missing"),
        pytest.param(StatusRule.MULTIBASE, "z" + _VALID[1:], id="multibase-base58"),
        pytest.param(StatusRule.MULTIBASE, "", id="multibase-empty"),
        pytest.param(StatusRule.BASE64URL, _VALID + "=", id="base64url-padding"),
        pytest.param(
            StatusRule.BASE64URL,
            "u" + base64.b64encode(_GZIP).decode().rstrip("="),
            id="base64url-standard-alphabet",
        ),
        pytest.param(StatusRule.BASE64URL, _VALID + "A", id="base64url-length"),
        pytest.param(StatusRule.BASE64URL, "u" + "AB", id="base64url-noncanonical"),
        pytest.param(StatusRule.GZIP, "u" + _b64(b"not gzip"), id="gzip-not-gzip"),
        pytest.param(StatusRule.GZIP, "u" + _b64(_GZIP[:-6]), id="gzip-truncated"),
        pytest.param(StatusRule.GZIP, "u" + _b64(_GZIP + b"x"), id="gzip-trailing"),
        pytest.param(StatusRule.GZIP, "u" + _b64(_GZIP[:-8] + bytes(8)), id="gzip-crc"),
        pytest.param(StatusRule.LENGTH, _encode(bytes(16)), id="length-too-short"),
        pytest.param(StatusRule.LENGTH, _encode(b""), id="length-empty"),
        pytest.param(
            StatusRule.LENGTH,
            _encode(bytes(MAX_ENTRIES // 8 + 1)),
            id="length-inflates-past-maximum",
        ),
    ],
)
def test_malformed_encodings_are_refused_by_rule(
    rule: StatusRule, encoded: str
) -> None:
    with pytest.raises(MalformedStatusListError) as info:
        Bitstring.decode(encoded)
    assert info.value.rule is rule
