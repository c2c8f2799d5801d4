"""Anchoring import batches on the embedded chain, and proving a record
against the anchored root."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from eth_account.signers.local import LocalAccount
from fhir_support import first_patient_bundle

from agora.health.fhir import (
    MemorySink,
    NewDidKeys,
    PatientImport,
    RecordProofError,
    anchor_batch,
    batch_kind,
    import_bundles,
    verify_record,
)
from agora.ledger import (
    Chain,
    ContractRevertError,
    Deployment,
    Role,
    build_contracts,
    connect,
    deploy,
)
from agora.settings import Settings


@dataclass(frozen=True)
class Ledger:
    chain: Chain
    deployment: Deployment
    hospital: LocalAccount
    outsider: LocalAccount


@pytest.fixture(scope="module")
def deployed() -> Ledger:
    settings = Settings(chain_url=None)
    chain = connect(settings)
    admin = chain.new_account("admin")
    deployment = deploy(chain, admin, artifacts=build_contracts(settings))
    hospital = chain.new_account("hospital")
    deployment.consortium.add_member(
        hospital.address, "hospital", Role.HOSPITAL, account=admin
    )
    return Ledger(chain, deployment, hospital, chain.new_account("outsider"))


@pytest.fixture
def ledger(deployed: Ledger) -> Iterator[Ledger]:
    snapshot = deployed.chain.snapshot()
    yield deployed
    deployed.chain.revert(snapshot)


@dataclass(frozen=True)
class Imported:
    sink: MemorySink
    patient: PatientImport


@pytest.fixture(scope="module")
def imported() -> Imported:
    sink = MemorySink()
    report = import_bundles([first_patient_bundle()], sink=sink, dids=NewDidKeys())
    return Imported(sink, report.patients[0])


def test_an_anchored_batch_proves_a_record_shown_later(
    ledger: Ledger, imported: Imported
) -> None:
    anchor = ledger.deployment.anchor
    patient = imported.patient
    anchor_id = anchor_batch(
        patient.batch, anchor, account=ledger.hospital, uri="agora:fhir-import"
    )

    # Later: the patient shows one record and its proof; the verifier reads
    # the root from the chain, not from the patient.
    record = patient.batch.record_ids[0]
    data = imported.sink.get(patient.did, record)
    proof = patient.batch.proof(record)
    anchored = anchor.latest(ledger.hospital.address, batch_kind(patient.did))

    assert anchored.anchor_id == anchor_id
    assert anchored.uri == "agora:fhir-import"
    verify_record(data, proof, anchored.root)
    with pytest.raises(RecordProofError):
        verify_record(data + b" ", proof, anchored.root)


def test_each_patient_has_an_anchor_history(ledger: Ledger, imported: Imported) -> None:
    anchor = ledger.deployment.anchor
    batch = imported.patient.batch
    first = anchor_batch(batch, anchor, account=ledger.hospital)
    second = anchor_batch(batch, anchor, account=ledger.hospital)

    history = anchor.history(ledger.hospital.address, batch_kind(batch.owner))

    assert [record.anchor_id for record in history] == [first, second]
    assert batch_kind(batch.owner) != batch_kind(NewDidKeys()("someone else"))


def test_rule_only_consortium_members_anchor(
    ledger: Ledger, imported: Imported
) -> None:
    with pytest.raises(ContractRevertError, match="anchor: not a member"):
        anchor_batch(
            imported.patient.batch, ledger.deployment.anchor, account=ledger.outsider
        )
