"""Reading and validating Bundles: the real data, and one broken copy per rule.

Each bad resource is one issue naming file, entry, field and rule, and the
other resources of its Bundle are kept; a file that is no Bundle at all
stops the import with a typed error.
"""

import copy
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fhir_support import (
    DIRECTORY_BUNDLES,
    FHIR_DIR,
    PATIENT_BUNDLES,
    entry_index,
    first_patient_bundle,
    read_json,
    write_json,
)

from agora.errors import DataError
from agora.health.fhir import (
    FhirRule,
    InvalidResourceError,
    UnreadableBundleError,
    bundle_files,
    canonical_json,
    load_bundle,
)
from agora.health.fhir.bundles import validate_entry

Bundle = dict[str, Any]


def test_every_real_bundle_validates_without_issues() -> None:
    files = bundle_files(FHIR_DIR)
    bundles = [load_bundle(file) for file in files]

    assert len(files) == PATIENT_BUNDLES + DIRECTORY_BUNDLES
    assert [b.issues for b in bundles] == [()] * len(files)
    assert sum(b.patient_id is not None for b in bundles) == PATIENT_BUNDLES
    assert {b.bundle_type for b in bundles} == {"batch", "transaction"}
    for file, bundle in zip(files, bundles, strict=True):
        assert len(bundle.resources) == len(read_json(file)["entry"])


def test_canonical_bytes_ignore_key_order_and_whitespace() -> None:
    assert canonical_json({"b": 1, "a": [1.5, "x"]}) == b'{"a":[1.5,"x"],"b":1}'
    assert canonical_json({"a": {"y": 1, "x": 2}}) == canonical_json(
        {"a": {"x": 2, "y": 1}}
    )


def _break(
    entry_type: str, change: Callable[[dict[str, Any]], None]
) -> Callable[[Bundle], int]:
    """A change to the first resource of ``entry_type``; returns its entry."""

    def apply(bundle: Bundle) -> int:
        index = entry_index(bundle, entry_type)
        change(bundle["entry"][index]["resource"])
        return index

    return apply


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda resource: resource.__setitem__(key, value)


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda resource: resource.pop(key)


# rule broken, how, the field the issue must name
BROKEN_RESOURCES = [
    (
        "wrong-type",
        _break("Patient", _set("gender", 5)),
        FhirRule.INVALID_RESOURCE,
        "gender",
    ),
    (
        "bad-date",
        _break("Patient", _set("birthDate", "2019-13-45")),
        FhirRule.INVALID_RESOURCE,
        "birthDate",
    ),
    (
        "missing-required-field",
        _break("Condition", _drop("subject")),
        FhirRule.INVALID_RESOURCE,
        "subject",
    ),
    (
        "unknown-element",
        _break("Encounter", _set("diagnosisOfTheDay", "x")),
        FhirRule.INVALID_RESOURCE,
        "diagnosisOfTheDay",
    ),
    (
        "unknown-resource-type",
        _break("Immunization", _set("resourceType", "Vaccination")),
        FhirRule.UNKNOWN_RESOURCE_TYPE,
        "resourceType",
    ),
    (
        "missing-resource-type",
        _break("Immunization", _drop("resourceType")),
        FhirRule.ENTRY_STRUCTURE,
        "resourceType",
    ),
    (
        "missing-id",
        _break("Observation", _drop("id")),
        FhirRule.MISSING_ID,
        "id",
    ),
    (
        "id-too-long",
        _break("Observation", _set("id", "x" * 65)),
        FhirRule.MISSING_ID,
        "id",
    ),
]


@pytest.mark.parametrize(
    ("breaks", "rule", "field"),
    [case[1:] for case in BROKEN_RESOURCES],
    ids=[case[0] for case in BROKEN_RESOURCES],
)
def test_rule_a_bad_resource_is_one_issue_and_the_rest_is_kept(
    breaks: Callable[[Bundle], int],
    rule: FhirRule,
    field: str,
    tmp_path: Path,
) -> None:
    bundle = read_json(first_patient_bundle())
    entries = len(bundle["entry"])
    index = breaks(bundle)
    file = write_json(tmp_path / "broken.json", bundle)

    loaded = load_bundle(file)

    (issue,) = loaded.issues
    assert issue.rule is rule
    assert (issue.file, issue.entry, issue.field) == (file, index, field)
    assert issue.reason
    assert len(loaded.resources) == entries - 1
    assert index not in {r.entry for r in loaded.resources}


def test_rule_an_entry_without_a_resource_is_an_issue(tmp_path: Path) -> None:
    bundle = read_json(first_patient_bundle())
    bundle["entry"][3] = {"fullUrl": "urn:uuid:nothing"}
    loaded = load_bundle(write_json(tmp_path / "b.json", bundle))

    (issue,) = loaded.issues
    assert (issue.rule, issue.entry) == (FhirRule.ENTRY_STRUCTURE, 3)


