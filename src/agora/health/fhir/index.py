"""The index a patient's node keeps over their records.

One :class:`IndexEntry` per record: its type, clinical date, category, first
code, the hospitals it came from and the digest of its stored bytes. The
index holds no other clinical content, so that it can answer "which
conditions and medications, when" without opening the vault. ::

    >>> index = RecordIndex([
    ...     IndexEntry(owner=Did("did:key:z6Mk"), record_id=RecordId("Condition/c1"),
    ...                resource_type="Condition", date=date(2020, 3, 1),
    ...                code_system="http://snomed.info/sct", code="840539006",
    ...                display="COVID-19", hospitals=(Hospital("hospital-b"),),
    ...                digest="00")])
    >>> [e.display for e in index.query(types={"Condition"}, start=date(2020, 1, 1))]
    ['COVID-19']
"""

import datetime
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from agora.health.fhir.hospitals import Hospital
from agora.health.fhir.resources import FhirResource, RecordId
from agora.identity.document import Did

# The element that dates each resource type, first match wins. FHIR R4B
# names them per resource (``onset[x]``, ``effective[x]``, ``authoredOn``, …);
# a ``Period`` or ``Timing`` gives its start.
_DATE_FIELDS: Mapping[str, tuple[str, ...]] = {
    "AllergyIntolerance": ("onsetDateTime", "recordedDate"),
    "CarePlan": ("period",),
    "CareTeam": ("period",),
    "Claim": ("billablePeriod", "created"),
    "Condition": ("onsetDateTime", "onsetPeriod", "recordedDate"),
    "Device": ("manufactureDate",),
    "DiagnosticReport": ("effectiveDateTime", "effectivePeriod", "issued"),
    "Encounter": ("period",),
    "ExplanationOfBenefit": ("billablePeriod", "created"),
    "ImagingStudy": ("started",),
    "Immunization": ("occurrenceDateTime", "recorded"),
    "MedicationAdministration": ("effectiveDateTime", "effectivePeriod"),
    "MedicationRequest": ("authoredOn",),
    "Observation": ("effectiveDateTime", "effectivePeriod", "issued"),
    "Patient": ("birthDate",),
    "Procedure": ("performedDateTime", "performedPeriod"),
    "SupplyDelivery": ("occurrenceDateTime", "occurrencePeriod"),
}

# The element holding each type's main code; other types try ``code``.
_CODE_FIELDS: Mapping[str, str] = {
    "CarePlan": "category",
    "Claim": "type",
    "Device": "type",
    "Encounter": "type",
    "ExplanationOfBenefit": "type",
    "Immunization": "vaccineCode",
    "MedicationRequest": "medicationCodeableConcept",
    "Organization": "type",
}


