"""Bearer tokens, one test per rule a token can break (agora.node.auth).

Each refusal is a 401 whose ``error`` names the rule; the tests call the
hospital node's ``GET /v1/offers`` as its staff, with one thing wrong.
"""

import logging

import pytest
from fastapi.testclient import TestClient

from agora.identity.did_ethr import ethr_did
from agora.identity.keys import KeyType
from agora.node.auth import CLOCK_SKEW_S, MAX_LIFETIME_S
from agora.node.errors import AuthRule

from .conftest import Cast
from .support import NOW, Clock, Person, claims, forge, header_of, refusal

OFFERS = "/v1/offers"


def _audience(client: TestClient) -> str:
    did: str = client.get("/v1/node").json()["did"]
    return did


def test_a_fresh_token_from_the_staff_is_accepted(
    cast: Cast, hospital_node: TestClient
) -> None:
    answer = hospital_node.get(
        OFFERS, headers=cast.staff.headers(_audience(hospital_node))
    )
    assert answer.status_code == 200, answer.text


def test_missing_token(hospital_node: TestClient) -> None:
    answer = hospital_node.get(OFFERS)
    assert answer.status_code == 401
    assert answer.json()["error"] == AuthRule.MISSING
    basic = hospital_node.get(OFFERS, headers={"Authorization": "Basic YTpi"})
    assert basic.json()["error"] == AuthRule.MISSING


def test_malformed_token(hospital_node: TestClient) -> None:
    # Not three segments; not base64url; a payload that is not JSON.
    for token in ("abc", "e30.e30", "a!.b.c", "e30.bm90IGpzb24.AA"):
        assert refusal(hospital_node, OFFERS, token) == (401, AuthRule.MALFORMED)


def test_token_lacking_a_claim(cast: Cast, hospital_node: TestClient) -> None:
    payload = claims(cast.staff.did, _audience(hospital_node))
    del payload["jti"]
    token = forge(cast.staff.pair, header_of(cast.staff), payload)
    assert refusal(hospital_node, OFFERS, token) == (401, AuthRule.MALFORMED)


def test_claim_of_the_wrong_type(cast: Cast, hospital_node: TestClient) -> None:
    payload = {**claims(cast.staff.did, _audience(hospital_node)), "exp": True}
    token = forge(cast.staff.pair, header_of(cast.staff), payload)
    assert refusal(hospital_node, OFFERS, token) == (401, AuthRule.MALFORMED)


def test_short_jti(cast: Cast, hospital_node: TestClient) -> None:
    payload = {**claims(cast.staff.did, _audience(hospital_node)), "jti": "1"}
    token = forge(cast.staff.pair, header_of(cast.staff), payload)
    assert refusal(hospital_node, OFFERS, token) == (401, AuthRule.MALFORMED)


def test_wrong_token_type(cast: Cast, hospital_node: TestClient) -> None:
    # A key-binding JWT signed by the same key is not a node token.
    header = header_of(cast.staff, typ="kb+jwt")
    token = forge(
        cast.staff.pair, header, claims(cast.staff.did, _audience(hospital_node))
    )
    assert refusal(hospital_node, OFFERS, token) == (401, AuthRule.WRONG_TYPE)


def test_key_not_of_the_issuer(cast: Cast, hospital_node: TestClient) -> None:
    # The outsider signs with its own key but claims to be the staff.
    header = header_of(cast.outsider)
    token = forge(
        cast.outsider.pair, header, claims(cast.staff.did, _audience(hospital_node))
    )
    assert refusal(hospital_node, OFFERS, token) == (401, AuthRule.KEY_NOT_ISSUER)


def test_unknown_did(cast: Cast, hospital_node: TestClient) -> None:
    did = "did:web:hospital.example"
    header = header_of(cast.staff, kid=f"{did}#key-1")
    token = forge(cast.staff.pair, header, claims(did, _audience(hospital_node)))
    assert refusal(hospital_node, OFFERS, token) == (401, AuthRule.UNKNOWN_DID)


def test_method_not_in_the_document(cast: Cast, hospital_node: TestClient) -> None:
    header = header_of(cast.staff, kid=f"{cast.staff.did}#other-key")
    token = forge(
        cast.staff.pair, header, claims(cast.staff.did, _audience(hospital_node))
    )
    assert refusal(hospital_node, OFFERS, token) == (401, AuthRule.UNKNOWN_DID)


def test_bad_signature(cast: Cast, hospital_node: TestClient) -> None:
    # The staff's DID and kid, the outsider's Ed25519 signature.
    impostor = Person.new(KeyType.ED25519)
    token = forge(
        impostor.pair,
        header_of(cast.staff),
        claims(cast.staff.did, _audience(hospital_node)),
    )
    assert refusal(hospital_node, OFFERS, token) == (401, AuthRule.SIGNATURE)


