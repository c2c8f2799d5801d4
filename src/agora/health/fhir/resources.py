"""One FHIR resource as Agora stores it, and its canonical bytes.

A record is stored, hashed and proven as its *canonical JSON*: the resource
object exactly as parsed from its Bundle, serialised with keys sorted by code
point, no insignificant whitespace, UTF-8 without escaping non-ASCII
characters, and numbers as Python writes floats and integers. This is
RFC 8785 (JSON Canonicalization Scheme) for everything FHIR Bundles hold
except number spelling (``1e-07`` here, ``1e-7`` in JCS) and trailing zeros
of decimals, which parsing drops (FHIR ``1.50`` is stored as ``1.5``). Two
copies of a resource have the same canonical bytes exactly when they parse
to the same JSON value, whatever their whitespace or key order. ::

    >>> canonical_json({"b": [1, 2.5], "a": "é"})
    b'{"a":"\\xc3\\xa9","b":[1,2.5]}'
"""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NewType

RecordId = NewType("RecordId", str)
"""``ResourceType/id``: a record's name within one patient's record."""

JsonObject = dict[str, Any]
"""A JSON object as :func:`json.loads` returns it."""

PATIENT = "Patient"
ENCOUNTER = "Encounter"


def canonical_json(value: Mapping[str, Any]) -> bytes:
    """The canonical bytes of a JSON object (see the module docstring)."""
    text = json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return text.encode("utf-8")


def record_id(resource_type: str, resource_id: str) -> RecordId:
    """The record id of a resource: ``Condition/3f2a…``."""
    return RecordId(f"{resource_type}/{resource_id}")


def loggable_record_id(resource_type: str, resource_id: str) -> str:
    """A record id safe for logs and messages.

    Synthea, like many hospital systems, uses the medical record number as
    the Patient's id, so a Patient's id is an identifier and never leaves
    the record; other resources' ids are random and name nothing.
    """
    if resource_type == PATIENT:
        return f"{PATIENT}/…"
    return record_id(resource_type, resource_id)


@dataclass(frozen=True)
class FhirResource:
    """A validated resource, with the ``fullUrl`` and entry index it had in
    its Bundle."""

    resource_type: str
    resource_id: str
    content: JsonObject = field(repr=False)
    full_url: str | None = None
    entry: int | None = None
    canonical: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Frozen: computed once here, because every stage (dedupe, index,
        # sink, Merkle leaf) reads it.
        object.__setattr__(self, "canonical", canonical_json(self.content))

    @property
    def record_id(self) -> RecordId:
        """``ResourceType/id``."""
        return record_id(self.resource_type, self.resource_id)

    @property
    def loggable_id(self) -> str:
        """The record id, with a Patient's id left out (see
        :func:`loggable_record_id`)."""
        return loggable_record_id(self.resource_type, self.resource_id)

    @property
    def digest(self) -> bytes:
        """SHA-256 of the canonical bytes: the record's Merkle leaf."""
        return hashlib.sha256(self.canonical).digest()
