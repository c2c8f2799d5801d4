"""The health demo's service market section: the trained model sold per call.

After the federated job, the buyer publishes the model (its arrays as an
``.npz`` block, by CID) and lists it in ``ServiceMarket`` as the pneumonia
detection service, royalties going to the job's hospitals by their payouts.
A clinic deposits Token and calls the service over HTTP on official test
images (PNG), signing each receipt; the buyer settles the newest receipt on
chain and the hospitals claim their royalties. The service's own evaluation
(:meth:`PneumoniaService.evaluate`) scores the listed model on the whole test
split through the same input path the HTTP calls take.
"""

import io
import logging
import secrets
from typing import Any

import httpx
import numpy as np
from PIL import Image

from agora.federated.arrays import Arrays
from agora.health.xray import ImageSplit
from agora.health.xray_job import model_of
from agora.identity.did_ethr import ethr_did
from agora.ledger import (
    Account,
    Chain,
    Deployment,
    JobId,
    Receipt,
    TokenAmount,
    tokens,
)
from agora.market.services import (
    CallAuthenticator,
    Meter,
    create_service_app,
    sign_call,
)
from agora.market.services.pneumonia import PneumoniaService
from agora.market.services.server import serving
from agora.vault.blockstore import BlockStore

logger = logging.getLogger(__name__)

PRICE_TOKENS = 1
PROVIDER_SHARE_BPS = 3000
"""The buyer keeps 30 % of each fee; 70 % goes to the hospitals."""


def publish_model(model: Arrays, store: BlockStore) -> str:
    """The model's arrays as one ``.npz`` block; returns its CID."""
    buffer = io.BytesIO()
    arrays: dict[str, Any] = {name: np.asarray(a) for name, a in model.items()}
    np.savez(buffer, **arrays)
    return str(store.put(buffer.getvalue()))


def _png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def run_service_section(
    chain: Chain,
    deployment: Deployment,
    *,
    admin: Account,
    buyer: Account,
    hospitals: list[Account],
    job_id: JobId,
    model: Arrays,
    threshold: float,
    test: ImageSplit,
    store: BlockStore,
    calls: int,
) -> dict[str, Any]:
    """List the model, let a clinic call it ``calls`` times, settle, pay.

    ``admin`` mints the clinic's Token (the demo's stand-in for buying it).
    """
    services, token = deployment.service_market, deployment.token

    # The buyer publishes and lists the model.
    model_cid = publish_model(model, store)
    price = tokens(PRICE_TOKENS)
    service_id = services.list_service(
        model_cid, price, PROVIDER_SHARE_BPS, job_id, account=buyer
    )
    network = model_of(model)
    handler = PneumoniaService(network, threshold=threshold)

    # A clinic deposits enough for its calls.
    clinic = chain.new_account("clinic")
    deposit = TokenAmount(price * calls)
    token.mint(clinic.address, deposit, account=admin)
    token.approve(services.address, deposit, account=clinic)
    services.deposit(deposit, account=clinic)

    # Calls over HTTP, each signed, each receipt signed back.
    app = create_service_app(
        handler,
        authenticator=CallAuthenticator(service_id, deployment.did_registry),
        meter=Meter(services, service_id),
        model_cid=model_cid,
    )
    did = ethr_did(chain.chain_id, clinic.address)
    correct, signed, receipt = 0, None, None
    with serving(app) as url, httpx.Client(base_url=url, timeout=30.0) as client:
        for image, label in zip(test.images[:calls], test.labels[:calls], strict=True):
            body = _png(image)
            headers = {
                **sign_call(
                    service_id, did, clinic, body, nonce=secrets.token_hex(8)
                ).headers(),
                "Content-Type": "image/png",
            }
            if signed is not None:
                headers["X-Agora-Receipt-Signature"] = signed.hex()
            response = client.post("/v1/call", content=body, headers=headers)
            response.raise_for_status()
            answer = response.json()
            correct += (answer["answer"]["label"] == "pneumonia") == bool(label)
            receipt = Receipt(**answer["receipt"])
            signed = services.sign(receipt, clinic)

    # The buyer settles the newest receipt; everyone paid claims.
    if receipt is None or signed is None:
        raise ValueError("the clinic made no call")
    services.settle(receipt, signed, account=buyer)
    royalties = {}
    for hospital in hospitals:
        earned = int(services.earned(hospital.address))
        royalties[chain.name_of(hospital.address)] = earned
        # A hospital the job paid nothing (Shapley weight 0, as a noisy
        # private job can give) earns no royalties and has nothing to claim.
        if earned > 0:
            services.claim(account=hospital)
    evaluation = handler.evaluate(test)
    logger.info("service %s: %d calls settled", service_id, receipt.calls)
    return {
        "service_id": service_id,
        "model_cid": model_cid,
        "price_per_call": int(price),
        "provider_share_bps": PROVIDER_SHARE_BPS,
        "calls": receipt.calls,
        "calls_accuracy": correct / calls,
        "settled": int(price) * receipt.calls,
        "hospital_royalties": royalties,
        "buyer_income": int(services.earned(buyer.address)),
        "evaluation": evaluation,
    }
