"""EHR question answering over HTTP: answers from a real Synthea record that
cite their resources, only under the patient's active consent grant, and
every refusal (403 consent, 404 patient, 422 question) uncharged."""

import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient

from agora.health.fhir import load_bundle
from agora.health.qa import PatientRecord, QaEngine, shared_embedder
from agora.health.qa.service import EhrQaService
from agora.health.qa.vault import record_from_share
from agora.identity.did_ethr import ethr_did
from agora.ledger import Category, GrantId, Role, grantee_hash, purpose_code
from agora.market.services import CallAuthenticator, Meter, create_service_app
from agora.vault.blockstore import BlockStore
from agora.vault.errors import GrantRevokedError
from agora.vault.objects import put_encrypted
from agora.vault.proxy import ProxyService
from agora.vault.scope import RecordId as VaultRecordId
from agora.vault.scope import Scope
from agora.vault.sharing import GranteeKeys, OwnerKeys, SharedRecord, revoke, share

from .support import FUNDS, PRICE, Caller, Deployed

DATA_DIR = Path(
    os.environ.get(
        "AGORA_DATA_DIR", Path(__file__).parents[3].parent / "shared" / "data"
    )
)
BUNDLE = DATA_DIR / "fhir" / "adult" / "1090122-bundle.json"
"""A woman born 1958: alendronic acid, osteoporosis, a flu shot in 2023."""

EVERYTHING = (
    Category.MEDICATION_REQUEST
    | Category.CONDITION
    | Category.OBSERVATION
    | Category.IMMUNIZATION
    | Category.ENCOUNTER
)


@pytest.fixture(scope="module")
def engine() -> QaEngine:
    return QaEngine(shared_embedder())


@pytest.fixture(scope="module")
def record() -> PatientRecord:
    return PatientRecord(load_bundle(BUNDLE).resources)


@dataclass
class Clinic:
    caller: Caller
    patient: LocalAccount
    patient_did: str
    grant: GrantId
    deployed: Deployed

    def grant_from(
        self, owner: LocalAccount, categories: Category = EVERYTHING
    ) -> GrantId:
        ledger = self.deployed.ledger
        return ledger.consent.grant(
            grantee_hash(self.caller.did),
            categories=categories,
            purpose=purpose_code("treatment"),
            expiry=self.deployed.chain.now() + 3600,
            account=owner,
        )

    def ask(
        self, question: str, *, grant: int | None = None, patient: str | None = None
    ) -> tuple[int, dict[str, object]]:
        body = {
            "patient": self.patient_did if patient is None else patient,
            "grant": self.grant if grant is None else grant,
            "question": question,
        }
        return self.caller.call(json.dumps(body).encode(), "application/json")


@pytest.fixture
def clinic(
    deployed: Deployed, engine: QaEngine, record: PatientRecord
) -> Iterator[Clinic]:
    snapshot = deployed.chain.snapshot()
    chain, ledger = deployed.chain, deployed.ledger
    account = chain.new_account("clinic")
    ledger.token.mint(account.address, FUNDS, account=deployed.admin)
    ledger.token.approve(ledger.service_market.address, FUNDS, account=account)
    ledger.service_market.deposit(FUNDS, account=account)
    service_id = ledger.service_market.list_service(
        "bafy-ehr-qa", PRICE, 3000, deployed.job_id, account=deployed.buyer
    )

    patient = chain.new_account("patient")
    patient_did = ethr_did(chain.chain_id, patient.address)
    handler = EhrQaService({patient_did: record}, engine=engine, consent=ledger.consent)
    app = create_service_app(
        handler,
        authenticator=CallAuthenticator(service_id, ledger.did_registry),
        meter=Meter(ledger.service_market, service_id, refresh_s=0),
        model_cid="bafy-ehr-qa",
    )
    caller = Caller(
        account,
        ethr_did(chain.chain_id, account.address),
        TestClient(app),
        service_id,
        ledger.service_market,
    )
    clinic = Clinic(caller, patient, patient_did, GrantId(0), deployed)
    clinic.grant = clinic.grant_from(patient)
    yield clinic
    chain.revert(snapshot)


def _answer(payload: dict[str, object]) -> dict[str, object]:
    answer = payload["answer"]
    assert isinstance(answer, dict)
    return answer


