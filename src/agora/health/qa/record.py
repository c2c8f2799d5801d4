"""A patient's record as facts a question can be answered from.

Each resource the QA engine reads becomes one :class:`Fact`: its type and
id (what an answer cites), its code and label, its time, its status and a
value rendered as text. The label is the code's display with SNOMED CT's
semantic tag dropped ("Prediabetes (finding)" reads "Prediabetes"). Each
fact is also a *passage*, one line of text, for retrieval.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agora.health.fhir.resources import FhirResource

MEDICATION = "MedicationRequest"
CONDITION = "Condition"
OBSERVATION = "Observation"
IMMUNIZATION = "Immunization"
ENCOUNTER = "Encounter"

# The element holding each type's code and the one dating it, first match
# wins (FHIR R4B names them per resource).
_CODE = {
    MEDICATION: "medicationCodeableConcept",
    CONDITION: "code",
    OBSERVATION: "code",
    IMMUNIZATION: "vaccineCode",
    ENCOUNTER: "type",
}
_WHEN = {
    MEDICATION: ("authoredOn",),
    CONDITION: ("onsetDateTime", "recordedDate"),
    OBSERVATION: ("effectiveDateTime", "effectivePeriod", "issued"),
    IMMUNIZATION: ("occurrenceDateTime", "recorded"),
    ENCOUNTER: ("period",),
}

# SNOMED CT fully specified names end in a semantic tag: "(disorder)".
_SEMANTIC_TAG = re.compile(
    r"\s*\((?:disorder|finding|procedure|situation|"
    r"regime/therapy|observable entity|morphologic "
    r"abnormality|person|event)\)$"
)

# Blood pressure panels carry their values as components (LOINC 85354-9).
SYSTOLIC = "8480-6"
DIASTOLIC = "8462-4"


@dataclass(frozen=True)
class Fact:
    """One resource, reduced to what questions ask about."""

    resource_type: str
    resource_id: str
    code: str
    label: str
    when: datetime | None
    status: str | None
    value: str | None
    """The observation's value as text; None for other types."""

    @property
    def source(self) -> dict[str, str]:
        """How an answer cites the resource."""
        return {"resource_type": self.resource_type, "id": self.resource_id}

    @property
    def day(self) -> str | None:
        """The calendar date as written in the record (its own time zone)."""
        return self.when.date().isoformat() if self.when else None

    def passage(self) -> str:
        """The fact as one line of text, for retrieval."""
        parts = [self.resource_type, self.label]
        if self.value is not None:
            parts.append(self.value)
        if self.status:
            parts.append(self.status)
        if self.day:
            parts.append(self.day)
        return " | ".join(parts)


class PatientRecord:
    """The facts of one patient, by resource type, in record order."""

    def __init__(self, resources: Iterable[FhirResource]) -> None:
        self.facts: dict[str, list[Fact]] = {kind: [] for kind in _CODE}
        for resource in resources:
            fact = fact_of(resource.resource_type, resource.content)
            if fact is not None:
                self.facts[fact.resource_type].append(fact)

    def of(self, resource_type: str) -> list[Fact]:
        """The facts of one resource type."""
        return self.facts[resource_type]

    def labels(self, resource_type: str) -> list[str]:
        """The distinct labels of one type, in first-seen order."""
        return list(dict.fromkeys(f.label for f in self.facts[resource_type]))

    def all_facts(self) -> list[Fact]:
        """Every fact, type by type."""
        return [fact for facts in self.facts.values() for fact in facts]


def fact_of(resource_type: str, content: Mapping[str, Any]) -> Fact | None:
    """The fact of a resource, or None for a type or shape QA does not read."""
    if resource_type not in _CODE:
        return None
    coding = _first_coding(content.get(_CODE[resource_type]))
    if coding is None or not isinstance(content.get("id"), str):
        return None
    display = coding.get("display")
    if not isinstance(display, str):
        return None
    return Fact(
        resource_type=resource_type,
        resource_id=content["id"],
        code=str(coding.get("code", "")),
        label=_SEMANTIC_TAG.sub("", display).strip(),
        when=_when(content, _WHEN[resource_type]),
        status=_status(resource_type, content),
        value=observation_value(content) if resource_type == OBSERVATION else None,
    )


def observation_value(content: Mapping[str, Any]) -> str | None:
    """An observation's value as text: ``68.3 kg``, ``120/80 mm[Hg]`` for a
    blood pressure panel, a coded value's display, or its components'."""
    value = _value(content)
    if value is not None:
        return value
    components = content.get("component")
    if not isinstance(components, list):
        return None
    by_code = {_code(c.get("code")): c for c in components if isinstance(c, dict)}
    if SYSTOLIC in by_code and DIASTOLIC in by_code:
        systolic = by_code[SYSTOLIC].get("valueQuantity", {})
        diastolic = by_code[DIASTOLIC].get("valueQuantity", {})
        return (
            f"{number(systolic.get('value'))}/{number(diastolic.get('value'))} "
            f"{systolic.get('unit', '')}".strip()
        )
    values = [_value(c) for c in components if isinstance(c, dict)]
    shown = [v for v in values if v is not None]
    return "; ".join(shown) if shown else None


def _value(element: Mapping[str, Any]) -> str | None:
    quantity = element.get("valueQuantity")
    if isinstance(quantity, dict) and "value" in quantity:
        unit = quantity.get("unit") or quantity.get("code") or ""
        return f"{number(quantity['value'])} {unit}".strip()
    concept = element.get("valueCodeableConcept")
    if isinstance(concept, dict):
        coding = _first_coding(concept)
        text = coding.get("display") if coding else concept.get("text")
        return str(text) if text is not None else None
    for name in ("valueString", "valueBoolean", "valueInteger"):
        if name in element:
            return str(element[name])
    return None


def number(value: object) -> str:
    """A JSON number as text, integral floats without ``.0``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _status(resource_type: str, content: Mapping[str, Any]) -> str | None:
    if resource_type == CONDITION:
        return _code(content.get("clinicalStatus"))
    status = content.get("status")
    return status if isinstance(status, str) else None


def _when(content: Mapping[str, Any], names: tuple[str, ...]) -> datetime | None:
    for name in names:
        value = content.get(name)
        if isinstance(value, dict):
            value = value.get("start")
        if isinstance(value, str):
            return _parse_time(value)
    return None


def _parse_time(value: str) -> datetime | None:
    # FHIR dateTime may be a bare date or year-month; those count as the
    # first instant they name.
    text = value if len(value) > 7 else f"{value}-01"[:10]
    try:
        return datetime.fromisoformat(text if len(text) > 4 else f"{text}-01-01")
    except ValueError:
        return None


def _first_coding(value: Any) -> dict[str, Any] | None:
    concept = value[0] if isinstance(value, list) and value else value
    if not isinstance(concept, dict):
        return None
    codings = concept.get("coding")
    if isinstance(codings, list) and codings and isinstance(codings[0], dict):
        return codings[0]
    return None


def _code(value: Any) -> str | None:
    coding = _first_coding(value)
    code = coding.get("code") if coding else None
    return code if isinstance(code, str) else None
