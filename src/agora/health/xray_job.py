"""The X-ray model as a federated market job: provider and coordinator sides.

:class:`XrayTrainer` is what each hospital runs inside its Flower
ClientApp: it carries only the settings to find its partition and trains
the global model on it; only weights leave the worker. (In this embedded
simulation every worker reads the one shared npz file and keeps its own
hospital's rows; in a deployment each hospital's SuperNode has only its own.)
:class:`XrayCoordinator` is the buyer's side: it scores models on the
validation split it holds, for round monitoring and for contributions.
"""

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from agora.federated.arrays import Arrays
from agora.federated.privacy import secret_generator
from agora.health.xray import (
    DEFAULT_SHARES,
    HospitalShare,
    ImageSplit,
    TrainConfig,
    build_model,
    load_pneumoniamnist,
    load_state_arrays,
    partition_non_iid,
    predict_proba,
    state_to_arrays,
    train_local,
)
from agora.health.xray.model import Norm
from agora.market.privacy import provider_plan
from agora.market.spec import PrivacySpec

MODALITY = "xray/chest-28x28-grey"
LABELS = ("normal", "pneumonia")
MODEL_NAME = "xraynet-w16-batchnorm"
PRIVATE_MODEL_NAME = "xraynet-w16-groupnorm"
"""The model a DP job trains: BatchNorm mixes the examples of a batch, which
DP-SGD's per-example clipping cannot bound, so GroupNorm replaces it."""
PRIVATE_LR = 0.05
"""The hospitals' learning rate under DP-SGD (see ``benchmarks/README.md``)."""


def xray_privacy(epsilon: float) -> dict[str, Any]:
    """The X-ray job's ``privacy`` spec section at ``epsilon``.

    delta 1e-5 is below 1/n for any hospital of up to 100,000 X-rays; the
    clipping bound and the expected batch of 256 are those measured in
    ``benchmarks/fl_dp.py``. A plain mapping: :func:`parse_spec` validates it.
    """
    return {
        "mechanism": "dp-sgd",
        "epsilon": epsilon,
        "delta": 1e-5,
        "max_grad_norm": 1.0,
        "batch_size": 256,
    }


@lru_cache(maxsize=4)
def _partitioned_train(
    data_dir: Path, seed: int, shares: tuple[HospitalShare, ...]
) -> tuple[ImageSplit, tuple[np.ndarray, ...]]:
    """The train split and each hospital's rows of it, loaded once per
    worker process."""
    train = load_pneumoniamnist(data_dir).train
    parts = partition_non_iid(train.labels, seed=seed, shares=shares)
    return train, tuple(parts)