def test_answers_cite_the_resources_they_come_from(clinic: Clinic) -> None:
    status, payload = clinic.ask("What medications is she taking?")
    assert status == 200
    answer = _answer(payload)
    assert answer["answer"] == "Alendronic acid 10 MG Oral Tablet"
    assert answer["sources"] == [
        {
            "resource_type": "MedicationRequest",
            "id": "c9153b9b-e9c2-60b4-80c6-1f350e3b4d98",
        }
    ]

    status, payload = clinic.ask("What was her last blood pressure?")
    assert status == 200
    answer = _answer(payload)
    assert answer["answer"] == "121/73 mm[Hg]"
    assert answer["sources"] == [
        {"resource_type": "Observation", "id": "d060d05c-32ff-8b28-e7f6-801457599d31"}
    ]
    assert payload["receipt"]["calls"] == 2  # type: ignore[index]


def test_flu_shot_and_conditions(clinic: Clinic) -> None:
    status, payload = clinic.ask("When was her last flu shot?")
    assert status == 200
    answer = _answer(payload)
    # "flu" is matched to the vaccine by embedding similarity alone.
    assert answer["concept"] == "Influenza, seasonal, injectable, preservative free"
    assert answer["answer"] == "2023-09-29"
    assert answer["sources"] == [
        {"resource_type": "Immunization", "id": "b3196b31-d4cc-1b95-06f3-47f18d2995ba"}
    ]

    status, payload = clinic.ask("Does she have osteoporosis?")
    assert status == 200
    answer = _answer(payload)
    assert answer["answer"] == "yes"
    assert answer["sources"] == [
        {"resource_type": "Condition", "id": "30caa4cd-34b4-2726-c5ab-9d8398760246"}
    ]

    status, payload = clinic.ask("Does she have diabetes?")
    assert status == 200
    assert _answer(payload)["answer"] == "no"
    assert _answer(payload)["sources"] == []


def _refused(
    clinic: Clinic, question: str, status: int, words: str, **where: object
) -> None:
    before = clinic.caller.last_receipt
    got, payload = clinic.ask(question, **where)  # type: ignore[arg-type]
    assert got == status, payload
    assert words in str(payload["message"])
    # A refused call is not counted: the next receipt continues the last.
    assert clinic.caller.last_receipt == before


def test_no_grant_is_forbidden(clinic: Clinic) -> None:
    _refused(clinic, "Does she have diabetes?", 403, "no grant 99", grant=99)


def test_a_grant_to_someone_else_is_forbidden(clinic: Clinic) -> None:
    ledger = clinic.deployed.ledger
    other = ledger.consent.grant(
        grantee_hash("did:key:z6MkSomeoneElse"),
        categories=EVERYTHING,
        purpose=purpose_code("treatment"),
        expiry=clinic.deployed.chain.now() + 3600,
        account=clinic.patient,
    )
    _refused(clinic, "Does she have diabetes?", 403, "is not to did:ethr", grant=other)


def test_a_grant_from_another_owner_is_forbidden(clinic: Clinic) -> None:
    stranger = clinic.deployed.chain.new_account("stranger")
    grant = clinic.grant_from(stranger)
    _refused(clinic, "Does she have diabetes?", 403, "not the patient's", grant=grant)


def test_a_revoked_grant_is_forbidden(clinic: Clinic) -> None:
    assert clinic.ask("Does she have osteoporosis?")[0] == 200
    clinic.deployed.ledger.consent.revoke(clinic.grant, account=clinic.patient)
    _refused(clinic, "Does she have osteoporosis?", 403, "revoked or expired")


def test_a_grant_not_covering_the_question_is_forbidden(clinic: Clinic) -> None:
    conditions_only = clinic.grant_from(clinic.patient, Category.CONDITION)
    status, payload = clinic.ask("Does she have osteoporosis?", grant=conditions_only)
    assert status == 200 and _answer(payload)["answer"] == "yes"
    _refused(
        clinic,
        "What medications is she taking?",
        403,
        "does not cover MedicationRequest",
        grant=conditions_only,
    )


def test_an_unknown_patient_is_not_found(clinic: Clinic) -> None:
    # A patient whose grant is valid, but whose record the service lacks.
    stranger = clinic.deployed.chain.new_account("stranger")
    grant = clinic.grant_from(stranger)
    did = ethr_did(clinic.deployed.chain.chain_id, stranger.address)
    _refused(
        clinic, "Does she have diabetes?", 404, "no record", grant=grant, patient=did
    )


