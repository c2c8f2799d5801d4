"""Job specs: validation and canonical publication."""

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from agora.market.errors import InvalidJobSpecError
from agora.market.spec import TrainingJobSpec, load_spec, publish
from agora.vault.blockstore import BlockStore

VALID: dict[str, Any] = {
    "task": "pneumonia-detection",
    "modality": "xray/chest-28x28-grey",
    "labels": ("normal", "pneumonia"),
    "model": "xraynet",
    "rounds": 3,
    "local_epochs": 1,
    "min_samples": 100,
    "min_providers": 2,
    "max_providers": 3,
    "max_update_norm": 50.0,
    "seed": 7,
}


def test_same_spec_same_cid_and_round_trip(tmp_path: Path) -> None:
    store = BlockStore(tmp_path)
    spec = TrainingJobSpec(**VALID)
    cid = publish(store, spec)
    assert publish(store, TrainingJobSpec(**dict(reversed(list(VALID.items()))))) == cid
    assert load_spec(store, cid) == spec


@pytest.mark.parametrize(
    "change",
    [
        {"rounds": 0},
        {"min_providers": 3, "max_providers": 2},
        {"labels": ("normal", "normal")},
        {"labels": ("only-one",)},
        {"max_update_norm": 0.0},
        {"unknown_field": 1},
        {"aggregation": "median"},
        {"purpose": ""},
        {"purpose": "é" * 17},
    ],
    ids=[
        "no-rounds",
        "min-above-max-providers",
        "repeated-label",
        "single-label",
        "zero-norm-bound",
        "unknown-field",
        "unsupported-aggregation",
        "empty-purpose",
        "purpose-over-32-bytes",
    ],
)
def test_invalid_spec_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        TrainingJobSpec(**{**VALID, **change})


def test_document_that_is_not_a_spec_is_refused(tmp_path: Path) -> None:
    store = BlockStore(tmp_path)
    cid = store.put(b'{"hello": "world"}')
    with pytest.raises(InvalidJobSpecError, match=cid):
        load_spec(store, cid)


def test_purpose_is_published_only_when_set(tmp_path: Path) -> None:
    # Specs posted before consent-scoped jobs existed keep their bytes and CID.
    assert b"purpose" not in TrainingJobSpec(**VALID).canonical_json()
    scoped = TrainingJobSpec(**VALID, purpose="research:pneumonia-model")
    assert b'"purpose":"research:pneumonia-model"' in scoped.canonical_json()
    store = BlockStore(tmp_path)
    assert load_spec(store, publish(store, scoped)).purpose == scoped.purpose


def test_fedavg_spec_publishes_without_the_robust_options(tmp_path: Path) -> None:
    # Specs posted before robust aggregation existed keep their bytes and CID.
    document = TrainingJobSpec(**VALID).canonical_json()
    assert b"byzantine" not in document
    assert b'"aggregation":"fedavg"' in document


@pytest.mark.parametrize(
    ("aggregation", "byzantine", "min_providers"),
    [
        ("coordinate-median", None, 2),
        ("trimmed-mean", 1, 3),
        ("krum", 0, 3),
        ("multi-krum", 1, 5),
    ],
)
def test_robust_aggregation_is_part_of_the_published_spec(
    tmp_path: Path, aggregation: str, byzantine: int | None, min_providers: int
) -> None:
    store = BlockStore(tmp_path)
    spec = TrainingJobSpec(
        **{
            **VALID,
            "aggregation": aggregation,
            "byzantine": byzantine,
            "min_providers": min_providers,
            "max_providers": 5,
        }
    )
    cid = publish(store, spec)
    assert cid != publish(store, TrainingJobSpec(**{**VALID, "max_providers": 5}))
    assert load_spec(store, cid).aggregation == aggregation


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"aggregation": "trimmed-mean"}, "trimmed-mean needs byzantine"),
        ({"aggregation": "fedavg", "byzantine": 1}, "fedavg takes no byzantine"),
        (
            {"aggregation": "coordinate-median", "byzantine": 1},
            "coordinate-median takes no byzantine",
        ),
        (
            {"aggregation": "krum", "byzantine": 1, "min_providers": 3},
            "min_providers >= 5",
        ),
        (
            {"aggregation": "trimmed-mean", "byzantine": 2, "min_providers": 3},
            "min_providers >= 5",
        ),
    ],
)
def test_robust_rule_needs_its_tolerance_and_enough_providers(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        TrainingJobSpec(**{**VALID, "max_providers": 5, **change})
