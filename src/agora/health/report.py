"""The health demo's report: PNG plots and one HTML page beside result.json."""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; the demo runs on machines with no screen

import matplotlib.pyplot as plt
import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape
from sklearn.metrics import roc_auc_score, roc_curve

from agora.ledger.model import TOKEN_DECIMALS

TOKEN_UNIT = 10**TOKEN_DECIMALS


def plot_roc(path: Path, labels: np.ndarray, curves: Mapping[str, np.ndarray]) -> None:
    """ROC curves on the test split, one per model."""
    figure, axes = plt.subplots(figsize=(5, 5))
    for name, probs in curves.items():
        fpr, tpr, _ = roc_curve(labels, probs)
        axes.plot(fpr, tpr, label=f"{name} (AUC {roc_auc_score(labels, probs):.3f})")
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey")
    axes.set(
        xlabel="false positive rate",
        ylabel="true positive rate",
        title="ROC, official test split",
    )
    axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_rounds(path: Path, val_auc: Mapping[int, float]) -> None:
    """Validation AUC of the global model after each round."""
    rounds = sorted(val_auc)
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot(rounds, [val_auc[r] for r in rounds], marker="o")
    axes.set(
        xlabel="round (0 = initial model)",
        ylabel="validation AUC",
        title="Global model per round",
    )
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


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
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_html(path: Path, result: Mapping[str, Any], plots: Mapping[str, str]) -> None:
    """Render ``report.html`` from the result and the plot file names."""
    environment = Environment(
        loader=PackageLoader("agora.health", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    environment.filters["tokens"] = lambda amount: f"{int(amount) / TOKEN_UNIT:,.4f}"
    page = environment.get_template("report.html").render(result=result, plots=plots)
    path.write_text(page, encoding="utf-8")
