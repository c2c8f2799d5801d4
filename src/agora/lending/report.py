"""The lending demo's report: PNG plots and one HTML page beside result.json."""

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

PLOTS = {
    "ROC curve (test split)": "roc.png",
    "Validation AUC per round": "auc_per_round.png",
    "Contributions and payouts": "contributions.png",
}
"""Plot titles and their files, in the order the page shows them."""


def write_plots(
    out_dir: Path,
    *,
    labels: np.ndarray,
    curves: Mapping[str, np.ndarray],
    val_auc: Mapping[int, float],
    providers: Sequence[Mapping[str, Any]],
) -> None:
    """Write every file of :data:`PLOTS` into ``out_dir``."""
    _plot_roc(out_dir / "roc.png", labels, curves)
    _plot_rounds(out_dir / "auc_per_round.png", val_auc)
    _plot_contributions(out_dir / "contributions.png", providers)


def _plot_roc(path: Path, labels: np.ndarray, curves: Mapping[str, np.ndarray]) -> None:
    figure, axes = plt.subplots(figsize=(5, 5))
    for name, probs in curves.items():
        fpr, tpr, _ = roc_curve(labels, probs)
        axes.plot(fpr, tpr, label=f"{name} (AUC {roc_auc_score(labels, probs):.3f})")
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey")
    axes.set(
        xlabel="false positive rate",
        ylabel="true positive rate",
        title="ROC of default, held-out test split",
    )
    axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _plot_rounds(path: Path, val_auc: Mapping[int, float]) -> None:
    rounds = sorted(val_auc)
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot(rounds, [val_auc[r] for r in rounds], marker="o")
    axes.set(
        xlabel="round (0 = initial model)",
        ylabel="validation AUC",
        title="Global credit model per round",
    )
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _plot_contributions(path: Path, providers: Sequence[Mapping[str, Any]]) -> None:
    names = [str(p["name"]) for p in providers]
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 4))
    left.bar(names, [float(p["shapley"]) for p in providers], color="tab:blue")
    left.set(title="Shapley value (validation AUC)", ylabel="value")
    right.bar(
        names, [int(p["payout"]) / TOKEN_UNIT for p in providers], color="tab:green"
    )
    right.set(title="Payout", ylabel="tokens")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_html(path: Path, result: Mapping[str, Any]) -> None:
    """Render ``report.html`` from the result (plots from :data:`PLOTS`)."""
    environment = Environment(
        loader=PackageLoader("agora.lending"), autoescape=select_autoescape(["html"])
    )
    environment.filters["tokens"] = lambda amount: f"{int(amount) / TOKEN_UNIT:,.4f}"
    page = environment.get_template("report.html").render(
        result=result, chain=result["chain"], wall_s=result["wall_s"], plots=PLOTS
    )
    path.write_text(page, encoding="utf-8")
