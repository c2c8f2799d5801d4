"""Answering questions about one patient's record.

Three steps per question:

1. *Intent* (:func:`classify`): which kind of question it is, from its
   words alone: the active medications, the conditions, whether a condition
   is present, the latest value of an observation, the last dose of a
   vaccine, the last encounter; anything else is a search.
2. *Concept*: what the question names ("blood pressure", "flu") is matched
   to the labels of the record's resources of that kind by embedding
   similarity, plus word overlap so that an exact name always wins.
3. *Extraction*: a query over those resources (latest by time, active by
   status) gives the answer, and the resources it came from are cited.

A search ranks every fact's passage against the question and answers with
the best one. :meth:`QaEngine.needs` tells, before any record is read,
which resource types a question will read, so that a caller can check
consent first.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC
from enum import StrEnum

import numpy as np

from agora.errors import AgoraError
from agora.health.qa.embedding import Embedder
from agora.health.qa.record import (
    CONDITION,
    ENCOUNTER,
    IMMUNIZATION,
    MEDICATION,
    OBSERVATION,
    Fact,
    PatientRecord,
)

MAX_QUESTION_CHARS = 500

PRESENCE_THRESHOLD = 0.75
"""Least cosine similarity at which a condition asked about counts as one
of the record's, unless their words are the same. None of the 48 absent
conditions benchmarks/ehr_qa.py asks about reaches it ("diabetes" against
"Prediabetes" does not either)."""

WORD_WEIGHT = 0.5
"""Weight of word overlap (Jaccard) beside cosine similarity when ranking
labels."""


class QuestionError(AgoraError, ValueError):
    """A question the engine cannot read: empty, too long, or naming
    nothing to look up."""


class Intent(StrEnum):
    MEDICATIONS = "medications"
    CONDITIONS = "conditions"
    CONDITION_PRESENT = "condition_present"
    LATEST_OBSERVATION = "latest_observation"
    LAST_IMMUNIZATION = "last_immunization"
    LAST_ENCOUNTER = "last_encounter"
    SEARCH = "search"


_READS: dict[Intent, tuple[str, ...]] = {
    Intent.MEDICATIONS: (MEDICATION,),
    Intent.CONDITIONS: (CONDITION,),
    Intent.CONDITION_PRESENT: (CONDITION,),
    Intent.LATEST_OBSERVATION: (OBSERVATION,),
    Intent.LAST_IMMUNIZATION: (IMMUNIZATION,),
    Intent.LAST_ENCOUNTER: (ENCOUNTER,),
    Intent.SEARCH: (MEDICATION, CONDITION, OBSERVATION, IMMUNIZATION, ENCOUNTER),
}

# Checked in this order; the first that matches decides.
_RULES: tuple[tuple[Intent, re.Pattern[str]], ...] = (
    (
        Intent.MEDICATIONS,
        re.compile(
            r"\b(medications?|medicines?|meds|drugs?|prescriptions?|prescribed"
            r"|taking)\b"
        ),
    ),
    (
        Intent.LAST_IMMUNIZATION,
        re.compile(
            r"\b(vaccines?|vaccinations?|vaccinated|shots?|immuni[sz]\w*|jabs?)\b"
        ),
    ),
    (
        Intent.CONDITIONS,
        re.compile(r"\b(conditions|diagnoses|problems|diseases|illnesses)\b"),
    ),
    (
        Intent.CONDITION_PRESENT,
        re.compile(r"^(does|did|has|is|was)\b.*\b(have|had|has|diagnosed|suffer\w*)\b"),
    ),
    (
        Intent.LAST_ENCOUNTER,
        re.compile(r"\b(visits?|encounters?|appointments?|admission|admitted|seen)\b"),
    ),
    (
        Intent.LATEST_OBSERVATION,
        re.compile(r"\b(last|latest|most recent|recent|current)\b"),
    ),
)

# Words that frame a question but name nothing in the record.
_FRAME_WORDS = """
what when was is were are the her his their patient patient's s last
latest most recent current did does do have has had he she they them get
got receive received a an for with from diagnosed suffer suffers
suffering vaccine vaccines vaccination shot shots immunization
immunisation jab encounter encounters visit visits value result reading
level measured date on any ever which there how
"""
_FRAME = frozenset(_FRAME_WORDS.split())

_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")


@dataclass(frozen=True)
class Answer:
    """An answer: ``answer`` is the short form (what exact match compares),
    ``text`` a sentence, ``sources`` the resources it came from."""

    intent: Intent
    answer: str
    text: str
    sources: list[dict[str, str]] = field(default_factory=list)
    concept: str | None = None
    """The label the question was matched to, if any."""

    def to_json(self) -> dict[str, object]:
        return {
            "intent": str(self.intent),
            "answer": self.answer,
            "text": self.text,
            "concept": self.concept,
            "sources": self.sources,
        }


def normalise_question(question: str) -> str:
    """Lower case, single spaces, no closing punctuation."""
    text = " ".join(question.lower().split())
    return text.rstrip("?.! ")


def classify(question: str) -> Intent:
    """The intent of a question (see the module docstring). ::

    >>> classify("When was her last flu shot?")
    <Intent.LAST_IMMUNIZATION: 'last_immunization'>
    >>> concept_words("When was her last flu shot?")
    ['flu']
    """
    text = normalise_question(question)
    for intent, pattern in _RULES:
        if pattern.search(text):
            return intent
    return Intent.SEARCH


def concept_words(question: str) -> list[str]:
    """The words of a question that name what it asks about."""
    words = _WORD.findall(normalise_question(question))
    return [w for w in words if w not in _FRAME]


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _instant(fact: Fact) -> float:
    when = fact.when
    if when is None:
        return float("-inf")
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


class QaEngine:
    """Answers questions about :class:`PatientRecord` values."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    @staticmethod
    def check(question: str) -> str:
        """The question, or :class:`QuestionError` saying why not."""
        if not question.strip():
            raise QuestionError("the question is empty")
        if len(question) > MAX_QUESTION_CHARS:
            raise QuestionError(
                f"questions are at most {MAX_QUESTION_CHARS} characters"
            )
        return question

    @staticmethod
    def needs(question: str) -> tuple[str, ...]:
        """The resource types answering ``question`` reads."""
        return _READS[classify(question)]

    def answer(
        self,
        record: PatientRecord,
        question: str,
        *,
        allowed: tuple[str, ...] | None = None,
    ) -> Answer:
        """Answer ``question`` from ``record``; a search reads only the
        ``allowed`` resource types (all when None)."""
        self.check(question)
        intent = classify(question)
        concept = " ".join(concept_words(question))
        if intent is Intent.MEDICATIONS:
            return self._medications(record)
        if intent is Intent.CONDITIONS:
            return self._conditions(record)
        if intent is Intent.CONDITION_PRESENT:
            return self._condition_present(record, self._required(concept), question)
        if intent is Intent.LATEST_OBSERVATION:
            return self._latest_observation(record, self._required(concept), question)
        if intent is Intent.LAST_IMMUNIZATION:
            return self._last_immunization(record, concept, question)
        if intent is Intent.LAST_ENCOUNTER:
            return self._last_encounter(record, concept, question)
        return self._search(record, question, allowed or _READS[Intent.SEARCH])

    @staticmethod
    def _required(concept: str) -> str:
        if not concept:
            raise QuestionError("the question names nothing to look up")
        return concept

    # Step 2: the record's label nearest to what the question names.

    def _match(
        self, concept: str, labels: list[str], question: str
    ) -> tuple[str, float, float]:
        """The best label, its cosine similarity and its word overlap.

        Among labels with exactly the question's words, one the question
        quotes verbatim wins: "Encounter for 'check-up'" and "Encounter for
        check up" have the same words, and a question names one of them. A
        label merely inside the question ("cough" in "whooping cough") gets
        no such help."""
        vectors = self._embedder.embed([concept, *labels])
        cosines = vectors[1:] @ vectors[0]
        # Labels lose the same framing words questions do ("Influenza virus
        # A Ag" asked about reads "influenza virus ag").
        asked = _words(concept)
        named = [_words(label) - _FRAME for label in labels]
        overlaps = [len(asked & words) / len(asked | words) for words in named]
        said = normalise_question(question)
        quoted = [
            re.search(rf"(?<!\w){re.escape(label.lower())}(?!\w)", said) is not None
            for label in labels
        ]
        overlaps = [
            2.0 if q and o == 1.0 else o for q, o in zip(quoted, overlaps, strict=True)
        ]
        scores = cosines + WORD_WEIGHT * np.asarray(overlaps)
        best = int(np.argmax(scores))
        return labels[best], float(cosines[best]), overlaps[best]

    # Step 3: one query per intent.

    def _medications(self, record: PatientRecord) -> Answer:
        active = [f for f in record.of(MEDICATION) if f.status == "active"]
        names = sorted({f.label for f in active})
        if not names:
            return Answer(Intent.MEDICATIONS, "none", "No active medication request.")
        return Answer(
            Intent.MEDICATIONS,
            "; ".join(names),
            "Active medication requests: " + "; ".join(names) + ".",
            [f.source for f in active],
        )

    def _conditions(self, record: PatientRecord) -> Answer:
        active = [f for f in record.of(CONDITION) if f.status == "active"]
        names = sorted({f.label for f in active})
        if not names:
            return Answer(Intent.CONDITIONS, "none", "No active condition.")
        return Answer(
            Intent.CONDITIONS,
            "; ".join(names),
            "Active conditions: " + "; ".join(names) + ".",
            [f.source for f in active],
        )

    def _condition_present(
        self, record: PatientRecord, concept: str, question: str
    ) -> Answer:
        labels = record.labels(CONDITION)
        if labels:
            label, cosine, overlap = self._match(concept, labels, question)
            if overlap >= 1.0 or cosine >= PRESENCE_THRESHOLD:
                facts = [f for f in record.of(CONDITION) if f.label == label]
                active = [f for f in facts if f.status == "active"]
                if active:
                    since = min(active, key=_instant).day
                    text = f"Yes: {label}, active since {since}."
                    return Answer(
                        Intent.CONDITION_PRESENT,
                        "yes",
                        text,
                        [f.source for f in active],
                        label,
                    )
                text = f"No: {label} is recorded, and is no longer active."
                return Answer(
                    Intent.CONDITION_PRESENT,
                    "no",
                    text,
                    [f.source for f in facts],
                    label,
                )
        return Answer(
            Intent.CONDITION_PRESENT,
            "no",
            f"No condition like '{concept}' is recorded.",
        )

    def _latest(
        self, record: PatientRecord, resource_type: str, concept: str, question: str
    ) -> Fact | None:
        """The latest fact of the type, of the label nearest ``concept``
        (any label when empty)."""
        facts = record.of(resource_type)
        if concept:
            labels = record.labels(resource_type)
            if not labels:
                return None
            label = self._match(concept, labels, question)[0]
            facts = [f for f in facts if f.label == label]
        return max(facts, key=_instant) if facts else None

    def _latest_observation(
        self, record: PatientRecord, concept: str, question: str
    ) -> Answer:
        fact = self._latest(record, OBSERVATION, concept, question)
        if fact is None or fact.value is None:
            text = f"No '{concept}' is recorded."
            return Answer(Intent.LATEST_OBSERVATION, "none", text)
        text = f"Last {fact.label}: {fact.value} on {fact.day}."
        return Answer(
            Intent.LATEST_OBSERVATION, fact.value, text, [fact.source], fact.label
        )

    def _last_immunization(
        self, record: PatientRecord, concept: str, question: str
    ) -> Answer:
        fact = self._latest(record, IMMUNIZATION, concept, question)
        if fact is None or fact.day is None:
            return Answer(Intent.LAST_IMMUNIZATION, "none", "No such immunization.")
        text = f"Last {fact.label}: {fact.day}."
        return Answer(
            Intent.LAST_IMMUNIZATION, fact.day, text, [fact.source], fact.label
        )

    def _last_encounter(
        self, record: PatientRecord, concept: str, question: str
    ) -> Answer:
        fact = self._latest(record, ENCOUNTER, concept, question)
        if fact is None or fact.day is None:
            return Answer(Intent.LAST_ENCOUNTER, "none", "No such encounter.")
        text = f"Last encounter ({fact.label}): {fact.day}."
        label = fact.label if concept else None
        return Answer(Intent.LAST_ENCOUNTER, fact.day, text, [fact.source], label)

    def _search(
        self, record: PatientRecord, question: str, allowed: tuple[str, ...]
    ) -> Answer:
        facts = [f for kind in allowed for f in record.of(kind)]
        if not facts:
            return Answer(Intent.SEARCH, "none", "Nothing in the record to search.")
        passages = [f.passage() for f in facts]
        vectors = self._embedder.embed([normalise_question(question), *passages])
        scores = vectors[1:] @ vectors[0]
        ranked = np.argsort(-scores, kind="stable")[:3]
        best = facts[int(ranked[0])]
        return Answer(
            Intent.SEARCH,
            passages[int(ranked[0])],
            "Closest entries: " + " / ".join(passages[int(i)] for i in ranked),
            [facts[int(i)].source for i in ranked],
            best.label,
        )