@pytest.mark.parametrize(
    ("body", "content_type", "words"),
    [
        (b"{not json", "application/json", '"question"'),
        (b'{"patient": "did:x:y", "grant": 1}', "application/json", '"question"'),
        (b'{"patient": "d", "grant": 0, "question": "q"}', "application/json", "grant"),
        (b'{"question": "Does she have diabetes?"}', "text/plain", "Content-Type"),
    ],
    ids=["not-json", "no-question", "bad-fields", "not-json-type"],
)
def test_malformed_bodies_are_unprocessable(
    clinic: Clinic, body: bytes, content_type: str, words: str
) -> None:
    status, payload = clinic.caller.call(body, content_type)
    assert status == 422
    assert words in str(payload["message"])


def test_malformed_questions_are_unprocessable(clinic: Clinic) -> None:
    _refused(clinic, "   ", 422, "empty")
    _refused(clinic, "x" * 501, 422, "at most 500")
    _refused(clinic, "What was her last?", 422, "names nothing")
    _refused(clinic, "Does she have diabetes?", 422, "did:ethr", patient="did:web:x")


def test_a_search_reads_only_what_the_grant_covers(clinic: Clinic) -> None:
    conditions_only = clinic.grant_from(clinic.patient, Category.CONDITION)
    status, payload = clinic.ask("ankle sprain", grant=conditions_only)
    assert status == 200
    answer = _answer(payload)
    assert answer["intent"] == "search"
    assert answer["concept"] == "Sprain of ankle"
    sources = answer["sources"]
    assert isinstance(sources, list) and sources
    assert {source["resource_type"] for source in sources} == {"Condition"}

    immunizations_only = clinic.grant_from(clinic.patient, Category.IMMUNIZATION)
    status, payload = clinic.ask("ankle sprain", grant=immunizations_only)
    assert status == 200
    sources = _answer(payload)["sources"]
    assert isinstance(sources, list)
    assert {source["resource_type"] for source in sources} == {"Immunization"}

    devices_only = clinic.grant_from(clinic.patient, Category.DEVICE)
    _refused(clinic, "ankle sprain", 403, "does not cover", grant=devices_only)


@pytest.fixture
def rolled_back(deployed: Deployed) -> Iterator[Deployed]:
    snapshot = deployed.chain.snapshot()
    yield deployed
    deployed.chain.revert(snapshot)


def test_the_record_comes_from_the_patients_vault_under_a_share(
    rolled_back: Deployed, engine: QaEngine, tmp_path: Path
) -> None:
    deployed = rolled_back
    chain, ledger = deployed.chain, deployed.ledger
    store = BlockStore(tmp_path / "vault")
    proxies = []
    for number in range(3):
        account = chain.new_account(f"proxy-{number}")
        ledger.consortium.add_member(
            account.address, f"proxy-{number}", Role.PROXY, account=deployed.admin
        )
        proxies.append(ProxyService(account=account, ledger=ledger, store=store))

    # The patient's medications and conditions, encrypted into the vault.
    patient = OwnerKeys.generate(chain.new_account("patient"))
    wanted = {"MedicationRequest", "Condition"}
    records = [
        SharedRecord(
            record_id=VaultRecordId(resource.record_id),
            category=Category.of(resource.resource_type),
            envelope=put_encrypted(
                store, io.BytesIO(resource.canonical), patient.public_key
            ),
        )
        for resource in load_bundle(BUNDLE).resources
        if resource.resource_type in wanted
    ]
    operator = GranteeKeys.generate()
    shared = share(
        ledger,
        patient,
        grantee=operator.did,
        grantee_key=operator.public_key,
        scope=Scope(categories=Category.MEDICATION_REQUEST | Category.CONDITION),
        purpose="question answering",
        expiry=chain.now() + 3600,
        proxies=proxies,
        records=records,
    )
    reachable = {proxy.address: proxy for proxy in proxies}

    record = record_from_share(store, shared, operator, proxies=reachable)
    answer = engine.answer(record, "What medications is she taking?")
    assert answer.answer == "Alendronic acid 10 MG Oral Tablet"
    assert answer.sources == [
        {
            "resource_type": "MedicationRequest",
            "id": "c9153b9b-e9c2-60b4-80c6-1f350e3b4d98",
        }
    ]
    assert engine.answer(record, "Does she have osteoporosis?").answer == "yes"

    # Revoked, the vault gives the operator nothing more.
    revoke(ledger, patient, shared.grant_id)
    with pytest.raises(GrantRevokedError):
        record_from_share(store, shared, operator, proxies=reachable)
