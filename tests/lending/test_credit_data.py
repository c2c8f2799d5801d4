"""The credit table's loader, its splits and the federated standardisation.

The loader's bad inputs are synthetic files; the split and partition are
checked on the real table too, since their documented sizes are about it.
"""

import os
from pathlib import Path

import numpy as np
import pytest

from agora.errors import ConfigurationError, DataError
from agora.lending.credit import (
    CSV_NAME,
    DEFAULT_SHARES,
    CreditTable,
    PlatformShare,
    describe_partition,
    fit_encoder,
    load_credit_table,
    local_moments,
    partition_by_age,
    split_holdout,
)
from agora.lending.credit.data import HEADER

DATA_DIR = Path(
    os.environ.get(
        "AGORA_DATA_DIR", Path(__file__).parents[2].parent / "shared" / "data"
    )
)


def _row(number: int, *, age: int = 30, label: int = 0) -> list[str]:
    features = [50_000, 2, 2, 1, age, 0, 0, 0, 0, 0, 0]
    features += [1_000 * (number + 1)] * 6 + [500] * 6
    return [str(number), *(str(value) for value in features), str(label)]


def _write(
    folder: Path, rows: list[list[str]], header: tuple[str, ...] = HEADER
) -> Path:
    lines = [",".join(header), *(",".join(row) for row in rows)]
    # The real file has Windows line ends; the loader takes either.
    (folder / CSV_NAME).write_text("\r\n".join(lines) + "\r\n")
    return folder


def _good_rows() -> list[list[str]]:
    return [_row(n, age=22 + 5 * n, label=n % 2) for n in range(8)]


def test_load_reads_a_well_formed_table(tmp_path: Path) -> None:
    rows = _good_rows()
    rows[0][1] = "5.00E+04"  # as spreadsheet exports write round amounts

    table = load_credit_table(_write(tmp_path, rows))

    assert len(table) == 8
    assert table.features.shape == (8, 23)
    assert table.features.dtype == np.int64
    assert table.features[0, 0] == 50_000
    assert table.labels.tolist() == [0, 1] * 4
    assert table.ages.tolist() == [22, 27, 32, 37, 42, 47, 52, 57]


def test_load_missing_folder_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"does not exist.*AGORA_DATA_DIR"):
        load_credit_table(tmp_path / "absent")


def test_load_missing_file_names_the_file_and_setting(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=f"{CSV_NAME} not found.*AGORA_DATA_DIR"):
        load_credit_table(tmp_path)


def test_load_refuses_a_binary_file(tmp_path: Path) -> None:
    (tmp_path / CSV_NAME).write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DataError, match=r"UTF-8.*AGORA_DATA_DIR"):
        load_credit_table(tmp_path)


def _with(rows: list[list[str]], row: int, column: int, value: str) -> list[list[str]]:
    rows[row][column] = value
    return rows


@pytest.mark.parametrize(
    ("rows", "header", "message"),
    [
        ([], ("id", "a", "b"), "header must be ID,X1..X23,Y"),
        ([], (), "header must be"),
        ([_good_rows()[0][:-1], *_good_rows()[1:]], HEADER, "line 2: 24 fields"),
        (_with(_good_rows(), 3, 7, "late"), HEADER, "line 5: a value is not a num"),
        (_with(_good_rows(), 1, 12, "1.5"), HEADER, "line 3: .* not a whole number"),
        (_with(_good_rows(), 1, 12, "nan"), HEADER, "line 3: .* not a whole number"),
        (_with(_good_rows(), 2, 24, "2"), HEADER, "Y holds values other than 0"),
        (_with(_good_rows(), 2, 5, "7"), HEADER, "X5 \\(age\\) lies outside"),
        (_with(_good_rows(), 2, 2, "3"), HEADER, "X2 \\(sex\\) is not 1 or 2"),
        (_with(_good_rows(), 2, 1, "0"), HEADER, "X1 \\(credit limit\\)"),
        (_with(_good_rows(), 2, 0, "1"), HEADER, "ID repeats"),
        ([_row(n) for n in range(4)], HEADER, "both defaults"),
    ],
    ids=[
        "other-header",
        "empty-file",
        "short-row",
        "not-a-number",
        "fraction",
        "nan",
        "label-not-binary",
        "child-age",
        "unknown-sex",
        "zero-limit",
        "repeated-id",
        "one-class",
    ],
)
def test_load_refuses_malformed_tables(
    tmp_path: Path, rows: list[list[str]], header: tuple[str, ...], message: str
) -> None:
    _write(tmp_path, rows, header)
    with pytest.raises(DataError, match=message) as caught:
        load_credit_table(tmp_path)
    assert "AGORA_DATA_DIR" in str(caught.value)