@dataclass(frozen=True)
class XrayTrainer:
    """One hospital's local training, selected by its partition id."""

    data_dir: Path
    seed: int
    config: TrainConfig
    shares: tuple[HospitalShare, ...] = DEFAULT_SHARES
    threads: int = 1
    max_rows: int | None = None
    """Train on at most this many of each hospital's rows (a class-stratified
    draw, for smoke tests); every row when ``None``."""
    flip_labels: bool = False
    """Train on flipped labels: the data poisoning of the ``label-flip``
    attack (:mod:`agora.federated.faults`); never set for an honest job."""
    included_rows: tuple[tuple[int, ...], ...] | None = None
    """For a consent-scoped job, the train rows each hospital may use (its
    patients' consent covers them; :mod:`agora.health.xray_consent`);
    every row of its partition when ``None``. With ``max_rows`` too, the
    draw is from these rows, so it trains on fewer than it declared."""
    privacy: PrivacySpec | None = None
    """Train under the job spec's DP-SGD (the GroupNorm model); each round's
    sampling and noise come from the operating system's randomness, so a
    private run is not reproducible from the seed."""

    def train(
        self,
        arrays: Arrays,
        *,
        partition_id: int,
        server_round: int,
        total_rounds: int,
    ) -> tuple[Arrays, int, float]:
        """Train the global model on this hospital's rows for one round."""
        torch.set_num_threads(self.threads)
        split = self.split(partition_id)
        model = model_of(arrays)
        plan = None
        if self.privacy is not None:
            plan = provider_plan(
                self.privacy,
                samples=len(split),
                rounds=total_rounds,
                local_epochs=self.config.local_epochs,
            )
        stats = train_local(
            model,
            split,
            config=self.config,
            round_index=server_round - 1,
            total_rounds=total_rounds,
            seed=self.seed * 1_000 + partition_id,
            privacy=plan,
            noise=None if plan is None else secret_generator(),
        )
        return dict(state_to_arrays(model)), stats.num_examples, stats.loss

    def rows(self, partition_id: int) -> np.ndarray:
        """The train rows (indices into the official train split) this
        trainer trains hospital ``partition_id`` on."""
        train, parts = _partitioned_train(self.data_dir, self.seed, self.shares)
        rows = parts[partition_id]
        if self.included_rows is not None:
            rows = np.asarray(self.included_rows[partition_id], dtype=np.int64)
        if self.max_rows is not None and self.max_rows < len(rows):
            rows = rows[
                stratified_rows(train.labels[rows], self.max_rows, seed=self.seed)
            ]
        return rows

    def split(self, partition_id: int) -> ImageSplit:
        """The images and labels of :meth:`rows`."""
        train, _ = _partitioned_train(self.data_dir, self.seed, self.shares)
        split = train.subset(self.rows(partition_id))
        if self.flip_labels:
            split = ImageSplit(split.images, 1 - split.labels)
        return split


def stratified_rows(labels: np.ndarray, count: int, *, seed: int) -> np.ndarray:
    """``count`` row indices drawn with each class in its share of ``labels``."""
    rng = np.random.default_rng(seed)
    picked = []
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        share = max(1, round(count * len(rows) / len(labels)))
        picked.append(rng.choice(rows, size=min(share, len(rows)), replace=False))
    return np.sort(np.concatenate(picked))


@dataclass
class XrayCoordinator:
    """The buyer's scoring of models on its validation split."""

    val: ImageSplit
    val_auc_per_round: dict[int, float] = field(default_factory=dict)

    def utility(self, arrays: Arrays) -> float:
        """Validation AUC of ``arrays``: the contribution game's payoff."""
        return auc_or_chance(self.val.labels, probabilities(arrays, self.val))

    def on_round(self, server_round: int, arrays: Arrays) -> dict[str, float]:
        """Score the global model after a round (round 0: initial model)."""
        auc = self.utility(arrays)
        self.val_auc_per_round[server_round] = auc
        return {"val-auc": auc}


def initial_model(seed: int, *, norm: Norm = "batch") -> Arrays:
    """The job's starting weights, from the job's seed (``norm="group"``:
    the model of a DP job)."""
    return dict(state_to_arrays(build_model(seed=seed, norm=norm)))


def model_of(arrays: Arrays) -> torch.nn.Module:
    """The X-ray network holding ``arrays``: the BatchNorm model, or the
    GroupNorm one of a DP job (only BatchNorm carries running statistics)."""
    batch = any(name.endswith("running_mean") for name in arrays)
    model = build_model(norm="batch" if batch else "group")
    load_state_arrays(model, arrays)
    return model


def auc_or_chance(labels: np.ndarray, probs: np.ndarray) -> float:
    """ROC AUC of ``probs``, or 0.5 (chance) when a model gives non-finite
    scores: a coalition holding a sign-flipped update can carry a negative
    BatchNorm variance, and such a model ranks nothing."""
    if not np.isfinite(probs).all():
        return 0.5
    return float(roc_auc_score(labels, probs))


def probabilities(arrays: Arrays, split: ImageSplit) -> np.ndarray:
    """Predicted pneumonia probabilities of a model on a split."""
    return predict_proba(model_of(arrays), split)
