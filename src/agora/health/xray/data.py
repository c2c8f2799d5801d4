"""Loading PneumoniaMNIST and splitting its train rows among hospitals.

The data is PneumoniaMNIST from MedMNIST v2 (Yang et al., Scientific Data
2023), 28x28 grey chest X-rays built from Kermany et al. 2018, label 0 normal
and 1 pneumonia. Outside this workspace the file comes from the public
MedMNIST release (https://medmnist.com, the file the ``medmnist`` package
downloads as ``pneumoniamnist.npz``); Agora reads it from the folder named by
the ``AGORA_DATA_DIR`` setting or the ``--data-dir`` option.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agora.errors import ConfigurationError, DataError

NPZ_NAME = "pneumoniamnist.npz"
"""File name of the dataset inside the data folder."""

IMAGE_SHAPE = (28, 28)
"""Height and width of every image."""

SPLIT_NAMES = ("train", "val", "test")
"""The official MedMNIST splits, in the order :class:`PneumoniaMnist` holds them."""

_SETTING = "AGORA_DATA_DIR or --data-dir"


@dataclass(frozen=True)
class ImageSplit:
    """One split of the dataset.

    ``images`` is ``uint8`` of shape ``(N, 28, 28)``; ``labels`` is ``int64`` of
    shape ``(N,)`` with 0 for normal and 1 for pneumonia.
    """

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, indices: np.ndarray) -> ImageSplit:
        """Return the rows at ``indices`` as a new split (copies the arrays)."""
        return ImageSplit(images=self.images[indices], labels=self.labels[indices])

    def class_counts(self) -> tuple[int, int]:
        """Return ``(normal, pneumonia)`` row counts."""
        pneumonia = int(self.labels.sum())
        return len(self) - pneumonia, pneumonia


@dataclass(frozen=True)
class PneumoniaMnist:
    """The three official splits.

    The coordinator of a federated run holds ``val``; ``test`` is for the
    final report only, never for choosing anything.
    """

    train: ImageSplit
    val: ImageSplit
    test: ImageSplit


def load_pneumoniamnist(data_dir: Path) -> PneumoniaMnist:
    """Read and check ``pneumoniamnist.npz`` from ``data_dir``.

    The file is opened without pickle support, so a crafted file cannot run
    code. Every problem (missing folder or file, unreadable archive, missing
    key, wrong shape or dtype, a label other than 0 or 1) raises
    :class:`~agora.errors.DataError` naming the file and the setting.

    Example::

        >>> data = load_pneumoniamnist(Path("../shared/data"))  # doctest: +SKIP
        >>> len(data.train), len(data.val), len(data.test)  # doctest: +SKIP
        (4708, 524, 624)
    """
    if not data_dir.is_dir():
        raise DataError(
            f"data folder {data_dir} does not exist or is not a folder; "
            f"set {_SETTING} to the folder holding {NPZ_NAME}"
        )
    path = data_dir / NPZ_NAME
    if not path.is_file():
        raise DataError(
            f"{path} not found; set {_SETTING} to the folder holding {NPZ_NAME}"
        )

    # NpzFile reads members lazily, so the arrays are materialised inside the
    # same guard that opens the archive: a bad CRC shows up only on read.
    try:
        with zipfile.ZipFile(path):
            pass  # np.load returns a bare array for a .npy renamed to .npz
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        # numpy's own message for pickled members advises allow_pickle=True,
        # which is the wrong advice for a data file: name the problem instead.
        reason = "holds pickled objects" if "pickle" in str(exc) else str(exc)
        raise DataError(
            f"{path} is not a readable .npz archive ({reason}); "
            f"check the file or point {_SETTING} at a good copy"
        ) from exc

    splits = [_checked_split(arrays, name, path) for name in SPLIT_NAMES]
    return PneumoniaMnist(*splits)


def _checked_split(arrays: dict[str, np.ndarray], name: str, path: Path) -> ImageSplit:
    images_key, labels_key = f"{name}_images", f"{name}_labels"
    missing = [key for key in (images_key, labels_key) if key not in arrays]
    if missing:
        raise DataError(
            f"{path} lacks {', '.join(missing)}; it is not a PneumoniaMNIST "
            f"file (check {_SETTING})"
        )
    images, labels = arrays[images_key], arrays[labels_key]

    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise DataError(
            f"{path}: {images_key} must be uint8 of shape (N, 28, 28), "
            f"found {images.dtype} {images.shape} (check {_SETTING})"
        )

    # MedMNIST stores labels as (N, 1); a flat (N,) column is accepted too.
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(
            f"{path}: {labels_key} must be integers of shape (N, 1), "
            f"found {labels.dtype} {arrays[labels_key].shape} (check {_SETTING})"
        )
    if labels.shape[0] != images.shape[0]:
        raise DataError(
            f"{path}: {images_key} has {images.shape[0]} rows but {labels_key} "
            f"has {labels.shape[0]} (check {_SETTING})"
        )
    if labels.size and not np.isin(labels, (0, 1)).all():
        raise DataError(
            f"{path}: {labels_key} holds values other than 0 (normal) and "
            f"1 (pneumonia) (check {_SETTING})"
        )

    # Every split must hold both classes: AUC and the decision threshold
    # are undefined otherwise, and a split with no rows trains nothing.
    present = set(np.unique(labels).tolist())
    if present != {0, 1}:
        raise DataError(
            f"{path}: {labels_key} must hold both normal (0) and pneumonia (1) "
            f"rows, found {sorted(present) or 'no rows'} (check {_SETTING})"
        )

    return ImageSplit(
        images=np.ascontiguousarray(images), labels=labels.astype(np.int64)
    )


@dataclass(frozen=True)
class HospitalShare:
    """What part of the train rows one hospital holds.

    ``size_fraction`` is the hospital's share of all train rows and
    ``pneumonia_fraction`` the share of pneumonia cases among its own rows.
    """

    name: str
    size_fraction: float
    pneumonia_fraction: float


DEFAULT_SHARES = (
    HospitalShare("hospital-a", size_fraction=0.55, pneumonia_fraction=0.92),
    HospitalShare("hospital-b", size_fraction=0.30, pneumonia_fraction=0.64),
    HospitalShare("hospital-c", size_fraction=0.15, pneumonia_fraction=0.29),
)
"""Three hospitals with different sizes and case mixes, using every train row.

