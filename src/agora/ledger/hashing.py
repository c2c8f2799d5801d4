"""Canonical hashes and weights that the contracts compare but never compute.

``DataMarket`` matches a dataset to a job by comparing two 32-byte values;
every party must derive them the same way, so the derivation lives here
and nowhere else.
"""

import math
from collections.abc import Sequence

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from agora.ledger.errors import InvalidArgumentError
from agora.ledger.model import BPS


def modality_hash(name: str) -> bytes:
    """Keccak-256 of a modality name in UTF-8.

    Example::

        >>> modality_hash("xray/chest-28x28-grey").hex()[:8]
        '1ac10a1c'
    """
    if not name:
        raise InvalidArgumentError("modality name is empty")
    return keccak(name.encode("utf-8"))


def label_set_hash(labels: Sequence[str]) -> bytes:
    """Keccak-256 of a label set, independent of order and repetition.

    The labels are deduplicated, sorted by code point (which is also their
    UTF-8 byte order) and ABI-encoded as ``string[]`` before hashing, so a
    contract could recompute the hash with ``keccak256(abi_encode(...))``
    and no choice of separator can make two sets collide.

    Example::

        >>> label_set_hash(["pneumonia", "normal"]) == label_set_hash(
        ...     ["normal", "pneumonia", "normal"])
        True
    """
    if isinstance(labels, str):
        # A bare string is a Sequence[str] of characters: almost surely a bug.
        raise InvalidArgumentError("labels must be a sequence of strings, not a str")
    canonical = sorted(set(labels))
    if not canonical:
        raise InvalidArgumentError("label set is empty")
    if "" in canonical:
        raise InvalidArgumentError("label set contains an empty label")
    return keccak(encode(["string[]"], [canonical]))


def to_basis_points(weights: Sequence[float]) -> list[int]:
    """Scale non-negative contribution weights to integers summing to 10000.

    Uses the largest-remainder method so the result always sums to exactly
    :data:`~agora.ledger.model.BPS`, as ``DataMarket.finalize`` requires;
    ties go to the earlier provider.

    Example::

        >>> to_basis_points([1.0, 1.0, 1.0])
        [3334, 3333, 3333]
    """
    if not weights:
        raise InvalidArgumentError("no weights")
    if any(not math.isfinite(w) or w < 0 for w in weights):
        raise InvalidArgumentError("weights must be finite and non-negative")
    total = math.fsum(weights)
    if total <= 0:
        raise InvalidArgumentError("weights sum to zero")

    # Floor every share, then hand the missing points to the largest
    # fractional parts.
    exact = [w * BPS / total for w in weights]
    points = [math.floor(share) for share in exact]
    missing = BPS - sum(points)
    by_remainder = sorted(range(len(exact)), key=lambda i: (points[i] - exact[i], i))
    for index in by_remainder[:missing]:
        points[index] += 1
    return points
