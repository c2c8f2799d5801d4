"""The patient node: records, grants given and revoked, the audit trail,
all for the patient alone; a doctor reads a granted record through the
proxies and is refused once the grant is revoked."""

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agora.ledger import Category, grantee_hash, purpose_code
from agora.node.config import NodeRole
from agora.node.db import Base, sqlite_url
from agora.node.server import node_app
from agora.vault.blockstore import open_blockstore
from agora.vault.errors import ConsentRefusedError
from agora.vault.local import local_proxies
from agora.vault.sharing import GranteeKeys, Share, read_shared

from .conftest import RECORDS, Cast, make_runtime
from .support import Clock, Person


def _as(person: Person, client: TestClient) -> dict[str, str]:
    return person.headers(client.get("/v1/node").json()["did"])


def _grant(cast: Cast, doctor: GranteeKeys, **overrides: Any) -> dict[str, Any]:
    return {
        "grantee": doctor.did,
        "grantee_key": doctor.public_key.to_compressed_bytes().hex(),
        "categories": ["Condition"],
        "purpose": "treatment",
        "expires_in_s": 3600,
        **overrides,
    }


def _read(cast: Cast, doctor: GranteeKeys, share: dict[str, Any], out: Path) -> bytes:
    store = open_blockstore(cast.settings)
    proxies = local_proxies(cast.ledger, store, cast.settings.state_dir)
    try:
        read_shared(
            store,
            Share.from_json(share),
            "Condition/c1",
            doctor,
            proxies={proxy.address: proxy for proxy in proxies},
            destination=out,
        )
    finally:
        for proxy in proxies:
            proxy.anchor_access_log()
    return out.read_bytes()


def test_the_patient_lists_own_records(cast: Cast, patient_node: TestClient) -> None:
    answer = patient_node.get("/v1/records", headers=_as(cast.patient, patient_node))
    assert answer.status_code == 200, answer.text
    records = {r["record_id"]: r["category"] for r in answer.json()["records"]}
    assert records == {"Condition/c1": "CONDITION", "Observation/o1": "OBSERVATION"}


def test_grant_read_revoke_and_audit(
    cast: Cast, patient_node: TestClient, tmp_path: Path
) -> None:
    doctor = GranteeKeys.derive(Person.new().pair)
    given = patient_node.post(
        "/v1/grants", json=_grant(cast, doctor), headers=_as(cast.patient, patient_node)
    )
    assert given.status_code == 201, given.text
    grant_id = given.json()["grant_id"]
    assert given.json()["records"] == ["Condition/c1"]

    # The doctor decrypts the granted record through 2 of the 3 proxies.
    plaintext = _read(cast, doctor, given.json()["share"], tmp_path / "c1.json")
    assert plaintext == RECORDS["Condition/c1"]

    revoked = patient_node.delete(
        f"/v1/grants/{grant_id}", headers=_as(cast.patient, patient_node)
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json() == {"grant_id": grant_id, "revoked": True}
    with pytest.raises(ConsentRefusedError):
        _read(cast, doctor, given.json()["share"], tmp_path / "again.json")

    again = patient_node.delete(
        f"/v1/grants/{grant_id}", headers=_as(cast.patient, patient_node)
    )
    assert again.status_code == 409
    assert again.json()["error"] == "conflict"

    trail = patient_node.get("/v1/audit", headers=_as(cast.patient, patient_node))
    assert trail.status_code == 200, trail.text
    mine = [e for e in trail.json()["entries"] if e["grant_id"] == grant_id]
    # One access per proxy that re-encrypted (2 of 3), between the two.
    assert [e["event"] for e in mine] == ["grant", "access", "access", "revocation"]
    assert mine[0]["grantee"] == doctor.did
    assert {e["record_id"] for e in mine[1:3]} == {"Condition/c1"}


def test_revoking_an_unknown_grant_is_not_found(
    cast: Cast, patient_node: TestClient
) -> None:
    answer = patient_node.delete(
        "/v1/grants/999999", headers=_as(cast.patient, patient_node)
    )
    assert answer.status_code == 404
    assert answer.json()["error"] == "not_found"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/records"), ("GET", "/v1/audit"), ("DELETE", "/v1/grants/1")],
)
def test_only_the_patient_may_use_the_node(
    cast: Cast, patient_node: TestClient, method: str, path: str
) -> None:
    for someone in (cast.hospital, cast.staff, cast.doctor):
        answer = patient_node.request(method, path, headers=_as(someone, patient_node))
        assert answer.status_code == 403
        assert answer.json()["error"] == "forbidden"


