"""Model weights as named numpy arrays: canonical hashing and averaging.

Flower moves weights as an ``ArrayRecord``; Agora hashes, validates and
averages them as an ordered ``dict[str, numpy.ndarray]`` (:data:`Arrays`).
A hash must not depend on dict order, platform byte order or memory layout,
so the canonical serialisation sorts names, writes every array little-endian
and C-contiguous, and length-prefixes each field (no two different inputs
can produce the same byte string).
"""

import hashlib
import struct
from collections.abc import Mapping, Sequence

import numpy as np
from flwr.app import Array, ArrayRecord

Arrays = dict[str, np.ndarray]
"""Named model arrays (a state dict converted to numpy), in model order."""

UPDATE_DOMAIN = b"agora.federated.update.v1"
AGGREGATE_DOMAIN = b"agora.federated.aggregate.v1"


def _field(data: bytes) -> bytes:
    return struct.pack(">Q", len(data)) + data


def canonical_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """Serialise ``arrays`` canonically: sorted names, little-endian, C order."""
    parts: list[bytes] = [struct.pack(">Q", len(arrays))]
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        little = array.astype(array.dtype.newbyteorder("<"), copy=False)
        parts.append(_field(name.encode()))
        parts.append(_field(little.dtype.str.encode()))
        parts.append(_field(struct.pack(f">{array.ndim}Q", *array.shape)))
        parts.append(_field(little.tobytes(order="C")))
    return b"".join(parts)


_ARRAY_KINDS = "biuf"
"""dtype kinds a published model may hold: no objects, no strings."""


def arrays_from_canonical(data: bytes) -> Arrays:
    """Parse bytes that :func:`canonical_bytes` wrote back into arrays.

    Only the canonical form is accepted (names sorted, little-endian
    numeric dtypes, lengths that add up to the whole input): anything else
    raises ``ValueError``, so one set of arrays has exactly one encoding,
    and a published update or aggregate cannot smuggle in a pickled object.
    """
    view = memoryview(data)
    offset = 0

    def take(size: int) -> bytes:
        nonlocal offset
        if size > len(view) - offset:
            raise ValueError("canonical arrays end early")
        chunk = bytes(view[offset : offset + size])
        offset += size
        return chunk

    def field() -> bytes:
        (size,) = struct.unpack(">Q", take(8))
        return take(size)

    (count,) = struct.unpack(">Q", take(8))
    arrays: Arrays = {}
    for _ in range(count):
        name = field().decode()
        try:
            dtype = np.dtype(field().decode())
        except TypeError as exc:
            raise ValueError(f"array {name!r}: unknown dtype") from exc
        if dtype.kind not in _ARRAY_KINDS or dtype.byteorder == ">":
            raise ValueError(f"array {name!r}: dtype {dtype.str} is not allowed")
        dims = field()
        if len(dims) % 8:
            raise ValueError(f"array {name!r}: malformed shape")
        shape = struct.unpack(f">{len(dims) // 8}Q", dims)
        body = field()
        if len(body) != dtype.itemsize * int(np.prod(shape, dtype=np.int64)):
            raise ValueError(f"array {name!r}: {len(body)} bytes for shape {shape}")
        arrays[name] = np.frombuffer(body, dtype=dtype).reshape(shape).copy()
    if offset != len(view) or canonical_bytes(arrays) != data:
        raise ValueError("arrays are not in canonical form")
    return arrays


def update_digest(
    arrays: Mapping[str, np.ndarray], *, job_id: int, server_round: int, provider: str
) -> bytes:
    """SHA-256 of one provider's update, bound to its job, round and provider.

    Binding the context into the hash means an update replayed into another
    round or claimed by another provider has a different leaf.
    """
    context = struct.pack(">QQ", job_id, server_round) + _field(provider.encode())
    body = canonical_bytes(arrays)
    return hashlib.sha256(_field(UPDATE_DOMAIN) + context + body).digest()


def aggregate_digest(
    arrays: Mapping[str, np.ndarray], *, job_id: int, server_round: int
) -> bytes:
    """SHA-256 of a round's aggregate model, bound to its job and round."""
    context = struct.pack(">QQ", job_id, server_round)
    body = canonical_bytes(arrays)
    return hashlib.sha256(_field(AGGREGATE_DOMAIN) + context + body).digest()


def weighted_average(updates: Sequence[Arrays], weights: Sequence[float]) -> Arrays:
    """Average ``updates`` by ``weights``, keeping each array's dtype.

    Integer arrays (BatchNorm's ``num_batches_tracked``) are averaged in
    float64 and rounded back. Raises ``ValueError`` when there is nothing to
    average or the weights do not sum to a positive number, instead of
    dividing by zero.
    """
    if not updates or len(updates) != len(weights):
        raise ValueError("need one positive weight per update, and one update")
    total = float(sum(weights))
    if not total > 0.0:
        raise ValueError("weights must sum to a positive number")

    averaged: Arrays = {}
    for name, first in updates[0].items():
        acc = np.zeros(first.shape, dtype=np.float64)
        for update, weight in zip(updates, weights, strict=True):
            acc += update[name].astype(np.float64) * (weight / total)
        if np.issubdtype(first.dtype, np.integer):
            acc = np.rint(acc)
        averaged[name] = acc.astype(first.dtype)
    return averaged


def to_record(arrays: Mapping[str, np.ndarray]) -> ArrayRecord:
    """Wrap named numpy arrays in a Flower ``ArrayRecord`` (order kept)."""
    return ArrayRecord({name: Array(np.asarray(a)) for name, a in arrays.items()})


def from_record(record: ArrayRecord) -> Arrays:
    """Unwrap a Flower ``ArrayRecord`` into named numpy arrays."""
    return {name: array.numpy() for name, array in record.items()}