A is a large referral centre whose X-rays are mostly confirmed pneumonia
(about 2,589 rows, 92 % pneumonia), B a general hospital near the pooled
mix (about 1,412 rows, 64 %), C a small clinic that mostly sees healthy
screening patients (about 707 rows, 29 %). On the official train split
(1,214 normal, 3,494 pneumonia) the three add up to every row; C's fraction
is what A and B leave over, which is why it is not a round number.
"""

_REMAINDER_TOLERANCE = 0.02


def partition_non_iid(
    labels: np.ndarray,
    *,
    seed: int,
    shares: Sequence[HospitalShare] = DEFAULT_SHARES,
) -> list[np.ndarray]:
    """Split row indices among hospitals with the given sizes and case mixes.

    Returns one sorted ``int64`` index array per share, pairwise disjoint and
    together covering every row. Within each class the rows are shuffled
    with ``seed``, so the same seed gives the same split. Every share but the
    last gets ``round(size_fraction * N)`` rows of which
    ``round(pneumonia_fraction * rows)`` are pneumonia; the last takes what
    is left, and its declared fractions must match that remainder within two
    percentage points (plus a few rows of rounding slack); otherwise the
    shares do not fit the labels' class balance and
    :class:`~agora.errors.ConfigurationError` is raised.

    Example::

        >>> labels = np.array([0] * 26 + [1] * 74)
        >>> [len(part) for part in partition_non_iid(labels, seed=0)]
        [55, 30, 15]
    """
    if not shares:
        raise ConfigurationError("partition needs at least one hospital share")
    if abs(sum(share.size_fraction for share in shares) - 1.0) > 1e-6:
        raise ConfigurationError("hospital size fractions must add up to 1")
    if any(not 0.0 <= share.pneumonia_fraction <= 1.0 for share in shares):
        raise ConfigurationError("pneumonia fractions must lie in [0, 1]")

    rng = np.random.default_rng(seed)
    pools = [rng.permutation(np.flatnonzero(labels == label)) for label in (0, 1)]
    taken = [0, 0]
    parts: list[np.ndarray] = []

    # Each hospital but the last draws its counts from the front of the
    # shuffled class pools; the last one gets the rest so no row is wasted.
    for share in shares[:-1]:
        rows = round(share.size_fraction * labels.shape[0])
        pneumonia = round(share.pneumonia_fraction * rows)
        wanted = (rows - pneumonia, pneumonia)
        chosen = []
        for label in (0, 1):
            end = taken[label] + wanted[label]
            if end > pools[label].shape[0]:
                raise ConfigurationError(
                    f"share {share.name!r} asks for more class-{label} rows "
                    "than the labels hold"
                )
            chosen.append(pools[label][taken[label] : end])
            taken[label] = end
        parts.append(np.sort(np.concatenate(chosen)).astype(np.int64))

    rest = np.sort(np.concatenate([pools[0][taken[0] :], pools[1][taken[1] :]]))
    _check_remainder(shares[-1], labels, rest, len(shares))
    parts.append(rest.astype(np.int64))
    return parts


def _check_remainder(
    share: HospitalShare, labels: np.ndarray, rest: np.ndarray, hospitals: int
) -> None:
    # Each earlier hospital's counts were rounded, up to half a row per class,
    # so small label arrays get a slack of a few rows on top of the tolerance.
    slack = hospitals
    wanted_rows = share.size_fraction * labels.shape[0]
    wanted_pneumonia = share.pneumonia_fraction * rest.shape[0]
    pneumonia = int(labels[rest].sum())
    if (
        abs(rest.shape[0] - wanted_rows)
        > _REMAINDER_TOLERANCE * labels.shape[0] + slack
        or abs(pneumonia - wanted_pneumonia)
        > _REMAINDER_TOLERANCE * rest.shape[0] + slack
    ):
        raise ConfigurationError(
            f"the rows left for {share.name!r} are {rest.shape[0]} with "
            f"{pneumonia} pneumonia, not the declared "
            f"{share.size_fraction:.1%} of rows / {share.pneumonia_fraction:.1%} "
            "pneumonia; the shares do not fit the labels' class balance"
        )


@dataclass(frozen=True)
class PartitionRow:
    """One hospital's part, as printed in reports."""

    name: str
    samples: int
    normal: int
    pneumonia: int


def describe_partition(
    labels: np.ndarray,
    parts: Sequence[np.ndarray],
    shares: Sequence[HospitalShare] = DEFAULT_SHARES,
) -> list[PartitionRow]:
    """Count rows and classes per hospital, for a table in a report.

    Example::

        >>> labels = np.array([0, 1, 1, 0])
        >>> describe_partition(labels, [np.array([0, 1]), np.array([2, 3])],
        ...                    [HospitalShare("a", 0.5, 0.5),
        ...                     HospitalShare("b", 0.5, 0.5)])[0]
        PartitionRow(name='a', samples=2, normal=1, pneumonia=1)
    """
    if len(parts) != len(shares):
        raise ConfigurationError(
            f"{len(parts)} parts but {len(shares)} hospital shares"
        )
    rows = []
    for share, part in zip(shares, parts, strict=True):
        pneumonia = int(labels[part].sum())
        rows.append(
            PartitionRow(
                name=share.name,
                samples=int(part.shape[0]),
                normal=int(part.shape[0]) - pneumonia,
                pneumonia=pneumonia,
            )
        )
    return rows
