"""Byzantine-robust aggregation: an update nobody trusts cannot steer the model.

Federated averaging weights every accepted update by its example count, so
one provider sending a scaled, sign-flipped or label-flipped update moves
the average as far as it likes. The rules here bound that influence:

- :func:`trimmed_mean`: per coordinate, drop the ``k`` largest and ``k``
  smallest values and average the rest (Yin et al., ICML 2018, "Byzantine-
  Robust Distributed Learning", coordinate-wise trimmed mean);
- :func:`coordinate_median`: per coordinate, the median (same paper);
- :func:`krum`: the update closest to its ``n - f - 2`` nearest neighbours,
  or the average of the ``m`` best (Blanchard et al., NeurIPS 2017,
  "Machine Learning with Adversaries", Krum and Multi-Krum).

A job names its rule in its spec; :func:`aggregate_round` is what the
coordinator's auditor applies to a round.

Each takes the accepted updates (name to array, all of one shape set, as
:mod:`agora.federated.validation` guarantees) and returns a new set of
arrays; integer arrays (BatchNorm's ``num_batches_tracked``) are rounded
back to their dtype. They ignore example counts on purpose: a count is a
claim by the provider, and trusting it is what these rules avoid.

    >>> import numpy as np
    >>> honest = [{"w": np.array([1.0, 2.0])}, {"w": np.array([1.2, 2.1])},
    ...           {"w": np.array([0.9, 1.9])}]
    >>> poisoned = honest + [{"w": np.array([1e6, -1e6])}]
    >>> coordinate_median(poisoned)["w"].round(2).tolist()
    [1.1, 1.95]
    >>> krum(poisoned, byzantine=0)["w"].tolist()
    [1.0, 2.0]
"""

from collections.abc import Callable, Sequence
from enum import StrEnum

import numpy as np

from agora.federated.arrays import Arrays, weighted_average

Aggregator = Callable[[Sequence[Arrays]], Arrays]


class RobustRule(StrEnum):
    """The aggregation rules a job spec may name."""

    MEAN = "fedavg"
    TRIMMED_MEAN = "trimmed-mean"
    MEDIAN = "coordinate-median"
    KRUM = "krum"
    MULTI_KRUM = "multi-krum"


def _stack(updates: Sequence[Arrays], name: str) -> np.ndarray:
    return np.stack([update[name].astype(np.float64) for update in updates])


def _like(first: np.ndarray, values: np.ndarray) -> np.ndarray:
    if np.issubdtype(first.dtype, np.integer):
        values = np.rint(values)
    return values.astype(first.dtype)


def _check(updates: Sequence[Arrays], minimum: int, rule: str) -> None:
    if len(updates) < minimum:
        raise ValueError(f"{rule} needs at least {minimum} updates, got {len(updates)}")


def trimmed_mean(updates: Sequence[Arrays], *, trim: int) -> Arrays:
    """Coordinate-wise mean after dropping the ``trim`` largest and smallest
    values; tolerates up to ``trim`` arbitrary updates."""
    if trim < 0:
        raise ValueError("trim must not be negative")
    _check(updates, 2 * trim + 1, "a trimmed mean")
    result: Arrays = {}
    for name, first in updates[0].items():
        ordered = np.sort(_stack(updates, name), axis=0)
        kept = ordered[trim : len(updates) - trim]
        result[name] = _like(first, kept.mean(axis=0))
    return result


def coordinate_median(updates: Sequence[Arrays]) -> Arrays:
    """Coordinate-wise median; tolerates fewer than half arbitrary updates."""
    _check(updates, 1, "a median")
    return {
        name: _like(first, np.median(_stack(updates, name), axis=0))
        for name, first in updates[0].items()
    }


def _flat(update: Arrays, names: Sequence[str]) -> np.ndarray:
    return np.concatenate([update[name].astype(np.float64).ravel() for name in names])


def krum_scores(updates: Sequence[Arrays], *, byzantine: int) -> np.ndarray:
    """Each update's Krum score: the sum of squared distances to its
    ``n - byzantine - 2`` nearest other updates (lower is more central)."""
    count = len(updates)
    _check(updates, 2 * byzantine + 3, "Krum")
    names = sorted(updates[0])
    flat = np.stack([_flat(update, names) for update in updates])
    squared = np.sum(flat**2, axis=1)
    distances = np.maximum(squared[:, None] + squared[None, :] - 2 * flat @ flat.T, 0)
    neighbours = count - byzantine - 2
    scores = np.empty(count)
    for index in range(count):
        others = np.delete(distances[index], index)
        scores[index] = np.sort(others)[:neighbours].sum()
    return scores


def krum(updates: Sequence[Arrays], *, byzantine: int, select: int = 1) -> Arrays:
    """The update with the best Krum score, or the plain mean of the
    ``select`` best (Multi-Krum); needs ``n >= 2 * byzantine + 3``."""
    scores = krum_scores(updates, byzantine=byzantine)
    if not 1 <= select <= len(updates):
        raise ValueError("select must be between 1 and the number of updates")
    best = np.argsort(scores, kind="stable")[:select]
    chosen = [updates[int(index)] for index in best]
    return {
        name: _like(first, _stack(chosen, name).mean(axis=0))
        for name, first in updates[0].items()
    }


def aggregate_round(
    rule: RobustRule,
    updates: Sequence[Arrays],
    weights: Sequence[float],
    *,
    byzantine: int,
) -> tuple[Arrays, str]:
    """Aggregate one round's accepted updates by ``rule``; return the
    aggregate and the rule as applied (for the round record).

    Rejections and dropouts can leave fewer updates than ``rule`` needs to
    tolerate ``byzantine`` bad ones. The tolerance is then lowered to the
    most the count allows (a trimmed mean of 2 trims nothing), and Krum,
    which needs 3 updates to score, falls back to the coordinate median;
    the returned description says which happened, so an auditor who
    recomputes the aggregate knows what to recompute. Multi-Krum averages
    the ``n - f`` best-scored updates (Blanchard et al., section 5).
    FedAvg weighs by ``weights`` (example counts); the robust rules do not.
    """
    count = len(updates)
    if rule is RobustRule.MEAN:
        return weighted_average(updates, weights), str(rule)
    if rule is RobustRule.TRIMMED_MEAN:
        trim = min(byzantine, (count - 1) // 2)
        return trimmed_mean(updates, trim=trim), f"{rule}(trim={trim})"
    if rule is RobustRule.MEDIAN or count < 3:
        return coordinate_median(updates), str(RobustRule.MEDIAN)
    tolerated = min(byzantine, (count - 3) // 2)
    select = 1 if rule is RobustRule.KRUM else count - tolerated
    return (
        krum(updates, byzantine=tolerated, select=select),
        f"{rule}(f={tolerated},m={select})",
    )


def aggregator(rule: RobustRule, *, byzantine: int) -> Aggregator | None:
    """The aggregation for ``rule`` tolerating ``byzantine`` bad updates;
    ``None`` for plain weighted FedAvg."""
    if rule is RobustRule.MEAN:
        return None
    if rule is RobustRule.TRIMMED_MEAN:
        return lambda updates: trimmed_mean(updates, trim=byzantine)
    if rule is RobustRule.MEDIAN:
        return coordinate_median
    if rule is RobustRule.MULTI_KRUM:
        return lambda updates: krum(
            updates, byzantine=byzantine, select=len(updates) - byzantine
        )
    return lambda updates: krum(updates, byzantine=byzantine)
