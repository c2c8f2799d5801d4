"""did:key: the method spec's known answers, round trips, one error per rule."""

import pytest
from multiformats import multibase, varint

from agora.identity.did_key import (
    DocumentStyle,
    did_key_from_key_pair,
    did_key_from_public_key,
    public_key_from_did_key,
    resolve_did_key,
)
from agora.identity.errors import InvalidDidError
from agora.identity.keys import KeyPair, KeyType, b64url_decode

# w3c-ccg/did-method-key test-vectors/ed25519-x25519.json: seed -> did.
ED25519_VECTORS = [
    (
        "0000000000000000000000000000000000000000000000000000000000000000",
        "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
        "4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS",
    ),
    (
        "0000000000000000000000000000000000000000000000000000000000000001",
        "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG",
        "6ASf5EcmmEHTgDJ4X4ZT5vT6iHVJBXPg5AN5YoTCpGWt",
    ),
]

# test-vectors/secp256k1.json: seed (the private scalar) -> did.
SECP256K1_VECTORS = [
    (
        "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c",
        "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",
        "23o6Sau8NxxzXcgSc3PLcNxrzrZpbLeBn1izfv3jbKhuv",
    ),
    (
        "f0f4df55a2b3ff13051ea814a8f24ad00f2e469af73c363ac7e9fb999a9072ed",
        "did:key:zQ3shtxV1FrJfhqE1dvxYRcCknWNjHc3c5X1y3ZSoPDi2aur2",
        "291KzQhqCPC18PqH83XKhxv1HdqrdnxyS7dh15t2uNRzJ",
    ),
]

# test-vectors/nist-curves.json: P-256 private JWK -> did.
P256_VECTORS = [
    (
        {
            "kty": "EC",
            "crv": "P-256",
            "x": "igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns",
            "y": "efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIM",
            "d": "gPh-VvVS8MbvKQ9LSVVmfnxnKjHn4Tqj0bmbpehRlpc",
        },
        "did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv",
    ),
    (
        {
            "kty": "EC",
            "crv": "P-256",
            "x": "fyNYMN0976ci7xqiSdag3buk-ZCwgXU4kz9XNkBlNUI",
            "y": "hW2ojTNfH7Jbi8--CJUo3OCbH3y5n91g-IMA9MLMbTU",
            "d": "YjRs6vNvw4sYrzVVY8ipkEpDAD9PFqw1sUnvPRMA-WI",
        },
        "did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169",
    ),
]


def _base58(data: bytes) -> str:
    encoded: str = multibase.encode(data, "base58btc")
    return encoded[1:]


@pytest.mark.parametrize(("seed", "did", "public_base58"), ED25519_VECTORS)
def test_ed25519_vectors(seed: str, did: str, public_base58: str) -> None:
    pair = KeyPair.from_private_bytes(KeyType.ED25519, bytes.fromhex(seed))

    assert did_key_from_key_pair(pair) == did
    assert _base58(pair.public_key.raw) == public_base58
    assert public_key_from_did_key(did) == pair.public_key


@pytest.mark.parametrize(("seed", "did", "public_base58"), SECP256K1_VECTORS)
def test_secp256k1_vectors(seed: str, did: str, public_base58: str) -> None:
    pair = KeyPair.from_private_bytes(KeyType.SECP256K1, bytes.fromhex(seed))

    assert did_key_from_key_pair(pair) == did
    assert _base58(pair.public_key.raw) == public_base58
    assert public_key_from_did_key(did) == pair.public_key


@pytest.mark.parametrize(("jwk", "did"), P256_VECTORS)
def test_p256_vectors(jwk: dict[str, str], did: str) -> None:
    pair = KeyPair.from_jwk(jwk)

    assert did_key_from_key_pair(pair) == did
    public = public_key_from_did_key(did)
    assert public.to_jwk() == {k: v for k, v in jwk.items() if k != "d"}
    assert public.uncompressed[1:33] == b64url_decode(jwk["x"])


@pytest.mark.parametrize("key_type", list(KeyType))
def test_round_trip_is_byte_exact(key_type: KeyType) -> None:
    for _ in range(20):
        public = KeyPair.generate(key_type).public_key
        did = did_key_from_public_key(public)

        assert public_key_from_did_key(did) == public
        assert did_key_from_public_key(public_key_from_did_key(did)) == did


