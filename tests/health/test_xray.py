"""Contract tests for the PneumoniaMNIST data and model module.

Fast by design: synthetic archives for the loader, synthetic labels for the
partition, and a few steps on a small real subset for training.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from agora.errors import ConfigurationError, DataError
from agora.health.xray import (
    DEFAULT_SHARES,
    NPZ_NAME,
    HospitalShare,
    ImageSplit,
    TrainConfig,
    build_model,
    choose_threshold,
    count_parameters,
    describe_partition,
    evaluate,
    load_pneumoniamnist,
    load_state_arrays,
    partition_non_iid,
    state_to_arrays,
    train_local,
)

DATA_DIR = Path(
    os.environ.get(
        "AGORA_DATA_DIR", Path(__file__).parents[2].parent / "shared" / "data"
    )
)

# The official train split's class counts (normal, pneumonia).
TRAIN_COUNTS = (1214, 3494)


def _arrays(rows: int = 6) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    arrays = {}
    for split in ("train", "val", "test"):
        arrays[f"{split}_images"] = rng.integers(0, 256, (rows, 28, 28), dtype=np.uint8)
        arrays[f"{split}_labels"] = (np.arange(rows) % 2).astype(np.uint8)[:, None]
    return arrays


def _write(folder: Path, arrays: dict[str, np.ndarray]) -> Path:
    np.savez(folder / NPZ_NAME, **arrays)
    return folder


def _train_labels(seed: int = 0) -> np.ndarray:
    labels = np.array([0] * TRAIN_COUNTS[0] + [1] * TRAIN_COUNTS[1])
    return np.random.default_rng(seed).permutation(labels)


# Loader ---------------------------------------------------------------------


def test_load_accepts_medmnist_layout(tmp_path: Path) -> None:
    data = load_pneumoniamnist(_write(tmp_path, _arrays()))

    assert data.train.images.shape == (6, 28, 28)
    assert data.train.images.dtype == np.uint8
    assert data.test.labels.dtype == np.int64
    assert data.test.labels.tolist() == [0, 1, 0, 1, 0, 1]


def test_load_missing_folder_names_setting(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="AGORA_DATA_DIR"):
        load_pneumoniamnist(tmp_path / "nowhere")


def test_load_missing_file_names_file_and_setting(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=rf"{NPZ_NAME}.*AGORA_DATA_DIR"):
        load_pneumoniamnist(tmp_path)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"not an archive at all", id="garbage"),
        pytest.param(b"PK\x03\x04" + b"\x00" * 40, id="truncated-zip"),
        pytest.param(b"", id="empty"),
    ],
)
def test_load_corrupt_file_is_data_error(tmp_path: Path, content: bytes) -> None:
    (tmp_path / NPZ_NAME).write_bytes(content)

    with pytest.raises(DataError, match=NPZ_NAME):
        load_pneumoniamnist(tmp_path)


def test_load_refuses_pickled_arrays(tmp_path: Path) -> None:
    arrays: dict[str, np.ndarray] = dict(_arrays())
    arrays["train_labels"] = np.array([{"x": 1}] * 6, dtype=object)

    with pytest.raises(DataError, match="not a readable"):
        load_pneumoniamnist(_write(tmp_path, arrays))


@pytest.mark.parametrize(
    ("split", "labels", "rule"),
    [
        ("val", np.zeros((6, 1), np.uint8), "both normal"),
        ("test", np.ones((6, 1), np.uint8), "both normal"),
        ("train", np.zeros((0, 1), np.uint8), "no rows"),
    ],
    ids=["val-one-class", "test-one-class", "train-empty"],
)
def test_load_refuses_a_split_without_both_classes(
    tmp_path: Path, split: str, labels: np.ndarray, rule: str
) -> None:
    arrays = _arrays()
    arrays[f"{split}_labels"] = labels
    arrays[f"{split}_images"] = arrays[f"{split}_images"][: len(labels)]
    with pytest.raises(DataError, match=rule):
        load_pneumoniamnist(_write(tmp_path, arrays))


def test_load_refuses_a_bare_npy_named_npz(tmp_path: Path) -> None:
    with (tmp_path / NPZ_NAME).open("wb") as stream:
        np.save(stream, np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(DataError, match=r"not a readable \.npz"):
        load_pneumoniamnist(tmp_path)


def test_load_missing_key(tmp_path: Path) -> None:
    arrays = _arrays()
    del arrays["val_labels"]

    with pytest.raises(DataError, match="lacks val_labels"):
        load_pneumoniamnist(_write(tmp_path, arrays))


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("train_images", np.zeros((6, 32, 32), np.uint8), "shape"),
        ("train_images", np.zeros((6, 28, 28), np.float32), "uint8"),
        ("val_labels", np.zeros((6, 2), np.uint8), "integers of shape"),
        ("val_labels", np.zeros((6, 1), np.float64), "integers of shape"),
        ("test_labels", np.zeros((5, 1), np.uint8), "rows"),
        ("test_labels", np.full((6, 1), 2, np.uint8), "other than 0"),
    ],
    ids=[
        "image-size",
        "image-dtype",
        "label-columns",
        "label-dtype",
        "row-count",
        "label-value",
    ],
)
def test_load_rejects_malformed_arrays(
    tmp_path: Path, key: str, value: np.ndarray, message: str
) -> None:
    arrays = _arrays()
    arrays[key] = value

    with pytest.raises(DataError, match=message):
        load_pneumoniamnist(_write(tmp_path, arrays))


# Partition ------------------------------------------------------------------


def test_partition_is_disjoint_and_uses_every_row() -> None:
    labels = _train_labels()
    parts = partition_non_iid(labels, seed=3)

    joined = np.concatenate(parts)
    assert len(joined) == len(np.unique(joined)) == len(labels)


def test_partition_is_deterministic_per_seed() -> None:
    labels = _train_labels()

    first = partition_non_iid(labels, seed=11)
    again = partition_non_iid(labels, seed=11)
    other = partition_non_iid(labels, seed=12)

    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_partition_matches_documented_shares() -> None:
    labels = _train_labels()
    rows = describe_partition(labels, partition_non_iid(labels, seed=0))

    for share, row in zip(DEFAULT_SHARES, rows, strict=True):
        assert row.name == share.name
        assert row.normal + row.pneumonia == row.samples
        assert row.samples / len(labels) == pytest.approx(share.size_fraction, abs=0.01)
        assert row.pneumonia / row.samples == pytest.approx(
            share.pneumonia_fraction, abs=0.01
        )

    # Non-IID by design: the case mixes are far apart, not sampling noise.
    mixes = [row.pneumonia / row.samples for row in rows]
    assert max(mixes) - min(mixes) > 0.5


@pytest.mark.parametrize(
    "shares",
    [
        pytest.param(
            (HospitalShare("a", 0.5, 0.5), HospitalShare("b", 0.4, 0.5)),
            id="sizes-not-one",
        ),
        pytest.param(
            (HospitalShare("a", 0.9, 0.99), HospitalShare("b", 0.1, 0.99)),
            id="too-many-pneumonia",
        ),
        pytest.param(
            (HospitalShare("a", 0.5, 0.74), HospitalShare("b", 0.5, 0.10)),
            id="remainder-differs",
        ),
    ],
)
def test_partition_rejects_shares_that_do_not_fit(
    shares: tuple[HospitalShare, ...],
) -> None:
    with pytest.raises(ConfigurationError):
        partition_non_iid(_train_labels(), seed=0, shares=shares)


# Model state ----------------------------------------------------------------


def test_model_is_small() -> None:
    model = build_model(seed=0)
    size = sum(array.nbytes for array in state_to_arrays(model).values())

    assert count_parameters(model) == 72_081
    assert size < 1_000_000


def test_state_round_trip_is_exact() -> None:
    model = build_model(seed=0)
    model.train()
    model(torch.randn(8, 1, 28, 28))  # moves BatchNorm running statistics
    arrays = state_to_arrays(model)

    copy = build_model(seed=1)
    load_state_arrays(copy, arrays)
    again = state_to_arrays(copy)

    assert list(again) == list(arrays)
    for name, array in arrays.items():
        assert again[name].dtype == array.dtype
        assert np.array_equal(again[name], array)
    assert arrays["features.1.num_batches_tracked"].dtype == np.int64
    assert int(arrays["features.1.num_batches_tracked"]) == 1

    probe = torch.randn(4, 1, 28, 28)
    model.eval()
    copy.eval()
    assert torch.equal(model(probe), copy(probe))


def test_state_load_casts_averaged_counters_back() -> None:
    model = build_model(seed=0)
    arrays = {
        name: array.astype(np.float64) for name, array in state_to_arrays(model).items()
    }
    arrays["features.1.num_batches_tracked"] = np.array(2.6)

    load_state_arrays(model, arrays)

    counter = model.state_dict()["features.1.num_batches_tracked"]
    assert counter.dtype == torch.int64
    assert int(counter) == 3


def test_state_load_rejects_foreign_state() -> None:
    arrays = state_to_arrays(build_model(seed=0))
    wrong_shape = dict(arrays, **{"head.1.bias": np.zeros(2, np.float32)})
    missing = {k: v for k, v in arrays.items() if k != "head.1.bias"}

    with pytest.raises(DataError, match="shape"):
        load_state_arrays(build_model(), wrong_shape)
    with pytest.raises(DataError, match="missing"):
        load_state_arrays(build_model(), missing)


# Training and evaluation ----------------------------------------------------


@pytest.fixture(scope="module")
def small_train() -> ImageSplit:
    if not (DATA_DIR / NPZ_NAME).is_file():
        pytest.skip(f"{NPZ_NAME} not in {DATA_DIR}; set AGORA_DATA_DIR")
    train = load_pneumoniamnist(DATA_DIR).train
    return train.subset(np.arange(256))


def test_training_reduces_loss(small_train: ImageSplit) -> None:
    torch.set_num_threads(1)
    model = build_model(seed=0)
    config = TrainConfig(local_epochs=2, batch_size=32, augment=False)

    # Two rounds on the same rows: the second's mean loss must be lower. The
    # training loss is the measure because it carries the class weights;
    # an unweighted eval-mode loss after a few steps also reflects lagging
    # BatchNorm running statistics and is not monotone.
    first, second = [
        train_local(
            model,
            small_train,
            config=config,
            round_index=index,
            total_rounds=2,
            seed=0,
        )
        for index in range(2)
    ]

    assert first.num_examples == second.num_examples == 256
    assert second.loss < 0.8 * first.loss
    assert evaluate(model, small_train).auc > 0.9


def test_training_is_deterministic(small_train: ImageSplit) -> None:
    torch.set_num_threads(1)
    part = small_train.subset(np.arange(64))
    config = TrainConfig(local_epochs=1, batch_size=16)
    states = []
    for _ in range(2):
        model = build_model(seed=5)
        train_local(model, part, config=config, round_index=2, total_rounds=4, seed=9)
        states.append(state_to_arrays(model))

    for name, array in states[0].items():
        assert np.array_equal(states[1][name], array), name


def test_train_local_rejects_round_outside_schedule(small_train: ImageSplit) -> None:
    with pytest.raises(ConfigurationError, match="round_index"):
        train_local(
            build_model(),
            small_train,
            config=TrainConfig(),
            round_index=3,
            total_rounds=3,
            seed=0,
        )


def test_evaluate_needs_both_classes() -> None:
    split = ImageSplit(
        images=np.zeros((4, 28, 28), np.uint8), labels=np.ones(4, np.int64)
    )

    with pytest.raises(DataError, match="both"):
        evaluate(build_model(seed=0), split)


# Threshold ------------------------------------------------------------------


def test_choose_threshold_separable_case() -> None:
    probs = np.array([0.1, 0.4, 0.6, 0.9])
    labels = np.array([0, 0, 1, 1])

    assert choose_threshold(probs, labels) == pytest.approx(0.5)


def test_choose_threshold_balances_classes_not_counts() -> None:
    # Nine pneumonia rows and one normal row at 0.3: calling everything
    # pneumonia (any threshold below 0.2) is already 90 % accurate but has
    # J = 0; Youden's J peaks at 0.35, which gets the normal row right and
    # misses only the pneumonia row at 0.2 (J = 8/9).
    probs = np.array([0.2, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.3])
    labels = np.array([1, 1, 1, 1, 1, 1, 1, 1, 1, 0])

    assert choose_threshold(probs, labels) == pytest.approx(0.35)


def test_choose_threshold_takes_middle_of_near_best_range() -> None:
    # J is 2/3 at both 0.25 and 0.65 and lower in between and outside, so the
    # plain argmax would pick either end of a flat stretch by chance.
    probs = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.9])
    labels = np.array([0, 0, 1, 0, 1, 1])

    assert choose_threshold(probs, labels, tolerance=0.0) == pytest.approx(0.45)


def test_choose_threshold_needs_both_classes() -> None:
    with pytest.raises(DataError):
        choose_threshold(np.array([0.2, 0.8]), np.array([1, 1]))
