"""The QA engine on its own: intents, facts read from real resources, and a
search that cites what it found."""

import pytest
from fhir_support import ADULT

from agora.health.fhir import load_bundle
from agora.health.qa import (
    Intent,
    PatientRecord,
    QaEngine,
    QuestionError,
    classify,
    concept_words,
    shared_embedder,
)
from agora.health.qa.record import fact_of

BUNDLE = ADULT / "1197319-bundle.json"
"""A woman born 1957 with prediabetes, anaemia and eight kinds of encounter."""


@pytest.fixture(scope="module")
def record() -> PatientRecord:
    return PatientRecord(load_bundle(BUNDLE).resources)


@pytest.fixture(scope="module")
def engine() -> QaEngine:
    return QaEngine(shared_embedder())


@pytest.mark.parametrize(
    ("question", "intent", "concept"),
    [
        ("What medications is she taking?", Intent.MEDICATIONS, "medications taking"),
        ("What was his last BMI?", Intent.LATEST_OBSERVATION, "bmi"),
        ("Does he have diabetes?", Intent.CONDITION_PRESENT, "diabetes"),
        ("When was her last flu shot?", Intent.LAST_IMMUNIZATION, "flu"),
        ("When was his last visit?", Intent.LAST_ENCOUNTER, ""),
        ("What conditions does she have?", Intent.CONDITIONS, "conditions"),
        ("Any allergies?", Intent.SEARCH, "allergies"),
    ],
)
def test_intents_and_concepts(question: str, intent: Intent, concept: str) -> None:
    assert classify(question) is intent
    assert " ".join(concept_words(question)) == concept


def test_a_blood_pressure_panel_reads_as_systolic_over_diastolic() -> None:
    panel = {
        "resourceType": "Observation",
        "id": "bp1",
        "code": {"coding": [{"code": "85354-9", "display": "Blood Pressure"}]},
        "effectiveDateTime": "2023-09-29T19:49:17+02:00",
        "component": [
            {
                "code": {"coding": [{"code": "8462-4"}]},
                "valueQuantity": {"value": 73, "unit": "mm[Hg]"},
            },
            {
                "code": {"coding": [{"code": "8480-6"}]},
                "valueQuantity": {"value": 121.0, "unit": "mm[Hg]"},
            },
        ],
    }
    fact = fact_of("Observation", panel)
    assert fact is not None
    assert (fact.value, fact.day) == ("121/73 mm[Hg]", "2023-09-29")


def test_answers_from_a_real_record(engine: QaEngine, record: PatientRecord) -> None:
    present = engine.answer(record, "Does she have prediabetes?")
    assert (present.answer, present.concept) == ("yes", "Prediabetes")
    assert present.sources == [
        {"resource_type": "Condition", "id": "c04fbb8e-d733-c9d4-a392-47fa0b4858f9"}
    ]
    # Diabetes is not prediabetes: below the presence threshold.
    assert engine.answer(record, "Does she have diabetes?").answer == "no"

    visit = engine.answer(record, "When was her last visit?")
    assert visit.answer == "2023-10-04"
    assert visit.sources == [
        {"resource_type": "Encounter", "id": "d1b6f522-be18-1470-7b6f-e408ecde2dd6"}
    ]


def test_a_search_cites_the_passages_it_found(
    engine: QaEngine, record: PatientRecord
) -> None:
    found = engine.answer(record, "hip osteoarthritis", allowed=("Condition",))
    assert found.intent is Intent.SEARCH
    assert found.concept == "Osteoarthritis of hip"
    assert found.sources[0]["resource_type"] == "Condition"


def test_unreadable_questions(engine: QaEngine, record: PatientRecord) -> None:
    for question, words in [
        ("", "empty"),
        ("?" * 501, "at most"),
        ("What is her latest?", "nothing"),
    ]:
        with pytest.raises(QuestionError, match=words):
            engine.answer(record, question)