@dataclass(frozen=True, kw_only=True)
class IndexEntry:
    """What the index knows about one record.

    ``date`` is the calendar date as written in the record (its own time
    zone), ``code_system`` and ``code`` the first coding of the type's main
    code, ``digest`` the SHA-256 (hex) of the stored bytes.
    """

    owner: Did
    record_id: RecordId
    resource_type: str
    date: datetime.date | None = None
    category: str | None = None
    code_system: str | None = None
    code: str | None = None
    display: str | None = None
    hospitals: tuple[Hospital, ...] = ()
    digest: str

    def to_json(self) -> dict[str, Any]:
        """A JSON object of the entry (``date`` as ISO 8601)."""
        return {
            "owner": self.owner,
            "record_id": self.record_id,
            "resource_type": self.resource_type,
            "date": self.date.isoformat() if self.date else None,
            "category": self.category,
            "code_system": self.code_system,
            "code": self.code,
            "display": self.display,
            "hospitals": list(self.hospitals),
            "digest": self.digest,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> "IndexEntry":
        """Inverse of :meth:`to_json`."""
        day = value.get("date")
        return cls(
            owner=Did(value["owner"]),
            record_id=RecordId(value["record_id"]),
            resource_type=value["resource_type"],
            date=date.fromisoformat(day) if day else None,
            category=value.get("category"),
            code_system=value.get("code_system"),
            code=value.get("code"),
            display=value.get("display"),
            hospitals=tuple(Hospital(h) for h in value.get("hospitals", ())),
            digest=value["digest"],
        )


def index_entry(
    resource: FhirResource, *, owner: Did, hospitals: Iterable[Hospital]
) -> IndexEntry:
    """The index entry of ``resource``, filed under ``owner``."""
    content = resource.content
    coding = _first_coding(
        content.get(_CODE_FIELDS.get(resource.resource_type, "code"))
    )
    category = _first_coding(content.get("category")) or {}
    return IndexEntry(
        owner=owner,
        record_id=resource.record_id,
        resource_type=resource.resource_type,
        date=_record_date(resource),
        category=_text(category.get("code")),
        code_system=_text(coding.get("system")) if coding else None,
        code=_text(coding.get("code")) if coding else None,
        display=_display(content, resource.resource_type, coding),
        hospitals=tuple(hospitals),
        digest=resource.digest.hex(),
    )


def _record_date(resource: FhirResource) -> date | None:
    for name in _DATE_FIELDS.get(resource.resource_type, ()):
        value = resource.content.get(name)
        if isinstance(value, dict):
            value = value.get("start")
        if isinstance(value, str):
            return _calendar_date(value)
    return None


def _calendar_date(value: str) -> date | None:
    """The date part of a FHIR ``date``/``dateTime``/``instant``; a partial
    date (``2020`` or ``2020-03``) counts as its first day."""
    year, _, rest = value[:10].partition("-")
    month, _, day = rest.partition("-")
    try:
        return date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        return None


def _first_coding(value: Any) -> dict[str, Any] | None:
    """The first ``Coding`` of a CodeableConcept or list of them."""
    concept = value[0] if isinstance(value, list) and value else value
    if not isinstance(concept, dict):
        return None
    codings = concept.get("coding")
    if isinstance(codings, list) and codings and isinstance(codings[0], dict):
        return codings[0]
    return None


def _display(
    content: dict[str, Any], resource_type: str, coding: dict[str, Any] | None
) -> str | None:
    if coding and isinstance(coding.get("display"), str):
        return str(coding["display"])
    concept = content.get(_CODE_FIELDS.get(resource_type, "code"))
    if isinstance(concept, list) and concept:
        concept = concept[0]
    return _text(concept.get("text")) if isinstance(concept, dict) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class RecordIndex:
    """Index entries, queryable by owner, type, category, date range, code
    and hospital; queries return entries in the order they were added."""

    def __init__(self, entries: Iterable[IndexEntry] = ()) -> None:
        self._entries: list[IndexEntry] = list(entries)

    def add(self, entry: IndexEntry) -> None:
        """Add one entry."""
        self._entries.append(entry)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[IndexEntry]:
        return iter(self._entries)

    def query(
        self,
        *,
        owner: Did | None = None,
        types: Collection[str] | None = None,
        category: str | None = None,
        start: date | None = None,
        end: date | None = None,
        code: str | None = None,
        code_system: str | None = None,
        hospital: Hospital | None = None,
    ) -> list[IndexEntry]:
        """Entries matching every given condition.

        ``start`` and ``end`` are inclusive; with either, undated records
        are left out.
        """
        return [
            entry
            for entry in self._entries
            if (owner is None or entry.owner == owner)
            and (types is None or entry.resource_type in types)
            and (category is None or entry.category == category)
            and _in_range(entry.date, start, end)
            and (code is None or entry.code == code)
            and (code_system is None or entry.code_system == code_system)
            and (hospital is None or hospital in entry.hospitals)
        ]


def _in_range(day: date | None, start: date | None, end: date | None) -> bool:
    if start is None and end is None:
        return True
    if day is None:
        return False
    return (start is None or start <= day) and (end is None or day <= end)
