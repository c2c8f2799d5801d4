"""The hospital node: offers registered by staff and read by consortium
members, jobs joined and earnings for staff; 403 for everyone else."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from agora.ledger import JobId, Role, TokenAmount
from agora.ledger.hashing import label_set_hash, modality_hash

from .conftest import Cast
from .support import Person

OFFER = {
    "title": "Chest X-rays 2025",
    "modality": "xray/chest-28x28-grey",
    "labels": ["normal", "pneumonia"],
    "samples": 1200,
    "schema_cid": "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
}


def _as(person: Person, client: TestClient) -> dict[str, str]:
    return person.headers(client.get("/v1/node").json()["did"])


def _register(cast: Cast, client: TestClient, **overrides: Any) -> dict[str, Any]:
    answer = client.post(
        "/v1/offers", json={**OFFER, **overrides}, headers=_as(cast.staff, client)
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_staff_registers_an_offer_on_datamarket(
    cast: Cast, hospital_node: TestClient
) -> None:
    offer = _register(cast, hospital_node)
    dataset = cast.ledger.deployment.data_market.dataset(offer["dataset_id"])
    assert dataset.samples == 1200
    assert dataset.modality == modality_hash(OFFER["modality"])
    assert dataset.label_set == label_set_hash(OFFER["labels"])
    assert dataset.owner == cast.hospital.address()


def test_members_read_the_offers(cast: Cast, hospital_node: TestClient) -> None:
    offer = _register(cast, hospital_node, title="Ward 7")
    answer = hospital_node.get("/v1/offers", headers=_as(cast.member, hospital_node))
    assert answer.status_code == 200, answer.text
    listed = {o["dataset_id"]: o for o in answer.json()["offers"]}
    assert listed[offer["dataset_id"]]["title"] == "Ward 7"
    assert listed[offer["dataset_id"]]["labels"] == OFFER["labels"]


@pytest.mark.parametrize("path", ["/v1/offers", "/v1/jobs", "/v1/earnings"])
def test_outsiders_are_forbidden(
    cast: Cast, hospital_node: TestClient, path: str
) -> None:
    # A P-256 did:key names no account; the patient's account is no member.
    for someone in (cast.outsider, cast.patient):
        answer = hospital_node.get(path, headers=_as(someone, hospital_node))
        assert answer.status_code == 403, path
        assert answer.json()["error"] == "forbidden"


@pytest.mark.parametrize("path", ["/v1/jobs", "/v1/earnings"])
def test_members_may_not_read_jobs_or_earnings(
    cast: Cast, hospital_node: TestClient, path: str
) -> None:
    answer = hospital_node.get(path, headers=_as(cast.member, hospital_node))
    assert answer.status_code == 403


def test_members_may_not_register_offers(cast: Cast, hospital_node: TestClient) -> None:
    answer = hospital_node.post(
        "/v1/offers", json=OFFER, headers=_as(cast.member, hospital_node)
    )
    assert answer.status_code == 403


def _post_job(cast: Cast, reward: int) -> JobId:
    """A buyer posts an X-ray job with ``reward`` escrowed."""
    ledger, admin = cast.ledger, cast.ledger.admin
    deployment = ledger.deployment
    buyer = ledger.chain.new_account("buyer", ether=1)
    roles = Role.BUYER | Role.COORDINATOR
    deployment.consortium.add_member(buyer.address, "buyer", roles, account=admin)
    deployment.token.mint(buyer.address, TokenAmount(reward), account=admin)
    deployment.token.approve(
        deployment.data_market.address, TokenAmount(reward), account=buyer
    )
    return deployment.data_market.post_job(
        spec_cid="bafkreispec",
        modality=modality_hash(OFFER["modality"]),
        label_set=label_set_hash(OFFER["labels"]),
        min_samples=100,
        reward=TokenAmount(reward),
        min_providers=1,
        max_providers=3,
        deadline=ledger.chain.now() + 3600,
        coordinator=buyer.address,
        account=buyer,
    )


def test_jobs_joined_and_earnings(cast: Cast, hospital_node: TestClient) -> None:
    offer = _register(cast, hospital_node)
    job_id = _post_job(cast, reward=5_000)
    hospital = cast.ledger.account(cast.hospital.pair.private_bytes(), "hospital")
    cast.ledger.deployment.data_market.apply(
        job_id, offer["dataset_id"], account=hospital
    )

    jobs = hospital_node.get("/v1/jobs", headers=_as(cast.staff, hospital_node))
    assert jobs.status_code == 200, jobs.text
    mine = {j["job_id"]: j for j in jobs.json()["jobs"]}
    assert mine[job_id]["state"] == "OPEN"
    assert mine[job_id]["dataset_id"] == offer["dataset_id"]
    assert mine[job_id]["reward"] == "5000"
    assert mine[job_id]["payout"] == "0"

    earnings = hospital_node.get("/v1/earnings", headers=_as(cast.staff, hospital_node))
    assert earnings.status_code == 200, earnings.text
    assert earnings.json()["account"] == cast.hospital.address()
    assert earnings.json()["by_job"][str(job_id)] == "0"
    assert earnings.json()["total_payouts"] == "0"


@pytest.mark.parametrize(
    ("rule", "overrides"),
    [
        ("no_labels", {"labels": []}),
        ("empty_label", {"labels": [""]}),
        ("no_samples", {"samples": 0}),
        ("samples_not_a_number", {"samples": "many"}),
        ("empty_title", {"title": ""}),
        ("schema_cid_not_a_cid", {"schema_cid": "ipfs://x y"}),
        ("unknown_field", {"price": 3}),
    ],
)
def test_a_bad_offer_is_refused_with_422(
    cast: Cast, hospital_node: TestClient, rule: str, overrides: dict[str, Any]
) -> None:
    answer = hospital_node.post(
        "/v1/offers",
        json={**OFFER, **overrides},
        headers=_as(cast.staff, hospital_node),
    )
    assert answer.status_code == 422, rule
    assert answer.json()["error"] == "invalid_request", rule


@pytest.mark.parametrize(
    ("rule", "body", "status"),
    [("not_json", b"{title:", 422), ("not_utf8", b"\xff not json", 400)],
)
def test_a_body_that_is_not_json_is_refused(
    cast: Cast, hospital_node: TestClient, rule: str, body: bytes, status: int
) -> None:
    answer = hospital_node.post(
        "/v1/offers",
        content=body,
        headers={**_as(cast.staff, hospital_node), "Content-Type": "application/json"},
    )
    assert answer.status_code == status, rule
    assert answer.json()["message"], rule


def test_unknown_route_answers_in_the_node_shape(hospital_node: TestClient) -> None:
    answer = hospital_node.get("/v1/grants")
    assert answer.status_code == 404
    assert answer.json()["error"] == "not_found"
    wrong = hospital_node.delete("/v1/offers")
    assert (wrong.status_code, wrong.json()["error"]) == (405, "method_not_allowed")
