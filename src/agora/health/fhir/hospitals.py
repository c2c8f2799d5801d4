"""Three hospitals from one Bundle, and one record from three hospitals.

OpenHealth's patient is seen at several hospitals, each exporting only what
happened there. The Synthea Bundles hold a whole life in one file, so
:func:`split_by_encounter` simulates the exports, and :func:`merge_exports`
rebuilds the patient's global record from them.

The split rule, deterministic for a given ``seed``:

1. each Encounter goes to the hospital chosen by
   ``SHA-256(f"{seed}:{encounter id}")`` modulo the number of hospitals, so
   that a visit's hospital depends on nothing but the visit;
2. a resource that references an Encounter (``encounter``, a Claim's
   ``item.encounter`` …) follows the first one it references; one that
   references another resource which follows an Encounter (an
   ExplanationOfBenefit's ``claim``) follows it too;
3. every other resource (the Patient, Organizations, Practitioners, a
   Device) is copied into every export, as a hospital's export names the
   patient and the people and places its encounters point to.

Merging deduplicates by type and id. Copies that differ are a conflict: the
record is withheld, with every version, and reported, never settled by
picking one.
"""

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NewType

from agora.health.fhir.errors import FhirRule, ImportIssue, MergeError
from agora.health.fhir.resources import ENCOUNTER, PATIENT, FhirResource, RecordId

Hospital = NewType("Hospital", str)
"""The name of a (simulated) hospital that exports records."""

DEFAULT_HOSPITALS = (
    Hospital("hospital-a"),
    Hospital("hospital-b"),
    Hospital("hospital-c"),
)
"""The three hospitals of the OpenHealth scenario."""


@dataclass(frozen=True)
class HospitalExport:
    """What one hospital holds about one patient."""

    hospital: Hospital
    resources: tuple[FhirResource, ...]


@dataclass(frozen=True)
class MergedRecord:
    """One patient's global record, merged from several exports.

    ``sources`` names, for each record, the hospitals whose exports held it.
    ``withheld`` keeps every version of a record the exports disagree on;
    each such record has one issue in ``conflicts``.
    """

    resources: tuple[FhirResource, ...]
    sources: Mapping[RecordId, tuple[Hospital, ...]]
    conflicts: tuple[ImportIssue, ...]
    withheld: Mapping[RecordId, tuple[FhirResource, ...]]


def hospital_of_encounter(
    encounter_id: str, hospitals: Sequence[Hospital], *, seed: int
) -> Hospital:
    """The hospital an Encounter is assigned to (rule 1 of the module)."""
    digest = hashlib.sha256(f"{seed}:{encounter_id}".encode()).digest()
    return hospitals[int.from_bytes(digest[:8], "big") % len(hospitals)]


def split_by_encounter(
    resources: Sequence[FhirResource],
    *,
    hospitals: Sequence[Hospital] = DEFAULT_HOSPITALS,
    seed: int = 0,
) -> tuple[HospitalExport, ...]:
    """One export per hospital, by the rules of the module docstring.

    Example::

        >>> body = {"resourceType": "Patient", "id": "p1"}
        >>> patient = FhirResource("Patient", "p1", body)
        >>> [len(e.resources) for e in split_by_encounter([patient])]
        [1, 1, 1]
    """
    if not hospitals or len(set(hospitals)) != len(hospitals):
        raise MergeError(FhirRule.HOSPITALS, "hospitals must be distinct")
    encounter_of = _encounter_of_each(resources)

    # Rule 1 and 2: a resource lands where its encounter does.
    hospital_of: dict[RecordId, Hospital] = {}
    for resource in resources:
        encounter = encounter_of.get(resource.record_id)
        if encounter is not None:
            hospital_of[resource.record_id] = hospital_of_encounter(
                encounter, hospitals, seed=seed
            )

    # Rule 3: the rest goes to everyone, in the Bundle's order.
    return tuple(
        HospitalExport(
            hospital,
            tuple(
                r
                for r in resources
                if hospital_of.get(r.record_id, hospital) == hospital
            ),
        )
        for hospital in hospitals
    )


