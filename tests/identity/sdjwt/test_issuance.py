"""Issuing SD-JWT VCs: every claim selectively disclosable, VC claims clear."""

import json
from typing import Any

import pytest
from jwcrypto.jwk import JWK

from agora.identity.sdjwt import (
    Algorithm,
    CredentialIssuer,
    HeldCredential,
    IssuanceError,
    PresentationError,
    Rule,
    SigningKey,
)
from agora.identity.sdjwt.jose import CompactJws, b64url_decode

from .conftest import CLAIMS, ISSUER, KEY_ID, NOW, STATUS_URI, VCT, World


def _issued(world: World, **kwargs: Any) -> tuple[CompactJws, HeldCredential]:
    serialized = world.issue(**kwargs)
    held = HeldCredential.parse_unverified(serialized)
    return CompactJws.parse(held.issuer_jwt, what="issuer JWT"), held


def test_header_is_sd_jwt_vc_with_key_algorithm_and_kid(world: World) -> None:
    jws, _ = _issued(world)

    assert jws.header == {"typ": "dc+sd-jwt", "alg": "ES256", "kid": KEY_ID}


def test_every_claim_is_a_disclosure_and_vc_claims_are_clear(world: World) -> None:
    jws, held = _issued(world, not_before=NOW - 5)

    assert held.claim_names == frozenset(CLAIMS)
    assert not CLAIMS.keys() & jws.payload.keys()
    assert jws.payload["iss"] == ISSUER
    assert jws.payload["vct"] == VCT
    assert (jws.payload["iat"], jws.payload["nbf"]) == (NOW, NOW - 5)
    assert jws.payload["exp"] == NOW + 86_400
    assert jws.payload["cnf"] == {"jwk": world.holder_key.public_jwk()}
    assert jws.payload["status"] == {"status_list": {"idx": 3, "uri": STATUS_URI}}
    assert jws.payload["_sd_alg"] == "sha-256"
    assert jws.payload["_sd"] == sorted(d.digest for d in held.disclosures)


def test_disclosure_values_round_trip(world: World) -> None:
    _, held = _issued(world)

    assert {d.name: d.value for d in held.disclosures} == CLAIMS


def test_salts_are_unique_and_128_bits_by_default(world: World) -> None:
    credential = CredentialIssuer(ISSUER, world.issuer_key).issue(
        VCT, CLAIMS, holder_jwk=world.holder_key.public_jwk()
    )
    salts = [d.salt for d in credential.disclosures]

    assert len(set(salts)) == len(salts)
    assert all(len(b64url_decode(salt)) == 16 for salt in salts)


def test_decoys_add_digests_without_disclosures(world: World) -> None:
    credential = world.issuer(decoys=4).issue(
        VCT, CLAIMS, holder_jwk=world.holder_key.public_jwk()
    )
    payload = CompactJws.parse(credential.issuer_jwt, what="jwt").payload

    assert len(payload["_sd"]) == len(CLAIMS) + 4
    assert "exp" not in payload
    assert "status" not in payload


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_each_algorithm_signs_with_its_own_alg(algorithm: Algorithm) -> None:
    key = SigningKey.generate(algorithm)
    token = key.sign_compact({"typ": "JWT"}, {"a": 1})
    jws = CompactJws.parse(token, what="jwt")

    assert jws.header["alg"] == algorithm.value
    jws.verify(
        key.verification_key(),
        algorithm_rule=Rule.ALGORITHM,
        signature_rule=Rule.ISSUER_SIGNATURE,
    )


REFUSED_CLAIMS = {
    "set_by_issuer/iss": {"iss": "did:example:mallory"},
    "set_by_issuer/exp": {"exp": 1},
    "set_by_issuer/cnf": {"cnf": {}},
    "set_by_issuer/status": {"status": {}},
    "set_by_issuer/vct": {"vct": "x"},
    "set_by_issuer/iat": {"iat": 1},
    "reserved/_sd": {"_sd": []},
    "reserved/_sd_alg": {"_sd_alg": "sha-256"},
    "reserved/nested_sd": {"address": {"_sd": ["x"]}},
    "reserved/nested_ellipsis": {"list": [{"...": "x"}]},
}


@pytest.mark.parametrize("claims", REFUSED_CLAIMS.values(), ids=REFUSED_CLAIMS.keys())
def test_issuer_refuses_reserved_claim_names(
    world: World, claims: dict[str, Any]
) -> None:
    with pytest.raises(IssuanceError):
        world.issuer().issue(VCT, claims, holder_jwk=world.holder_key.public_jwk())


@pytest.mark.parametrize(
    "holder_jwk",
    [
        {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
        {"kty": "OKP", "crv": "X25519", "x": "AAAA"},
        JWK.generate(kty="OKP", crv="Ed25519").export_private(as_dict=True),
        {"kty": "EC", "crv": "P-256", "x": "AQ", "y": "AQ"},
    ],
    ids=["rsa", "x25519", "private_member", "not_on_curve"],
)
def test_issuer_refuses_unsupported_holder_keys(
    world: World, holder_jwk: dict[str, str]
) -> None:
    with pytest.raises(IssuanceError):
        world.issuer().issue(VCT, CLAIMS, holder_jwk=holder_jwk)


def test_issuer_refuses_non_positive_validity(world: World) -> None:
    with pytest.raises(IssuanceError):
        world.issue(valid_for_s=0)


def test_holder_cannot_disclose_a_claim_it_lacks(world: World) -> None:
    held = HeldCredential.parse_unverified(world.issue())

    with pytest.raises(PresentationError):
        held.select(["income"])


def test_holder_reveals_only_selected_disclosures(world: World) -> None:
    presentation = world.present(names=["age_over_18"])
    disclosures = presentation.split("~")[1:-1]

    assert len(disclosures) == 1
    decoded = json.loads(b64url_decode(disclosures[0]))
    assert decoded[1:] == ["age_over_18", True]


def test_holder_rejects_garbage(world: World) -> None:
    with pytest.raises(PresentationError):
        HeldCredential.parse_unverified("not an sd-jwt")
