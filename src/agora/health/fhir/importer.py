"""Importing Bundles: validate, split among hospitals, merge, index, store.

:func:`import_bundles` runs the OpenHealth import for each patient Bundle:

1. read and validate every file first, so that an unreadable one stops the
   import before anything is stored;
2. link each patient to a DID;
3. split the Bundle into three hospital exports and merge them back into
   one record (:mod:`agora.health.fhir.hospitals`);
4. hand each record with its index entry to the sink;
5. build the batch's Merkle root (:mod:`agora.health.fhir.batches`).

A Bundle without a Patient (``hospitalInformation…``,
``practitionerInformation…``) is a *directory*: its Organizations,
Practitioners and other directory resources are validated and returned in
:attr:`ImportReport.directory`, not filed in any patient's record; any
clinical resource in it has no patient to belong to and is an issue.
"""

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agora.health.fhir.batches import RecordBatch, build_batch
from agora.health.fhir.bundles import (
    FHIR_FOLDER,
    LoadedBundle,
    bundle_files,
    load_bundle,
)
from agora.health.fhir.errors import FhirRule, ImportIssue
from agora.health.fhir.hospitals import (
    DEFAULT_HOSPITALS,
    Hospital,
    merge_exports,
    split_by_encounter,
)
from agora.health.fhir.index import RecordIndex, index_entry
from agora.health.fhir.patients import PatientDids, link_patient
from agora.health.fhir.resources import FhirResource, RecordId
from agora.health.fhir.sink import RecordSink
from agora.identity.document import Did
from agora.settings import Settings

logger = logging.getLogger(__name__)

DIRECTORY_TYPES = frozenset(
    {
        "Organization",
        "OrganizationAffiliation",
        "Practitioner",
        "PractitionerRole",
        "Location",
        "HealthcareService",
        "Endpoint",
    }
)
"""Resource types that describe providers, not a patient: the content of a
directory Bundle."""


@dataclass(frozen=True)
class PatientImport:
    """One patient's imported record."""

    did: Did
    file: Path
    batch: RecordBatch
    per_type: Mapping[str, int]
    per_hospital: Mapping[Hospital, int]
    """How many records each hospital's export held (shared ones count for
    every hospital that held them)."""


