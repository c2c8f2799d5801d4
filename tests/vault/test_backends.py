"""One conformance suite for every block backend.

The folder store always runs. The Kubo RPC backend runs only where
``AGORA_IPFS_API`` points at a Kubo node (no IPFS daemon is installed on
the CI machines); its error mapping is tested everywhere.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from agora.errors import ConfigurationError
from agora.settings import Settings, load_settings
from agora.vault.blockstore import (
    DAG_PB,
    RAW,
    BlockBackend,
    BlockRef,
    BlockStore,
    open_blockstore,
)
from agora.vault.errors import BackendError, BlockIntegrityError, BlockNotFoundError
from agora.vault.kubo import KuboBlockStore
from agora.vault.unixfs import CHUNK_SIZE, FileWriter, read_file

IPFS_API = os.environ.get("AGORA_IPFS_API", "").strip()


@pytest.fixture(params=["folder", "kubo"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlockBackend]:
    if request.param == "folder":
        yield BlockStore(tmp_path)
    elif not IPFS_API:
        pytest.skip("AGORA_IPFS_API is not set: no Kubo node to test against")
    else:
        yield KuboBlockStore(IPFS_API)


def test_a_raw_block_round_trips(backend: BlockBackend) -> None:
    block = os.urandom(100)
    ref = BlockRef.of(RAW, block)
    backend.put_block(ref, block)

    assert backend.has_block(ref)
    assert backend.get_block(ref) == block


def test_a_file_round_trips_under_the_same_cid(backend: BlockBackend) -> None:
    data = os.urandom(2 * CHUNK_SIZE + 1)
    writer = FileWriter(backend)
    writer.write(data)
    root = writer.close()

    assert b"".join(read_file(backend, root.cid_v0)) == data


def test_a_missing_block_is_not_found(backend: BlockBackend) -> None:
    ref = BlockRef.of(DAG_PB, os.urandom(32))
    assert not backend.has_block(ref)
    with pytest.raises(BlockNotFoundError):
        backend.get_block(ref)


def test_a_block_under_a_wrong_reference_is_refused(backend: BlockBackend) -> None:
    claimed = BlockRef.of(RAW, b"claimed")
    if isinstance(backend, KuboBlockStore):
        # Kubo hashes what it receives: it refuses to file it under `claimed`.
        with pytest.raises(BackendError):
            backend.put_block(claimed, b"written")
        return
    backend.put_block(claimed, b"written")
    with pytest.raises(BlockIntegrityError):
        backend.get_block(claimed)


def test_an_unreachable_kubo_api_is_a_backend_error() -> None:
    # Port 9 (discard) on loopback: nothing answers, connecting fails fast.
    store = KuboBlockStore("http://user:s3cret@127.0.0.1:9", timeout_s=5)
    with pytest.raises(BackendError) as caught:
        store.get_block(BlockRef.of(RAW, b"x"))
    assert "s3cret" not in str(caught.value)
    assert isinstance(caught.value, ConfigurationError)


@pytest.mark.parametrize("url", ["127.0.0.1:5001", "ftp://host/", "http://"])
def test_a_malformed_kubo_url_is_a_backend_error(url: str) -> None:
    with pytest.raises(BackendError):
        KuboBlockStore(url)


def test_settings_choose_the_backend(tmp_path: Path) -> None:
    folder = open_blockstore(Settings(vault_dir=tmp_path))
    kubo = open_blockstore(Settings(ipfs_api="http://127.0.0.1:5001"))

    assert isinstance(folder, BlockStore) and folder.root == tmp_path
    assert isinstance(kubo, KuboBlockStore)


def test_an_empty_ipfs_api_setting_means_the_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AGORA_IPFS_API", " ")
    monkeypatch.setenv("AGORA_VAULT_DIR", str(tmp_path))
    settings = load_settings()

    assert settings.ipfs_api is None
    assert isinstance(open_blockstore(settings), BlockStore)
