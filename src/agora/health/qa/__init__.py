"""Question answering over a patient's FHIR record.

::

    engine = QaEngine(shared_embedder())
    record = PatientRecord(load_bundle(path).resources)
    engine.answer(record, "What was her last blood pressure?").answer
    # '121/73 mm[Hg]', citing the Observation it came from
"""

from agora.health.qa.embedding import Embedder, MiniLmEmbedder, shared_embedder
from agora.health.qa.engine import (
    Answer,
    Intent,
    QaEngine,
    QuestionError,
    classify,
    concept_words,
)
from agora.health.qa.record import Fact, PatientRecord

__all__ = [
    "Answer",
    "Embedder",
    "Fact",
    "Intent",
    "MiniLmEmbedder",
    "PatientRecord",
    "QaEngine",
    "QuestionError",
    "classify",
    "concept_words",
    "shared_embedder",
]
