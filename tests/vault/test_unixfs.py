"""UnixFS files: the CIDs of Kubo's `ipfs add` defaults, verified reads."""

import os
from pathlib import Path

import pytest

from agora.vault.blockstore import DAG_PB, BlockRef, BlockStore
from agora.vault.dagpb import Link, decode_node, encode_branch, encode_leaf, varint
from agora.vault.errors import (
    BlockIntegrityError,
    BlockNotFoundError,
    DagRule,
    MalformedDagError,
)
from agora.vault.unixfs import (
    CHUNK_SIZE,
    MAX_DEPTH,
    MAX_LINKS,
    FileRoot,
    FileWriter,
    read_file,
)

from .support import reference_cids


def _add(store: BlockStore, data: bytes, *, piece: int = 100_000) -> FileRoot:
    writer = FileWriter(store)
    for start in range(0, len(data), piece):
        writer.write(data[start : start + piece])
    return writer.close()


def _put(store: BlockStore, block: bytes) -> BlockRef:
    ref = BlockRef.of(DAG_PB, block)
    store.put_block(ref, block)
    return ref


def test_known_answers_of_kubo() -> None:
    # `ipfs add` of an empty file and of the 5 bytes "hello" (Kubo docs and
    # every IPFS tutorial quote these two).
    assert BlockRef.of(DAG_PB, encode_leaf(b"")).cid_v0 == (
        "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"
    )
    assert BlockRef.of(DAG_PB, encode_leaf(b"hello")).cid_v0 == (
        "QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX"
    )


@pytest.mark.parametrize(
    "size",
    [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 7],
    ids=["empty", "one-byte", "chunk-minus-1", "one-chunk", "chunk-plus-1", "3-chunks"],
)
def test_cids_match_ipfs_add(size: int, tmp_path: Path) -> None:
    data = os.urandom(size)
    (tmp_path / "file").write_bytes(data)
    store = BlockStore(tmp_path / "blocks")

    root = _add(store, data)

    assert (root.cid_v0, root.cid) == reference_cids(tmp_path / "file")
    assert root.size == size
    assert b"".join(read_file(store, root.cid_v0)) == data


@pytest.mark.slow
@pytest.mark.parametrize(
    "chunks",
    [MAX_LINKS, MAX_LINKS + 1],
    ids=["full-root", "second-level"],
)
def test_cids_match_ipfs_add_past_one_node_of_links(
    chunks: int, tmp_path: Path
) -> None:
    # 174 chunks fill one node; the 175th needs a second tree level whose
    # rightmost subtree wraps a single leaf (≈ 45 MB).
    data = os.urandom(chunks * CHUNK_SIZE + 5)
    (tmp_path / "file").write_bytes(data)
    store = BlockStore(tmp_path / "blocks")

    root = _add(store, data, piece=1024 * 1024)

    assert (root.cid_v0, root.cid) == reference_cids(tmp_path / "file")
    assert b"".join(read_file(store, root.cid)) == data


def test_write_pieces_do_not_change_the_cid(tmp_path: Path) -> None:
    data = os.urandom(2 * CHUNK_SIZE + 3)
    store = BlockStore(tmp_path)
    assert _add(store, data, piece=1).cid == _add(store, data, piece=CHUNK_SIZE).cid


def test_a_tampered_leaf_is_refused(tmp_path: Path) -> None:
    store = BlockStore(tmp_path)
    root = _add(store, os.urandom(2 * CHUNK_SIZE))
    leaf = BlockRef.from_bytes(decode_node(store.get_block(root.ref)).links[1].cid)
    path = next(tmp_path.rglob(leaf.cid))
    path.write_bytes(path.read_bytes()[:-1] + b"\0")

    with pytest.raises(BlockIntegrityError, match=leaf.cid):
        b"".join(read_file(store, root.cid))


