"""The service runtime over HTTP: signed calls, metering against the deposit,
receipts the consumer signs, settlement on chain, and every refusal."""

import io
import json
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image

from agora.health.xray import build_model
from agora.identity.did_ethr import ethr_did
from agora.ledger import Receipt
from agora.market.services import (
    CallAuthenticator,
    Meter,
    create_service_app,
    sign_call,
)
from agora.market.services.pneumonia import PneumoniaService
from agora.market.services.server import serving

from .support import CALLS_FUNDED, FUNDS, PRICE, Caller, Deployed


@pytest.fixture
def caller(deployed: Deployed) -> Iterator[Caller]:
    snapshot = deployed.chain.snapshot()
    ledger = deployed.ledger
    account = deployed.chain.new_account("clinic")
    ledger.token.mint(account.address, FUNDS, account=deployed.admin)
    ledger.token.approve(ledger.service_market.address, FUNDS, account=account)
    ledger.service_market.deposit(FUNDS, account=account)
    app = create_service_app(
        PneumoniaService(build_model(seed=0), threshold=0.5),
        authenticator=CallAuthenticator(deployed.service_id, ledger.did_registry),
        meter=Meter(ledger.service_market, deployed.service_id, refresh_s=0),
        model_cid="bafy-model",
    )
    yield Caller(
        account,
        ethr_did(deployed.chain.chain_id, account.address),
        TestClient(app),
        deployed.service_id,
        ledger.service_market,
    )
    deployed.chain.revert(snapshot)


def _png(width: int, height: int) -> bytes:
    pixels = np.random.default_rng(1).integers(0, 255, (height, width), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


ARRAY = json.dumps({"image": [[128] * 28] * 28}).encode()


def test_calls_are_answered_metered_and_settled(
    caller: Caller, deployed: Deployed
) -> None:
    status, first = caller.call(_png(640, 480), "image/png")
    assert status == 200
    assert 0.0 <= first["answer"]["probability"] <= 1.0  # type: ignore[index]
    assert first["receipt"]["calls"] == 1  # type: ignore[index]

    status, second = caller.call(ARRAY, "application/json")
    assert status == 200 and second["receipt"]["calls"] == 2  # type: ignore[index]

    # The provider settles the newest receipt (2 calls, signed by the caller).
    services = deployed.ledger.service_market
    receipt = Receipt(**caller.last_receipt)  # type: ignore[arg-type]
    services.settle(
        receipt, services.sign(receipt, caller.account), account=deployed.buyer
    )
    assert services.deposit_of(caller.account.address) == PRICE * (CALLS_FUNDED - 2)


def test_the_deposit_running_out_is_payment_required(caller: Caller) -> None:
    for _ in range(CALLS_FUNDED):
        assert caller.call(ARRAY, "application/json")[0] == 200

    status, refused = caller.call(ARRAY, "application/json")
    assert status == 402
    assert "deposit" in str(refused["message"])


def test_an_unsigned_last_receipt_stops_further_calls(caller: Caller) -> None:
    assert caller.call(ARRAY, "application/json")[0] == 200

    status, refused = caller.call(ARRAY, "application/json", sign_last=False)
    assert status == 402
    assert "sign the receipt for 1 calls" in str(refused["message"])


@pytest.mark.parametrize(
    ("headers", "status", "says"),
    [
        ({}, 401, "sign the call"),
        ({"X-Agora-DID": "did:key:z6Mk"}, 401, "X-Agora-DID"),
    ],
)
def test_unsigned_calls_are_refused(
    caller: Caller, headers: dict[str, str], status: int, says: str
) -> None:
    response = caller.client.post("/v1/call", content=ARRAY, headers=headers)
    assert response.status_code == status
    assert says in response.json()["message"]


def test_a_wrong_signature_is_refused(caller: Caller) -> None:
    assert caller.call(ARRAY, "application/json", tamper=True)[0] == 401


def test_a_replayed_call_is_refused(caller: Caller) -> None:
    signed = sign_call(
        caller.service_id, caller.did, caller.account, ARRAY, nonce="n-1234567"
    )
    headers = {**signed.headers(), "Content-Type": "application/json"}
    assert (
        caller.client.post("/v1/call", content=ARRAY, headers=headers).status_code
        == 200
    )

    again = caller.client.post("/v1/call", content=ARRAY, headers=headers)
    assert again.status_code == 401
    assert "nonce" in again.json()["message"]


def test_a_signature_over_another_body_is_refused(caller: Caller) -> None:
    signed = sign_call(
        caller.service_id, caller.did, caller.account, ARRAY, nonce="n-7654321"
    )
    headers = {**signed.headers(), "Content-Type": "image/png"}
    response = caller.client.post("/v1/call", content=_png(28, 28), headers=headers)
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"not an image at all", "image/png"),
        (b"", "image/png"),
        (b'{"image": [[1, 2], [3, 4]]}', "application/json"),
        (b'{"image": "pixels"}', "application/json"),
        (ARRAY, "text/plain"),
    ],
)
def test_unusable_input_is_refused_and_not_charged(
    caller: Caller, body: bytes, content_type: str
) -> None:
    status, refused = caller.call(body, content_type)
    assert status == 422
    assert refused["error"] == "UnusableInputError"

    status, ok = caller.call(ARRAY, "application/json")
    assert status == 200 and ok["receipt"]["calls"] == 1  # type: ignore[index]


def test_a_forged_receipt_signature_is_refused(caller: Caller) -> None:
    assert caller.call(ARRAY, "application/json")[0] == 200
    signed = sign_call(
        caller.service_id, caller.did, caller.account, ARRAY, nonce="n-receipt1"
    )
    headers = {
        **signed.headers(),
        "Content-Type": "application/json",
        "X-Agora-Receipt-Signature": "11" * 65,
    }
    response = caller.client.post("/v1/call", content=ARRAY, headers=headers)
    assert response.status_code == 409
    assert response.json()["error"] == "BadReceiptError"


def test_info_and_openapi(caller: Caller) -> None:
    info = caller.client.get("/v1/info").json()
    assert info["name"] == "pneumonia-detection"
    assert info["price_per_call"] == str(PRICE)
    paths = caller.client.get("/openapi.json").json()["paths"]
    assert set(paths) == {"/v1/info", "/v1/call"}
    assert "402" in paths["/v1/call"]["post"]["responses"]


def test_a_real_socket_serves_the_same_calls_and_refusals(
    caller: Caller,
) -> None:
    assert isinstance(caller.client.app, FastAPI)
    with serving(caller.client.app) as url, httpx.Client(base_url=url) as client:
        caller.client = client  # type: ignore[assignment]
        status, answered = caller.call(ARRAY, "application/json")
        assert status == 200 and answered["receipt"]["calls"] == 1  # type: ignore[index]
        unsigned = client.post("/v1/call", content=ARRAY)
        assert unsigned.status_code == 401
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"{url}/v1/call", content=ARRAY, timeout=2.0)