def _encounter_of_each(resources: Sequence[FhirResource]) -> dict[RecordId, str]:
    """The Encounter id each resource follows; absent for those with none."""
    by_reference = _reference_targets(resources)
    references = {
        r.record_id: [
            by_reference[target]
            for target in _references(r.content)
            if target in by_reference
        ]
        for r in resources
    }

    # Direct: an Encounter follows itself, others their first Encounter.
    encounter_of: dict[RecordId, str] = {}
    for resource in resources:
        if resource.resource_type == ENCOUNTER:
            encounter_of[resource.record_id] = resource.resource_id
            continue
        for target in references[resource.record_id]:
            if target.resource_type == ENCOUNTER:
                encounter_of[resource.record_id] = target.resource_id
                break

    # Indirect, through resources that follow one (EOB -> Claim -> Encounter),
    # until nothing changes; each pass settles at least one more link.
    changed = True
    while changed:
        changed = False
        for resource in resources:
            if resource.record_id in encounter_of:
                continue
            for target in references[resource.record_id]:
                if target.record_id in encounter_of:
                    encounter_of[resource.record_id] = encounter_of[target.record_id]
                    changed = True
                    break
    return encounter_of


def _reference_targets(resources: Iterable[FhirResource]) -> dict[str, FhirResource]:
    """The resource each reference string may name: its Bundle ``fullUrl``
    (``urn:uuid:…``) or its relative URL ``Type/id`` (FHIR R4 §2.36.4.1)."""
    targets: dict[str, FhirResource] = {}
    for resource in resources:
        targets[resource.record_id] = resource
        if resource.full_url is not None:
            targets[resource.full_url] = resource
    return targets


def _references(value: Any) -> Iterator[str]:
    """Every ``reference`` string inside a resource, depth first."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and isinstance(item, str):
                yield item
            else:
                yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def merge_exports(exports: Sequence[HospitalExport]) -> MergedRecord:
    """One record from ``exports``: each resource once, conflicts withheld.

    Example::

        >>> body = {"resourceType": "Patient", "id": "p1"}
        >>> patient = FhirResource("Patient", "p1", body)
        >>> merged = merge_exports(split_by_encounter([patient]))
        >>> [r.record_id for r in merged.resources], merged.sources["Patient/p1"]
        (['Patient/p1'], ('hospital-a', 'hospital-b', 'hospital-c'))
    """
    patients = {
        r.record_id for e in exports for r in e.resources if r.resource_type == PATIENT
    }
    if len(patients) > 1:
        raise MergeError(
            FhirRule.PATIENT_MISMATCH, f"the exports describe {len(patients)} patients"
        )

    versions: dict[RecordId, list[FhirResource]] = {}
    sources: dict[RecordId, list[Hospital]] = {}
    for export in exports:
        for resource in export.resources:
            known = versions.setdefault(resource.record_id, [])
            if all(v.canonical != resource.canonical for v in known):
                known.append(resource)
            sources.setdefault(resource.record_id, []).append(export.hospital)

    kept: list[FhirResource] = []
    conflicts: list[ImportIssue] = []
    withheld: dict[RecordId, tuple[FhirResource, ...]] = {}
    for record, found in versions.items():
        if len(found) == 1:
            kept.append(found[0])
            continue
        withheld[record] = tuple(found)
        conflicts.append(_conflict(found, sources[record]))
    return MergedRecord(
        tuple(kept),
        {record: tuple(hospitals) for record, hospitals in sources.items()},
        tuple(conflicts),
        withheld,
    )


def _conflict(
    found: Sequence[FhirResource], hospitals: Sequence[Hospital]
) -> ImportIssue:
    digests = ", ".join(resource.digest.hex()[:12] for resource in found)
    return ImportIssue(
        FhirRule.CONFLICTING_VERSIONS,
        f"{len(found)} different versions (sha256 {digests}…) from "
        f"{', '.join(sorted(set(hospitals)))}; withheld until one is chosen",
        record_id=found[0].loggable_id,
    )
