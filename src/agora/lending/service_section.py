"""The lending demo's service section: the credit model sold per call.

After the federated job, the bureau (the job's buyer) publishes the model
with its standardisation as one artefact (:class:`CreditModel`, by CID) and
lists it in ``ServiceMarket`` as the credit scoring service, royalties going
to the job's platforms by their payouts. One platform deposits Token and
calls the service over HTTP with each applicant's credit file, signing each
receipt; the bureau settles the newest receipt on chain and every platform
claims its royalties.
"""

import logging
import secrets
from collections.abc import Sequence
from typing import Any

import httpx

from agora.ledger import Account, JobId, Receipt, TokenAmount, tokens
from agora.lending.consortium import LendingConsortium
from agora.lending.credit.bundle import CreditModel
from agora.lending.credit.service import CreditFileIn, CreditScoringService
from agora.market.services import (
    CallAuthenticator,
    Meter,
    create_service_app,
    sign_call,
)
from agora.market.services.server import serving
from agora.vault.blockstore import BlockStore

logger = logging.getLogger(__name__)

PRICE_TOKENS = 1
PROVIDER_SHARE_BPS = 3000
"""The bureau keeps 30 % of each fee; 70 % goes to the platforms."""


def run_credit_service_section(
    consortium: LendingConsortium,
    *,
    bureau: Account,
    job_id: JobId,
    model: CreditModel,
    files: Sequence[tuple[str, CreditFileIn]],
    caller_name: str,
    store: BlockStore,
) -> dict[str, Any]:
    """List the model, let platform ``caller_name`` score ``files`` (pairs
    of applicant and credit file), settle, pay the platforms."""
    ledger = consortium.ledger
    services, token = ledger.service_market, ledger.token

    # The bureau publishes and lists the model.
    model_cid = model.publish(store)
    price = tokens(PRICE_TOKENS)
    service_id = services.list_service(
        model_cid, price, PROVIDER_SHARE_BPS, job_id, account=bureau
    )
    handler = CreditScoringService(
        CreditModel.fetch(store, model_cid), model_cid=model_cid
    )

    # The calling platform deposits enough for its calls (the admin mints
    # it: the demo's stand-in for buying Token).
    platform = consortium.platforms[caller_name]
    deposit = TokenAmount(price * len(files))
    token.mint(platform.account.address, deposit, account=consortium.admin)
    token.approve(services.address, deposit, account=platform.account)
    services.deposit(deposit, account=platform.account)

    # Calls over HTTP, each signed, each receipt signed back.
    app = create_service_app(
        handler,
        authenticator=CallAuthenticator(service_id, ledger.did_registry),
        meter=Meter(services, service_id),
        model_cid=model_cid,
    )
    scores, signed, receipt = [], None, None
    with serving(app) as url, httpx.Client(base_url=url, timeout=30.0) as client:
        for applicant, credit_file in files:
            body = credit_file.model_dump_json().encode()
            headers = {
                **sign_call(
                    service_id,
                    platform.did,
                    platform.account,
                    body,
                    nonce=secrets.token_hex(8),
                ).headers(),
                "Content-Type": "application/json",
            }
            if signed is not None:
                headers["X-Agora-Receipt-Signature"] = signed.hex()
            response = client.post("/v1/call", content=body, headers=headers)
            response.raise_for_status()
            answer = response.json()
            scores.append({"applicant": applicant, **answer["answer"]})
            receipt = Receipt(**answer["receipt"])
            signed = services.sign(receipt, platform.account)

    # The bureau settles the newest receipt; everyone paid claims.
    if receipt is None or signed is None:
        raise ValueError("the platform made no call")
    services.settle(receipt, signed, account=bureau)
    royalties = {}
    for name, node in consortium.platforms.items():
        royalties[name] = int(services.earned(node.account.address))
        if royalties[name]:
            services.claim(account=node.account)
    bureau_income = int(services.earned(bureau.address))
    logger.info("service %s: %d calls settled", service_id, receipt.calls)
    return {
        "service_id": service_id,
        "model_cid": model_cid,
        "caller": caller_name,
        "price_per_call": int(price),
        "provider_share_bps": PROVIDER_SHARE_BPS,
        "threshold": handler.threshold,
        "calls": receipt.calls,
        "scores": scores,
        "settled": int(price) * receipt.calls,
        "platform_royalties": royalties,
        "bureau_income": bureau_income,
    }