def _synthetic(rows: int, seed: int = 0) -> CreditTable:
    """Rows with every column in the range the table's README gives."""
    rng = np.random.default_rng(seed)
    features = np.hstack(
        [
            rng.integers(1, 50, size=(rows, 1)) * 10_000,
            rng.integers(1, 3, size=(rows, 1)),  # sex
            rng.integers(0, 7, size=(rows, 1)),  # education, 0-6
            rng.integers(0, 4, size=(rows, 1)),  # marital status, 0-3
            rng.integers(21, 75, size=(rows, 1)),  # age
            rng.integers(-2, 9, size=(rows, 6)),  # repayment status
            rng.integers(1_000, 200_000, size=(rows, 6)),  # bills
            rng.integers(0, 20_000, size=(rows, 6)),  # payments
        ]
    )
    labels = (rng.random(rows) < 0.22).astype(np.int64)
    return CreditTable(features, labels, np.arange(rows))


def test_holdout_is_disjoint_stratified_and_seeded() -> None:
    table = _synthetic(1_000)

    splits = split_holdout(table, seed=3)
    again = split_holdout(table, seed=3)
    other = split_holdout(table, seed=4)

    ids = [set(s.ids.tolist()) for s in (splits.train, splits.val, splits.test)]
    assert sum(len(i) for i in ids) == 1_000
    assert set.union(*ids) == set(range(1_000))
    assert (len(splits.train), len(splits.val), len(splits.test)) == (700, 100, 200)
    rate = table.labels.mean()
    for split in (splits.train, splits.val, splits.test):
        assert abs(split.labels.mean() - rate) < 0.01
    assert np.array_equal(splits.test.ids, again.test.ids)
    assert not np.array_equal(splits.test.ids, other.test.ids)


@pytest.mark.parametrize(("val", "test"), [(0.0, 0.2), (0.5, 0.5), (0.1, 1.2)])
def test_holdout_refuses_fractions_that_leave_no_rows(val: float, test: float) -> None:
    with pytest.raises(ConfigurationError):
        split_holdout(_synthetic(100), seed=0, val_fraction=val, test_fraction=test)


def test_partition_follows_age_bands_with_seeded_crossover() -> None:
    table = _synthetic(6_000)

    parts = partition_by_age(table, seed=1)

    everything = np.concatenate(parts)
    assert np.array_equal(np.sort(everything), np.arange(6_000))
    for share, part in zip(DEFAULT_SHARES, parts, strict=True):
        band = (table.ages >= share.min_age) & (table.ages < share.max_age)
        # Nine rows in ten of each band stay with its platform; the rest
        # crossed over.
        assert 0.87 < np.isin(np.flatnonzero(band), part).mean() < 0.93
    assert all(
        np.array_equal(a, b)
        for a, b in zip(parts, partition_by_age(table, seed=1), strict=True)
    )
    pure = partition_by_age(table, seed=1, crossover=0.0)
    for share, part in zip(DEFAULT_SHARES, pure, strict=True):
        assert (
            (table.ages[part] >= share.min_age) & (table.ages[part] < share.max_age)
        ).all()


@pytest.mark.parametrize(
    ("shares", "message"),
    [
        ((PlatformShare("a", 0, 200),), "at least two"),
        ((PlatformShare("a", 0, 40), PlatformShare("b", 30, 200)), "overlaps"),
        ((PlatformShare("a", 0, 30), PlatformShare("b", 40, 200)), "leave out ages"),
        ((PlatformShare("a", 0, 200), PlatformShare("b", 200, 300)), "no rows fall"),
    ],
    ids=["one-platform", "overlap", "gap", "empty-band"],
)
def test_partition_refuses_bands_that_do_not_fit(
    shares: tuple[PlatformShare, ...], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        partition_by_age(_synthetic(500), seed=0, shares=shares, crossover=0.0)


def test_encoder_from_summed_moments_equals_pooled_fit() -> None:
    table = _synthetic(900)
    parts = partition_by_age(table, seed=0)

    encoder = fit_encoder([local_moments(table.subset(p)) for p in parts])
    pooled = fit_encoder([local_moments(table)])

    assert np.allclose(encoder.mean, pooled.mean)
    assert np.allclose(encoder.scale, pooled.scale)
    inputs = encoder.encode(table)
    assert inputs.shape == (900, encoder.width) and inputs.dtype == np.float32
    numeric = encoder.mean.shape[0]
    assert np.allclose(inputs[:, :numeric].mean(axis=0), 0.0, atol=1e-4)
    # One-hot blocks: one code per category group (sex, education,
    # marriage, six months of status) in every row.
    assert np.allclose(inputs[:, numeric:].sum(axis=1), 9.0)


def test_real_table_split_matches_its_documentation() -> None:
    table = load_credit_table(DATA_DIR)
    splits = split_holdout(table, seed=7)
    rows = describe_partition(
        splits.train, partition_by_age(splits.train, seed=7), DEFAULT_SHARES
    )

    assert len(table) == 30_000
    assert int(table.labels.sum()) == 6_636  # the UCI table's defaults
    assert (len(splits.train), len(splits.val), len(splits.test)) == (
        21_000,
        3_000,
        6_000,
    )
    assert [row.name for row in rows] == ["platform-a", "platform-b", "platform-c"]
    assert sum(row.samples for row in rows) == 21_000
    # Each about a third of the rows, the youngest first.
    assert all(5_500 < row.samples < 8_500 for row in rows)
    assert rows[0].median_age < 30 <= rows[1].median_age < 40 <= rows[2].median_age