def test_multicodec_prefixes_follow_the_spec() -> None:
    prefixes = {"z6Mk": KeyType.ED25519, "zQ3s": KeyType.SECP256K1}
    prefixes["zDn"] = KeyType.P256
    for prefix, key_type in prefixes.items():
        did = did_key_from_public_key(KeyPair.generate(key_type).public_key)
        assert did.startswith("did:key:" + prefix)


@pytest.mark.parametrize("style", list(DocumentStyle))
def test_document_lists_the_key_under_every_relationship(
    style: DocumentStyle,
) -> None:
    _, did, _ = ED25519_VECTORS[0]
    document = resolve_did_key(did, style=style).document
    method_id = did + "#" + did.removeprefix("did:key:")

    body = document.to_json()
    assert body["id"] == did
    (method,) = body["verificationMethod"]
    assert method["id"] == method_id
    assert method["type"] == style.value
    assert method["controller"] == did
    for relationship in (
        "authentication",
        "assertionMethod",
        "capabilityInvocation",
        "capabilityDelegation",
    ):
        assert body[relationship] == [method_id]
    assert document.assertion_key(method_id) == public_key_from_did_key(did)
    assert document.authentication_key("#" + method_id.split("#")[1]) == (
        public_key_from_did_key(did)
    )


def test_multikey_and_jwk_forms_carry_the_same_key() -> None:
    jwk, did = P256_VECTORS[0]
    multikey = resolve_did_key(did).document.to_json()["verificationMethod"][0]
    jws = resolve_did_key(did, style=DocumentStyle.JSON_WEB_KEY_2020).document

    assert multikey["publicKeyMultibase"] == did.removeprefix("did:key:")
    assert jws.to_json()["verificationMethod"][0]["publicKeyJwk"] == {
        k: v for k, v in jwk.items() if k != "d"
    }


def _did(code: int, key: bytes) -> str:
    encoded: str = multibase.encode(varint.encode(code) + key, "base58btc")
    return "did:key:" + encoded


ED25519_DID = ED25519_VECTORS[0][1]
ED25519_KEY = public_key_from_did_key(ED25519_DID).raw
P256_KEY = public_key_from_did_key(P256_VECTORS[0][1])

MALFORMED = [
    ("syntax", "key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"),
    ("method", "did:web:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"),
    ("method", "did:KEY:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"),
    ("multibase", "did:key:" + multibase.encode(b"\xed\x01" + ED25519_KEY, "base64")),
    ("multibase", "did:key:Z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"),
    ("multibase", "did:key:"),
    ("encoding", "did:key:z"),
    ("encoding", "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW0"),
    ("encoding", ED25519_DID + "#z6MkiTBz"),
    ("encoding", ED25519_DID + ":extra"),
    ("multicodec", _did(0xEC, bytes(32))),  # x25519-pub: not a signing key
    ("multicodec", _did(0x1201, bytes(49))),  # p384-pub: not supported
    ("key-length", _did(0xED, ED25519_KEY[:-1])),
    ("key-length", _did(0xED, ED25519_KEY + b"\x00")),  # trailing garbage
    ("key-length", _did(0x1200, P256_KEY.uncompressed)),  # uncompressed form
    ("key-length", _did(0xE7, b"")),
    ("point", _did(0xE7, b"\x02" + b"\xff" * 32)),  # x beyond the field
    ("point", _did(0x1200, b"\x05" + bytes(32))),  # no such SEC 1 tag
]


@pytest.mark.parametrize(
    ("rule", "did"),
    MALFORMED,
    ids=[f"{r}-{i}" for i, (r, _) in enumerate(MALFORMED)],
)
def test_malformed_ids_are_rejected_by_rule(rule: str, did: str) -> None:
    with pytest.raises(InvalidDidError) as caught:
        public_key_from_did_key(did)

    assert caught.value.rule == rule


def test_non_minimal_varint_prefix_is_rejected() -> None:
    # 0xed as a three-byte varint (0xed 0x81 0x00) names the same codec but
    # would give one key two ids.
    data = b"\xed\x81\x00" + ED25519_KEY
    did = "did:key:" + multibase.encode(data, "base58btc")

    with pytest.raises(InvalidDidError) as caught:
        public_key_from_did_key(did)

    assert caught.value.rule == "multicodec"
