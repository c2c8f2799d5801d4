"""`agora market services` and `agora market settle`, run as a user would,
on a local consortium where a buyer's model is listed and a clinic has
signed a receipt for its calls."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agora.health.fhir import load_bundle
from agora.health.qa import PatientRecord, QaEngine, shared_embedder
from agora.health.qa.service import EhrQaService
from agora.identity.did_ethr import ethr_did, parse_ethr_did
from agora.identity.keys import KeyType, ethereum_address
from agora.identity.wallet import Wallet
from agora.ledger import (
    Category,
    Receipt,
    Role,
    TokenAmount,
    grantee_hash,
    label_set_hash,
    modality_hash,
    purpose_code,
    tokens,
)
from agora.ledger.local import LocalLedger
from agora.market.services import CallAuthenticator, Meter, create_service_app
from agora.market.services.receipts import SignedReceipt
from agora.market.services.server import serving
from agora.settings import Settings

from .support import DATA_DIR, agora

PASSWORD = "pw-for-tests"
PRICE = tokens(1)


@dataclass
class Market:
    env: dict[str, str]
    provider: str
    clinic: str
    receipt: Path
    """The clinic's signed receipt for 2 calls."""
    consumer: str
    """A did:ethr of the wallet with a deposit, for `agora market call`."""


def _run(env: dict[str, str], *args: str) -> str:
    result = agora(*args, env=env)
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout.strip()


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Market:
    folder = tmp_path_factory.mktemp("state")
    env = {"AGORA_STATE_DIR": str(folder), "AGORA_WALLET_PASSWORD": PASSWORD}
    _run(env, "ledger", "init")
    _run(env, "wallet", "create")
    provider_did = _run(env, "did", "create", "--method", "ethr")
    _, provider_address = parse_ethr_did(provider_did)
    consumer_did = _run(env, "did", "create", "--method", "ethr")
    _, consumer_address = parse_ethr_did(consumer_did)

    # The provider buys a finalized job and lists its model; a clinic
    # deposits and signs a receipt. Done here, between two commands.
    settings = Settings(state_dir=folder)
    wallet = Wallet.open(folder / "wallets" / "default.wallet", PASSWORD)
    with LocalLedger.open(settings) as ledger:
        chain, deployment, admin = ledger.chain, ledger.deployment, ledger.admin
        keys = {
            ethereum_address(pair.public_key): pair.private_bytes()
            for pair in map(wallet.key_pair, wallet.dids())
            if pair.key_type is KeyType.SECP256K1
        }
        buyer = ledger.account(keys[provider_address], "buyer")
        consumer = ledger.account(keys[consumer_address], "consumer")
        hospital = chain.new_account("hospital")
        deployment.consortium.add_member(
            buyer.address, "Buyer", Role.BUYER | Role.COORDINATOR, account=admin
        )
        deployment.consortium.add_member(
            hospital.address, "Hospital", Role.HOSPITAL, account=admin
        )
        data_market = deployment.data_market
        deployment.token.mint(buyer.address, tokens(10), account=admin)
        deployment.token.approve(data_market.address, tokens(10), account=buyer)
        xray, labels = modality_hash("xray"), label_set_hash(["normal", "pneumonia"])
        dataset = data_market.register_dataset(
            modality=xray,
            label_set=labels,
            samples=50,
            schema_cid="s",
            account=hospital,
        )
        job = data_market.post_job(
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
        data_market.apply(job, dataset, account=hospital)
        data_market.start_job(job, account=buyer)
        data_market.commit_round(
            job,
            1,
            updates_root=bytes(range(1, 33)),
            aggregate_hash=bytes(range(2, 34)),
            account=buyer,
        )
        data_market.finalize(job, [10_000], account=buyer)
        services = deployment.service_market
        service_id = services.list_service(
            "bafy-ehr-qa-model", PRICE, 3000, job, account=buyer
        )

        clinic = chain.new_account("clinic")
        funds = TokenAmount(PRICE * 3)
        deployment.token.mint(clinic.address, funds, account=admin)
        deployment.token.approve(services.address, funds, account=clinic)
        services.deposit(funds, account=clinic)
        receipt = Receipt(service_id, clinic.address, 2, 0)
        signed = SignedReceipt(receipt, services.sign(receipt, clinic))
        deployment.token.mint(consumer.address, funds, account=admin)
        deployment.token.approve(services.address, funds, account=consumer)
        services.deposit(funds, account=consumer)

    path = folder / "receipt.json"
    path.write_text(json.dumps(signed.to_json()))
    return Market(env, provider_address, clinic.address, path, consumer_did)


def test_services_lists_what_is_on_chain(market: Market) -> None:
    listed = json.loads(_run(market.env, "market", "services", "--json"))
    assert listed == [
        {
            "service": 1,
            "provider": market.provider,
            "model_cid": "bafy-ehr-qa-model",
            "price_per_call": str(PRICE),
            "provider_share_bps": 3000,
            "job": 1,
            "active": True,
        }
    ]
    text = _run(market.env, "market", "services")
    assert "bafy-ehr-qa-model" in text and f"price {PRICE}" in text


def test_settle_pays_once_and_refuses_the_replay(market: Market) -> None:
    settled = json.loads(
        _run(market.env, "market", "settle", str(market.receipt), "--json")
    )
    assert settled["calls_settled"] == 2
    assert settled["amount"] == str(PRICE * 2)
    assert settled["deposit_left"] == str(PRICE)
    # The provider keeps 30 %; the hospital's 70 % is the royalty.
    assert settled["provider_earned"] == str(PRICE * 2 * 3 // 10)

    replayed = agora("market", "settle", str(market.receipt), env=market.env)
    assert replayed.returncode == 5
    assert "nothing to settle" in replayed.stderr


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        (lambda d: "{not json", 4, "not JSON"),
        (lambda d: {**d, "signature": "0x12"}, 4, "signature"),
        (lambda d: {**d, "receipt": {**d["receipt"], "service": 9}}, 6, "service 9"),
        (lambda d: {**d, "receipt": {**d["receipt"], "calls": 3}}, 5, "signature"),
    ],
    ids=["not-json", "short-signature", "unknown-service", "inflated-count"],
)
def test_bad_receipts_are_refused(
    market: Market,
    tmp_path: Path,
    change: Callable[[dict[str, Any]], object],
    code: int,
    words: str,
) -> None:
    document = json.loads(market.receipt.read_text())
    changed = change(document)
    path = tmp_path / "receipt.json"
    path.write_text(changed if isinstance(changed, str) else json.dumps(changed))

    refused = agora("market", "settle", str(path), "--json", env=market.env)
    assert refused.returncode == code, refused.stderr
    error = json.loads(refused.stderr)
    assert words in error["message"] and error["exit_code"] == code


