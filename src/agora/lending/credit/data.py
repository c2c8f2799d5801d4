"""Loading the Taiwan credit-default table and splitting it among platforms.

The table is "Default of credit card clients" (Yeh & Lien 2009, UCI
Machine Learning Repository id 350): 30,000 card holders of a Taiwanese
bank, columns ``ID, X1..X23, Y``. Outside this workspace the file comes from
the UCI repository (https://archive.ics.uci.edu/dataset/350), saved as CSV
under the name :data:`CSV_NAME`; Agora reads it from the folder named by the
``AGORA_DATA_DIR`` setting or the ``--data-dir`` option.

:func:`split_holdout` sets aside a validation split (the job's buyer holds
it, for round monitoring and contributions) and a test split (for the final
report only), stratified by label. :func:`partition_by_age` hands the train
rows to three lending platforms by the borrower's age band, with a seeded
few rows crossing over: see :data:`DEFAULT_SHARES`.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agora.errors import ConfigurationError, DataError

CSV_NAME = "credit_default_taiwan.csv"
"""File name of the table inside the data folder."""

FEATURE_COLUMNS = tuple(f"X{number}" for number in range(1, 24))
"""``X1`` credit limit, ``X2`` sex, ``X3`` education, ``X4`` marital status,
``X5`` age, ``X6..X11`` repayment status Sep..Apr 2005, ``X12..X17`` bill
amounts, ``X18..X23`` amounts paid (see the data folder's README)."""

HEADER = ("ID", *FEATURE_COLUMNS, "Y")

AGE_COLUMN = FEATURE_COLUMNS.index("X5")

_SETTING = "AGORA_DATA_DIR or --data-dir"


@dataclass(frozen=True)
class CreditTable:
    """Rows of the table: raw ``X1..X23`` as int64 ``(N, 23)``, ``Y`` as
    int64 ``(N,)`` (1 = default next month) and the table's ``ID`` column."""

    features: np.ndarray
    labels: np.ndarray
    ids: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, indices: np.ndarray) -> CreditTable:
        """The rows at ``indices``, as a new table (copies the arrays)."""
        return CreditTable(
            self.features[indices], self.labels[indices], self.ids[indices]
        )

    @property
    def ages(self) -> np.ndarray:
        return self.features[:, AGE_COLUMN]


