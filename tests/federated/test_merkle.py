"""Merkle commitments: RFC 6962 known answers and inclusion proofs."""

import hashlib

import pytest

from agora.federated.errors import InclusionProofError
from agora.federated.merkle import (
    InclusionProof,
    inclusion_proof,
    merkle_root,
    root_from_proof,
    verify_inclusion,
)

# The leaf inputs and roots used by Certificate Transparency's reference
# implementations to test RFC 6962 §2.1 Merkle Tree Hashes.
CT_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def test_empty_tree_is_hash_of_empty_string() -> None:
    assert merkle_root([]) == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_rfc6962_reference_vectors(size: int) -> None:
    assert merkle_root(CT_LEAVES[:size]).hex() == CT_ROOTS[size - 1]


def _leaves(count: int) -> list[bytes]:
    return [hashlib.sha256(str(i).encode()).digest() for i in range(count)]


@pytest.mark.parametrize("size", range(1, 18))
def test_every_leaf_proves_inclusion(size: int) -> None:
    leaves = _leaves(size)
    root = merkle_root(leaves)
    for index, leaf in enumerate(leaves):
        verify_inclusion(leaf, inclusion_proof(leaves, index), root)


def test_tampered_leaf_is_rejected() -> None:
    leaves = _leaves(5)
    proof = inclusion_proof(leaves, 3)
    with pytest.raises(InclusionProofError):
        verify_inclusion(b"\x00" * 32, proof, merkle_root(leaves))


def test_proof_for_another_position_is_rejected() -> None:
    leaves = _leaves(6)
    proof = inclusion_proof(leaves, 2)
    moved = InclusionProof(4, proof.tree_size, proof.path)
    with pytest.raises(InclusionProofError):
        verify_inclusion(leaves[2], moved, merkle_root(leaves))


def test_truncated_or_padded_path_is_rejected() -> None:
    leaves = _leaves(7)
    proof = inclusion_proof(leaves, 1)
    short = InclusionProof(proof.index, proof.tree_size, proof.path[:-1])
    long = InclusionProof(proof.index, proof.tree_size, (*proof.path, b"\x00" * 32))
    for bad in (short, long):
        with pytest.raises(InclusionProofError):
            verify_inclusion(leaves[1], bad, merkle_root(leaves))


def test_index_outside_tree_is_rejected() -> None:
    with pytest.raises(InclusionProofError, match="outside"):
        root_from_proof(b"x", InclusionProof(3, 3, ()))
    with pytest.raises(IndexError):
        inclusion_proof(_leaves(2), 2)


def test_interior_node_cannot_pose_as_leaf() -> None:
    # Without RFC 6962's 0x00/0x01 prefixes, the pair (h0||h1) of a two-leaf
    # tree would verify as a single leaf of a one-leaf tree with equal root.
    leaves = _leaves(2)
    forged = b"".join(hashlib.sha256(b"\x00" + leaf).digest() for leaf in leaves)
    assert merkle_root([forged]) != merkle_root(leaves)