def test_rule_a_second_entry_with_the_same_id_is_an_issue(tmp_path: Path) -> None:
    bundle = read_json(first_patient_bundle())
    index = entry_index(bundle, "Condition")
    bundle["entry"].append(copy.deepcopy(bundle["entry"][index]))
    loaded = load_bundle(write_json(tmp_path / "b.json", bundle))

    (issue,) = loaded.issues
    assert issue.rule is FhirRule.DUPLICATE_ID
    assert issue.entry == len(bundle["entry"]) - 1
    assert len(loaded.resources) == len(bundle["entry"]) - 1


def test_every_field_of_a_resource_is_its_own_issue(tmp_path: Path) -> None:
    bundle = read_json(first_patient_bundle())
    index = entry_index(bundle, "Encounter")
    bundle["entry"][index]["resource"].update(status=7, subject="Patient/x")

    issues = load_bundle(write_json(tmp_path / "b.json", bundle)).issues

    assert {(i.entry, i.field) for i in issues} == {
        (index, "status"),
        (index, "subject"),
    }


def test_validation_errors_are_raised_typed_for_one_entry(tmp_path: Path) -> None:
    with pytest.raises(InvalidResourceError) as info:
        validate_entry(
            {"resource": {"resourceType": "Nope", "id": "1"}}, file=tmp_path, index=0
        )
    assert info.value.rule is FhirRule.UNKNOWN_RESOURCE_TYPE
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda patient, ssn: ssn.__setitem__("type", ssn["value"]),
        lambda patient, ssn: ssn.__setitem__("period", {"start": ssn["value"]}),
        lambda patient, ssn: ssn.__setitem__("value", {"digits": ssn["value"]}),
        lambda patient, ssn: patient.__setitem__("birthDate", ssn["value"]),
    ],
    ids=["ssn-as-a-concept", "ssn-as-a-date-time", "ssn-in-an-object", "ssn-as-a-date"],
)
def test_rule_identifiers_never_reach_issues_or_logs(
    corrupt: Callable[[dict[str, Any], dict[str, Any]], None],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bundle = read_json(first_patient_bundle())
    patient = bundle["entry"][entry_index(bundle, "Patient")]["resource"]
    ssn = next(i for i in patient["identifier"] if i["system"].endswith("us-ssn"))
    secret, patient_id = ssn["value"], patient["id"]
    corrupt(patient, ssn)
    caplog.set_level(logging.DEBUG)

    loaded = load_bundle(write_json(tmp_path / "b.json", bundle))

    assert loaded.issues
    shown = " ".join(str(issue) for issue in loaded.issues) + caplog.text
    assert secret not in shown
    assert patient_id not in shown
    assert all(i.record_id == "Patient/…" for i in loaded.issues)


def _not_json(path: Path) -> None:
    path.write_bytes(b'{"resourceType": "Bundle", "entry": [')


def _not_utf8(path: Path) -> None:
    path.write_bytes(b"\xff\xfe{}")


def _not_a_bundle(path: Path) -> None:
    bundle = read_json(first_patient_bundle())
    write_json(path, bundle["entry"][0]["resource"])


def _json_array(path: Path) -> None:
    write_json(path, [read_json(first_patient_bundle())])


def _entry_not_a_list(path: Path) -> None:
    write_json(path, {"resourceType": "Bundle", "type": "batch", "entry": {}})


def _no_type(path: Path) -> None:
    bundle = read_json(first_patient_bundle())
    del bundle["type"]
    write_json(path, bundle)


def _two_patients(path: Path) -> None:
    bundle = read_json(first_patient_bundle())
    other = read_json(first_patient_bundle(FHIR_DIR / "adult"))
    bundle["entry"].append(other["entry"][entry_index(other, "Patient")])
    write_json(path, bundle)


def _a_folder(path: Path) -> None:
    path.mkdir()


UNREADABLE_FILES = [
    ("not-json", _not_json, FhirRule.NOT_JSON),
    ("not-utf8", _not_utf8, FhirRule.NOT_JSON),
    ("not-a-bundle", _not_a_bundle, FhirRule.NOT_A_BUNDLE),
    ("json-array", _json_array, FhirRule.NOT_A_BUNDLE),
    ("entry-not-a-list", _entry_not_a_list, FhirRule.BUNDLE_STRUCTURE),
    ("no-bundle-type", _no_type, FhirRule.BUNDLE_STRUCTURE),
    ("several-patients", _two_patients, FhirRule.SEVERAL_PATIENTS),
    ("unreadable", _a_folder, FhirRule.UNREADABLE),
]


@pytest.mark.parametrize(
    ("make", "rule"),
    [case[1:] for case in UNREADABLE_FILES],
    ids=[case[0] for case in UNREADABLE_FILES],
)
def test_rule_a_file_that_is_no_bundle_is_a_data_error(
    make: Callable[[Path], None], rule: FhirRule, tmp_path: Path
) -> None:
    file = tmp_path / "input.json"
    make(file)

    with pytest.raises(UnreadableBundleError) as info:
        load_bundle(file)

    assert info.value.rule is rule
    assert info.value.file == file
    assert isinstance(info.value, DataError)
    assert "\n" not in str(info.value)


def test_rule_a_folder_without_bundles_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(UnreadableBundleError, match=r"no \.json files"):
        bundle_files(tmp_path)
    with pytest.raises(UnreadableBundleError, match="no such folder"):
        bundle_files(tmp_path / "missing")
