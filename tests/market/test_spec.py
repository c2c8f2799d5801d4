"""Job specs: validation and canonical publication."""

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from agora.market.errors import InvalidJobSpecError
from agora.market.privacy import privacy_cost
from agora.market.spec import TrainingJobSpec, load_spec, parse_spec, publish
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


PRIVACY: dict[str, Any] = {
    "mechanism": "dp-sgd",
    "epsilon": 8.0,
    "delta": 1e-5,
    "max_grad_norm": 1.0,
    "batch_size": 256,
}


def test_privacy_is_part_of_the_published_spec(tmp_path: Path) -> None:
    store = BlockStore(tmp_path)
    private = parse_spec({**VALID, "privacy": PRIVACY})

    cid = publish(store, private)

    assert cid != publish(store, TrainingJobSpec(**VALID))
    loaded = load_spec(store, cid)
    assert loaded.privacy is not None and loaded.privacy.epsilon == 8.0
    assert loaded.privacy.accountant == "rdp"
    assert privacy_cost(loaded) == 8_000


def test_a_spec_without_privacy_keeps_its_bytes() -> None:
    # Specs posted before privacy existed keep their CID.
    document = TrainingJobSpec(**VALID).canonical_json()
    assert b"privacy" not in document
    assert privacy_cost(TrainingJobSpec(**VALID)) == 0


@pytest.mark.parametrize(
    ("epsilon", "milli"), [(8.0, 8_000), (0.5, 500), (1.0004, 1_001), (2.5, 2_500)]
)
def test_the_on_chain_cost_rounds_epsilon_up(epsilon: float, milli: int) -> None:
    spec = parse_spec({**VALID, "privacy": {**PRIVACY, "epsilon": epsilon}})
    assert privacy_cost(spec) == milli


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"epsilon": -1.0}, "privacy.epsilon"),
        ({"epsilon": 0.0}, "privacy.epsilon"),
        ({"epsilon": 1_000.5}, "privacy.epsilon"),
        ({"delta": 1.0}, "privacy.delta"),
        ({"delta": 0.0}, "privacy.delta"),
        ({"max_grad_norm": 0.0}, "privacy.max_grad_norm"),
        ({"batch_size": 0}, "privacy.batch_size"),
        ({"mechanism": "laplace"}, "privacy.mechanism"),
        ({"accountant": "prv"}, "privacy.accountant"),
        ({"noise": 1.0}, "privacy.noise"),
        ({"epsilon": None}, "privacy.epsilon"),
    ],
    ids=[
        "negative-epsilon",
        "zero-epsilon",
        "epsilon-past-the-chain-bound",
        "delta-of-one",
        "zero-delta",
        "zero-clipping-bound",
        "empty-batches",
        "unknown-mechanism",
        "unknown-accountant",
        "unknown-field",
        "missing-epsilon",
    ],
)
def test_bad_privacy_options_are_refused(
    tmp_path: Path, change: dict[str, Any], field: str
) -> None:
    privacy = {k: v for k, v in {**PRIVACY, **change}.items() if v is not None}
    fields = {**VALID, "privacy": privacy}

    with pytest.raises(InvalidJobSpecError, match=f"{field}: "):
        parse_spec(fields)

    # The same document published by someone else is refused when loaded.
    store = BlockStore(tmp_path)
    cid = store.put(json.dumps(fields).encode())
    with pytest.raises(InvalidJobSpecError, match=cid):
        load_spec(store, cid)


@pytest.mark.parametrize(
    "missing", ["mechanism", "delta", "max_grad_norm", "batch_size"]
)
def test_every_privacy_field_but_the_accountant_is_required(missing: str) -> None:
    privacy = {k: v for k, v in PRIVACY.items() if k != missing}
    with pytest.raises(InvalidJobSpecError, match=f"privacy.{missing}: Field required"):
        parse_spec({**VALID, "privacy": privacy})
