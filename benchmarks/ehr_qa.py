"""Benchmark: exact-match accuracy of EHR question answering.

Questions are generated from the structured fields of every Bundle in
``fhir/adult`` of the data folder (``AGORA_DATA_DIR``), with gold answers
read from the raw JSON by the code below, which shares nothing with the
engine's extraction (:mod:`agora.health.qa.record`):

- medications: "What medications is she taking?", gold the displays of
  the MedicationRequests whose ``status`` is ``active`` (``none`` if none);
- conditions: "What conditions does he have?", gold the displays of the
  Conditions whose ``clinicalStatus`` is ``active``;
- condition present: "Does she have <condition>?" for each condition code in
  the record (gold ``yes`` when a Condition of that code is active, else
  ``no``) and for up to ``--negatives`` codes found only in other patients'
  records (gold ``no``);
- latest observation: "What was her last <observation>?" for each
  Observation code, gold the value of the latest by ``effectiveDateTime``
  (``<value> <unit>``, ``<systolic>/<diastolic> <unit>`` for a blood
  pressure panel, or the coded value's display); codes whose latest time
  holds two different values, or whose value is of another shape, ask none;
- last immunization: "When was his last <vaccine> vaccine?", gold the date
  of the latest ``occurrenceDateTime`` of that vaccine code;
- last encounter: "When was her last visit?" and "When was her last
  <encounter type> encounter?", gold the date of the latest ``period.start``.

Names in questions are the codes' displays with SNOMED CT's semantic tag
dropped. Dates are the calendar date as written in the record.

Exact match, after normalising both answers: lower case; whitespace
collapsed; a closing full stop dropped; a trailing SNOMED CT semantic tag
("(disorder)", "(finding)" …) dropped; every number written canonically
(``121.0`` and ``121`` are the same); a list answer (medications,
conditions: items joined by ``;``) compared as a set of normalised items.

The engine answers each question from the patient's record as the service
does, without the HTTP and consent layers (tested in tests/market). Prints
per-kind counts and misses to stderr and one JSON object as its last line
(``exact_match``, ``questions`` …).

Usage: python benchmarks/ehr_qa.py [--negatives N]
"""

import argparse
import json
import re
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agora.health.fhir import load_bundle
from agora.health.qa import PatientRecord, QaEngine, shared_embedder
from agora.settings import load_settings

_TAG = re.compile(
    r"\s*\((disorder|finding|procedure|situation|regime/therapy|observable entity"
    r"|morphologic abnormality|person|event)\)$"
)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_BRACKETS = re.compile(r"\[[^\]]*\]")


# Exact match.


def normalise(answer: str) -> str:
    """One answer (or list item) in the form exact match compares."""
    text = " ".join(answer.lower().split()).rstrip(".").strip()
    text = _TAG.sub("", text)
    return _NUMBER.sub(lambda m: repr(float(m.group())).removesuffix(".0"), text)


def exact_match(predicted: str, gold: str, *, is_list: bool) -> bool:
    if is_list:
        return {normalise(i) for i in predicted.split(";")} == {
            normalise(i) for i in gold.split(";")
        }
    return normalise(predicted) == normalise(gold)


# Gold answers from the raw Bundles.


def _display(concept: Any) -> tuple[str, str]:
    """(code, display) of a CodeableConcept's first coding."""
    if isinstance(concept, list):
        concept = concept[0]
    coding = concept["coding"][0]
    return coding["code"], coding["display"]


def _name(display: str) -> str:
    return _TAG.sub("", display)


def _time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _value(resource: dict[str, Any]) -> str | None:
    if "valueQuantity" in resource:
        quantity = resource["valueQuantity"]
        return f"{quantity['value']} {quantity.get('unit', '')}".strip()
    if "valueCodeableConcept" in resource:
        return str(resource["valueCodeableConcept"]["coding"][0]["display"])
    parts = {
        c["code"]["coding"][0]["code"]: c["valueQuantity"]
        for c in resource.get("component", [])
        if "valueQuantity" in c
    }
    if "8480-6" in parts and "8462-4" in parts:
        systolic, diastolic = parts["8480-6"], parts["8462-4"]
        return f"{systolic['value']}/{diastolic['value']} {systolic['unit']}"
    return None


