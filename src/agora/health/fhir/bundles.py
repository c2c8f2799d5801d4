"""Reading FHIR Bundles and validating their resources one by one.

The bundles are Synthea output (https://github.com/synthetichealth/synthea):
in this workspace the folders ``adult`` (transaction Bundles) and
``covid-juvenile`` (batch Bundles, with the hospitals' Organizations and
Practitioners in files of their own) under ``fhir/`` of the data folder
(``AGORA_DATA_DIR`` or ``--data-dir``); elsewhere, any folder of FHIR R4/R4B
Bundles, such as Synthea's sample data downloads.

Each entry's resource is validated on its own against the ``fhir.resources``
R4B models (FHIR 4.3.0), so one bad resource costs only itself: it becomes
one :class:`~agora.health.fhir.errors.ImportIssue` per offending field and
the rest of the Bundle is kept. A file that is not a readable Bundle at all
raises :class:`~agora.health.fhir.errors.UnreadableBundleError`.
"""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
from fhir.resources.R4B import get_fhir_model_class

from agora.health.fhir.errors import (
    FhirRule,
    ImportIssue,
    InvalidResourceError,
    UnreadableBundleError,
)
from agora.health.fhir.resources import (
    PATIENT,
    FhirResource,
    JsonObject,
    RecordId,
    loggable_record_id,
)

FHIR_FOLDER = "fhir"
"""Folder of the Bundles inside the data folder."""

# FHIR R4 §2.24.0.1, datatype ``id``: 1 to 64 of these characters. The
# R4B models check the characters but not the length.
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


@dataclass(frozen=True)
class LoadedBundle:
    """The valid resources of one Bundle file, in entry order, and the
    issues of the entries left out."""

    file: Path
    bundle_type: str
    resources: tuple[FhirResource, ...]
    issues: tuple[ImportIssue, ...]
    patient_id: str | None
    """The id of the Bundle's Patient, even when the Patient resource itself
    is invalid (the rest of the record still belongs to them); None for a
    directory Bundle (Organizations, Practitioners) that describes no one."""


def bundle_files(folder: Path) -> list[Path]:
    """Every ``*.json`` file under ``folder``, sorted, for a stable import order."""
    if not folder.is_dir():
        raise UnreadableBundleError(FhirRule.UNREADABLE, folder, "no such folder")
    files = sorted(path for path in folder.rglob("*.json") if path.is_file())
    if not files:
        raise UnreadableBundleError(FhirRule.UNREADABLE, folder, "no .json files")
    return files


def load_bundle(file: Path) -> LoadedBundle:
    """Read ``file`` and validate each entry's resource.

    Raises :class:`UnreadableBundleError` when the file cannot be read, is
    not JSON, is not a ``Bundle``, or holds more than one Patient; a bad
    entry is reported in :attr:`LoadedBundle.issues` instead.
    """
    bundle = _read_bundle(file)
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise UnreadableBundleError(
            FhirRule.BUNDLE_STRUCTURE, file, "'entry' is not an array"
        )

    # Each entry on its own: a bad one is an issue, the others go on.
    resources: list[FhirResource] = []
    issues: list[ImportIssue] = []
    seen: set[RecordId] = set()
    for index, entry in enumerate(entries):
        try:
            resource = validate_entry(entry, file=file, index=index)
        except InvalidResourceError as error:
            issues.extend(error.issues)
            continue
        if resource.record_id in seen:
            # A Bundle names each resource once (FHIR R4 §2.36.4, bdl-7).
            issues.append(
                ImportIssue(
                    FhirRule.DUPLICATE_ID,
                    "an earlier entry has the same type and id; this one is left out",
                    file=file,
                    entry=index,
                    record_id=resource.loggable_id,
                )
            )
            continue
        seen.add(resource.record_id)
        resources.append(resource)

    patients = _patient_ids(entries)
    if len(patients) > 1:
        raise UnreadableBundleError(
            FhirRule.SEVERAL_PATIENTS,
            file,
            f"{len(patients)} Patients; a Bundle must describe one patient",
        )
    return LoadedBundle(
        file,
        str(bundle["type"]),
        tuple(resources),
        tuple(issues),
        patients.pop() if patients else None,
    )


