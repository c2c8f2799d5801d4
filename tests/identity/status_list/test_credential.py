"""Status list credentials as JWTs: each malformed one refused by rule."""

from collections.abc import Callable
from typing import Any

import pytest
from web3 import Web3

from agora.identity.sdjwt import Algorithm, SigningKey
from agora.identity.sdjwt.jose import CompactJws
from agora.identity.status_list import (
    Bitstring,
    StatusListIssuer,
    StatusPurpose,
    StatusRule,
    StatusUnavailableError,
    TrustedStatusList,
    read_status_list_credential,
    status_list_url,
)

ISSUER = "did:web:bank.example"
URI = "https://bank.example/status/1"
URL = status_list_url(URI, StatusPurpose.REVOCATION)
KEY = SigningKey.generate(Algorithm.ES256)
TRUSTED = TrustedStatusList(
    writer=Web3.to_checksum_address("0x" + "11" * 20),
    issuer=ISSUER,
    key=KEY.verification_key(),
)


def _payload() -> dict[str, Any]:
    published = StatusListIssuer(URI, issuer=ISSUER, key=KEY, clock=lambda: 1.8e9)
    jwt = published.publish().revocation_jwt
    return CompactJws.parse(jwt, what="test").payload


def _signed(edit: Callable[[dict[str, Any]], None], *, typ: str = "vc+jwt") -> str:
    payload = _payload()
    edit(payload)
    return KEY.sign_compact({"typ": typ}, payload)


def _read(jwt: str) -> Bitstring:
    return read_status_list_credential(
        jwt, purpose=StatusPurpose.REVOCATION, url=URL, trusted=TRUSTED
    )


def test_a_well_formed_credential_reads() -> None:
    assert _read(_signed(lambda payload: None)) == Bitstring()


def _subject(name: str, value: object) -> Callable[[dict[str, Any]], None]:
    def edit(payload: dict[str, Any]) -> None:
        payload["credentialSubject"][name] = value

    return edit


def _top(name: str, value: object) -> Callable[[dict[str, Any]], None]:
    def edit(payload: dict[str, Any]) -> None:
        payload[name] = value

    return edit


@pytest.mark.parametrize(
    ("rule", "jwt"),
    [
        pytest.param(StatusRule.CREDENTIAL, "not.a.jws", id="credential-not-jws"),
        pytest.param(StatusRule.CREDENTIAL, "a.b", id="credential-two-segments"),
        pytest.param(
            StatusRule.CREDENTIAL,
            _signed(lambda payload: None, typ="JWT"),
            id="credential-typ",
        ),
        pytest.param(
            StatusRule.CREDENTIAL,
            _signed(_top("type", ["VerifiableCredential"])),
            id="credential-type",
        ),
        pytest.param(
            StatusRule.CREDENTIAL,
            _signed(_top("credentialSubject", "list")),
            id="credential-subject",
        ),
        pytest.param(
            StatusRule.CREDENTIAL,
            _signed(_subject("type", "StatusList2021")),
            id="credential-subject-type",
        ),
        pytest.param(
            StatusRule.CREDENTIAL,
            _signed(_subject("encodedList", 7)),
            id="credential-encoded-list-type",
        ),
        pytest.param(
            StatusRule.CREDENTIAL,
            _signed(_top("issuer", "did:web:other")),
            id="credential-issuer",
        ),
        pytest.param(
            StatusRule.CREDENTIAL, _signed(_top("id", URI + "/x")), id="credential-id"
        ),
        pytest.param(
            StatusRule.PURPOSE,
            _signed(_subject("statusPurpose", "suspension")),
            id="purpose",
        ),
        pytest.param(
            StatusRule.MULTIBASE,
            _signed(_subject("encodedList", "zABC")),
            id="multibase",
        ),
        pytest.param(
            StatusRule.GZIP,
            _signed(_subject("encodedList", "uAAAA")),
            id="gzip",
        ),
        pytest.param(
            StatusRule.SIGNATURE,
            SigningKey.generate(Algorithm.ES256).sign_compact(
                {"typ": "vc+jwt"}, _payload()
            ),
            id="signature-other-key",
        ),
        pytest.param(
            StatusRule.SIGNATURE,
            SigningKey.generate(Algorithm.EDDSA).sign_compact(
                {"typ": "vc+jwt"}, _payload()
            ),
            id="signature-algorithm",
        ),
    ],
)
def test_malformed_credentials_are_refused_by_rule(rule: StatusRule, jwt: str) -> None:
    with pytest.raises(StatusUnavailableError) as info:
        _read(jwt)
    assert info.value.rule is rule
