"""The job plots both demos draw: real PNG files from real figures."""

from pathlib import Path

import numpy as np
import pytest

from agora.market.report import plot_contributions, plot_roc, plot_rounds

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_each_plot_is_written_as_a_png(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    labels = np.array([0, 1] * 50)
    plot_roc(
        tmp_path / "roc.png",
        labels,
        {"federated": labels + rng.normal(scale=0.5, size=100)},
        title="ROC",
    )
    plot_rounds(tmp_path / "rounds.png", {0: 0.5, 1: 0.8, 2: 0.9}, title="rounds")
    plot_contributions(
        tmp_path / "contributions.png",
        [{"name": "a", "shapley": 0.3, "payout": 6 * 10**20}],
    )
    for name in ("roc.png", "rounds.png", "contributions.png"):
        data = (tmp_path / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 1000


def test_roc_of_a_single_class_is_refused(tmp_path: Path) -> None:
    """An ROC needs both classes; a curve of NaN is never drawn."""
    with pytest.raises(ValueError, match="two classes"):
        plot_roc(tmp_path / "roc.png", np.zeros(4), {"m": np.ones(4) * 0.5}, title="t")
