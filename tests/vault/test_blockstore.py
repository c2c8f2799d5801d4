"""Content-addressed blockstore: IPFS-compatible CIDs, verified reads."""

from pathlib import Path

import pytest

from agora.vault.blockstore import (
    DAG_PB,
    RAW,
    BlockRef,
    BlockStore,
    cid_of,
    parse_block_ref,
    parse_cid,
)
from agora.vault.errors import BlockIntegrityError, BlockNotFoundError, InvalidCidError

# `ipfs add` of the 5 bytes "hello" (CIDv0) and `ipfs cid base32` of it.
HELLO_V0 = "QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX"
HELLO_V1 = "bafybeid3weurg3gvyoi7nisadzolomlvoxoppe2sesktnpvdve3256n5tq"


def test_cid_matches_ipfs_raw_leaf_cid() -> None:
    # `ipfs add --raw-leaves --cid-version 1` of the 5 bytes "hello".
    assert (
        cid_of(b"hello")
        == "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"
    )


def test_cidv0_and_cidv1_name_the_same_dag_pb_block() -> None:
    ref = parse_block_ref(HELLO_V0)

    assert ref.codec == DAG_PB
    assert ref.cid == HELLO_V1
    assert ref.cid_v0 == HELLO_V0
    assert parse_block_ref(HELLO_V1) == ref
    assert BlockRef.from_bytes(ref.to_bytes(version=0)) == ref
    assert BlockRef.from_bytes(ref.to_bytes(version=1)) == ref


def test_a_raw_block_has_no_cidv0() -> None:
    with pytest.raises(InvalidCidError, match="no CIDv0"):
        _ = parse_block_ref(cid_of(b"hello")).cid_v0


def test_put_then_get_round_trips(tmp_path: Path) -> None:
    store = BlockStore(tmp_path)
    cid = store.put(b"spec bytes")
    assert store.put(b"spec bytes") == cid
    assert store.get(cid) == b"spec bytes"
    assert cid in store


def test_a_block_is_found_under_either_cid_version(tmp_path: Path) -> None:
    store = BlockStore(tmp_path)
    block = bytes.fromhex("0a0b0802120568656c6c6f1805")  # the "hello" leaf
    store.put_block(BlockRef.of(DAG_PB, block), block)

    assert store.get(HELLO_V0) == block
    assert store.get(HELLO_V1) == block


def test_tampered_block_is_refused(tmp_path: Path) -> None:
    store = BlockStore(tmp_path)
    cid = store.put(b"original")
    next(tmp_path.rglob(cid)).write_bytes(b"tampered")
    with pytest.raises(BlockIntegrityError, match=cid):
        store.get(cid)


def test_a_block_stored_under_a_wrong_reference_is_refused(tmp_path: Path) -> None:
    store = BlockStore(tmp_path)
    ref = BlockRef.of(RAW, b"what the caller claimed")
    store.put_block(ref, b"what was written")
    with pytest.raises(BlockIntegrityError):
        store.get_block(ref)


def test_unknown_block_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(BlockNotFoundError):
        BlockStore(tmp_path).get(cid_of(b"never stored"))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not-a-cid",
        "../../etc/passwd",
        # dag-cbor (0x71): a codec this store does not hold.
        "bafyreibnoelefnzgwbcacyt4vh52ymxvzbjq7mmqhtcnwarfq4lzegsiqe",
        # sha2-512 multihash of a raw block.
        "bafkrgqfevpkejdcjkywyfaiv2e5b7thksj7vfngviwjjp6fuhzbnvcjdrpatmjxehxftrxnqqj"
        "eisj7msbh3iicxiq4yh2efqulz2ucvdl7ge",
    ],
    ids=["empty", "garbage", "path-traversal", "codec-dag-cbor", "hash-sha2-512"],
)
def test_malformed_cid_is_refused(text: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidCidError):
        BlockStore(tmp_path).get(text)
    with pytest.raises(InvalidCidError):
        parse_cid(text)


@pytest.mark.parametrize(
    "data",
    [b"", b"\x12\x20" + b"\0" * 31, b"\x01\x71\x12\x20" + b"\0" * 32],
    ids=["empty", "short-digest", "codec-dag-cbor"],
)
def test_malformed_binary_cid_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidCidError):
        BlockRef.from_bytes(data)
