"""Key pairs: known answers from RFC 8032/8037, JWK round trips, raising verify."""

import pytest

from agora.identity.errors import InvalidKeyError, InvalidSignatureError
from agora.identity.keys import (
    KeyPair,
    KeyType,
    PublicKey,
    b64url_decode,
    ethereum_address,
    verify_recoverable,
)

# RFC 8032 §7.1, TEST 1 (empty message).
RFC8032_SECRET = bytes.fromhex(
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
)
RFC8032_PUBLIC = bytes.fromhex(
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
)
RFC8032_SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555"
    "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)

# RFC 8037 Appendix A.1: the same key as a JWK.
RFC8037_JWK = {
    "kty": "OKP",
    "crv": "Ed25519",
    "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
}

# did:key test vectors, nist-curves.json (w3c-ccg/did-method-key).
P256_JWK = {
    "kty": "EC",
    "crv": "P-256",
    "x": "igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns",
    "y": "efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIM",
    "d": "gPh-VvVS8MbvKQ9LSVVmfnxnKjHn4Tqj0bmbpehRlpc",
}

# The next vector of the same file: a valid point that is not ``d``'s.
OTHER_P256_POINT = {
    "x": "fyNYMN0976ci7xqiSdag3buk-ZCwgXU4kz9XNkBlNUI",
    "y": "hW2ojTNfH7Jbi8--CJUo3OCbH3y5n91g-IMA9MLMbTU",
}


def test_ed25519_known_answer() -> None:
    pair = KeyPair.from_private_bytes(KeyType.ED25519, RFC8032_SECRET)

    assert pair.public_key.raw == RFC8032_PUBLIC
    assert pair.sign(b"") == RFC8032_SIGNATURE
    pair.public_key.verify(RFC8032_SIGNATURE, b"")


def test_ed25519_jwk_known_answer() -> None:
    pair = KeyPair.from_jwk(RFC8037_JWK)

    assert pair.private_bytes() == RFC8032_SECRET
    assert pair.private_jwk() == RFC8037_JWK
    assert pair.public_key.to_jwk() == {
        k: v for k, v in RFC8037_JWK.items() if k != "d"
    }


def test_p256_jwk_known_answer() -> None:
    pair = KeyPair.from_jwk(P256_JWK)

    assert pair.private_jwk() == P256_JWK
    assert pair.public_key.uncompressed == b"\x04" + b64url_decode(
        P256_JWK["x"]
    ) + b64url_decode(P256_JWK["y"])


@pytest.mark.parametrize(
    ("key_type", "algorithm", "kty"),
    [
        (KeyType.ED25519, "EdDSA", "OKP"),
        (KeyType.SECP256K1, "ES256K", "EC"),
        (KeyType.P256, "ES256", "EC"),
    ],
)
def test_algorithm_follows_the_key_type(
    key_type: KeyType, algorithm: str, kty: str
) -> None:
    pair = KeyPair.generate(key_type)

    assert pair.algorithm == pair.public_key.algorithm == algorithm
    assert pair.public_key.to_jwk()["kty"] == kty
    assert pair.public_key.to_jwk()["crv"] == key_type.value


@pytest.mark.parametrize("key_type", list(KeyType))
def test_sign_then_verify(key_type: KeyType) -> None:
    pair = KeyPair.generate(key_type)
    signature = pair.sign(b"message")

    assert len(signature) == 64
    pair.public_key.verify(signature, b"message")
    with pytest.raises(InvalidSignatureError):
        pair.public_key.verify(signature, b"messagE")
    with pytest.raises(InvalidSignatureError):
        pair.public_key.verify(bytes(64), b"message")
    with pytest.raises(InvalidSignatureError):
        pair.public_key.verify(signature[:-1], b"message")
    with pytest.raises(InvalidSignatureError):
        KeyPair.generate(key_type).public_key.verify(signature, b"message")


@pytest.mark.parametrize("key_type", list(KeyType))
def test_round_trips(key_type: KeyType) -> None:
    pair = KeyPair.generate(key_type)
    public = pair.public_key

    assert PublicKey.from_bytes(key_type, public.raw) == public
    assert PublicKey.from_jwk(public.to_jwk()) == public
    assert KeyPair.from_jwk(pair.private_jwk()).public_key == public
    restored = KeyPair.from_private_bytes(key_type, pair.private_bytes())
    assert restored.public_key == public
    assert len(public.raw) == (32 if key_type is KeyType.ED25519 else 33)