def test_someone_else_may_not_give_a_grant(
    cast: Cast, patient_node: TestClient
) -> None:
    doctor = GranteeKeys.derive(cast.doctor.pair)
    answer = patient_node.post(
        "/v1/grants", json=_grant(cast, doctor), headers=_as(cast.doctor, patient_node)
    )
    assert answer.status_code == 403


@pytest.mark.parametrize(
    ("rule", "overrides"),
    [
        ("grantee_not_a_did", {"grantee": "doctor"}),
        ("grantee_key_not_hex", {"grantee_key": "zz" * 33}),
        ("grantee_key_off_the_curve", {"grantee_key": "02" + "ff" * 32}),
        ("unknown_category", {"categories": ["Horoscope"]}),
        ("empty_scope", {"categories": [], "records": []}),
        ("purpose_over_32_bytes", {"purpose": "é" * 17}),
        ("empty_purpose", {"purpose": ""}),
        ("expiry_too_soon", {"expires_in_s": 5}),
        ("expiry_over_a_year", {"expires_in_s": 400 * 86_400}),
        ("unknown_field", {"owner": "someone"}),
    ],
)
def test_a_bad_grant_is_refused_with_422(
    cast: Cast, patient_node: TestClient, rule: str, overrides: dict[str, Any]
) -> None:
    doctor = GranteeKeys.derive(cast.doctor.pair)
    body = _grant(cast, doctor, **overrides)
    answer = patient_node.post(
        "/v1/grants", json=body, headers=_as(cast.patient, patient_node)
    )
    assert answer.status_code == 422, rule
    assert answer.json()["error"] == "invalid_request", rule
    assert answer.json()["message"], rule


def test_a_bad_grant_id_is_refused_with_422(
    cast: Cast, patient_node: TestClient
) -> None:
    for grant_id in ("0", "-1", "abc", str(2**64)):
        answer = patient_node.delete(
            f"/v1/grants/{grant_id}", headers=_as(cast.patient, patient_node)
        )
        assert answer.status_code == 422, grant_id


def test_revoking_another_owners_grant_is_not_found(
    cast: Cast, patient_node: TestClient
) -> None:
    # The hospital's account grants something of its own; to the patient's
    # node that grant does not exist (no hint whose it is).
    ledger = cast.ledger
    hospital = ledger.account(cast.hospital.pair.private_bytes(), "hospital")
    grant_id = ledger.deployment.consent.grant(
        grantee_hash(cast.doctor.did),
        categories=Category.CONDITION,
        purpose=purpose_code("research"),
        expiry=ledger.chain.now() + 3600,
        account=hospital,
    )
    answer = patient_node.delete(
        f"/v1/grants/{grant_id}", headers=_as(cast.patient, patient_node)
    )
    assert answer.status_code == 404
    assert answer.json()["message"] == f"the patient has no grant {grant_id}"
    assert not ledger.deployment.consent.get(grant_id).revoked


def test_a_failing_database_is_a_503_not_a_500(
    cast: Cast, tmp_path: Path, clock: Clock
) -> None:
    runtime = make_runtime(
        cast, NodeRole.PATIENT, cast.patient, sqlite_url(tmp_path), clock
    )
    Base.metadata.drop_all(runtime.database.engine)
    with TestClient(node_app(runtime)) as client:
        answer = client.get("/v1/records", headers=_as(cast.patient, client))
    assert answer.status_code == 503
    assert answer.json() == {
        "error": "upstream_unavailable",
        "message": "the node's database failed",
    }
    runtime.database.close()