def test_tampered_payload(cast: Cast, hospital_node: TestClient) -> None:
    token = cast.staff.token(_audience(hospital_node))
    head, payload, signature = token.split(".")
    other = cast.staff.token(_audience(hospital_node)).split(".")[1]
    tampered = f"{head}.{other}.{signature}"
    assert payload != other
    assert refusal(hospital_node, OFFERS, tampered) == (401, AuthRule.SIGNATURE)


def test_algorithm_from_the_header_is_not_trusted(
    cast: Cast, hospital_node: TestClient
) -> None:
    audience = _audience(hospital_node)
    for algorithm in ("ES256", "ES256K", "HS256", "none"):
        header = header_of(cast.staff, alg=algorithm)
        token = forge(cast.staff.pair, header, claims(cast.staff.did, audience))
        if algorithm == "none":
            token = token.rsplit(".", 1)[0] + "."
        assert refusal(hospital_node, OFFERS, token) == (401, AuthRule.ALGORITHM)


def test_wrong_audience(cast: Cast, hospital_node: TestClient) -> None:
    token = cast.staff.token(cast.patient.did)
    assert refusal(hospital_node, OFFERS, token) == (401, AuthRule.AUDIENCE)


def test_expired_token(cast: Cast, hospital_node: TestClient, clock: Clock) -> None:
    token = cast.staff.token(_audience(hospital_node), lifetime_s=60)
    clock.now = NOW + 60 + CLOCK_SKEW_S
    assert refusal(hospital_node, OFFERS, token) == (401, AuthRule.EXPIRED)


def test_expiry_allows_the_clock_skew(
    cast: Cast, hospital_node: TestClient, clock: Clock
) -> None:
    token = cast.staff.token(_audience(hospital_node), lifetime_s=60)
    clock.now = NOW + 60 + CLOCK_SKEW_S - 1
    assert refusal(hospital_node, OFFERS, token)[0] == 200


def test_token_not_yet_valid(cast: Cast, hospital_node: TestClient) -> None:
    token = cast.staff.token(_audience(hospital_node), now=NOW + CLOCK_SKEW_S + 5)
    assert refusal(hospital_node, OFFERS, token) == (401, AuthRule.NOT_YET_VALID)


def test_lifetime_too_long(cast: Cast, hospital_node: TestClient) -> None:
    audience = _audience(hospital_node)
    token = cast.staff.token(audience, lifetime_s=MAX_LIFETIME_S + 1)
    assert refusal(hospital_node, OFFERS, token) == (401, AuthRule.LIFETIME)
    backwards = cast.staff.token(audience, lifetime_s=-10)
    assert refusal(hospital_node, OFFERS, backwards) == (401, AuthRule.LIFETIME)


def test_replayed_token(cast: Cast, hospital_node: TestClient) -> None:
    token = cast.staff.token(_audience(hospital_node))
    assert refusal(hospital_node, OFFERS, token)[0] == 200
    assert refusal(hospital_node, OFFERS, token) == (401, AuthRule.REPLAYED)


def test_a_forged_token_does_not_spend_its_jti(
    cast: Cast, hospital_node: TestClient
) -> None:
    audience = _audience(hospital_node)
    payload = claims(cast.staff.did, audience)
    impostor = Person.new(KeyType.ED25519)
    forged = forge(impostor.pair, header_of(cast.staff), payload)
    assert refusal(hospital_node, OFFERS, forged) == (401, AuthRule.SIGNATURE)
    genuine = forge(cast.staff.pair, header_of(cast.staff), payload)
    assert refusal(hospital_node, OFFERS, genuine)[0] == 200


def test_did_ethr_caller_signs_with_its_controller(
    cast: Cast, hospital_node: TestClient
) -> None:
    # The member's did:ethr resolves from DIDRegistry: #controller is its
    # account, which an ES256K signature is recovered against.
    did = ethr_did(cast.ledger.chain.chain_id, cast.member.address())
    member = Person(cast.member.pair, did)
    answer = hospital_node.get(OFFERS, headers=member.headers(_audience(hospital_node)))
    assert answer.status_code == 200, answer.text


def test_tokens_never_reach_the_log(
    cast: Cast, hospital_node: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="agora")
    token = cast.staff.token(_audience(hospital_node))
    refusal(hospital_node, OFFERS, token)
    refusal(hospital_node, OFFERS, token)  # replayed
    signature = token.rsplit(".", 1)[1]
    assert caplog.records, "the node logs nothing at all"
    assert signature not in caplog.text
    assert token.split(".")[1] not in caplog.text
