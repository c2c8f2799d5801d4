"""The credit model: a small MLP, its local training and its weights as arrays.

:func:`train_local` is one platform's work in one federated round: the
global weights are loaded into a fresh model, trained for
``config.local_epochs`` epochs on the platform's encoded rows, and shipped
back with the row count for FedAvg weighting. :func:`train_centralized` runs
the same schedule on the pooled rows, as the baseline. Neither sets torch's
thread count; the caller does.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 - the conventional torch alias
from sklearn.metrics import roc_auc_score
from torch import nn

from agora.errors import ConfigurationError, DataError


@dataclass(frozen=True)
class CreditTrainConfig:
    """How one platform trains in one round (and the baseline per epoch).

    The learning rate follows one cosine curve over all
    ``total_rounds * local_epochs`` epochs, from ``lr`` down to
    ``lr * final_lr_fraction``, so the federated run and the baseline see
    the same schedule. The optimiser (Adam) starts fresh every round, as a
    platform that only receives weights would.
    """

    local_epochs: int = 1
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 1e-4
    final_lr_fraction: float = 0.05
    hidden: tuple[int, ...] = (64, 32)
    dropout: float = 0.2

    def __post_init__(self) -> None:
        if self.local_epochs < 1 or self.batch_size < 1:
            raise ConfigurationError("local_epochs and batch_size must be >= 1")
        if self.lr <= 0.0:
            raise ConfigurationError("lr must be positive")


class CreditNet(nn.Module):
    """Encoded borrower features to one logit of default (positive: default).

    Fully connected layers with ReLU and dropout; no batch normalisation,
    whose running statistics would be averaged across platforms whose
    borrowers differ (the partition is by age).
    """

    def __init__(
        self, inputs: int, *, hidden: tuple[int, ...] = (64, 32), dropout: float = 0.2
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = inputs
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
            width = size
        layers.append(nn.Linear(width, 1))
        self.layers = nn.Sequential(*layers)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Map ``(N, inputs)`` to logits ``(N,)``."""
        logits: torch.Tensor = self.layers(inputs)
        return logits.squeeze(1)


def build_model(
    inputs: int, *, config: CreditTrainConfig | None = None, seed: int | None = None
) -> CreditNet:
    """A fresh model; with ``seed`` its initial weights depend only on the
    seed and torch's global generator is left untouched.

    Example::

        >>> build_model(71, seed=0)(torch.zeros(2, 71)).shape
        torch.Size([2])
    """
    config = config or CreditTrainConfig()
    if seed is None:
        return CreditNet(inputs, hidden=config.hidden, dropout=config.dropout)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return CreditNet(inputs, hidden=config.hidden, dropout=config.dropout)


def state_to_arrays(model: nn.Module) -> OrderedDict[str, np.ndarray]:
    """Copy the model's state into numpy arrays, in ``state_dict`` order."""
    return OrderedDict(
        (name, tensor.detach().cpu().numpy().copy())
        for name, tensor in model.state_dict().items()
    )


def load_state_arrays(model: nn.Module, arrays: Mapping[str, np.ndarray]) -> None:
    """Load arrays (from :func:`state_to_arrays`, or an average) in place.

    Missing or extra names and wrong shapes raise
    :class:`~agora.errors.DataError`: a model update is data from a peer.
    """
    state = model.state_dict()
    missing, extra = sorted(set(state) - set(arrays)), sorted(set(arrays) - set(state))
    if missing or extra:
        raise DataError(
            f"model state does not match the architecture: missing {missing}, "
            f"unexpected {extra}"
        )
    loaded = {}
    for name, current in state.items():
        array = np.asarray(arrays[name])
        if tuple(array.shape) != tuple(current.shape):
            raise DataError(
                f"model state {name!r} has shape {array.shape}, "
                f"expected {tuple(current.shape)}"
            )
        loaded[name] = torch.from_numpy(np.array(array)).to(current.dtype)
    model.load_state_dict(loaded)


def train_local(
    model: nn.Module,
    inputs: np.ndarray,
    labels: np.ndarray,
    *,
    config: CreditTrainConfig,
    round_index: int,
    total_rounds: int,
    seed: int,
) -> float:
    """Train ``model`` in place on encoded rows; return the mean loss.

    ``round_index`` (from 0) and ``total_rounds`` place these epochs on the
    cosine learning-rate curve. Shuffling and dropout draw from generators
    seeded by ``(seed, round_index)``, so a call is deterministic.
    """
    if labels.shape[0] == 0:
        raise DataError("cannot train on an empty split")
    if not 0 <= round_index < total_rounds:
        raise ConfigurationError(
            f"round_index {round_index} outside 0..{total_rounds - 1}"
        )
    features = torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32))
    targets = torch.from_numpy(labels.astype(np.float32))
    optimizer = torch.optim.Adam(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    steps_per_epoch = math.ceil(labels.shape[0] / config.batch_size)
    total_steps = total_rounds * config.local_epochs * steps_per_epoch
    step = round_index * config.local_epochs * steps_per_epoch
    generator = torch.Generator().manual_seed(_derive_seed(seed, round_index))

    model.train()
    losses = []
    with torch.random.fork_rng(devices=[]):
        # Dropout draws from the global generator; fork_rng keeps that local.
        torch.manual_seed(_derive_seed(seed, round_index, 1))
        for _ in range(config.local_epochs):
            order = torch.randperm(labels.shape[0], generator=generator)
            for start in range(0, labels.shape[0], config.batch_size):
                batch = order[start : start + config.batch_size]
                for group in optimizer.param_groups:
                    group["lr"] = _cosine_lr(config, step, total_steps)
                loss = F.binary_cross_entropy_with_logits(
                    model(features[batch]), targets[batch]
                )
                optimizer.zero_grad(set_to_none=True)
                torch.autograd.backward(loss)
                optimizer.step()
                losses.append(float(loss.detach()))
                step += 1
    return float(np.mean(losses))


def train_centralized(
    inputs: np.ndarray,
    labels: np.ndarray,
    *,
    config: CreditTrainConfig,
    rounds: int,
    seed: int,
) -> CreditNet:
    """The baseline: the same model, initial weights and schedule on the
    pooled train rows, for ``rounds * config.local_epochs`` epochs."""
    model = build_model(inputs.shape[1], config=config, seed=seed)
    for round_index in range(rounds):
        train_local(
            model,
            inputs,
            labels,
            config=config,
            round_index=round_index,
            total_rounds=rounds,
            seed=seed,
        )
    return model


@torch.no_grad()
def predict_proba(model: nn.Module, inputs: np.ndarray) -> np.ndarray:
    """Default probability of every encoded row, float64 ``(N,)``."""
    model.eval()
    features = torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32))
    return torch.sigmoid(model(features)).double().numpy()


def auc(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """ROC AUC; :class:`~agora.errors.DataError` without both classes."""
    if np.unique(labels).shape[0] != 2:
        raise DataError("AUC needs rows of both classes")
    return float(roc_auc_score(labels, probabilities))


def _cosine_lr(config: CreditTrainConfig, step: int, total_steps: int) -> float:
    progress = min(step / max(total_steps, 1), 1.0)
    floor = config.lr * config.final_lr_fraction
    return floor + (config.lr - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def _derive_seed(*parts: int) -> int:
    # SeedSequence mixes the parts so nearby seeds give unrelated streams.
    state = np.random.SeedSequence([abs(part) for part in parts]).generate_state(2)
    return int(state[0]) << 32 | int(state[1])
