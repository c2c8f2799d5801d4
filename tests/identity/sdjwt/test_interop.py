"""Interoperability with the IETF reference implementation, ``sd-jwt`` 0.10.4.

Agora-issued presentations verify with ``SDJWTVerifier``; presentations the
reference ``SDJWTIssuer``/``SDJWTHolder`` produce verify with Agora.
"""

import time
from typing import Any

import pytest
from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier

from agora.identity.sdjwt import (
    Algorithm,
    HeldCredential,
    PresentationVerifier,
    Rule,
    StatusReference,
    VerificationError,
)

from .conftest import (
    AUDIENCE,
    ISSUER,
    KEY_ID,
    NONCE,
    STATUS_URI,
    VCT,
    World,
    make_world,
    request,
)


def _reference_verify(world: World, presentation: str) -> dict[str, Any]:
    issuer_public = JWK(**world.issuer_key.public_jwk())

    def issuer_key(issuer: str, header: dict[str, Any]) -> JWK:
        assert (issuer, header["kid"]) == (ISSUER, KEY_ID)
        return issuer_public

    verifier = SDJWTVerifier(
        presentation, issuer_key, expected_aud=AUDIENCE, expected_nonce=NONCE
    )
    payload: dict[str, Any] = verifier.get_verified_payload()
    return payload


@pytest.mark.parametrize("issuer_alg", list(Algorithm), ids=lambda a: a.value)
def test_agora_presentation_verifies_with_reference(issuer_alg: Algorithm) -> None:
    # sd-jwt 0.10.4 checks every KB-JWT as ES256, so the holder key is P-256.
    world = make_world(issuer_alg, Algorithm.ES256)
    presentation = world.present(names=["age_over_18", "address"])

    payload = _reference_verify(world, presentation)

    assert payload["age_over_18"] is True
    assert payload["address"] == {"street": "1 Main St", "locality": "Springfield"}
    assert "national_id" not in payload
    assert payload["iss"] == ISSUER
    assert payload["vct"] == VCT


@pytest.mark.xfail(
    strict=True,
    reason="sd-jwt 0.10.4 verifies KB-JWTs with a hard-coded ES256 "
    "(SDJWTVerifier._verify_key_binding_jwt), so EdDSA holder keys fail there",
)
def test_reference_rejects_eddsa_key_binding() -> None:
    world = make_world(Algorithm.ES256, Algorithm.EDDSA)

    _reference_verify(world, world.present())


def _reference_issuance(
    world: World, holder_jwk: JWK, *, decoys: bool = False, nested: bool = False
) -> str:
    now = int(time.time())
    claims: dict[Any, Any] = {
        "iss": ISSUER,
        "vct": VCT,
        "iat": now,
        "exp": now + 3_600,
        "status": StatusReference(uri=STATUS_URI, index=3).to_claim(),
        SDObj("given_name"): "Ada",
        SDObj("age_over_18"): True,
    }
    if nested:
        claims[SDObj("address")] = {SDObj("street"): "1 Main St", "country": "FR"}
        claims[SDObj("nationalities")] = [SDObj("FR"), "DE"]
    issuer_key = JWK(**world.issuer_private)
    issuer = SDJWTIssuer(
        claims,
        issuer_key,
        holder_jwk,
        sign_alg=world.issuer_key.algorithm.value,
        add_decoy_claims=decoys,
        extra_header_parameters={"typ": "dc+sd-jwt", "kid": KEY_ID},
    )
    issuance: str = issuer.sd_jwt_issuance
    return issuance


def _holder_jwk(world: World) -> JWK:
    return JWK(**world.holder_private)


def _real_time_verifier(world: World) -> PresentationVerifier:
    # The reference holder stamps its KB-JWT with the real time.
    return PresentationVerifier(keys=world.keys, trust=world.trust, status=world.status)


@pytest.mark.parametrize("issuer_alg", list(Algorithm), ids=lambda a: a.value)
def test_reference_presentation_verifies_with_agora(issuer_alg: Algorithm) -> None:
    world = make_world(issuer_alg, Algorithm.ES256)
    holder_jwk = _holder_jwk(world)
    holder = SDJWTHolder(_reference_issuance(world, holder_jwk, decoys=True))
    holder.create_presentation(
        {"age_over_18": True}, NONCE, AUDIENCE, holder_jwk, sign_alg="ES256"
    )

    verified = _real_time_verifier(world).verify(holder.sd_jwt_presentation, request())

    assert verified.claims == {"age_over_18": True}
    assert verified.holder_jwk == world.holder_key.public_jwk()


def test_reference_nested_disclosures_verify_with_agora() -> None:
    world = make_world(Algorithm.ES256, Algorithm.ES256)
    holder_jwk = _holder_jwk(world)
    holder = SDJWTHolder(_reference_issuance(world, holder_jwk, nested=True))
    holder.create_presentation(
        {"age_over_18": True, "address": {"street": True}, "nationalities": [True]},
        NONCE,
        AUDIENCE,
        holder_jwk,
        sign_alg="ES256",
    )

    verified = _real_time_verifier(world).verify(
        holder.sd_jwt_presentation,
        request(optional_claims=frozenset({"address", "nationalities"})),
    )

    assert verified.claims == {
        "age_over_18": True,
        "address": {"street": "1 Main St", "country": "FR"},
        "nationalities": ["FR", "DE"],
    }


def test_agora_holder_presents_reference_issued_credential() -> None:
    world = make_world(Algorithm.ES256K, Algorithm.EDDSA)
    issuance = _reference_issuance(world, _holder_jwk(world), decoys=True)
    held = HeldCredential.parse_unverified(issuance)

    presentation = held.present(
        ["age_over_18"],
        holder_key=world.holder_key,
        nonce=NONCE,
        audience=AUDIENCE,
    )
    verified = _real_time_verifier(world).verify(presentation, request())

    assert verified.claims == {"age_over_18": True}


def test_reference_example_typ_is_refused() -> None:
    # Without the dc+sd-jwt typ, the reference issuer writes example+sd-jwt.
    world = make_world(Algorithm.ES256, Algorithm.ES256)
    holder_jwk = _holder_jwk(world)
    issuer = SDJWTIssuer(
        {"iss": ISSUER, "vct": VCT, "iat": int(time.time()), SDObj("a"): 1},
        JWK(**world.issuer_private),
        holder_jwk,
        extra_header_parameters={"kid": KEY_ID},
    )
    holder = SDJWTHolder(issuer.sd_jwt_issuance)
    holder.create_presentation({"a": True}, NONCE, AUDIENCE, holder_jwk)

    with pytest.raises(VerificationError) as caught:
        _real_time_verifier(world).verify(holder.sd_jwt_presentation, request())

    assert caught.value.rule is Rule.HEADER_TYPE
