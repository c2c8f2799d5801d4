"""A deployed ServiceMarket with one listed service, and a consumer that
calls a service app and signs each receipt, for the service tests."""

import secrets
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient

from agora.ledger import (
    Chain,
    Deployment,
    JobId,
    Receipt,
    Role,
    ServiceMarketClient,
    TokenAmount,
    build_contracts,
    connect,
    deploy,
    label_set_hash,
    modality_hash,
    tokens,
)
from agora.market.services import sign_call
from agora.settings import Settings

PRICE = tokens(1)
CALLS_FUNDED = 3
FUNDS = TokenAmount(PRICE * CALLS_FUNDED)


@dataclass
class Deployed:
    chain: Chain
    ledger: Deployment
    admin: LocalAccount
    buyer: LocalAccount
    service_id: int
    job_id: JobId


def deploy_market() -> Deployed:
    settings = Settings(chain_url=None)
    chain = connect(settings)
    admin = chain.new_account("admin")
    ledger = deploy(chain, admin, artifacts=build_contracts(settings))
    buyer = chain.new_account("buyer")
    hospital = chain.new_account("hospital")
    ledger.consortium.add_member(
        buyer.address, "Buyer", Role.BUYER | Role.COORDINATOR, account=admin
    )
    ledger.consortium.add_member(hospital.address, "H", Role.HOSPITAL, account=admin)
    market = ledger.data_market
    ledger.token.mint(buyer.address, tokens(10), account=admin)
    ledger.token.approve(market.address, tokens(10), account=buyer)
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
    service_id = ledger.service_market.list_service(
        "bafy-model", PRICE, 3000, job, account=buyer
    )
    return Deployed(chain, ledger, admin, buyer, service_id, job)


@dataclass
class Caller:
    account: LocalAccount
    did: str
    client: TestClient
    service_id: int
    services: ServiceMarketClient
    last_receipt: dict[str, int] | None = None

    def call(
        self,
        body: bytes,
        content_type: str,
        *,
        sign_last: bool = True,
        tamper: bool = False,
    ) -> tuple[int, dict[str, object]]:
        signed = sign_call(
            self.service_id, self.did, self.account, body, nonce=secrets.token_hex(8)
        )
        headers = {**signed.headers(), "Content-Type": content_type}
        if tamper:
            headers["X-Agora-Signature"] = headers["X-Agora-Signature"][:-4] + "0000"
        if sign_last and self.last_receipt is not None:
            receipt = Receipt(**self.last_receipt)  # type: ignore[arg-type]
            signature = self.services.sign(receipt, self.account)
            headers["X-Agora-Receipt-Signature"] = signature.hex()
        response = self.client.post("/v1/call", content=body, headers=headers)
        payload = response.json()
        if response.status_code == 200:
            self.last_receipt = payload["receipt"]
        return response.status_code, payload
