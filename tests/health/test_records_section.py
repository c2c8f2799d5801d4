"""The records section of ``agora demo health``: issue 4's scenario on an
embedded chain, checked against the Bundle it imports and the chain."""

from pathlib import Path
from typing import Any

import pytest
from fhir_support import FHIR_DIR, read_json

from agora.errors import DataError
from agora.health.records_section import (
    GRANT_DAYS,
    OFFLINE_PROXY,
    PATIENT_BUNDLE,
    patient_bundle,
    run_records_section,
)
from agora.ledger import GrantId, Role, build_contracts, connect, deploy
from agora.settings import Settings
from agora.vault.blockstore import BlockStore

SHARED_TYPES = {"Condition", "MedicationRequest"}


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    settings = Settings(chain_url=None)
    chain = connect(settings)
    admin = chain.new_account("admin")
    deployment = deploy(chain, admin, artifacts=build_contracts(settings))
    hospitals = []
    for name in ("hospital-a", "hospital-b", "hospital-c"):
        account = chain.new_account(name)
        deployment.consortium.add_member(
            account.address, name, Role.HOSPITAL, account=admin
        )
        hospitals.append(account)
    result = run_records_section(
        chain,
        deployment,
        admin=admin,
        hospitals=hospitals,
        store=BlockStore(Path(tmp_path_factory.mktemp("blocks"))),
        bundle=patient_bundle(FHIR_DIR),
    )
    # What the grant shows on chain once the section is over.
    grant = deployment.consent.get(GrantId(result["grant"]["grant_id"]))
    result["chain_grant_revoked"] = grant.revoked
    result["chain_grant_expiry_days"] = (grant.expiry - grant.granted_at) / 86_400
    return result


def _bundle_ids(resource_types: set[str]) -> set[str]:
    bundle = read_json(FHIR_DIR / PATIENT_BUNDLE)
    return {
        f"{entry['resource']['resourceType']}/{entry['resource']['id']}"
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] in resource_types
    }


def test_the_import_merges_three_exports_without_loss(records: dict[str, Any]) -> None:
    imported = records["imported"]
    bundle = read_json(FHIR_DIR / PATIENT_BUNDLE)

    assert imported["records"] == len(bundle["entry"])
    assert imported["issues"] == 0
    assert set(imported["per_hospital"]) == {"hospital-a", "hospital-b", "hospital-c"}
    assert imported["anchored_by"] == "hospital-b"
    assert len(imported["merkle_root"]) == 64


def test_the_doctor_reads_exactly_the_conditions_and_medications(
    records: dict[str, Any],
) -> None:
    reads = records["reads"]

    assert {r["record_id"] for r in reads} == _bundle_ids(SHARED_TYPES)
    for read in reads:
        # The decrypted resource is the record its label names.
        assert f"{read['resource_type']}/{read['id']}" == read["record_id"]
        assert read["resource_type"] in SHARED_TYPES
        assert len(read["hospitals"]) >= 1
    assert records["grant"]["categories"] == ["CONDITION", "MEDICATION_REQUEST"]
    # Expiry is set from the latest block's time; the grant mines a block on.
    assert records["chain_grant_expiry_days"] == pytest.approx(GRANT_DAYS, abs=1e-3)


def test_after_revocation_the_next_read_is_refused(records: dict[str, Any]) -> None:
    refusal = records["refusal"]

    assert refusal["error"] == "GrantRevokedError"
    assert refusal["rule"] == "revoked"
    assert refusal["record_id"] == records["reads"][0]["record_id"]
    assert records["chain_grant_revoked"]


def test_the_audit_trail_shows_grant_accesses_and_revocation(
    records: dict[str, Any],
) -> None:
    trail = records["audit"]
    grant_id = records["grant"]["grant_id"]
    online = set(records["grant"]["proxies"]) - {records["grant"]["offline_proxy"]}

    assert [e["event"] for e in trail] == (
        ["grant"] + ["access"] * 2 * len(records["reads"]) + ["revocation"]
    )
    assert trail[0]["grantee"] == records["doctor"]
    assert trail[0]["purpose"] == "treatment"
    accesses = trail[1:-1]
    assert {e["grant_id"] for e in trail} == {grant_id}
    assert {e["requester"] for e in accesses} == {records["doctor"]}
    assert {e["proxy"] for e in accesses} == online
    assert records["grant"]["proxies"][OFFLINE_PROXY] not in online
    # Each read was served by both online proxies.
    for read in records["reads"]:
        served = {e["proxy"] for e in accesses if e["record_id"] == read["record_id"]}
        assert served == online
    assert {e["anchor_id"] for e in accesses} == set(records["access_log_anchors"])
    assert trail[-1]["timestamp"] >= trail[0]["timestamp"]


def test_a_missing_bundle_is_a_data_error_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="AGORA_DATA_DIR"):
        patient_bundle(tmp_path / "fhir")
