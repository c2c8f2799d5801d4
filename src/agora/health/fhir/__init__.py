"""FHIR import for OpenHealth: Bundles in, one indexed, provable record per
patient out.

The safe recipe is :func:`import_folder` (or :func:`import_bundles`): it
validates every resource against the FHIR R4B models, links each patient to
a DID, simulates three hospitals' exports and merges them without
duplicates, stores each record through a :class:`RecordSink`, indexes it,
and returns each patient's import batch with its Merkle root, ready for
:func:`anchor_batch`. Bad resources come back as
:class:`ImportIssue` values, one per offending field. ::

    import_folder(fhir_folder(load_settings()), sink=MemorySink(), dids=NewDidKeys())
"""

from agora.health.fhir.batches import (
    RecordBatch,
    RecordProof,
    anchor_batch,
    batch_kind,
    build_batch,
    verify_record,
)
from agora.health.fhir.bundles import LoadedBundle, bundle_files, load_bundle
from agora.health.fhir.errors import (
    FhirError,
    FhirRule,
    ImportIssue,
    InvalidResourceError,
    MergeError,
    PatientLinkError,
    RecordProofError,
    UnreadableBundleError,
)
from agora.health.fhir.hospitals import (
    DEFAULT_HOSPITALS,
    Hospital,
    HospitalExport,
    MergedRecord,
    merge_exports,
    split_by_encounter,
)
from agora.health.fhir.importer import (
    ImportReport,
    PatientImport,
    fhir_folder,
    import_bundles,
    import_folder,
)
from agora.health.fhir.index import IndexEntry, RecordIndex
from agora.health.fhir.patients import NewDidKeys, PatientDids, link_patient
from agora.health.fhir.resources import FhirResource, RecordId, canonical_json
from agora.health.fhir.sink import FolderSink, MemorySink, RecordSink, VaultSink

__all__ = [
    "DEFAULT_HOSPITALS",
    "FhirError",
    "FhirResource",
    "FhirRule",
    "FolderSink",
    "Hospital",
    "HospitalExport",
    "ImportIssue",
    "ImportReport",
    "IndexEntry",
    "InvalidResourceError",
    "LoadedBundle",
    "MemorySink",
    "MergeError",
    "MergedRecord",
    "NewDidKeys",
    "PatientDids",
    "PatientImport",
    "PatientLinkError",
    "RecordBatch",
    "RecordId",
    "RecordIndex",
    "RecordProof",
    "RecordProofError",
    "RecordSink",
    "UnreadableBundleError",
    "VaultSink",
    "anchor_batch",
    "batch_kind",
    "build_batch",
    "bundle_files",
    "canonical_json",
    "fhir_folder",
    "import_bundles",
    "import_folder",
    "link_patient",
    "load_bundle",
    "merge_exports",
    "split_by_encounter",
    "verify_record",
]
