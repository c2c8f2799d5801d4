"""Disclosures, digests and the combined format (RFC 9901 §4)."""

import pytest

from agora.identity.sdjwt import CombinedSdJwt, Disclosure, Rule, VerificationError
from agora.identity.sdjwt.jose import (
    MAX_JSON_DEPTH,
    b64url_decode,
    b64url_encode,
    load_json,
)

# Known answers from RFC 9901: §5.1 (family_name, given_name) and the
# array-element disclosure of the nationality example.
RFC_9901_VECTORS = [
    (
        "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0",
        "family_name",
        "Möbius",
        "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0",
    ),
    (
        "WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd",
        "given_name",
        "John",
        "jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4",
    ),
    (
        "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIkZSIl0",
        None,
        "FR",
        "w0I8EKcdCtUPkGCNUrfwVp2xEgNjtoIDlOxc9-PlOhs",
    ),
]


@pytest.mark.parametrize(("encoded", "name", "value", "expected"), RFC_9901_VECTORS)
def test_rfc_9901_digest_vectors(
    encoded: str, name: str | None, value: str, expected: str
) -> None:
    disclosure = Disclosure.parse(encoded)

    assert (disclosure.name, disclosure.value) == (name, value)
    assert disclosure.digest == expected


def test_created_disclosure_round_trips() -> None:
    created = Disclosure.create(b"\x01" * 16, "age_over_18", True)
    parsed = Disclosure.parse(created.encoded)

    assert parsed == created
    assert parsed.salt == b64url_encode(b"\x01" * 16)


def _encode(text: str) -> str:
    return b64url_encode(text.encode())


MALFORMED_DISCLOSURES = {
    "malformed_encoding/not_base64url": ("@@@@", Rule.MALFORMED_ENCODING),
    "malformed_encoding/padded": (
        _encode('["s","n",1]') + "=",
        Rule.MALFORMED_ENCODING,
    ),
    "malformed_encoding/non_canonical_bits": ("WyJzIl1", Rule.MALFORMED_ENCODING),
    "malformed_encoding/not_json": (_encode("not json"), Rule.MALFORMED_ENCODING),
    "malformed_encoding/not_utf8": (
        b64url_encode(b"\xff\xfe"),
        Rule.MALFORMED_ENCODING,
    ),
    "malformed_encoding/deeply_nested": (
        _encode("[" * 100_000 + "]" * 100_000),
        Rule.MALFORMED_ENCODING,
    ),
    "disclosure_format/object": (_encode('{"a": 1}'), Rule.DISCLOSURE_FORMAT),
    "disclosure_format/one_element": (_encode('["salt"]'), Rule.DISCLOSURE_FORMAT),
    "disclosure_format/four_elements": (
        _encode('["s", "n", 1, 2]'),
        Rule.DISCLOSURE_FORMAT,
    ),
    "disclosure_format/salt_not_string": (
        _encode('[1, "n", 1]'),
        Rule.DISCLOSURE_FORMAT,
    ),
    "disclosure_format/name_not_string": (
        _encode('["s", 1, 1]'),
        Rule.DISCLOSURE_FORMAT,
    ),
    "disclosure_reserved_name/_sd": (
        _encode('["s", "_sd", []]'),
        Rule.DISCLOSURE_RESERVED_NAME,
    ),
    "disclosure_reserved_name/ellipsis": (
        _encode('["s", "...", "x"]'),
        Rule.DISCLOSURE_RESERVED_NAME,
    ),
}


@pytest.mark.parametrize(
    ("encoded", "rule"),
    MALFORMED_DISCLOSURES.values(),
    ids=MALFORMED_DISCLOSURES.keys(),
)
def test_malformed_disclosure_names_its_rule(encoded: str, rule: Rule) -> None:
    with pytest.raises(VerificationError) as caught:
        Disclosure.parse(encoded)

    assert caught.value.rule is rule


def test_nesting_limit_is_exact_and_ignores_brackets_in_strings() -> None:
    inner = '"' + "[{" * 100 + '"'
    at_limit = (
        "[" * (MAX_JSON_DEPTH - 1) + f'["s", "n", {inner}]' + "]" * (MAX_JSON_DEPTH - 1)
    )
    over_limit = "[" + at_limit + "]"

    assert load_json(at_limit.encode(), what="test")
    with pytest.raises(VerificationError) as caught:
        load_json(over_limit.encode(), what="test")
    assert caught.value.rule is Rule.MALFORMED_ENCODING


def test_b64url_decode_rejects_length_one_mod_four() -> None:
    with pytest.raises(VerificationError) as caught:
        b64url_decode("AAAAA")

    assert caught.value.rule is Rule.MALFORMED_ENCODING


def test_combined_split_keeps_order_and_key_binding() -> None:
    combined = CombinedSdJwt.split_unverified("a.b.c~d1~d2~kb")

    assert combined.issuer_jwt == "a.b.c"
    assert combined.disclosures == ("d1", "d2")
    assert combined.key_binding_jwt == "kb"
    assert combined.without_key_binding == "a.b.c~d1~d2~"


@pytest.mark.parametrize(
    "serialized",
    ["a.b.c", "", "~d1~", "a.b.c~~d2~", "a.b.c~d1~~", "a.b.c~dé~"],
    ids=["no_tilde", "empty", "no_jwt", "empty_disclosure", "empty_last", "non_ascii"],
)
def test_combined_split_rejects_malformed_framing(serialized: str) -> None:
    with pytest.raises(VerificationError) as caught:
        CombinedSdJwt.split_unverified(serialized)

    assert caught.value.rule is Rule.MALFORMED_ENCODING
