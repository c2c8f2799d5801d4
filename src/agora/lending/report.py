"""The lending demo's report: PNG plots and one HTML page beside result.json."""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape

from agora.market import report as job_plots
from agora.market.report import TOKEN_UNIT

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
    job_plots.plot_roc(
        out_dir / "roc.png", labels, curves, title="ROC of default, held-out test split"
    )
    job_plots.plot_rounds(
        out_dir / "auc_per_round.png", val_auc, title="Global credit model per round"
    )
    job_plots.plot_contributions(out_dir / "contributions.png", providers)


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
