"""The import end to end on the real Bundles: records, index, DIDs, batches."""

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest
from fhir_support import (
    COVID,
    FHIR_DIR,
    PATIENT_BUNDLES,
    entry_index,
    first_patient_bundle,
    read_json,
    write_json,
)

from agora.health.fhir import (
    DEFAULT_HOSPITALS,
    FhirRule,
    FolderSink,
    ImportReport,
    MemorySink,
    NewDidKeys,
    PatientLinkError,
    RecordId,
    RecordProofError,
    UnreadableBundleError,
    bundle_files,
    fhir_folder,
    import_bundles,
    import_folder,
    load_bundle,
    verify_record,
)
from agora.identity.did_key import public_key_from_did_key
from agora.identity.document import Did
from agora.identity.keys import KeyType
from agora.settings import Settings

COVID_19 = ("http://snomed.info/sct", "840539006")


class Imported:
    """One import of the whole data folder into memory."""

    def __init__(self) -> None:
        self.sink = MemorySink()
        self.dids = NewDidKeys()
        self.report = import_folder(FHIR_DIR, sink=self.sink, dids=self.dids)


@pytest.fixture(scope="module")
def imported() -> Imported:
    return Imported()


def test_the_data_folder_comes_from_the_data_dir_setting() -> None:
    settings = Settings(data_dir=FHIR_DIR.parent)
    assert fhir_folder(settings) == FHIR_DIR


def test_every_resource_is_stored_once_under_its_patients_did(
    imported: Imported,
) -> None:
    report = imported.report
    files = bundle_files(FHIR_DIR)
    entries = sum(len(read_json(file)["entry"]) for file in files)

    assert report.issues == ()
    assert len(report.patients) == PATIENT_BUNDLES
    assert len({p.did for p in report.patients}) == PATIENT_BUNDLES
    assert len(imported.sink.records) + len(report.directory) == entries
    assert len(report.index) == len(imported.sink.records)
    assert {r.resource_type for r in report.directory} == {
        "Organization",
        "Practitioner",
    }
    assert report.per_type()["Patient"] == PATIENT_BUNDLES
    assert sum(report.per_type().values()) == len(imported.sink.records)
    assert set(report.per_hospital()) == set(DEFAULT_HOSPITALS)


