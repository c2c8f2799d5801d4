"""Features of the credit model, and their standardisation fitted federated.

:func:`numeric_features` and :func:`categorical_features` turn a row of the
table into model inputs with fixed rules (no statistics): amounts on a log
scale, the credit utilisation and the share of each bill repaid, and one-hot
codes of sex, education, marital status and each month's repayment status.
Only the standardisation of the numeric part depends on data: each platform
computes :func:`local_moments` of its own train rows (a count, and per
column a sum and a sum of squares: aggregates, never a row), and the
coordinator adds them up in :func:`fit_encoder`. The result equals fitting
on the pooled train rows, without pooling them; validation and test rows
never take part.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agora.errors import DataError
from agora.lending.credit.data import CreditTable

# Column positions in CreditTable.features (X1 is column 0).
_LIMIT, _SEX, _EDUCATION, _MARRIAGE, _AGE = 0, 1, 2, 3, 4
_STATUS = slice(5, 11)  # X6..X11, repayment status Sep..Apr
_BILLS = slice(11, 17)  # X12..X17
_PAID = slice(17, 23)  # X18..X23

STATUS_LEVELS = (-2, -1, 0, 1, 2, 3)
"""Repayment status codes kept apart: no consumption, paid in full,
revolving, one and two months late; 3 stands for three or more months
late (rare: under 2 % of rows for each month)."""

EDUCATION_LEVELS = (1, 2, 3, 4)
"""Graduate school, university, high school, other (the table's 0, 5 and 6,
undocumented codes, count as other)."""

MARRIAGE_LEVELS = (1, 2, 3)
"""Married, single, other (the undocumented 0 counts as other)."""


def numeric_features(table: CreditTable) -> np.ndarray:
    """The numeric inputs of each row, float64 ``(N, 26)``, not standardised.

    Credit limit and age; each month's repayment status as a number; bills
    on a signed log scale and payments on a log scale (both are heavy-tailed:
    a few bills are a hundred times the median); the latest bill over the
    limit (utilisation); and for five months the payment over the previous
    month's bill, capped at 2 (the table's payment of month m settles the
    bill of month m+1, one column to the right).
    """
    x = table.features.astype(np.float64)
    bills, paid = x[:, _BILLS], x[:, _PAID]
    limit = x[:, [_LIMIT]]
    repaid = np.clip(paid[:, :-1] / np.maximum(bills[:, 1:], 1.0), 0.0, 2.0)
    return np.hstack(
        [
            np.log(limit),
            x[:, [_AGE]],
            x[:, _STATUS],
            np.sign(bills) * np.log1p(np.abs(bills)),
            np.log1p(np.maximum(paid, 0.0)),
            np.clip(bills[:, [0]] / limit, -1.0, 3.0),
            repaid,
        ]
    )


def categorical_features(table: CreditTable) -> np.ndarray:
    """One-hot codes of each row, float64 ``(N, 45)``: sex (2), education
    (4), marital status (3) and six months of repayment status (6 each)."""
    x = table.features
    education = np.where(np.isin(x[:, _EDUCATION], (1, 2, 3)), x[:, _EDUCATION], 4)
    marriage = np.where(np.isin(x[:, _MARRIAGE], (1, 2)), x[:, _MARRIAGE], 3)
    status = np.clip(x[:, _STATUS], -2, 3)
    blocks = [
        _one_hot(x[:, _SEX], (1, 2)),
        _one_hot(education, EDUCATION_LEVELS),
        _one_hot(marriage, MARRIAGE_LEVELS),
        *(_one_hot(status[:, month], STATUS_LEVELS) for month in range(6)),
    ]
    return np.hstack(blocks)


def _one_hot(values: np.ndarray, levels: Sequence[int]) -> np.ndarray:
    codes: np.ndarray = np.equal(values[:, None], np.asarray(levels)[None, :])
    return codes.astype(np.float64)


@dataclass(frozen=True)
class Moments:
    """What one platform shares to fit the standardisation: its row count,
    and per numeric column the sum and the sum of squares."""

    count: int
    sums: np.ndarray
    squares: np.ndarray


def local_moments(table: CreditTable) -> Moments:
    """A platform's :class:`Moments` of its own rows."""
    numeric = numeric_features(table)
    return Moments(len(table), numeric.sum(axis=0), (numeric**2).sum(axis=0))


@dataclass(frozen=True)
class CreditEncoder:
    """Standardises the numeric features and appends the one-hot codes."""

    mean: np.ndarray
    scale: np.ndarray

    @property
    def width(self) -> int:
        """Number of model inputs."""
        return int(self.mean.shape[0] + categorical_features(_EMPTY).shape[1])

    def encode(self, table: CreditTable) -> np.ndarray:
        """Model inputs of every row, float32 ``(N, width)``."""
        numeric = (numeric_features(table) - self.mean) / self.scale
        # A row far outside the train rows' range (a test borrower with a
        # bill beyond anything seen) is held at 8 standard deviations.
        numeric = np.clip(numeric, -8.0, 8.0)
        return np.hstack([numeric, categorical_features(table)]).astype(np.float32)


_EMPTY = CreditTable(
    np.ones((0, 23), np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
)


def fit_encoder(moments: Sequence[Moments]) -> CreditEncoder:
    """Add up the platforms' moments into one standardisation.

    Example::

        >>> features = np.ones((4, 23), np.int64)
        >>> features[:, 4] = [20, 30, 40, 50]
        >>> table = CreditTable(features, np.array([0, 1, 0, 1]), np.arange(4))
        >>> halves = [table.subset(np.array([0, 1])), table.subset(np.array([2, 3]))]
        >>> encoder = fit_encoder([local_moments(half) for half in halves])
        >>> float(encoder.mean[1]), round(float(encoder.scale[1]), 3)
        (35.0, 11.18)
    """
    count = sum(m.count for m in moments)
    if count < 2:
        raise DataError("standardisation needs at least two train rows")
    sums = np.sum([m.sums for m in moments], axis=0)
    squares = np.sum([m.squares for m in moments], axis=0)
    mean = sums / count
    variance = np.maximum(squares / count - mean**2, 0.0)
    # A constant column (possible on a tiny table) is left unscaled.
    scale = np.where(variance > 1e-12, np.sqrt(variance), 1.0)
    return CreditEncoder(mean=mean, scale=scale)
