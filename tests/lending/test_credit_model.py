"""The credit model and the platform and bureau sides of the credit job.

Fast by design: a few epochs on a slice of the real table; the federated
job itself runs end to end in tests/cli/test_demo_lending.py.
"""

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from agora.errors import ConfigurationError, DataError
from agora.lending.credit import (
    CreditTrainConfig,
    auc,
    build_model,
    load_state_arrays,
    predict_proba,
    state_to_arrays,
    train_centralized,
    train_local,
)
from agora.lending.credit_job import (
    CreditCoordinator,
    CreditData,
    CreditScorer,
    CreditTrainer,
    initial_model,
    prepare_credit_data,
    probabilities,
)

DATA_DIR = Path(
    os.environ.get(
        "AGORA_DATA_DIR", Path(__file__).parents[2].parent / "shared" / "data"
    )
)
CONFIG = CreditTrainConfig()


@pytest.fixture(scope="module")
def data() -> CreditData:
    return prepare_credit_data(DATA_DIR, seed=7)


def test_model_is_small_and_maps_rows_to_logits(data: CreditData) -> None:
    model = build_model(data.encoder.width, seed=0)
    parameters = sum(p.numel() for p in model.parameters())

    assert data.encoder.width == 71
    assert parameters == 71 * 64 + 64 + 64 * 32 + 32 + 32 + 1
    assert model(torch.zeros(5, 71)).shape == (5,)


def test_state_round_trip_is_exact(data: CreditData) -> None:
    inputs = data.encoder.encode(data.splits.val)
    first = build_model(data.encoder.width, seed=1)
    second = build_model(data.encoder.width, seed=2)

    load_state_arrays(second, state_to_arrays(first))

    assert np.array_equal(predict_proba(first, inputs), predict_proba(second, inputs))


def test_state_load_rejects_foreign_state(data: CreditData) -> None:
    arrays = dict(state_to_arrays(build_model(data.encoder.width, seed=0)))
    model = build_model(data.encoder.width)
    with pytest.raises(DataError, match="missing"):
        load_state_arrays(model, {k: v for k, v in arrays.items() if "0." not in k})
    arrays["layers.0.weight"] = np.zeros((3, 3), np.float32)
    with pytest.raises(DataError, match="shape"):
        load_state_arrays(model, arrays)


def test_training_learns_and_is_deterministic(data: CreditData) -> None:
    rows = data.splits.train.subset(np.arange(4_000))
    inputs, labels = data.encoder.encode(rows), rows.labels
    val_inputs, val_labels = (
        data.encoder.encode(data.splits.val),
        data.splits.val.labels,
    )

    untrained = build_model(data.encoder.width, seed=3)
    before = auc(val_labels, predict_proba(untrained, val_inputs))
    trained = train_centralized(inputs, labels, config=CONFIG, rounds=2, seed=3)
    again = train_centralized(inputs, labels, config=CONFIG, rounds=2, seed=3)

    after = auc(val_labels, predict_proba(trained, val_inputs))
    assert after > 0.72 > before
    assert np.array_equal(
        predict_proba(trained, val_inputs), predict_proba(again, val_inputs)
    )


def test_train_local_rejects_bad_schedule_and_empty_rows(data: CreditData) -> None:
    model = build_model(data.encoder.width, seed=0)
    inputs = data.encoder.encode(data.splits.val)
    with pytest.raises(ConfigurationError):
        train_local(
            model,
            inputs,
            data.splits.val.labels,
            config=CONFIG,
            round_index=3,
            total_rounds=3,
            seed=0,
        )
    with pytest.raises(DataError):
        train_local(
            model,
            inputs[:0],
            data.splits.val.labels[:0],
            config=CONFIG,
            round_index=0,
            total_rounds=1,
            seed=0,
        )
    with pytest.raises(ConfigurationError):
        replace(CONFIG, local_epochs=0)


def test_trainer_trains_its_platforms_rows(data: CreditData) -> None:
    trainer = CreditTrainer(DATA_DIR.resolve(), 7, data.encoder, CONFIG)
    start = initial_model(data.encoder.width, CONFIG, seed=7)

    arrays, examples, loss = trainer.train(
        start, partition_id=2, server_round=1, total_rounds=5
    )

    assert examples == data.rows[2].samples
    assert 0.3 < loss < 0.7
    assert set(arrays) == set(start)
    assert not np.array_equal(arrays["layers.0.weight"], start["layers.0.weight"])


def test_coordinator_scores_on_its_validation_rows(data: CreditData) -> None:
    coordinator = CreditCoordinator(
        data.encoder.encode(data.splits.val), data.splits.val.labels, CONFIG
    )
    start = initial_model(data.encoder.width, CONFIG, seed=7)

    metrics = coordinator.on_round(0, start)

    assert coordinator.val_auc_per_round == {0: metrics["val-auc"]}
    assert 0.0 < metrics["val-auc"] < 1.0


def test_scorer_is_the_model_on_one_credit_file(data: CreditData) -> None:
    arrays = initial_model(data.encoder.width, CONFIG, seed=7)
    scorer = CreditScorer(arrays, data.encoder, data.splits.test, CONFIG)
    every_row = probabilities(arrays, data.encoder.encode(data.splits.test), CONFIG)

    assert scorer(17) == pytest.approx(every_row[17], abs=1e-6)
    assert 0.0 < scorer(17) < 1.0


def test_auc_needs_both_classes() -> None:
    with pytest.raises(DataError):
        auc(np.zeros(4, np.int64), np.linspace(0, 1, 4))