@pytest.mark.parametrize("key_type", [KeyType.SECP256K1, KeyType.P256])
def test_uncompressed_points_parse(key_type: KeyType) -> None:
    public = KeyPair.generate(key_type).public_key

    assert PublicKey.from_bytes(key_type, public.uncompressed) == public


@pytest.mark.parametrize("key_type", list(KeyType))
def test_private_key_never_in_repr(key_type: KeyType) -> None:
    pair = KeyPair.generate(key_type)
    secret = pair.private_bytes()

    for text in (repr(pair), str(pair), repr(pair.public_key)):
        assert secret.hex() not in text
        assert pair.private_jwk()["d"] not in text


@pytest.mark.parametrize(
    ("rule", "jwk"),
    [
        ("unknown-crv", {"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}),
        ("kty-crv-mismatch", {**RFC8037_JWK, "kty": "EC"}),
        ("missing-x", {"kty": "OKP", "crv": "Ed25519"}),
        ("padded-base64", {**RFC8037_JWK, "x": RFC8037_JWK["x"] + "="}),
        ("standard-base64", {**RFC8037_JWK, "x": "11qY+YKx"}),
        ("short-x", {**RFC8037_JWK, "x": "11qYAYKx"}),
        ("not-on-curve", {**P256_JWK, "y": P256_JWK["x"]}),
        ("mismatched-d", {**P256_JWK, **OTHER_P256_POINT}),
    ],
)
def test_malformed_jwks_are_rejected(rule: str, jwk: dict[str, str]) -> None:
    with pytest.raises(InvalidKeyError):
        KeyPair.from_jwk(jwk)


@pytest.mark.parametrize(
    ("key_type", "data"),
    [
        (KeyType.ED25519, bytes(31)),
        (KeyType.P256, b"\x02" + bytes(31)),
        (KeyType.P256, b"\x05" + bytes(32)),
        (KeyType.SECP256K1, b"\x02" + b"\xff" * 32),
    ],
)
def test_malformed_public_bytes_are_rejected(key_type: KeyType, data: bytes) -> None:
    with pytest.raises(InvalidKeyError):
        PublicKey.from_bytes(key_type, data)


@pytest.mark.parametrize("secret", [bytes(32), b"\xff" * 32, bytes(31)])
def test_out_of_range_ec_secrets_are_rejected(secret: bytes) -> None:
    with pytest.raises(InvalidKeyError):
        KeyPair.from_private_bytes(KeyType.P256, secret)


def test_ethereum_address_known_answer() -> None:
    # Private key 1: the generator point's address, a well-known constant.
    pair = KeyPair.from_private_bytes(KeyType.SECP256K1, (1).to_bytes(32, "big"))

    assert ethereum_address(pair.public_key) == (
        "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
    )


@pytest.mark.parametrize("recovery_form", [False, True])
def test_recoverable_signature_matches_its_account(recovery_form: bool) -> None:
    pair = KeyPair.generate(KeyType.SECP256K1)
    address = ethereum_address(pair.public_key)
    signature = pair.sign(b"message")
    if recovery_form:
        # Find the recovery id the way an ES256K-R signer would.
        for v in (27, 28):
            try:
                verify_recoverable(signature + bytes([v]), b"message", address)
            except InvalidSignatureError:
                continue
            signature += bytes([v])
            break
        assert len(signature) == 65

    assert verify_recoverable(signature, b"message", address) == pair.public_key


def test_recoverable_signature_rejects_others() -> None:
    pair = KeyPair.generate(KeyType.SECP256K1)
    other = ethereum_address(KeyPair.generate(KeyType.SECP256K1).public_key)
    signature = pair.sign(b"message")
    address = ethereum_address(pair.public_key)

    with pytest.raises(InvalidSignatureError):
        verify_recoverable(signature, b"message", other)
    with pytest.raises(InvalidSignatureError):
        verify_recoverable(signature, b"messagE", address)
    with pytest.raises(InvalidSignatureError):
        verify_recoverable(signature + b"\x05", b"message", address)
    with pytest.raises(InvalidSignatureError):
        verify_recoverable(signature[:63], b"message", address)
    with pytest.raises(InvalidSignatureError):
        verify_recoverable(bytes(64), b"message", address)
    with pytest.raises(InvalidKeyError):
        ethereum_address(KeyPair.generate(KeyType.P256).public_key)
