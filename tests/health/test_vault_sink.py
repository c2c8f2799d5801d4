"""Importing into the vault: every record encrypted to its patient, the same
bytes as the plaintext import, and no record filed for an unknown DID."""

from pathlib import Path

import pytest
from fhir_support import first_patient_bundle

from agora.health.fhir import (
    FhirRule,
    MemorySink,
    PatientLinkError,
    RecordId,
    VaultSink,
    import_bundles,
)
from agora.identity.document import Did
from agora.ledger import Category
from agora.vault.blockstore import BlockStore
from agora.vault.objects import get_decrypted
from agora.vault.reencryption import SecretKey

PATIENT = Did("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")


def test_records_are_stored_encrypted_and_decrypt_to_the_imported_bytes(
    tmp_path: Path,
) -> None:
    owner = SecretKey.random()
    store = BlockStore(tmp_path / "blocks")
    sink, plain = VaultSink(store, {PATIENT: owner.public_key()}), MemorySink()
    bundle = first_patient_bundle()

    import_bundles([bundle], sink=sink, dids=lambda _: PATIENT)
    import_bundles([bundle], sink=plain, dids=lambda _: PATIENT)

    catalog = sink.catalog(PATIENT)
    assert [str(r.record_id) for r in catalog] == sorted(r for _, r in plain.records)
    assert len(sink.index) == len(plain.index) == len(catalog)
    for record in catalog:
        resource_type = record.record_id.partition("/")[0]
        assert record.category == Category.of(resource_type)
        out = tmp_path / "out" / record.record_id
        get_decrypted(store, record.envelope, owner, out)
        assert out.read_bytes() == plain.get(PATIENT, RecordId(record.record_id))


def test_rule_no_record_is_filed_for_a_did_without_a_vault_key(
    tmp_path: Path,
) -> None:
    store = BlockStore(tmp_path / "blocks")
    sink = VaultSink(store, {PATIENT: SecretKey.random().public_key()})
    stranger = Did("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")

    with pytest.raises(PatientLinkError) as raised:
        import_bundles([first_patient_bundle()], sink=sink, dids=lambda _: stranger)

    assert raised.value.rule is FhirRule.NO_DID
    assert sink.catalog(stranger) == ()
    assert not (tmp_path / "blocks").exists() or not any(
        (tmp_path / "blocks").rglob("baf*")
    )