def test_stored_bytes_are_the_canonical_json_of_the_source(
    imported: Imported,
) -> None:
    patient = imported.report.patients[0]
    source = read_json(patient.file)
    entry = source["entry"][entry_index(source, "Condition")]["resource"]
    record = RecordId(f"Condition/{entry['id']}")

    stored = imported.sink.get(patient.did, record)

    assert json.loads(stored) == entry
    assert (
        stored
        == json.dumps(
            entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    )


def test_patient_dids_are_ed25519_did_keys(imported: Imported) -> None:
    for patient in imported.report.patients:
        assert public_key_from_did_key(patient.did).key_type is KeyType.ED25519


def test_the_index_answers_by_type_date_and_code(imported: Imported) -> None:
    index = imported.report.index

    conditions = index.query(types={"Condition"})
    medications = index.query(types={"Condition", "MedicationRequest"})
    covid = index.query(code_system=COVID_19[0], code=COVID_19[1])
    in_2020 = index.query(start=date(2020, 1, 1), end=date(2020, 12, 31))
    vitals = index.query(types={"Observation"}, category="vital-signs")

    assert len(conditions) == imported.report.per_type()["Condition"]
    assert (
        len(medications)
        == len(conditions) + (imported.report.per_type()["MedicationRequest"])
    )
    assert covid
    assert {e.display for e in covid} == {"COVID-19"}
    assert {e.resource_type for e in covid} == {"Condition"}
    assert in_2020
    assert all(e.date is not None and e.date.year == 2020 for e in in_2020)
    assert vitals
    assert all(e.category == "vital-signs" for e in vitals)


def test_index_entries_name_their_hospitals(imported: Imported) -> None:
    index = imported.report.index
    patient = index.query(types={"Patient"})[0]
    encounters = index.query(types={"Encounter"})

    assert patient.hospitals == DEFAULT_HOSPITALS
    assert all(len(e.hospitals) == 1 for e in encounters)
    by_hospital = [
        index.query(types={"Encounter"}, hospital=h) for h in DEFAULT_HOSPITALS
    ]
    assert sum(len(found) for found in by_hospital) == len(encounters)


def test_every_record_is_provable_against_its_batch_root(
    imported: Imported,
) -> None:
    for patient in imported.report.patients:
        batch = patient.batch
        assert len(batch.record_ids) == sum(patient.per_type.values())
        for record in batch.record_ids:
            data = imported.sink.get(patient.did, record)
            verify_record(data, batch.proof(record), batch.root)


def test_rule_an_altered_record_fails_its_proof(imported: Imported) -> None:
    patient = imported.report.patients[0]
    record = next(r for r in patient.batch.record_ids if r.startswith("Condition/"))
    data = imported.sink.get(patient.did, record)
    altered = data.replace(b'"resourceType"', b'"resourceType" ', 1)
    other = imported.report.patients[1].batch

    with pytest.raises(RecordProofError) as info:
        verify_record(altered, patient.batch.proof(record), patient.batch.root)
    assert info.value.rule is FhirRule.INCLUSION_PROOF
    with pytest.raises(RecordProofError):
        verify_record(data, patient.batch.proof(record), other.root)


def test_batch_roots_do_not_depend_on_entry_order(tmp_path: Path) -> None:
    bundle = read_json(first_patient_bundle())
    reversed_bundle = {**bundle, "entry": bundle["entry"][::-1]}
    files = [
        write_json(tmp_path / "forward.json", bundle),
        write_json(tmp_path / "backward.json", reversed_bundle),
    ]
    roots = [
        import_bundles([file], sink=MemorySink(), dids=lambda _: Did("did:key:z1"))
        .patients[0]
        .batch.root
        for file in files
    ]
    assert roots[0] == roots[1]


def test_rule_bad_resources_are_reported_and_the_rest_imported(
    tmp_path: Path,
) -> None:
    bundle = read_json(first_patient_bundle())
    bundle["entry"][entry_index(bundle, "Condition")]["resource"].pop("subject")
    bundle["entry"][entry_index(bundle, "Encounter")]["resource"]["status"] = 3
    file = write_json(tmp_path / "broken.json", bundle)
    sink = MemorySink()

    report = import_bundles([file], sink=sink, dids=NewDidKeys())

    assert {(i.rule, i.field) for i in report.issues} == {
        (FhirRule.INVALID_RESOURCE, "subject"),
        (FhirRule.INVALID_RESOURCE, "status"),
    }
    assert len(sink.records) == len(bundle["entry"]) - 2


def test_rule_an_invalid_patient_costs_only_the_patient_resource(
    tmp_path: Path,
) -> None:
    bundle = read_json(first_patient_bundle())
    bundle["entry"][entry_index(bundle, "Patient")]["resource"]["gender"] = 1
    file = write_json(tmp_path / "b.json", bundle)
    sink = MemorySink()

    report = import_bundles([file], sink=sink, dids=NewDidKeys())

    (issue,) = report.issues
    assert (issue.rule, issue.field) == (FhirRule.INVALID_RESOURCE, "gender")
    assert len(report.patients) == 1
    assert len(sink.records) == len(bundle["entry"]) - 1
    assert report.per_type()["Patient"] == 0


def test_rule_clinical_resources_without_a_patient_are_issues(
    tmp_path: Path,
) -> None:
    directory = read_json(next(COVID.glob("hospitalInformation*.json")))
    patient_bundle = read_json(first_patient_bundle())
    stray = patient_bundle["entry"][entry_index(patient_bundle, "Condition")]
    directory["entry"].append(stray)
    file = write_json(tmp_path / "directory.json", directory)

    report = import_bundles([file], sink=MemorySink(), dids=NewDidKeys())

    (issue,) = report.issues
    assert issue.rule is FhirRule.NO_PATIENT
    assert issue.entry == len(directory["entry"]) - 1
    assert len(report.directory) == len(directory["entry"]) - 1
    assert report.patients == ()


def test_dids_may_come_from_a_mapping(tmp_path: Path) -> None:
    file = first_patient_bundle()
    patient_id = load_bundle(file).patient_id
    assert patient_id is not None
    did = Did("did:example:alice")

    report = import_bundles([file], sink=MemorySink(), dids={patient_id: did})

    assert report.patients[0].did == did
    assert {e.owner for e in report.index} == {did}


def test_rule_a_patient_without_a_did_stops_the_import_before_storing() -> None:
    file = first_patient_bundle()
    patient_id = read_json(file)["entry"][0]["resource"]["id"]
    sink = MemorySink()

    with pytest.raises(PatientLinkError) as info:
        import_bundles(bundle_files(FHIR_DIR), sink=sink, dids={})

    assert info.value.rule is FhirRule.NO_DID
    assert patient_id not in str(info.value)
    assert sink.records == {}


@pytest.mark.parametrize(
    "did", ["alice", "did:key:", "did:key:../../etc", "did:Key:z6Mk", "did:key:a b"]
)
def test_rule_a_did_must_have_did_syntax(did: str) -> None:
    with pytest.raises(PatientLinkError) as info:
        import_bundles(
            [first_patient_bundle()], sink=MemorySink(), dids=lambda _: Did(did)
        )
    assert info.value.rule is FhirRule.INVALID_DID


def test_rule_an_unreadable_file_stops_the_import_before_storing(
    tmp_path: Path,
) -> None:
    broken = tmp_path / "zz-broken.json"
    broken.write_text("not json")
    sink = MemorySink()

    with pytest.raises(UnreadableBundleError) as info:
        import_bundles([first_patient_bundle(), broken], sink=sink, dids=NewDidKeys())

    assert info.value.rule is FhirRule.NOT_JSON
    assert sink.records == {}


def test_new_did_keys_are_fresh_per_patient_and_stable_per_id() -> None:
    keys = NewDidKeys(random_bytes=lambda size: hashlib.sha256(b"seed").digest()[:size])
    other = NewDidKeys()

    assert keys("p1") == keys("p1")
    assert other("p1") != other("p2")
    assert keys.key_pair("p1").public_key.key_type is KeyType.ED25519


def test_a_folder_sink_keeps_records_and_index_on_disk(tmp_path: Path) -> None:
    sink = FolderSink(tmp_path / "records")
    report: ImportReport = import_bundles(
        [first_patient_bundle()], sink=sink, dids=NewDidKeys()
    )
    patient = report.patients[0]

    index = sink.index(patient.did)
    again = import_bundles(
        [first_patient_bundle()], sink=sink, dids=lambda _: patient.did
    )

    assert list(index) == list(report.index)
    assert len(sink.index(patient.did)) == len(index)
    assert again.patients[0].batch.root == patient.batch.root
    for record in patient.batch.record_ids:
        data = sink.get(patient.did, record)
        verify_record(data, patient.batch.proof(record), patient.batch.root)
