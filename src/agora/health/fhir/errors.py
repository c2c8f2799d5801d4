"""Errors and issues of FHIR import.

Two kinds of bad input, two outcomes:

- a file that cannot be read as a Bundle at all raises
  :class:`UnreadableBundleError` (a :class:`~agora.errors.DataError`), and the
  import stops before anything is stored;
- a bad resource inside a readable Bundle becomes an :class:`ImportIssue`,
  reported one by one, while the valid resources are imported.

Every error and issue names its rule (:class:`FhirRule`) so that tests, logs
and the CLI can tell the cases apart without parsing messages. Messages name
files, entry indexes, field paths and resource ids, never field values: a
Patient's identifiers (SSN, MRN, passport number) must not reach a log.
"""

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from agora.errors import AgoraError, DataError


class FhirRule(StrEnum):
    """Which rule a file, resource or merge broke."""

    # Whole file: fatal, nothing is imported.
    UNREADABLE = "unreadable"
    NOT_JSON = "not-json"
    NOT_A_BUNDLE = "not-a-bundle"
    BUNDLE_STRUCTURE = "bundle-structure"
    SEVERAL_PATIENTS = "several-patients"

    # One entry: reported, the others are imported.
    ENTRY_STRUCTURE = "entry-structure"
    UNKNOWN_RESOURCE_TYPE = "unknown-resource-type"
    INVALID_RESOURCE = "invalid-resource"
    MISSING_ID = "missing-id"
    DUPLICATE_ID = "duplicate-id"
    NO_PATIENT = "no-patient"

    # Splitting and merging hospital exports.
    HOSPITALS = "hospitals"
    PATIENT_MISMATCH = "patient-mismatch"
    CONFLICTING_VERSIONS = "conflicting-versions"

    # Linking patients and proving records.
    NO_DID = "no-did"
    INVALID_DID = "invalid-did"
    INCLUSION_PROOF = "inclusion-proof"


@dataclass(frozen=True)
class ImportIssue:
    """One resource that was not imported, and why.

    ``field`` is a dotted path inside the resource (``identifier.1.value``),
    ``entry`` the index in the Bundle's ``entry`` array, ``record_id`` the
    ``Type/id`` of the resource where it is known.
    """

    rule: FhirRule
    reason: str
    file: Path | None = None
    entry: int | None = None
    field: str | None = None
    record_id: str | None = None

    @property
    def location(self) -> str:
        """Where the issue is, as far as known: file, entry, record, field."""
        parts = [
            str(self.file) if self.file is not None else None,
            f"entry {self.entry}" if self.entry is not None else None,
            self.record_id,
            f"field {self.field}" if self.field else None,
        ]
        return ", ".join(part for part in parts if part)

    def __str__(self) -> str:
        return f"{self.rule.value} ({self.location}): {self.reason}"


class FhirError(AgoraError):
    """Root of the FHIR import's errors."""

    def __init__(self, rule: FhirRule, detail: str) -> None:
        super().__init__(f"{rule.value}: {detail}")
        self.rule = rule
        self.detail = detail


class UnreadableBundleError(FhirError, DataError):
    """A file is not a FHIR Bundle that can be read: missing, not JSON, not a
    Bundle, or a Bundle whose shape is broken. Nothing of the import is
    stored."""

    def __init__(self, rule: FhirRule, file: Path, detail: str) -> None:
        super().__init__(rule, f"{file}: {detail}")
        self.file = file


class InvalidResourceError(FhirError, ValueError):
    """One Bundle entry breaks one or more rules, each an :class:`ImportIssue`
    (one per offending field)."""

    def __init__(self, issues: tuple[ImportIssue, ...]) -> None:
        first = issues[0]
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        super().__init__(first.rule, f"{first.location}: {first.reason}{more}")
        self.issues = issues


class MergeError(FhirError, ValueError):
    """Hospital exports that cannot be merged into one record."""


class PatientLinkError(FhirError, DataError):
    """A patient has no DID, or no valid one, to file their record under."""


class RecordProofError(FhirError, ValueError):
    """A record is not in the batch whose Merkle root it is checked against."""
