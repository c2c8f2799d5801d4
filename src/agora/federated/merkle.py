"""Merkle trees over update hashes, as RFC 6962 (Certificate Transparency) §2.1.

The round commitment on chain is the Merkle Tree Hash of the accepted
providers' update hashes, in the order the strategy lists them. RFC 6962
separates leaves from interior nodes with a one-byte prefix (0x00 / 0x01) so
that an interior node can never be passed off as a leaf (second-preimage
attack on plain Merkle trees), and splits each tree at the largest power of
two below its size, which gives a unique tree for every leaf count.

The tree of no leaves is the hash of the empty string (RFC 6962 §2.1); a round
in which every update was rejected commits that root.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from agora.federated.errors import InclusionProofError

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaf_hash(item: bytes) -> bytes:
    """Hash one leaf: ``SHA-256(0x00 || item)``."""
    return _sha256(_LEAF_PREFIX + item)


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two children: ``SHA-256(0x01 || left || right)``."""
    return _sha256(_NODE_PREFIX + left + right)


def _split_point(size: int) -> int:
    """The largest power of two strictly smaller than ``size`` (``size`` > 1)."""
    split = 1
    while split * 2 < size:
        split *= 2
    return split


def merkle_root(items: Sequence[bytes]) -> bytes:
    """Merkle Tree Hash of ``items`` (RFC 6962 §2.1).

    Example::

        >>> merkle_root([]).hex()[:16]
        'e3b0c44298fc1c14'
    """
    if not items:
        return _sha256(b"")
    if len(items) == 1:
        return leaf_hash(items[0])
    split = _split_point(len(items))
    return node_hash(merkle_root(items[:split]), merkle_root(items[split:]))


@dataclass(frozen=True)
class InclusionProof:
    """Audit path of one leaf (RFC 6962 §2.1.1), enough to rebuild the root."""

    index: int
    tree_size: int
    path: tuple[bytes, ...]


def inclusion_proof(items: Sequence[bytes], index: int) -> InclusionProof:
    """Build the audit path of ``items[index]``."""
    if not 0 <= index < len(items):
        raise IndexError(f"leaf index {index} outside a tree of {len(items)}")
    return InclusionProof(index, len(items), tuple(_audit_path(items, index)))


def _audit_path(items: Sequence[bytes], index: int) -> list[bytes]:
    if len(items) <= 1:
        return []
    split = _split_point(len(items))
    if index < split:
        return [*_audit_path(items[:split], index), merkle_root(items[split:])]
    return [*_audit_path(items[split:], index - split), merkle_root(items[:split])]


def root_from_proof(item: bytes, proof: InclusionProof) -> bytes:
    """Recompute the root that ``proof`` implies for ``item`` (RFC 9162 §2.1.3.2)."""
    if not 0 <= proof.index < proof.tree_size:
        raise InclusionProofError("proof index outside the tree")

    # Walk up from the leaf; ``last`` tracks the right edge of the tree so
    # that a node with no right sibling (RFC 9162's "fn == sn") is skipped.
    fn, sn = proof.index, proof.tree_size - 1
    node = leaf_hash(item)
    for sibling in proof.path:
        if sn == 0:
            raise InclusionProofError("proof is longer than the tree is deep")
        if fn % 2 == 1 or fn == sn:
            node = node_hash(sibling, node)
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            node = node_hash(node, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InclusionProofError("proof is shorter than the tree is deep")
    return node


def verify_inclusion(item: bytes, proof: InclusionProof, root: bytes) -> None:
    """Check that ``item`` is in the tree whose root is ``root``; raise if not."""
    if root_from_proof(item, proof) != root:
        raise InclusionProofError(
            f"leaf {proof.index} of {proof.tree_size} does not lead to the root"
        )
