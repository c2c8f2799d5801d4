"""Plots of one training job, shared by the demos' reports.

Each demo reports a ``DataMarket`` job the same way: the test ROC of the
models it compares, the global model's validation AUC per round, and each
provider's Shapley value beside what the contract paid it.
"""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; the demos run on machines with no screen

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

from agora.ledger.model import TOKEN_DECIMALS

TOKEN_UNIT = 10**TOKEN_DECIMALS


def plot_roc(
    path: Path, labels: np.ndarray, curves: Mapping[str, np.ndarray], *, title: str
) -> None:
    """ROC curves on a test split, one per model.

    Raises ``ValueError`` when the labels hold a single class: there is no
    curve to draw, and sklearn would only warn and plot NaN.
    """
    if np.unique(labels).size != 2:
        raise ValueError("an ROC curve needs test labels of exactly two classes")
    figure, axes = plt.subplots(figsize=(5, 5))
    for name, probs in curves.items():
        fpr, tpr, _ = roc_curve(labels, probs)
        axes.plot(fpr, tpr, label=f"{name} (AUC {roc_auc_score(labels, probs):.3f})")
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey")
    axes.set(xlabel="false positive rate", ylabel="true positive rate", title=title)
    axes.legend(loc="lower right")
    _save(figure, path)


def plot_rounds(path: Path, val_auc: Mapping[int, float], *, title: str) -> None:
    """Validation AUC of the global model after each round."""
    rounds = sorted(val_auc)
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot(rounds, [val_auc[r] for r in rounds], marker="o")
    axes.set(xlabel="round (0 = initial model)", ylabel="validation AUC", title=title)
    axes.grid(alpha=0.3)
    _save(figure, path)


def plot_contributions(path: Path, providers: Sequence[Mapping[str, Any]]) -> None:
    """Shapley value and payout of each provider, side by side."""
    names = [str(p["name"]) for p in providers]
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 4))
    left.bar(names, [float(p["shapley"]) for p in providers], color="tab:blue")
    left.set(title="Shapley value (validation AUC)", ylabel="value")
    right.bar(
        names, [int(p["payout"]) / TOKEN_UNIT for p in providers], color="tab:green"
    )
    right.set(title="Payout", ylabel="tokens")
    for axes in (left, right):
        axes.tick_params(axis="x", rotation=15)
    _save(figure, path)


def _save(figure: Any, path: Path) -> None:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