def questions_for(
    bundle: dict[str, Any], foreign_conditions: dict[str, str], negatives: int
) -> list[dict[str, Any]]:
    """Questions and gold answers about the patient of one raw Bundle."""
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in bundle["entry"]:
        by_type[entry["resource"]["resourceType"]].append(entry["resource"])
    she = by_type["Patient"][0].get("gender") == "female"
    subject, possessive = ("she", "her") if she else ("he", "his")
    asked: list[dict[str, Any]] = []

    def ask(kind: str, question: str, gold: str, *, is_list: bool = False) -> None:
        asked.append(
            {"kind": kind, "question": question, "gold": gold, "is_list": is_list}
        )

    # Medications and conditions, as lists.
    active = sorted(
        {
            _display(m["medicationCodeableConcept"])[1]
            for m in by_type["MedicationRequest"]
            if m["status"] == "active"
        }
    )
    ask(
        "medications",
        f"What medications is {subject} taking?",
        "; ".join(active) or "none",
        is_list=True,
    )
    conditions: dict[str, tuple[str, bool]] = {}
    for condition in by_type["Condition"]:
        code, display = _display(condition["code"])
        status = condition["clinicalStatus"]["coding"][0]["code"]
        _, was_active = conditions.get(code, (display, False))
        conditions[code] = (display, was_active or status == "active")
    listed = sorted({d for d, is_active in conditions.values() if is_active})
    ask(
        "conditions",
        f"What conditions does {subject} have?",
        "; ".join(listed) or "none",
        is_list=True,
    )

    # Condition present: the record's own, then others' as negatives.
    verb = "Does"
    for display, is_active in conditions.values():
        question = f"{verb} {subject} have {_name(display).lower()}?"
        ask("condition_present", question, "yes" if is_active else "no")
    own_names = {_name(d).lower() for d, _ in conditions.values()}
    foreign = [
        display
        for code, display in sorted(foreign_conditions.items())
        if code not in conditions and _name(display).lower() not in own_names
    ]
    for display in foreign[:negatives]:
        question = f"{verb} {subject} have {_name(display).lower()}?"
        ask("condition_absent", question, "no")

    # Latest observation per code.
    latest: dict[str, list[tuple[datetime, str | None, str]]] = defaultdict(list)
    for observation in by_type["Observation"]:
        if "effectiveDateTime" not in observation:
            continue
        code, display = _display(observation["code"])
        moment = _time(observation["effectiveDateTime"])
        latest[code].append((moment, _value(observation), display))
    shorts: dict[str, int] = defaultdict(int)
    for readings in latest.values():
        loose = _BRACKETS.sub(" ", _name(readings[0][2])).lower()
        shorts[" ".join(loose.split())] += 1
    for readings in latest.values():
        last = max(moment for moment, _, _ in readings)
        values = {value for moment, value, _ in readings if moment == last}
        if len(values) != 1 or None in values:
            continue
        name = _name(readings[0][2])
        value = str(values.pop())
        ask("latest_observation", f"What was {possessive} last {name}?", value)
        # The same, named loosely: lower case, LOINC's [property] left out.
        short = " ".join(_BRACKETS.sub(" ", name).lower().split())
        if short != name.lower() and shorts[short] == 1:
            question = f"What was {possessive} last {short}?"
            ask("latest_observation_loose", question, value)

    # Last dose of each vaccine; last encounter, of any type and of each.
    doses: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for immunization in by_type["Immunization"]:
        name = _name(_display(immunization["vaccineCode"])[1])
        doses[name].append(
            (
                _time(immunization["occurrenceDateTime"]),
                immunization["occurrenceDateTime"][:10],
            )
        )
    firsts = defaultdict(int, Counter(name.split(",")[0] for name in doses))
    for name, given in doses.items():
        question = f"When was {possessive} last {name} vaccine?"
        ask("last_immunization", question, max(given)[1])
        # Named loosely: the first part only ("Influenza").
        first = name.split(",")[0]
        if first != name and firsts[first] == 1:
            question = f"When was {possessive} last {first.lower()} shot?"
            ask("last_immunization_loose", question, max(given)[1])
    visits: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for encounter in by_type["Encounter"]:
        # Grouped by name: "X" and "X (procedure)" read the same in a question.
        name = _name(_display(encounter["type"])[1])
        start = encounter["period"]["start"]
        visits[name].append((_time(start), start[:10]))
    every = [visit for dated in visits.values() for visit in dated]
    if every:
        ask("last_encounter", f"When was {possessive} last visit?", max(every)[1])
    for name, dated in visits.items():
        question = f"When was {possessive} last {name} encounter?"
        ask("last_encounter", question, max(dated)[1])
    return asked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--negatives", type=int, default=8)
    args = parser.parse_args()
    folder = load_settings().data_dir / "fhir" / "adult"
    files = sorted(Path(folder).glob("*.json"))
    bundles = {path: json.loads(path.read_text()) for path in files}

    # Condition codes of every patient, for the absent-condition questions.
    codes_of: dict[Path, dict[str, str]] = {}
    for path, bundle in bundles.items():
        codes_of[path] = {
            _display(e["resource"]["code"])[0]: _display(e["resource"]["code"])[1]
            for e in bundle["entry"]
            if e["resource"]["resourceType"] == "Condition"
        }

    started = time.perf_counter()
    engine = QaEngine(shared_embedder())
    load_s = time.perf_counter() - started
    hits: dict[str, list[bool]] = defaultdict(list)
    misses: list[dict[str, Any]] = []
    answer_s: list[float] = []
    for path, bundle in bundles.items():
        others = {
            code: display
            for other, codes in codes_of.items()
            if other != path
            for code, display in codes.items()
        }
        record = PatientRecord(load_bundle(path).resources)
        for item in questions_for(bundle, others, args.negatives):
            began = time.perf_counter()
            answer = engine.answer(record, item["question"])
            answer_s.append(time.perf_counter() - began)
            hit = exact_match(answer.answer, item["gold"], is_list=item["is_list"])
            hits[item["kind"]].append(hit)
            if not hit:
                misses.append({**item, "answer": answer.answer, "file": path.name})

    for miss in misses:
        print(json.dumps(miss), file=sys.stderr)
    everything = [hit for kind in hits.values() for hit in kind]
    answer_s.sort()
    print(
        json.dumps(
            {
                "exact_match": round(sum(everything) / len(everything), 4),
                "questions": len(everything),
                "patients": len(bundles),
                "by_kind": {
                    kind: {
                        "questions": len(kind_hits),
                        "exact_match": round(sum(kind_hits) / len(kind_hits), 4),
                    }
                    for kind, kind_hits in sorted(hits.items())
                },
                "model_load_s": round(load_s, 1),
                "answer_p50_ms": round(answer_s[len(answer_s) // 2] * 1000, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