@dataclass(frozen=True)
class ImportReport:
    """Everything an import did: records per patient, index, issues."""

    patients: tuple[PatientImport, ...]
    directory: tuple[FhirResource, ...]
    index: RecordIndex
    issues: tuple[ImportIssue, ...]

    def per_type(self) -> Counter[str]:
        """Records stored, per resource type, over all patients."""
        total: Counter[str] = Counter()
        for patient in self.patients:
            total.update(patient.per_type)
        return total

    def per_hospital(self) -> Counter[Hospital]:
        """Records in each hospital's exports, over all patients."""
        total: Counter[Hospital] = Counter()
        for patient in self.patients:
            total.update(patient.per_hospital)
        return total

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON object: no record content, no patient id."""
        return {
            "patients": [
                {
                    "did": patient.did,
                    "file": str(patient.file),
                    "records": len(patient.batch.record_ids),
                    "merkle_root": patient.batch.root.hex(),
                    "per_type": dict(sorted(patient.per_type.items())),
                    "per_hospital": dict(sorted(patient.per_hospital.items())),
                }
                for patient in self.patients
            ],
            "records": sum(len(p.batch.record_ids) for p in self.patients),
            "per_type": dict(sorted(self.per_type().items())),
            "per_hospital": dict(sorted(self.per_hospital().items())),
            "directory": dict(
                sorted(Counter(r.resource_type for r in self.directory).items())
            ),
            "issues": [
                {
                    "rule": issue.rule.value,
                    "file": str(issue.file) if issue.file is not None else None,
                    "entry": issue.entry,
                    "field": issue.field,
                    "record_id": issue.record_id,
                    "reason": issue.reason,
                }
                for issue in self.issues
            ],
        }


def fhir_folder(settings: Settings) -> Path:
    """The folder of the Bundles in the configured data folder."""
    return settings.data_dir / FHIR_FOLDER


def import_folder(
    folder: Path,
    *,
    sink: RecordSink,
    dids: PatientDids,
    hospitals: Sequence[Hospital] = DEFAULT_HOSPITALS,
    seed: int = 0,
) -> ImportReport:
    """:func:`import_bundles` of every ``*.json`` file under ``folder``."""
    return import_bundles(
        bundle_files(folder), sink=sink, dids=dids, hospitals=hospitals, seed=seed
    )


def import_bundles(
    files: Sequence[Path],
    *,
    sink: RecordSink,
    dids: PatientDids,
    hospitals: Sequence[Hospital] = DEFAULT_HOSPITALS,
    seed: int = 0,
) -> ImportReport:
    """Import ``files`` into ``sink`` (see the module docstring).

    Raises :class:`~agora.health.fhir.errors.UnreadableBundleError` or
    :class:`~agora.health.fhir.errors.PatientLinkError` before storing
    anything; bad resources are reported in :attr:`ImportReport.issues`.
    """
    # Steps 1 and 2: everything that can stop the import, before storing.
    bundles = [load_bundle(file) for file in files]
    linked: list[tuple[LoadedBundle, Did]] = []
    directory: list[FhirResource] = []
    issues: list[ImportIssue] = []
    for bundle in bundles:
        issues.extend(bundle.issues)
        if bundle.patient_id is None:
            directory.extend(_directory(bundle, issues))
            continue
        did = link_patient(bundle.patient_id, dids, where=str(bundle.file))
        linked.append((bundle, did))

    # Steps 3 to 5, one patient at a time.
    index = RecordIndex()
    patients: list[PatientImport] = []
    for bundle, did in linked:
        imported = _import_patient(
            bundle, did, sink=sink, index=index, hospitals=hospitals, seed=seed
        )
        patients.append(imported.patient)
        issues.extend(imported.conflicts)
    return ImportReport(tuple(patients), tuple(directory), index, tuple(issues))


def _directory(bundle: LoadedBundle, issues: list[ImportIssue]) -> list[FhirResource]:
    kept = []
    for resource in bundle.resources:
        if resource.resource_type in DIRECTORY_TYPES:
            kept.append(resource)
            continue
        issues.append(
            ImportIssue(
                FhirRule.NO_PATIENT,
                "a clinical resource in a Bundle without a Patient",
                file=bundle.file,
                entry=resource.entry,
                record_id=resource.loggable_id,
            )
        )
    return kept


@dataclass(frozen=True)
class _Imported:
    patient: PatientImport
    conflicts: tuple[ImportIssue, ...]


def _import_patient(
    bundle: LoadedBundle,
    did: Did,
    *,
    sink: RecordSink,
    index: RecordIndex,
    hospitals: Sequence[Hospital],
    seed: int,
) -> _Imported:
    exports = split_by_encounter(bundle.resources, hospitals=hospitals, seed=seed)
    merged = merge_exports(exports)

    # Store and index each record; a conflict's versions are withheld.
    stored: dict[RecordId, bytes] = {}
    for resource in merged.resources:
        entry = index_entry(
            resource, owner=did, hospitals=merged.sources[resource.record_id]
        )
        sink.put(resource.record_id, resource.canonical, entry)
        index.add(entry)
        stored[resource.record_id] = resource.canonical

    batch = build_batch(did, stored)
    logger.info("imported %d records for %s", len(stored), did)
    patient = PatientImport(
        did=did,
        file=bundle.file,
        batch=batch,
        per_type=Counter(r.resource_type for r in merged.resources),
        per_hospital={e.hospital: len(e.resources) for e in exports},
    )
    return _Imported(patient, merged.conflicts)
