"""Three hospital exports from each Bundle, merged back without duplicates."""

import pytest
from fhir_support import FHIR_DIR, first_patient_bundle

from agora.health.fhir import (
    DEFAULT_HOSPITALS,
    FhirResource,
    FhirRule,
    Hospital,
    HospitalExport,
    LoadedBundle,
    MergeError,
    bundle_files,
    load_bundle,
    merge_exports,
    split_by_encounter,
)
from agora.health.fhir.hospitals import hospital_of_encounter


@pytest.fixture(scope="module")
def bundles() -> list[LoadedBundle]:
    """Every patient Bundle of the data folder."""
    loaded = [load_bundle(file) for file in bundle_files(FHIR_DIR)]
    return [bundle for bundle in loaded if bundle.patient_id is not None]


def _contents(resources: tuple[FhirResource, ...]) -> set[tuple[str, bytes]]:
    return {(r.record_id, r.canonical) for r in resources}


def test_merge_of_the_split_is_exactly_the_original_record_set(
    bundles: list[LoadedBundle],
) -> None:
    for bundle in bundles:
        merged = merge_exports(split_by_encounter(bundle.resources, seed=3))

        assert merged.conflicts == ()
        assert len(merged.resources) == len(bundle.resources)
        assert _contents(merged.resources) == _contents(bundle.resources)


def test_each_export_carries_the_patient_and_the_split_covers_three_hospitals(
    bundles: list[LoadedBundle],
) -> None:
    used: set[Hospital] = set()
    for bundle in bundles:
        exports = split_by_encounter(bundle.resources)
        assert [e.hospital for e in exports] == list(DEFAULT_HOSPITALS)
        for export in exports:
            assert sum(r.resource_type == "Patient" for r in export.resources) == 1
            if any(r.resource_type == "Encounter" for r in export.resources):
                used.add(export.hospital)
    assert used == set(DEFAULT_HOSPITALS)


def test_every_encounter_is_in_exactly_one_export_with_what_refers_to_it(
    bundles: list[LoadedBundle],
) -> None:
    for bundle in bundles:
        exports = split_by_encounter(bundle.resources, seed=11)
        home = {
            r.full_url: e.hospital
            for e in exports
            for r in e.resources
            if r.resource_type == "Encounter"
        }
        encounters = [r for r in bundle.resources if r.resource_type == "Encounter"]
        assert len(home) == len(encounters)

        for export in exports:
            for resource in export.resources:
                reference = resource.content.get("encounter", {}).get("reference")
                if reference is not None:
                    assert home[reference] == export.hospital


def test_claims_and_their_benefit_explanations_follow_the_encounter(
    bundles: list[LoadedBundle],
) -> None:
    bundle = bundles[0]
    exports = split_by_encounter(bundle.resources)
    hospital_of = {
        r.full_url: e.hospital
        for e in exports
        for r in e.resources
        if r.resource_type in {"Encounter", "Claim"}
    }
    for export in exports:
        for resource in export.resources:
            if resource.resource_type == "ExplanationOfBenefit":
                claim = resource.content["claim"]["reference"]
                assert hospital_of[claim] == export.hospital


def test_the_split_is_deterministic_for_a_seed_and_changes_with_it(
    bundles: list[LoadedBundle],
) -> None:
    resources = bundles[0].resources

    def layout(seed: int) -> list[list[str]]:
        exports = split_by_encounter(resources, seed=seed)
        return [[r.record_id for r in e.resources] for e in exports]

    assert layout(5) == layout(5)
    assert layout(5) != layout(6)
    assert hospital_of_encounter("e1", DEFAULT_HOSPITALS, seed=0) == (
        hospital_of_encounter("e1", DEFAULT_HOSPITALS, seed=0)
    )


def test_rule_differing_copies_are_a_conflict_and_withheld(
    bundles: list[LoadedBundle],
) -> None:
    exports = list(split_by_encounter(bundles[0].resources))
    patient = next(r for r in exports[1].resources if r.resource_type == "Patient")
    edited = FhirResource(
        "Patient",
        patient.resource_id,
        {**patient.content, "gender": "unknown"},
        patient.full_url,
    )
    exports[1] = HospitalExport(
        exports[1].hospital,
        tuple(edited if r is patient else r for r in exports[1].resources),
    )

    merged = merge_exports(exports)

    (conflict,) = merged.conflicts
    assert conflict.rule is FhirRule.CONFLICTING_VERSIONS
    assert conflict.record_id == "Patient/…"
    assert patient.resource_id not in str(conflict)
    assert patient.record_id not in {r.record_id for r in merged.resources}
    assert {v.canonical for v in merged.withheld[patient.record_id]} == {
        patient.canonical,
        edited.canonical,
    }
    assert len(merged.resources) == len(bundles[0].resources) - 1


def test_rule_exports_of_two_patients_do_not_merge(
    bundles: list[LoadedBundle],
) -> None:
    first = split_by_encounter(bundles[0].resources)
    second = split_by_encounter(bundles[1].resources)

    with pytest.raises(MergeError) as info:
        merge_exports([first[0], second[1]])
    assert info.value.rule is FhirRule.PATIENT_MISMATCH


def test_rule_hospitals_must_be_distinct() -> None:
    bundle = load_bundle(first_patient_bundle())
    with pytest.raises(MergeError) as info:
        split_by_encounter(bundle.resources, hospitals=[Hospital("a"), Hospital("a")])
    assert info.value.rule is FhirRule.HOSPITALS
