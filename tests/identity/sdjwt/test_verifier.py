"""Verifying presentations: the happy path and one case per broken rule.

Every case in ``BROKEN`` is named ``<rule>/<how>`` and must raise a
``VerificationError`` carrying exactly that rule: none may crash or pass.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws

from agora.identity.sdjwt import (
    Algorithm,
    CredentialStatus,
    HeldCredential,
    InMemoryKeys,
    InMemoryStatusList,
    InMemoryTrustList,
    PresentationVerifier,
    Rule,
    SigningKey,
    StatusReference,
    VerificationError,
    verify_presentation,
)
from agora.identity.sdjwt.jose import CompactJws, b64url_decode, b64url_encode

from .conftest import (
    ISSUER,
    KEY_ID,
    NONCE,
    NOW,
    VCT,
    World,
    disclosure,
    encode_segment,
    make_world,
    request,
)


@pytest.mark.parametrize(
    ("issuer_alg", "holder_alg"),
    [(a, b) for a in Algorithm for b in Algorithm],
    ids=lambda alg: alg.value,
)
def test_valid_presentation_verifies(
    issuer_alg: Algorithm, holder_alg: Algorithm
) -> None:
    world = make_world(issuer_alg, holder_alg)

    verified = world.verifier().verify(world.present(), request())

    assert verified.claims == {"age_over_18": True, "given_name": "Ada"}
    assert verified.issuer == ISSUER
    assert verified.vct == VCT
    assert verified.holder_jwk == world.holder_key.public_jwk()
    assert (verified.issued_at, verified.expires_at) == (NOW, NOW + 86_400)
    assert verified.status == world.status_reference


def test_verifier_keeps_only_requested_claims(world: World) -> None:
    presentation = world.present(names=["age_over_18", "national_id"])

    verified = world.verifier().verify(
        presentation, request(optional_claims=frozenset())
    )

    assert verified.claims == {"age_over_18": True}


def test_function_form_matches_verifier(world: World) -> None:
    verified = verify_presentation(
        world.present(),
        request(),
        keys=world.keys,
        trust=world.trust,
        status=world.status,
        clock=lambda: NOW + 20,
    )

    assert verified.claims["age_over_18"] is True


def test_nested_and_array_disclosures_are_rebuilt(world: World) -> None:
    street = disclosure("street", "1 Main St", salt=1)
    first = disclosure(None, "FR", salt=2)
    address = disclosure("address", {"_sd": [street.digest], "country": "FR"}, salt=3)
    nationalities = disclosure(
        "nationalities", [{"...": first.digest}, {"...": "decoy"}, "DE"], salt=4
    )
    age = disclosure("age_over_18", True, salt=5)
    jwt = world.sign_issuer_jwt(
        world.base_payload([address.digest, nationalities.digest, age.digest])
    )
    parts = [d.encoded for d in (address, street, nationalities, first, age)]

    verified = world.verifier().verify(
        world.bind(jwt, parts),
        request(optional_claims=frozenset({"address", "nationalities"})),
    )

    assert verified.claims == {
        "age_over_18": True,
        "address": {"street": "1 Main St", "country": "FR"},
        "nationalities": ["FR", "DE"],
    }


def test_status_changes_take_effect(fresh_world: World) -> None:
    presentation = fresh_world.present()
    verifier = fresh_world.verifier()
    reference = fresh_world.status_reference

    fresh_world.status.set_status(reference, CredentialStatus.SUSPENDED)
    with pytest.raises(VerificationError) as caught:
        verifier.verify(presentation, request())
    assert caught.value.rule is Rule.SUSPENDED

    fresh_world.status.set_status(reference, CredentialStatus.VALID)
    assert verifier.verify(presentation, request()).claims["age_over_18"] is True


# --- builders for broken presentations -------------------------------------


def _replace_segment(token: str, index: int, value: str) -> str:
    segments = token.split(".")
    segments[index] = value
    return ".".join(segments)


def _flip_char(text: str, position: int) -> str:
    replacement = "A" if text[position] != "A" else "B"
    return text[:position] + replacement + text[position + 1 :]


def _with_jwt(world: World, jwt: str, names: tuple[str, ...] = ("age_over_18",)) -> str:
    """Swap in another issuer JWT but keep the disclosures and a valid KB-JWT."""
    held = HeldCredential.parse_unverified(world.issue())
    chosen = [d.encoded for d in held.select(names)]
    return world.bind(jwt, chosen)


def _issued_parts(world: World, **issue: Any) -> tuple[str, list[str]]:
    held = HeldCredential.parse_unverified(world.issue(**issue))
    return held.issuer_jwt, [d.encoded for d in held.select(["age_over_18"])]


def _payload(world: World) -> dict[str, Any]:
    held = HeldCredential.parse_unverified(world.issue())
    return dict(held.payload)


def _resigned(world: World, change: Callable[[dict[str, Any]], None]) -> str:
    """Re-sign the issuer JWT with a changed payload, KB-JWT kept valid."""
    jwt, disclosures = _issued_parts(world)
    payload = CompactJws.parse(jwt, what="jwt").payload
    change(payload)
    return world.bind(world.sign_issuer_jwt(payload), disclosures)


def _foreign_signed(header: dict[str, Any], payload: dict[str, Any], key: Any) -> str:
    token = jwcrypto_jws.JWS(json.dumps(payload))
    token.allowed_algs = [header["alg"]]
    token.add_signature(key, alg=header["alg"], protected=json.dumps(header))
    serialized: str = token.serialize(compact=True)
    return serialized


def tampered_signature(world: World) -> str:
    jwt, disclosures = _issued_parts(world)
    signature = jwt.split(".")[2]
    return world.bind(_replace_segment(jwt, 2, _flip_char(signature, 10)), disclosures)


def zero_padded_signature(world: World) -> str:
    jwt, disclosures = _issued_parts(world)
    signature = b64url_decode(jwt.split(".")[2])
    padded = b"\x00" + signature[:32] + b"\x00" + signature[32:]
    return world.bind(_replace_segment(jwt, 2, b64url_encode(padded)), disclosures)


def test_jwcrypto_alone_accepts_zero_padded_ecdsa(world: World) -> None:
    # Why the verifier checks the signature length itself.
    jwt = zero_padded_signature(world).split("~")[0]
    token = jwcrypto_jws.JWS()
    token.deserialize(jwt)

    token.verify(jwcrypto_jwk.JWK(**world.issuer_key.public_jwk()), alg="ES256")


def tampered_payload(world: World) -> str:
    jwt, disclosures = _issued_parts(world)
    payload = CompactJws.parse(jwt, what="jwt").payload
    payload["exp"] = NOW + 10 * 365 * 86_400
    return world.bind(_replace_segment(jwt, 1, encode_segment(payload)), disclosures)


def tampered_disclosure(world: World) -> str:
    jwt, disclosures = _issued_parts(world)
    salt, name, _ = json.loads(b64url_decode(disclosures[0]))
    forged = b64url_encode(json.dumps([salt, name, False]).encode())
    return world.bind(jwt, [forged])


def extra_disclosure(world: World) -> str:
    jwt, disclosures = _issued_parts(world)
    return world.bind(jwt, [*disclosures, disclosure("income", 10_000).encoded])


def duplicate_disclosure(world: World) -> str:
    jwt, disclosures = _issued_parts(world)
    return world.bind(jwt, [disclosures[0], disclosures[0]])


def duplicate_digest(world: World) -> str:
    age = disclosure("age_over_18", True)
    payload = world.base_payload([age.digest, age.digest])
    return world.bind(world.sign_issuer_jwt(payload), [age.encoded])


def digest_in_two_objects(world: World) -> str:
    age = disclosure("age_over_18", True)
    payload = world.base_payload([age.digest])
    payload["nested"] = {"_sd": [age.digest]}
    return world.bind(world.sign_issuer_jwt(payload), [age.encoded])


def reserved_name_disclosed(world: World) -> str:
    hidden = disclosure("_sd", ["x"])
    payload = world.base_payload([hidden.digest])
    return world.bind(world.sign_issuer_jwt(payload), [hidden.encoded])


def claim_collision(world: World) -> str:
    age = disclosure("age_over_18", True)
    payload = world.base_payload([age.digest])
    payload["age_over_18"] = False
    return world.bind(world.sign_issuer_jwt(payload), [age.encoded])


def smuggled_expiry(world: World) -> str:
    age = disclosure("age_over_18", True, salt=1)
    exp = disclosure("exp", NOW + 10**9, salt=2)
    payload = world.base_payload([age.digest, exp.digest])
    del payload["exp"]
    return world.bind(world.sign_issuer_jwt(payload), [age.encoded, exp.encoded])


def array_element_as_property(world: World) -> str:
    element = disclosure(None, True)
    payload = world.base_payload([element.digest])
    return world.bind(world.sign_issuer_jwt(payload), [element.encoded])


def property_as_array_element(world: World) -> str:
    age = disclosure("age_over_18", True)
    payload = world.base_payload([])
    payload["list"] = [{"...": age.digest}]
    return world.bind(world.sign_issuer_jwt(payload), [age.encoded])


def sd_not_array(world: World) -> str:
    def change(payload: dict[str, Any]) -> None:
        payload["_sd"] = "not-an-array"

    return _resigned(world, change)


def sha512_digests(world: World) -> str:
    return _resigned(world, lambda payload: payload.update(_sd_alg="sha-512"))


def expired(world: World) -> str:
    return _resigned(world, lambda payload: payload.update(exp=NOW - 3_600))


def not_yet_valid(world: World) -> str:
    jwt, disclosures = _issued_parts(world, not_before=NOW + 3_600)
    return world.bind(jwt, disclosures)


def issued_in_future(world: World) -> str:
    return _resigned(world, lambda payload: payload.update(iat=NOW + 3_600))


def missing_iss(world: World) -> str:
    return _resigned(world, lambda payload: payload.pop("iss"))


def missing_iat(world: World) -> str:
    return _resigned(world, lambda payload: payload.pop("iat"))


def exp_not_number(world: World) -> str:
    return _resigned(world, lambda payload: payload.update(exp="tomorrow"))


def iat_boolean(world: World) -> str:
    return _resigned(world, lambda payload: payload.update(iat=True))


def vct_missing(world: World) -> str:
    return _resigned(world, lambda payload: payload.pop("vct"))


def status_malformed(world: World) -> str:
    return _resigned(world, lambda payload: payload.update(status={"idx": 1}))


def status_negative_index(world: World) -> str:
    bad = {"status_list": {"idx": -1, "uri": "https://x"}}
    return _resigned(world, lambda payload: payload.update(status=bad))


def revoked(world: World) -> str:
    world.status.set_status(
        StatusReference(uri="https://government.example/revoked", index=1),
        CredentialStatus.REVOKED,
    )
    return _with_status(world, "https://government.example/revoked", 1)


def suspended(world: World) -> str:
    world.status.set_status(
        StatusReference(uri="https://government.example/paused", index=2),
        CredentialStatus.SUSPENDED,
    )
    return _with_status(world, "https://government.example/paused", 2)


def _with_status(world: World, uri: str, index: int) -> str:
    reference = StatusReference(uri=uri, index=index)
    jwt, disclosures = _issued_parts(world, status=reference)
    return world.bind(jwt, disclosures)


def unknown_status_list(world: World) -> str:
    return _with_status(world, "https://unknown.example/list", 0)


def no_status(world: World) -> str:
    jwt, disclosures = _issued_parts(world, status=None)
    return world.bind(jwt, disclosures)


def untrusted_issuer(world: World) -> str:
    stranger = SigningKey.generate(Algorithm.ES256, key_id="did:example:stranger#1")
    world.keys.add(
        "did:example:stranger", stranger.public_jwk(), key_id=stranger.key_id
    )
    payload = _payload(world)
    payload["iss"] = "did:example:stranger"
    return _with_jwt(world, world.sign_issuer_jwt(payload, key=stranger))


def issuer_not_trusted_for_type(world: World) -> str:
    return _resigned(world, lambda payload: payload.update(vct="https://x/degree"))


def unknown_issuer_key(world: World) -> str:
    other = SigningKey.generate(Algorithm.ES256, key_id=f"{ISSUER}#key-9")
    return _with_jwt(world, world.sign_issuer_jwt(_payload(world), key=other))


def forged_with_same_kid(world: World) -> str:
    forger = SigningKey.generate(Algorithm.ES256, key_id=KEY_ID)
    return _with_jwt(world, world.sign_issuer_jwt(_payload(world), key=forger))


def kid_not_string(world: World) -> str:
    jwt = world.sign_issuer_jwt(_payload(world))
    header = CompactJws.parse(jwt, what="jwt").header
    header["kid"] = 7
    return _with_jwt(world, _replace_segment(jwt, 0, encode_segment(header)))


def issuer_typ_wrong(world: World) -> str:
    jwt = world.sign_issuer_jwt(_payload(world), header={"typ": "JWT"})
    return _with_jwt(world, jwt)


def kid_of_another_did(world: World) -> str:
    # The resolver would find this key; the verifier refuses it first.
    world.keys.add(ISSUER, world.issuer_key.public_jwk(), key_id="did:example:x#1")
    return _with_jwt(world, _resigned_header(world, kid="did:example:x#1"))


def crit_header(world: World) -> str:
    return _with_jwt(world, _resigned_header(world, crit=["exp"], exp=1))


def unencoded_payload(world: World) -> str:
    return _with_jwt(world, _resigned_header(world, b64=False, crit=["b64"]))


def kb_crit_header(world: World) -> str:
    jwt, disclosures = _issued_parts(world)
    return world.bind(jwt, disclosures, header={"typ": "kb+jwt", "crit": ["x"], "x": 1})


def _resigned_header(world: World, **header: Any) -> str:
    """An issuer JWT whose protected header carries ``header`` too."""
    kid = header.pop("kid", KEY_ID)
    signer = SigningKey(world.issuer_private, key_id=kid)
    return signer.sign_compact({"typ": "dc+sd-jwt", **header}, _payload(world))


def alg_none(world: World) -> str:
    header = {"typ": "dc+sd-jwt", "alg": "none", "kid": KEY_ID}
    jwt = f"{encode_segment(header)}.{encode_segment(_payload(world))}."
    return _with_jwt(world, jwt)


def alg_hs256_with_public_key(world: World) -> str:
    # The classic confusion: HMAC keyed with the issuer's public key bytes.
    public = world.issuer_key.public_jwk()
    secret = jwcrypto_jwk.JWK(kty="oct", k=b64url_encode(json.dumps(public).encode()))
    header = {"typ": "dc+sd-jwt", "alg": "HS256", "kid": KEY_ID}
    return _with_jwt(world, _foreign_signed(header, _payload(world), secret))


def alg_other_curve_named(world: World) -> str:
    jwt = world.sign_issuer_jwt(_payload(world))
    header = CompactJws.parse(jwt, what="jwt").header
    header["alg"] = "ES256K"
    return _with_jwt(world, _replace_segment(jwt, 0, encode_segment(header)))


def kb_alg_none(world: World) -> str:
    jwt, disclosures = _issued_parts(world)
    without_kb = world.bind(jwt, disclosures).rsplit("~", 1)[0] + "~"
    header = {"typ": "kb+jwt", "alg": "none"}
    kb_payload = CompactJws.parse(
        world.bind(jwt, disclosures).rsplit("~", 1)[1], what="kb"
    ).payload
    return f"{without_kb}{encode_segment(header)}.{encode_segment(kb_payload)}."


def wrong_holder_key(world: World) -> str:
    thief = SigningKey.generate(Algorithm.EDDSA)
    return world.present(holder_key=thief)


def wrong_holder_key_type(world: World) -> str:
    thief = SigningKey.generate(Algorithm.ES256)
    return world.present(holder_key=thief)


def no_key_binding(world: World) -> str:
    jwt, disclosures = _issued_parts(world)
    return "~".join((jwt, *disclosures, ""))


def no_cnf(world: World) -> str:
    return _resigned(world, lambda payload: payload.pop("cnf"))


def cnf_unsupported_key(world: World) -> str:
    rsa = {"kty": "RSA", "n": "AQAB", "e": "AQAB"}
    return _resigned(world, lambda payload: payload.update(cnf={"jwk": rsa}))


def cnf_private_key(world: World) -> str:
    private = jwcrypto_jwk.JWK.generate(kty="OKP", crv="Ed25519")
    exported = private.export_private(as_dict=True)
    return _resigned(world, lambda payload: payload.update(cnf={"jwk": exported}))


def cnf_not_on_curve(world: World) -> str:
    off_curve = {"kty": "EC", "crv": "P-256", "x": "AQ", "y": "AQ"}
    return _resigned(world, lambda payload: payload.update(cnf={"jwk": off_curve}))


def cnf_not_object(world: World) -> str:
    return _resigned(world, lambda payload: payload.update(cnf={"jwk": "key"}))


def kb_typ_wrong(world: World) -> str:
    jwt, disclosures = _issued_parts(world)
    return world.bind(jwt, disclosures, header={"typ": "JWT"})


def sd_hash_over_other_disclosures(world: World) -> str:
    presentation = world.present(names=["age_over_18", "given_name"])
    parts = presentation.split("~")
    # Drop a disclosure after the KB-JWT was signed over it.
    return "~".join([parts[0], parts[1], parts[-1]])


def sd_hash_missing(world: World) -> str:
    jwt, disclosures = _issued_parts(world)
    return world.bind(jwt, disclosures, sd_hash=None)


def replayed_nonce(world: World) -> str:
    return world.present(nonce="nonce-from-an-earlier-request")


def wrong_audience(world: World) -> str:
    return world.present(audience="did:example:lender-b")


def stale_key_binding(world: World) -> str:
    return world.present(at=NOW - 3_600)


def future_key_binding(world: World) -> str:
    return world.present(at=NOW + 3_600)


def kb_iat_not_number(world: World) -> str:
    jwt, disclosures = _issued_parts(world)
    return world.bind(jwt, disclosures, iat="now")


def required_claim_withheld(world: World) -> str:
    return world.present(names=["given_name"])


def _malformed(text: str) -> Callable[[World], str]:
    return lambda world: text


def bad_base64_disclosure(world: World) -> str:
    jwt, _ = _issued_parts(world)
    return world.bind(jwt, ["!!not-base64!!"])


def disclosure_not_json(world: World) -> str:
    jwt, _ = _issued_parts(world)
    return world.bind(jwt, [b64url_encode(b"{not json")])


def disclosure_not_array(world: World) -> str:
    jwt, _ = _issued_parts(world)
    return world.bind(jwt, [b64url_encode(b'{"a": 1}')])


def jwt_two_segments(world: World) -> str:
    jwt, disclosures = _issued_parts(world)
    return world.bind(jwt.rsplit(".", 1)[0], disclosures)


def header_not_json(world: World) -> str:
    jwt, disclosures = _issued_parts(world)
    return world.bind(_replace_segment(jwt, 0, b64url_encode(b"{oops")), disclosures)


def payload_is_array(world: World) -> str:
    jwt, disclosures = _issued_parts(world)
    return world.bind(_replace_segment(jwt, 1, encode_segment([1, 2])), disclosures)


def kb_jwt_garbage(world: World) -> str:
    jwt, disclosures = _issued_parts(world)
    return "~".join((jwt, *disclosures, "garbage"))


def deeply_nested_payload(world: World) -> str:
    jwt, disclosures = _issued_parts(world)
    deep = b64url_encode(b'{"a":' + b"[" * 200_000 + b"]" * 200_000 + b"}")
    return world.bind(_replace_segment(jwt, 1, deep), disclosures)


def deeply_nested_kb_header(world: World) -> str:
    presentation = world.present()
    kb = presentation.rsplit("~", 1)[1]
    deep = b64url_encode(b'{"a":' + b"{" * 200_000 + b"}" * 200_000 + b"}")
    return presentation[: -len(kb)] + _replace_segment(kb, 0, deep)


def missing_tildes(world: World) -> str:
    jwt, _ = _issued_parts(world)
    return jwt


@dataclass(frozen=True)
class Case:
    build: Callable[[World], str]
    rule: Rule


BROKEN: dict[str, Case] = {
    "issuer_signature/tampered_signature": Case(
        tampered_signature, Rule.ISSUER_SIGNATURE
    ),
    "issuer_signature/zero_padded_ecdsa": Case(
        zero_padded_signature, Rule.ISSUER_SIGNATURE
    ),
    "issuer_signature/tampered_payload": Case(tampered_payload, Rule.ISSUER_SIGNATURE),
    "issuer_signature/forged_with_same_kid": Case(
        forged_with_same_kid, Rule.ISSUER_SIGNATURE
    ),
    "issuer_key/unknown_kid": Case(unknown_issuer_key, Rule.ISSUER_KEY),
    "issuer_key/kid_of_another_did": Case(kid_of_another_did, Rule.ISSUER_KEY),
    "critical_header/issuer_crit": Case(crit_header, Rule.CRITICAL_HEADER),
    "critical_header/issuer_unencoded_payload": Case(
        unencoded_payload, Rule.CRITICAL_HEADER
    ),
    "critical_header/kb_crit": Case(kb_crit_header, Rule.CRITICAL_HEADER),
    "disclosure_unreferenced/tampered_disclosure": Case(
        tampered_disclosure, Rule.DISCLOSURE_UNREFERENCED
    ),
    "disclosure_unreferenced/extra_disclosure": Case(
        extra_disclosure, Rule.DISCLOSURE_UNREFERENCED
    ),
    "disclosure_duplicate/same_disclosure_twice": Case(
        duplicate_disclosure, Rule.DISCLOSURE_DUPLICATE
    ),
    "disclosure_duplicate/digest_twice_in_sd": Case(
        duplicate_digest, Rule.DISCLOSURE_DUPLICATE
    ),
    "disclosure_duplicate/digest_in_two_objects": Case(
        digest_in_two_objects, Rule.DISCLOSURE_DUPLICATE
    ),
    "disclosure_reserved_name/_sd": Case(
        reserved_name_disclosed, Rule.DISCLOSURE_RESERVED_NAME
    ),
    "claim_collision/disclosed_over_plain": Case(claim_collision, Rule.CLAIM_COLLISION),
    "registered_claims/disclosed_exp": Case(smuggled_expiry, Rule.REGISTERED_CLAIMS),
    "disclosure_format/array_element_in_sd": Case(
        array_element_as_property, Rule.DISCLOSURE_FORMAT
    ),
    "disclosure_format/property_in_array": Case(
        property_as_array_element, Rule.DISCLOSURE_FORMAT
    ),
    "disclosure_format/sd_not_array": Case(sd_not_array, Rule.DISCLOSURE_FORMAT),
    "disclosure_format/disclosure_not_array": Case(
        disclosure_not_array, Rule.DISCLOSURE_FORMAT
    ),
    "digest_algorithm/sha-512": Case(sha512_digests, Rule.DIGEST_ALGORITHM),
    "expired/past_exp": Case(expired, Rule.EXPIRED),
    "not_yet_valid/future_nbf": Case(not_yet_valid, Rule.NOT_YET_VALID),
    "not_yet_valid/future_iat": Case(issued_in_future, Rule.NOT_YET_VALID),
    "registered_claims/missing_iss": Case(missing_iss, Rule.REGISTERED_CLAIMS),
    "registered_claims/missing_iat": Case(missing_iat, Rule.REGISTERED_CLAIMS),
    "registered_claims/exp_not_number": Case(exp_not_number, Rule.REGISTERED_CLAIMS),
    "registered_claims/iat_boolean": Case(iat_boolean, Rule.REGISTERED_CLAIMS),
    "registered_claims/missing_vct": Case(vct_missing, Rule.REGISTERED_CLAIMS),
    "registered_claims/status_malformed": Case(
        status_malformed, Rule.REGISTERED_CLAIMS
    ),
    "registered_claims/status_negative_index": Case(
        status_negative_index, Rule.REGISTERED_CLAIMS
    ),
    "revoked/status_list_entry": Case(revoked, Rule.REVOKED),
    "suspended/status_list_entry": Case(suspended, Rule.SUSPENDED),
    "status_unavailable/unknown_list": Case(
        unknown_status_list, Rule.STATUS_UNAVAILABLE
    ),
    "status_unavailable/no_status_claim": Case(no_status, Rule.STATUS_UNAVAILABLE),
    "issuer_trust/unlisted_issuer": Case(untrusted_issuer, Rule.ISSUER_TRUST),
    "issuer_trust/not_listed_for_type": Case(
        issuer_not_trusted_for_type, Rule.ISSUER_TRUST
    ),
    "header_type/issuer_typ_jwt": Case(issuer_typ_wrong, Rule.HEADER_TYPE),
    "header_type/kb_typ_jwt": Case(kb_typ_wrong, Rule.HEADER_TYPE),
    "algorithm/issuer_alg_none": Case(alg_none, Rule.ALGORITHM),
    "algorithm/issuer_hs256_public_key_secret": Case(
        alg_hs256_with_public_key, Rule.ALGORITHM
    ),
    "algorithm/issuer_header_names_other_curve": Case(
        alg_other_curve_named, Rule.ALGORITHM
    ),
    "algorithm/kb_alg_none": Case(kb_alg_none, Rule.ALGORITHM),
    "algorithm/kb_signed_with_other_key_type": Case(
        wrong_holder_key_type, Rule.ALGORITHM
    ),
    "key_binding_signature/wrong_holder_key": Case(
        wrong_holder_key, Rule.KEY_BINDING_SIGNATURE
    ),
    "key_binding_missing/no_kb_jwt": Case(no_key_binding, Rule.KEY_BINDING_MISSING),
    "holder_key/no_cnf": Case(no_cnf, Rule.HOLDER_KEY),
    "holder_key/unsupported_key": Case(cnf_unsupported_key, Rule.HOLDER_KEY),
    "holder_key/private_key_in_cnf": Case(cnf_private_key, Rule.HOLDER_KEY),
    "holder_key/jwk_not_object": Case(cnf_not_object, Rule.HOLDER_KEY),
    "holder_key/not_on_curve": Case(cnf_not_on_curve, Rule.HOLDER_KEY),
    "sd_hash/disclosure_dropped_after_binding": Case(
        sd_hash_over_other_disclosures, Rule.SD_HASH
    ),
    "sd_hash/missing": Case(sd_hash_missing, Rule.SD_HASH),
    "nonce/replayed": Case(replayed_nonce, Rule.NONCE),
    "audience/other_verifier": Case(wrong_audience, Rule.AUDIENCE),
    "freshness/stale_kb_jwt": Case(stale_key_binding, Rule.FRESHNESS),
    "freshness/future_kb_jwt": Case(future_key_binding, Rule.FRESHNESS),
    "freshness/iat_not_number": Case(kb_iat_not_number, Rule.FRESHNESS),
    "required_claim/withheld": Case(required_claim_withheld, Rule.REQUIRED_CLAIM),
    "malformed_encoding/kid_not_string": Case(kid_not_string, Rule.MALFORMED_ENCODING),
    "malformed_encoding/bad_base64url_disclosure": Case(
        bad_base64_disclosure, Rule.MALFORMED_ENCODING
    ),
    "malformed_encoding/disclosure_not_json": Case(
        disclosure_not_json, Rule.MALFORMED_ENCODING
    ),
    "malformed_encoding/deeply_nested_payload": Case(
        deeply_nested_payload, Rule.MALFORMED_ENCODING
    ),
    "malformed_encoding/deeply_nested_kb_header": Case(
        deeply_nested_kb_header, Rule.MALFORMED_ENCODING
    ),
    "malformed_encoding/missing_tildes": Case(missing_tildes, Rule.MALFORMED_ENCODING),
    "malformed_encoding/jwt_two_segments": Case(
        jwt_two_segments, Rule.MALFORMED_ENCODING
    ),
    "malformed_encoding/header_not_json": Case(
        header_not_json, Rule.MALFORMED_ENCODING
    ),
    "malformed_encoding/payload_is_array": Case(
        payload_is_array, Rule.MALFORMED_ENCODING
    ),
    "malformed_encoding/kb_jwt_garbage": Case(kb_jwt_garbage, Rule.MALFORMED_ENCODING),
    "malformed_encoding/empty": Case(_malformed(""), Rule.MALFORMED_ENCODING),
    "malformed_encoding/only_tildes": Case(_malformed("~~~"), Rule.MALFORMED_ENCODING),
    "malformed_encoding/not_ascii": Case(_malformed("é.é.é~"), Rule.MALFORMED_ENCODING),
}


@pytest.mark.parametrize("case", BROKEN.values(), ids=BROKEN.keys())
def test_broken_presentation_fails_its_rule(fresh_world: World, case: Case) -> None:
    presentation = case.build(fresh_world)

    with pytest.raises(VerificationError) as caught:
        fresh_world.verifier().verify(presentation, request())

    assert caught.value.rule is case.rule, caught.value.detail


def test_every_rule_has_a_case() -> None:
    covered = {case.rule for case in BROKEN.values()}

    # Tested on their own: credential_type below, replayed_nonce in
    # test_nonces.py (it needs a verifier with a nonce store).
    assert covered | {Rule.CREDENTIAL_TYPE, Rule.REPLAYED_NONCE} == set(Rule)


def test_unrequested_credential_type_is_refused(world: World) -> None:
    with pytest.raises(VerificationError) as caught:
        world.verifier().verify(
            world.present(), request(credential_types=frozenset({"https://x/degree"}))
        )

    assert caught.value.rule is Rule.CREDENTIAL_TYPE


def test_every_single_character_change_is_rejected(world: World) -> None:
    presentation = world.present()
    verifier = world.verifier()
    alphabet = "AB~.=_"

    for position in range(0, len(presentation), 3):
        for replacement in alphabet:
            if presentation[position] == replacement:
                continue
            mutated = (
                presentation[:position] + replacement + presentation[position + 1 :]
            )
            with pytest.raises(VerificationError):
                verifier.verify(mutated, request())


WINDOW = {
    # (claim changes, verifier time, rule or None for a pass); leeway is 30 s.
    "exp_just_inside_leeway": ({"exp": NOW}, NOW + 29, None),
    "exp_at_leeway": ({"exp": NOW}, NOW + 30, Rule.EXPIRED),
    "nbf_just_inside_leeway": ({"nbf": NOW + 50}, NOW + 21, None),
    "nbf_beyond_leeway": ({"nbf": NOW + 50}, NOW + 19, Rule.NOT_YET_VALID),
    "no_exp_never_expires": ({"exp": None}, NOW + 10**8, None),
}


@pytest.mark.parametrize(("changes", "at", "rule"), WINDOW.values(), ids=WINDOW.keys())
def test_validity_window_boundaries(
    world: World, changes: dict[str, Any], at: int, rule: Rule | None
) -> None:
    jwt, disclosures = _issued_parts(world)
    payload = CompactJws.parse(jwt, what="jwt").payload
    payload.update(changes)
    payload = {name: value for name, value in payload.items() if value is not None}
    presentation = world.bind(world.sign_issuer_jwt(payload), disclosures, iat=at)
    verifier = world.verifier(clock=lambda: at)

    if rule is None:
        assert verifier.verify(presentation, request()).issuer == ISSUER
    else:
        with pytest.raises(VerificationError) as caught:
            verifier.verify(presentation, request())
        assert caught.value.rule is rule


def test_leeway_tolerates_small_clock_skew(world: World) -> None:
    presentation = world.present(at=NOW + 40)

    verified = world.verifier(clock=lambda: NOW + 20).verify(presentation, request())

    assert verified.issuer == ISSUER


def test_error_message_never_quotes_claim_values(world: World) -> None:
    with pytest.raises(VerificationError) as caught:
        world.verifier().verify(world.present(nonce="other"), request())

    assert "Ada" not in str(caught.value)
    assert NONCE not in str(caught.value)


def test_resolver_trust_and_status_are_protocols() -> None:
    # The in-memory stand-ins satisfy the protocols without inheriting them.
    verifier = PresentationVerifier(
        keys=InMemoryKeys(),
        trust=InMemoryTrustList(),
        status=InMemoryStatusList(),
    )

    with pytest.raises(VerificationError) as caught:
        verifier.verify("a.b.c~", request())
    assert caught.value.rule is Rule.MALFORMED_ENCODING