def test_a_wallet_without_the_providers_key_cannot_settle(
    market: Market, tmp_path: Path
) -> None:
    other = tmp_path / "other.wallet"
    _run(market.env, "wallet", "create", "--wallet", str(other))
    refused = agora(
        "market", "settle", str(market.receipt), "--wallet", str(other), env=market.env
    )
    assert refused.returncode == 8
    assert "no key of service 1's provider" in refused.stderr


def test_call_asks_under_consent_and_keeps_a_receipt_that_settles(
    market: Market, tmp_path: Path
) -> None:
    settings = Settings(state_dir=Path(market.env["AGORA_STATE_DIR"]))
    bundle = DATA_DIR / "fhir" / "adult" / "1090122-bundle.json"
    question = tmp_path / "question.json"
    with LocalLedger.open(settings) as ledger:
        chain, deployment = ledger.chain, ledger.deployment
        patient = chain.new_account("patient")
        patient_did = ethr_did(chain.chain_id, patient.address)
        grant = deployment.consent.grant(
            grantee_hash(market.consumer),
            categories=Category.MEDICATION_REQUEST,
            purpose=purpose_code("treatment"),
            expiry=chain.now() + 3600,
            account=patient,
        )
        handler = EhrQaService(
            {patient_did: PatientRecord(load_bundle(bundle).resources)},
            engine=QaEngine(shared_embedder()),
            consent=deployment.consent,
        )
        app = create_service_app(
            handler,
            authenticator=CallAuthenticator(1, deployment.did_registry),
            meter=Meter(deployment.service_market, 1, refresh_s=0),
            model_cid="bafy-ehr-qa-model",
        )
        with serving(app) as url:
            calls = ("market", "call", "1", "--url", url, "--did", market.consumer)
            for number, asked in enumerate(["medications", "prescriptions"], 1):
                question.write_text(
                    json.dumps(
                        {
                            "patient": patient_did,
                            "grant": grant,
                            "question": f"What {asked} is she taking?",
                        }
                    )
                )
                out = json.loads(
                    _run(market.env, *calls, "--input", str(question), "--json")
                )
                assert out["answer"]["answer"] == "Alendronic acid 10 MG Oral Tablet"
                assert out["answer"]["sources"] == [
                    {
                        "resource_type": "MedicationRequest",
                        "id": "c9153b9b-e9c2-60b4-80c6-1f350e3b4d98",
                    }
                ]
                assert out["receipt"]["calls"] == number

            # The grant covers medications only: a refusal, exit 6.
            question.write_text(
                json.dumps(
                    {
                        "patient": patient_did,
                        "grant": grant,
                        "question": "Does she have osteoporosis?",
                    }
                )
            )
            refused = agora(*calls, "--input", str(question), env=market.env)
            assert refused.returncode == 6
            assert "HTTP 403" in refused.stderr
            assert "does not cover Condition" in refused.stderr

    settled = json.loads(
        _run(market.env, "market", "settle", out["receipt_file"], "--json")
    )
    assert settled["calls_settled"] == 2
    assert settled["amount"] == str(PRICE * 2)


def test_call_needs_the_consumers_key_and_a_reachable_service(
    market: Market, tmp_path: Path
) -> None:
    body = tmp_path / "body.json"
    body.write_text("{}")
    calls = ("market", "call", "1", "--input", str(body), "--url")
    unreachable = agora(
        *calls, "http://127.0.0.1:9", "--did", market.consumer, env=market.env
    )
    assert unreachable.returncode == 6
    assert "cannot reach the service" in unreachable.stderr

    stranger = "did:ethr:0x776562337079:0x000000000000000000000000000000000000dEaD"
    no_key = agora(*calls, "http://127.0.0.1:9", "--did", stranger, env=market.env)
    assert no_key.returncode == 8
    assert "holds no key" in no_key.stderr


def test_without_a_consortium_the_commands_say_how_to_set_one_up(
    tmp_path: Path,
) -> None:
    env = {"AGORA_STATE_DIR": str(tmp_path), "AGORA_WALLET_PASSWORD": PASSWORD}
    for command in (
        ("market", "services", "--json"),
        (
            "market",
            "call",
            "1",
            "--url",
            "http://127.0.0.1:9",
            "--did",
            "did:ethr:0x1:0x000000000000000000000000000000000000dEaD",
            "--input",
            "-",
        ),
    ):
        refused = agora(*command, env=env)
        assert refused.returncode == 3, refused.stderr
        assert "agora ledger init" in refused.stderr