def test_a_missing_leaf_is_not_found(tmp_path: Path) -> None:
    store = BlockStore(tmp_path)
    root = _add(store, os.urandom(2 * CHUNK_SIZE))
    leaf = BlockRef.from_bytes(decode_node(store.get_block(root.ref)).links[0].cid)
    next(tmp_path.rglob(leaf.cid)).unlink()

    with pytest.raises(BlockNotFoundError):
        b"".join(read_file(store, root.cid))


def test_a_node_declaring_another_size_breaks_the_file_size_rule(
    tmp_path: Path,
) -> None:
    store = BlockStore(tmp_path)
    leaf = _put(store, encode_leaf(b"abc"))
    link = Link(leaf.to_bytes(version=0), 13)
    lying = _put(store, encode_branch([link], [4]))

    with pytest.raises(MalformedDagError) as caught:
        b"".join(read_file(store, lying.cid))
    assert caught.value.rule is DagRule.FILE_SIZE


def test_a_directory_breaks_the_node_type_rule(tmp_path: Path) -> None:
    # An empty UnixFS directory: PBNode{Data: {Type: Directory}} (`ipfs
    # object new unixfs-dir`, QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn).
    directory = _put(BlockStore(tmp_path), bytes.fromhex("0a020801"))
    assert directory.cid_v0 == "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"

    with pytest.raises(MalformedDagError) as caught:
        b"".join(read_file(BlockStore(tmp_path), directory.cid))
    assert caught.value.rule is DagRule.NODE_TYPE


def test_a_link_to_another_codec_breaks_the_codec_rule(tmp_path: Path) -> None:
    store = BlockStore(tmp_path)
    cbor_cid = b"\x01\x71\x12\x20" + bytes(32)
    node = _put(store, encode_branch([Link(cbor_cid, 1)], [1]))

    with pytest.raises(MalformedDagError) as caught:
        b"".join(read_file(store, node.cid))
    assert caught.value.rule is DagRule.CODEC


def test_a_chain_deeper_than_any_file_breaks_the_depth_rule(
    tmp_path: Path,
) -> None:
    store = BlockStore(tmp_path)
    ref = _put(store, encode_leaf(b"x"))
    for _ in range(MAX_DEPTH + 1):
        ref = _put(store, encode_branch([Link(ref.to_bytes(version=0), 1)], [1]))

    with pytest.raises(MalformedDagError) as caught:
        b"".join(read_file(store, ref.cid))
    assert caught.value.rule is DagRule.DEPTH


@pytest.mark.parametrize(
    "block",
    [
        b"\x0a",  # Data field with no length
        b"\x0a\x05\x08\x02",  # length past the end
        b"\x0b\x00",  # wire type 3 (group), not in proto3/dag-pb
        b"\x0a\x02\x08" + b"\xff" * 11,  # varint longer than 64 bits
        b"\x12\x02\x18\x01" + b"\x0a\x02\x08\x02",  # link without a hash
        b"\x1a\x00",  # PBNode field 3 does not exist
        b"",  # no Data at all
    ],
    ids=[
        "truncated-length",
        "field-past-end",
        "wire-type-group",
        "overlong-varint",
        "link-without-hash",
        "unknown-pbnode-field",
        "no-unixfs-data",
    ],
)
def test_malformed_protobuf_is_refused(block: bytes) -> None:
    with pytest.raises(MalformedDagError) as caught:
        decode_node(block)
    assert caught.value.rule in (DagRule.PROTOBUF, DagRule.NODE_TYPE)


def test_varint_known_answers() -> None:
    # Protocol Buffers encoding guide: 1 -> 01, 150 -> 96 01, 300 -> ac 02.
    assert [varint(n).hex() for n in (0, 1, 150, 300)] == ["00", "01", "9601", "ac02"]


def test_writing_after_close_is_refused(tmp_path: Path) -> None:
    writer = FileWriter(BlockStore(tmp_path))
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.write(b"late")
