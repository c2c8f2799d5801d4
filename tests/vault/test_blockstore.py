"""Content-addressed blockstore: IPFS-compatible CIDs, verified reads."""

from pathlib import Path

import pytest

from agora.vault.blockstore import BlockStore, cid_of, parse_cid
from agora.vault.errors import BlockIntegrityError, BlockNotFoundError, InvalidCidError


def test_cid_matches_ipfs_raw_leaf_cid() -> None:
    # `ipfs add --raw-leaves --cid-version 1` of the 5 bytes "hello".
    assert (
        cid_of(b"hello")
        == "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"
    )


def test_put_then_get_round_trips(tmp_path: Path) -> None:
    store = BlockStore(tmp_path)
    cid = store.put(b"spec bytes")
    assert store.put(b"spec bytes") == cid
    assert store.get(cid) == b"spec bytes"
    assert cid in store


def test_tampered_block_is_refused(tmp_path: Path) -> None:
    store = BlockStore(tmp_path)
    cid = store.put(b"original")
    next(tmp_path.rglob(cid)).write_bytes(b"tampered")
    with pytest.raises(BlockIntegrityError, match=cid):
        store.get(cid)


def test_unknown_block_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(BlockNotFoundError):
        BlockStore(tmp_path).get(cid_of(b"never stored"))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not-a-cid",
        # CIDv0 (dag-pb): a different codec than the raw blocks stored here.
        "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",
        "../../etc/passwd",
    ],
    ids=["empty", "garbage", "cidv0-dag-pb", "path-traversal"],
)
def test_malformed_cid_is_refused(text: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidCidError):
        BlockStore(tmp_path).get(text)
    with pytest.raises(InvalidCidError):
        parse_cid(text)