def load_credit_table(data_dir: Path) -> CreditTable:
    """Read and check :data:`CSV_NAME` from ``data_dir``.

    Every problem (missing folder or file, unreadable text, another header,
    a short or long row, a value that is not a whole number, a label other
    than 0 or 1, an age outside 18-120, a credit limit that is not positive,
    a sex other than 1 or 2, a repeated ``ID``, a single class) raises
    :class:`~agora.errors.DataError` naming the file and the setting.
    """
    if not data_dir.is_dir():
        raise DataError(
            f"data folder {data_dir} does not exist or is not a folder; "
            f"set {_SETTING} to the folder holding {CSV_NAME}"
        )
    path = data_dir / CSV_NAME
    if not path.is_file():
        raise DataError(
            f"{path} not found; set {_SETTING} to the folder holding {CSV_NAME}"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(
            f"{path} is not readable UTF-8 text ({exc}); check the file or "
            f"point {_SETTING} at a good copy"
        ) from exc

    rows = list(csv.reader(text.splitlines()))
    if not rows or tuple(cell.strip() for cell in rows[0]) != HEADER:
        found = ",".join(rows[0])[:80] if rows else "an empty file"
        raise DataError(
            f"{path}: the header must be ID,X1..X23,Y (the UCI credit-default "
            f"table), found {found!r} (check {_SETTING})"
        )
    values = _integers(rows[1:], path)
    return _checked_table(values, path)


def _integers(rows: list[list[str]], path: Path) -> np.ndarray:
    for line, row in enumerate(rows, start=2):
        if len(row) != len(HEADER):
            raise DataError(
                f"{path}, line {line}: {len(row)} fields, expected {len(HEADER)} "
                f"(check {_SETTING})"
            )

    # Spreadsheet exports write some amounts as 5.00E+05: numbers are read
    # as floats, then must be finite whole numbers.
    try:
        values = np.array(rows, dtype=np.float64).reshape(len(rows), len(HEADER))
    except ValueError as exc:
        line = next(
            number
            for number, row in enumerate(rows, start=2)
            if not all(_is_number(cell) for cell in row)
        )
        raise DataError(
            f"{path}, line {line}: a value is not a number (check {_SETTING})"
        ) from exc
    whole = np.isfinite(values) & (values == np.round(values))
    if not whole.all():
        line = int(np.flatnonzero(~whole.all(axis=1))[0]) + 2
        raise DataError(
            f"{path}, line {line}: a value is not a whole number (check {_SETTING})"
        )
    return values.astype(np.int64)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _checked_table(values: np.ndarray, path: Path) -> CreditTable:
    ids, features, labels = values[:, 0], values[:, 1:-1], values[:, -1]
    problems = [
        (not np.isin(labels, (0, 1)).all(), "Y holds values other than 0 and 1"),
        (
            not (
                (features[:, AGE_COLUMN] >= 18) & (features[:, AGE_COLUMN] <= 120)
            ).all(),
            "X5 (age) lies outside 18-120",
        ),
        (not (features[:, 0] > 0).all(), "X1 (credit limit) is not positive"),
        (not np.isin(features[:, 1], (1, 2)).all(), "X2 (sex) is not 1 or 2"),
        (np.unique(ids).shape[0] != ids.shape[0], "ID repeats"),
    ]
    for broken, message in problems:
        if broken:
            raise DataError(f"{path}: {message} (check {_SETTING})")

    # AUC is undefined, and a model learns nothing, without both classes.
    if np.unique(labels).shape[0] != 2:
        raise DataError(
            f"{path}: the table must hold both defaults (Y=1) and repayments "
            f"(Y=0), found {len(labels)} rows of one kind (check {_SETTING})"
        )
    return CreditTable(np.ascontiguousarray(features), labels.copy(), ids.copy())


@dataclass(frozen=True)
class CreditSplits:
    """Train rows (to be partitioned), the buyer's validation rows, and the
    test rows, used for the final report only, never to choose anything."""

    train: CreditTable
    val: CreditTable
    test: CreditTable


def split_holdout(
    table: CreditTable,
    *,
    seed: int,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
) -> CreditSplits:
    """Split ``table`` into train, validation and test rows, by label.

    Within each class the rows are shuffled with ``seed`` and cut at the
    given fractions, so every split keeps the table's default rate (22 %)
    and the same seed gives the same split.

    Example::

        >>> labels = np.array([0] * 80 + [1] * 20)
        >>> table = CreditTable(np.zeros((100, 23), np.int64), labels,
        ...                     np.arange(100))
        >>> splits = split_holdout(table, seed=0)
        >>> len(splits.train), len(splits.val), len(splits.test)
        (70, 10, 20)
        >>> int(splits.test.labels.sum())
        4
    """
    if not (
        0 < val_fraction < 1
        and 0 < test_fraction < 1
        and val_fraction + test_fraction < 1
    ):
        raise ConfigurationError(
            "validation and test fractions must lie in (0, 1) and leave train rows"
        )
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
    for label in (0, 1):
        rows = rng.permutation(np.flatnonzero(table.labels == label))
        test_end = round(test_fraction * rows.shape[0])
        val_end = test_end + round(val_fraction * rows.shape[0])
        parts["test"].append(rows[:test_end])
        parts["val"].append(rows[test_end:val_end])
        parts["train"].append(rows[val_end:])
    chosen = {name: np.sort(np.concatenate(rows)) for name, rows in parts.items()}
    return CreditSplits(
        train=table.subset(chosen["train"]),
        val=table.subset(chosen["val"]),
        test=table.subset(chosen["test"]),
    )


@dataclass(frozen=True)
class PlatformShare:
    """The age band whose borrowers a platform mostly lends to:
    ``min_age <= age < max_age``."""

    name: str
    min_age: int
    max_age: int


DEFAULT_SHARES = (
    PlatformShare("platform-a", 0, 30),
    PlatformShare("platform-b", 30, 40),
    PlatformShare("platform-c", 40, 200),
)
"""Three platforms with different clienteles: A lends mostly to borrowers
under 30 (a mobile lender for students and first jobs), B to those in their
thirties, C to those of 40 and over. On the default 70 % train split each
holds about a third of the rows; their features differ (younger borrowers
have lower limits and bills) and so, a little, do their default rates
(a partition by feature, not by label). With ``crossover=0.1``, one row in
ten goes to another platform instead, drawn with the seed, since real
clienteles overlap; ``crossover=0`` gives the pure age bands."""


def partition_by_age(
    table: CreditTable,
    *,
    seed: int,
    shares: Sequence[PlatformShare] = DEFAULT_SHARES,
    crossover: float = 0.1,
) -> list[np.ndarray]:
    """Split row indices among platforms by age band (see :data:`DEFAULT_SHARES`).

    Returns one sorted ``int64`` index array per share, pairwise disjoint
    and together covering every row. Each row goes to the platform of its
    age band; with probability ``crossover`` (drawn with ``seed``) it goes
    to one of the other platforms instead, each equally likely. The bands
    must not overlap and must cover every age in the table, otherwise
    :class:`~agora.errors.ConfigurationError` is raised.

    Example::

        >>> ages = np.array([22, 25, 33, 37, 45, 61])
        >>> features = np.zeros((6, 23), np.int64)
        >>> features[:, AGE_COLUMN] = ages
        >>> table = CreditTable(features, np.array([0, 1] * 3), np.arange(6))
        >>> [p.tolist() for p in partition_by_age(table, seed=0, crossover=0)]
        [[0, 1], [2, 3], [4, 5]]
    """
    if len(shares) < 2:
        raise ConfigurationError("a partition needs at least two platforms")
    if not 0 <= crossover < 1:
        raise ConfigurationError("crossover must lie in [0, 1)")
    ages = table.ages
    band = np.full(ages.shape[0], -1, dtype=np.int64)
    for index, share in enumerate(shares):
        inside = (ages >= share.min_age) & (ages < share.max_age)
        if (inside & (band >= 0)).any():
            raise ConfigurationError(f"the age band of {share.name!r} overlaps another")
        band[inside] = index
    if (band < 0).any():
        raise ConfigurationError(
            f"the age bands leave out ages {sorted(set(ages[band < 0].tolist()))[:5]}"
        )

    # Crossing rows move by a uniform non-zero offset, so each lands on
    # another platform with equal chance.
    rng = np.random.default_rng(seed)
    crossing = rng.random(ages.shape[0]) < crossover
    offsets = rng.integers(1, len(shares), size=ages.shape[0])
    owner = np.where(crossing, (band + offsets) % len(shares), band)
    parts = [np.flatnonzero(owner == index) for index in range(len(shares))]
    for share, part in zip(shares, parts, strict=True):
        if part.shape[0] == 0:
            raise ConfigurationError(f"no rows fall to {share.name!r}")
    return parts


@dataclass(frozen=True)
class PartitionRow:
    """One platform's part, as printed in reports."""

    name: str
    samples: int
    defaults: int
    median_age: float
    mean_limit: float

    @property
    def default_rate(self) -> float:
        return self.defaults / self.samples if self.samples else 0.0


def describe_partition(
    table: CreditTable,
    parts: Sequence[np.ndarray],
    shares: Sequence[PlatformShare] = DEFAULT_SHARES,
) -> list[PartitionRow]:
    """Rows, defaults, median age and mean credit limit per platform."""
    if len(parts) != len(shares):
        raise ConfigurationError(f"{len(parts)} parts but {len(shares)} shares")
    return [
        PartitionRow(
            name=share.name,
            samples=int(part.shape[0]),
            defaults=int(table.labels[part].sum()),
            median_age=float(np.median(table.ages[part])),
            mean_limit=float(table.features[part, 0].mean()),
        )
        for share, part in zip(shares, parts, strict=True)
    ]
