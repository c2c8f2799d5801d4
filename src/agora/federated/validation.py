"""Validation of provider updates before they may touch the global model.

Rules, each with the name carried by :class:`InvalidUpdateError`:

- ``num-examples``: the reported example count is a positive integer
  (a zero count would divide by zero in the weighted average) and no more
  than the provider offered on chain, or, in a consent-scoped job, than the
  records it declared included (an inflated count would buy it a larger
  say in the average);
- ``missing-arrays``: exactly the global model's array names;
- ``shape-mismatch``: same shape and dtype kind as the global array;
- ``non-finite``: no NaN or infinity anywhere;
- ``norm-bound``: the L2 norm of the change from the global model, over
  all floating arrays, is at most the job's bound (a huge-norm update is
  either broken or an attack on the average);
- ``wrong-round`` (:func:`check_round`): the round a reply says it answers
  is the round being aggregated. The round is also bound into the update's
  hash (:func:`~agora.federated.arrays.update_digest`), so a stale update
  replayed under a new round tag fails ``digest-mismatch`` instead.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from agora.federated.errors import InvalidUpdateError


@dataclass(frozen=True)
class ValidUpdate:
    """The facts validation established about an update."""

    num_examples: int
    norm: float


def update_norm(
    update: Mapping[str, np.ndarray], reference: Mapping[str, np.ndarray]
) -> float:
    """L2 norm of ``update - reference`` over the floating-point arrays."""
    squares = 0.0
    for name, ref in reference.items():
        if np.issubdtype(ref.dtype, np.floating):
            delta = update[name].astype(np.float64) - ref.astype(np.float64)
            squares += float(np.dot(delta.ravel(), delta.ravel()))
    return math.sqrt(squares)


def check_round(claimed: int, server_round: int) -> None:
    """Raise ``wrong-round`` unless a reply's ``claimed`` round is this one."""
    if claimed != server_round:
        raise InvalidUpdateError(
            "wrong-round", f"reply is for round {claimed}, not {server_round}"
        )


def validate_update(
    update: Mapping[str, np.ndarray],
    reference: Mapping[str, np.ndarray],
    *,
    num_examples: object,
    max_norm: float,
    max_examples: int | None = None,
) -> ValidUpdate:
    """Check ``update`` against the global ``reference``.

    Raises :class:`InvalidUpdateError` naming the first rule broken.
    """
    # Example count first: it weighs the update in the average.
    if (
        isinstance(num_examples, bool)
        or not isinstance(num_examples, int | float)
        or not float(num_examples).is_integer()
        or num_examples <= 0
    ):
        raise InvalidUpdateError("num-examples", f"got {num_examples!r}")
    if max_examples is not None and num_examples > max_examples:
        raise InvalidUpdateError(
            "num-examples",
            f"{int(num_examples)} exceeds the bound of {max_examples} "
            "(offered, or declared included)",
        )

    # Structure: the same arrays, shapes and kinds as the global model.
    if set(update) != set(reference):
        missing = sorted(set(reference) - set(update))
        extra = sorted(set(update) - set(reference))
        raise InvalidUpdateError(
            "missing-arrays", f"missing {missing[:3]}, unexpected {extra[:3]}"
        )
    for name, ref in reference.items():
        got = update[name]
        if got.shape != ref.shape or got.dtype.kind != ref.dtype.kind:
            raise InvalidUpdateError(
                "shape-mismatch",
                f"{name}: {got.dtype}{list(got.shape)} != {ref.dtype}{list(ref.shape)}",
            )

    # Values: finite everywhere, and a bounded step from the global model.
    for name, got in update.items():
        if np.issubdtype(got.dtype, np.floating) and not np.isfinite(got).all():
            raise InvalidUpdateError("non-finite", f"{name} holds NaN or infinity")
    norm = update_norm(update, reference)
    if not norm <= max_norm:
        raise InvalidUpdateError(
            "norm-bound", f"norm {norm:.3g} > bound {max_norm:.3g}"
        )
    return ValidUpdate(int(num_examples), norm)
