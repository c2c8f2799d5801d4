"""Benchmark: what authentication, metering and receipts add to a service call.

A pneumonia-detection service (the X-ray model architecture) is listed in
``ServiceMarket`` on the embedded chain; a clinic deposits Token and makes
``--calls`` calls with a PNG each, signing every receipt as the protocol
asks. The runtime times each call's parts itself: ``overhead`` is
authentication (signature recovery, DID controller, nonce) plus metering
(receipt check, deposit, new receipt); ``inference`` is the model's own
work (decode, resize, forward pass). Chain reads are cached as in service
(5 s), so a warm call touches the chain rarely.

Prints one JSON object as its last line (``overhead_p50_ms``,
``inference_p50_ms`` …).

Usage: python benchmarks/services.py [--calls N]
"""

import argparse
import io
import json
import secrets
import statistics

import numpy as np
import torch
from fastapi.testclient import TestClient
from PIL import Image

from agora.health.xray import build_model
from agora.identity.did_ethr import ethr_did
from agora.ledger import (
    Receipt,
    Role,
    connect,
    deploy,
    label_set_hash,
    modality_hash,
    tokens,
)
from agora.market.services import (
    CallAuthenticator,
    Meter,
    create_service_app,
    sign_call,
)
from agora.market.services.pneumonia import PneumoniaService
from agora.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    torch.set_num_threads(1)

    # A finalized job whose model is listed, and a clinic with a deposit.
    chain = connect(Settings(chain_url=None))
    admin, buyer, hospital, clinic = (
        chain.new_account(name) for name in ("admin", "buyer", "hospital", "clinic")
    )
    ledger = deploy(chain, admin)
    ledger.consortium.add_member(
        buyer.address, "Buyer", Role.BUYER | Role.COORDINATOR, account=admin
    )
    ledger.consortium.add_member(hospital.address, "H", Role.HOSPITAL, account=admin)
    market, token = ledger.data_market, ledger.token
    token.mint(buyer.address, tokens(10), account=admin)
    token.approve(market.address, tokens(10), account=buyer)
    xray, labels = modality_hash("xray"), label_set_hash(["normal", "pneumonia"])
    dataset = market.register_dataset(
        modality=xray, label_set=labels, samples=500, schema_cid="s", account=hospital
    )
    job = market.post_job(
        spec_cid="spec",
        modality=xray,
        label_set=labels,
        min_samples=10,
        reward=tokens(10),
        min_providers=1,
        max_providers=1,
        deadline=chain.now() + 3600,
        coordinator=buyer.address,
        account=buyer,
    )
    market.apply(job, dataset, account=hospital)
    market.start_job(job, account=buyer)
    market.commit_round(
        job,
        1,
        updates_root=bytes(range(1, 33)),
        aggregate_hash=bytes(range(2, 34)),
        account=buyer,
    )
    market.finalize(job, [10_000], account=buyer)
    services = ledger.service_market
    price = tokens(1)
    service_id = services.list_service("bafy-model", price, 3000, job, account=buyer)
    funds = price * (args.calls + 1)
    token.mint(clinic.address, funds, account=admin)
    token.approve(services.address, funds, account=clinic)
    services.deposit(funds, account=clinic)

    app = create_service_app(
        PneumoniaService(build_model(seed=0), threshold=0.5),
        authenticator=CallAuthenticator(service_id, ledger.did_registry),
        meter=Meter(services, service_id),
        model_cid="bafy-model",
    )
    client = TestClient(app)
    did = ethr_did(chain.chain_id, clinic.address)
    pixels = np.random.default_rng(0).integers(0, 255, (512, 512), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    body = buffer.getvalue()

    overhead, inference = [], []
    receipt_signature: str | None = None
    for _ in range(args.calls):
        headers = {
            **sign_call(
                service_id, did, clinic, body, nonce=secrets.token_hex(8)
            ).headers(),
            "Content-Type": "image/png",
        }
        if receipt_signature:
            headers["X-Agora-Receipt-Signature"] = receipt_signature
        response = client.post("/v1/call", content=body, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"call refused: {response.json()}")
        answer = response.json()
        timing = answer["timing_ms"]
        overhead.append(timing["auth"] + timing["metering"])
        inference.append(timing["inference"])
        receipt = Receipt(**answer["receipt"])
        receipt_signature = services.sign(receipt, clinic).hex()

    print(
        json.dumps(
            {
                "benchmark": "services",
                "overhead_p50_ms": round(statistics.median(overhead), 3),
                "overhead_p99_ms": round(statistics.quantiles(overhead, n=100)[98], 3),
                "inference_p50_ms": round(statistics.median(inference), 3),
                "calls": args.calls,
                "image": "PNG 512x512 grey",
                "service": "pneumonia-detection",
            }
        )
    )


if __name__ == "__main__":
    main()