def _patient_ids(entries: list[Any]) -> set[str]:
    """The ids of the Patients in ``entries``, valid or not."""
    return {
        entry["resource"]["id"]
        for entry in entries
        if isinstance(entry, dict)
        and isinstance(entry.get("resource"), dict)
        and entry["resource"].get("resourceType") == PATIENT
        and isinstance(entry["resource"].get("id"), str)
        and _FHIR_ID.fullmatch(entry["resource"]["id"])
    }


def _read_bundle(file: Path) -> JsonObject:
    try:
        raw = file.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UnreadableBundleError(FhirRule.UNREADABLE, file, reason) from exc
    try:
        bundle = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise UnreadableBundleError(FhirRule.NOT_JSON, file, "not JSON") from exc

    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise UnreadableBundleError(
            FhirRule.NOT_A_BUNDLE, file, "resourceType is not 'Bundle'"
        )
    if not isinstance(bundle.get("type"), str):
        raise UnreadableBundleError(
            FhirRule.BUNDLE_STRUCTURE, file, "the Bundle has no 'type'"
        )
    return bundle


def validate_entry(entry: Any, *, file: Path, index: int) -> FhirResource:
    """The resource of one Bundle entry, validated against its R4B model.

    Raises :class:`InvalidResourceError` carrying one issue per offending
    field; the issues name fields, never their values.
    """
    resource = entry.get("resource") if isinstance(entry, dict) else None
    if not isinstance(resource, dict):
        issue = ImportIssue(
            FhirRule.ENTRY_STRUCTURE,
            "the entry holds no resource object",
            file=file,
            entry=index,
        )
        raise InvalidResourceError((issue,))
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str):
        issue = ImportIssue(
            FhirRule.ENTRY_STRUCTURE,
            "the resource has no resourceType",
            field="resourceType",
            file=file,
            entry=index,
        )
        raise InvalidResourceError((issue,))

    # The model class; an unknown name is not an R4B resource.
    try:
        model = get_fhir_model_class(resource_type)
    except ValueError as exc:
        issue = ImportIssue(
            FhirRule.UNKNOWN_RESOURCE_TYPE,
            "the resourceType names no FHIR R4B resource",
            field="resourceType",
            file=file,
            entry=index,
        )
        raise InvalidResourceError((issue,)) from exc

    # Records are named and deduplicated by type and id, so an id is required
    # here although FHIR lets a transaction entry go without one.
    resource_id = resource.get("id")
    if not isinstance(resource_id, str) or not _FHIR_ID.fullmatch(resource_id):
        issue = ImportIssue(
            FhirRule.MISSING_ID,
            "the resource has no id of 1 to 64 letters, digits, '-' or '.'",
            field="id",
            file=file,
            entry=index,
        )
        raise InvalidResourceError((issue,))

    loggable = loggable_record_id(resource_type, resource_id)
    try:
        model.model_validate(resource)
    except pydantic.ValidationError as exc:
        issues = tuple(
            ImportIssue(
                FhirRule.INVALID_RESOURCE,
                _redacted(error["msg"], error.get("input")),
                field=".".join(str(part) for part in error["loc"]),
                record_id=loggable,
                file=file,
                entry=index,
            )
            for error in exc.errors()
        )
        raise InvalidResourceError(issues) from exc

    full_url = entry.get("fullUrl")
    return FhirResource(
        resource_type,
        resource_id,
        resource,
        full_url if isinstance(full_url, str) else None,
        index,
    )


def _redacted(message: str, value: object) -> str:
    """``message`` without the offending value, which may be an SSN or a
    medical record number. Neither pydantic 2.14 nor fhir.resources 8.3
    quotes values in ``msg`` today; a custom validator of a later release
    may (pydantic's ``str(error)`` does, which is why it is never used)."""
    for text in _spellings(value):
        if text:
            message = message.replace(text, "<value>")
    return message


def _spellings(value: object) -> Iterator[str]:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        yield repr(value)
        yield str(value)
