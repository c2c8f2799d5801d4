"""Shared FHIR test helpers: the real Synthea Bundles and broken copies.

Broken variants are written to ``tmp_path`` from the real files; nothing is
copied into the repository.
"""

import json
import os
from pathlib import Path
from typing import Any

DATA_DIR = Path(
    os.environ.get(
        "AGORA_DATA_DIR", Path(__file__).parents[2].parent / "shared" / "data"
    )
)
FHIR_DIR = DATA_DIR / "fhir"
ADULT = FHIR_DIR / "adult"
COVID = FHIR_DIR / "covid-juvenile"
PATIENT_BUNDLES = 16
DIRECTORY_BUNDLES = 2


def first_patient_bundle(folder: Path = COVID) -> Path:
    """The first Bundle of ``folder`` that describes a patient."""
    return next(
        path
        for path in sorted(folder.glob("*.json"))
        if not path.name.startswith(("hospitalInformation", "practitionerInformation"))
    )


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value))
    return path


def entry_index(bundle: dict[str, Any], resource_type: str) -> int:
    """Index of the first entry holding a ``resource_type``."""
    return next(
        i
        for i, entry in enumerate(bundle["entry"])
        if entry["resource"]["resourceType"] == resource_type
    )
