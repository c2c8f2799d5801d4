"""Key-typed JWS verification, and ES256K through libsecp256k1 agreeing with OpenSSL."""

import pytest
from jwcrypto.jwa import JWA
from jwcrypto.jwk import JWK

from agora.identity.sdjwt import (
    Algorithm,
    Rule,
    SigningKey,
    UnsupportedKeyError,
    VerificationError,
    VerificationKey,
    algorithm_for_jwk,
)
from agora.identity.sdjwt.jose import CompactJws, b64url_encode

from .conftest import private_jwk

ORDER = int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", 16)


def _with_signature(token: str, signature: bytes) -> CompactJws:
    head, body, _ = token.split(".")
    return CompactJws.parse(f"{head}.{body}.{b64url_encode(signature)}", what="jwt")


def _verify(jws: CompactJws, key: VerificationKey) -> None:
    jws.verify(key, algorithm_rule=Rule.ALGORITHM, signature_rule=Rule.ISSUER_SIGNATURE)


def test_es256k_matches_openssl_for_low_and_high_s() -> None:
    private = private_jwk(Algorithm.ES256K)
    signer = SigningKey(private)
    key = signer.verification_key()
    openssl = JWA.signing_alg("ES256K")

    for counter in range(40):
        token = signer.sign_compact({"typ": "JWT"}, {"n": counter})
        jws = CompactJws.parse(token, what="jwt")
        r, s = jws.signature[:32], int.from_bytes(jws.signature[32:], "big")
        flipped = r + (ORDER - s).to_bytes(32, "big")

        for signature in (jws.signature, flipped):
            openssl.verify(JWK(**private), jws.signing_input, signature)
            _verify(_with_signature(token, signature), key)


@pytest.mark.parametrize(
    ("r", "s"),
    [(0, 1), (1, 0), (ORDER, 1), (1, ORDER), (2**256 - 1, 2**256 - 1)],
    ids=["r_zero", "s_zero", "r_order", "s_order", "all_ones"],
)
def test_es256k_out_of_range_scalars_fail(r: int, s: int) -> None:
    signer = SigningKey(private_jwk(Algorithm.ES256K))
    token = signer.sign_compact({"typ": "JWT"}, {})
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")

    with pytest.raises(VerificationError) as caught:
        _verify(_with_signature(token, signature), signer.verification_key())
    assert caught.value.rule is Rule.ISSUER_SIGNATURE


@pytest.mark.parametrize("algorithm", list(Algorithm), ids=lambda a: a.value)
def test_signature_over_another_message_fails(algorithm: Algorithm) -> None:
    signer = SigningKey(private_jwk(algorithm))
    one = CompactJws.parse(signer.sign_compact({}, {"n": 1}), what="jwt")
    two = signer.sign_compact({}, {"n": 2})

    with pytest.raises(VerificationError) as caught:
        _verify(_with_signature(two, one.signature), signer.verification_key())
    assert caught.value.rule is Rule.ISSUER_SIGNATURE


UNSUPPORTED_KEYS = {
    "rsa": {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
    "p384": {"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"},
    "x25519": {"kty": "OKP", "crv": "X25519", "x": "AA"},
    "oct": {"kty": "oct", "k": "AA"},
    "no_kty": {"crv": "P-256"},
    "private_d": {"kty": "OKP", "crv": "Ed25519", "x": "AA", "d": "AA"},
}


@pytest.mark.parametrize("jwk", UNSUPPORTED_KEYS.values(), ids=UNSUPPORTED_KEYS.keys())
def test_unsupported_keys_are_refused(jwk: dict[str, str]) -> None:
    with pytest.raises(UnsupportedKeyError):
        algorithm_for_jwk(jwk)


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"},
        {"kty": "EC", "crv": "P-256", "x": b64url_encode(b"\x01" * 32), "y": "AA"},
        {"kty": "OKP", "crv": "Ed25519", "x": 7},
        {"kty": "EC", "crv": "secp256k1", "x": "!!"},
    ],
    ids=["secp256k1_not_on_curve", "p256_not_on_curve", "x_not_string", "bad_b64"],
)
def test_invalid_points_are_refused(jwk: dict[str, object]) -> None:
    with pytest.raises(UnsupportedKeyError):
        VerificationKey.from_jwk(jwk)


def test_signing_key_repr_hides_key_material() -> None:
    private = private_jwk(Algorithm.EDDSA)
    signer = SigningKey(private, key_id="did:example:1#k")

    assert private["d"] not in repr(signer)
    assert repr(signer) == "SigningKey(algorithm='EdDSA', key_id='did:example:1#k')"
