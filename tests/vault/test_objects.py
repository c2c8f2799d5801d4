"""Encrypted objects end to end: owner round trip and every refusal."""

import io
import json
import os
import tracemalloc
from pathlib import Path

import pytest

from agora.vault.blockstore import RAW, BlockRef, BlockStore
from agora.vault.encryption import SEGMENT_SIZE
from agora.vault.errors import (
    BlockIntegrityError,
    EnvelopeError,
    StreamRule,
    TamperedObjectError,
    WrongKeyError,
)
from agora.vault.objects import (
    Envelope,
    get_decrypted,
    owner_data_key,
    put_encrypted,
    read_envelope,
    stream_decrypted,
)
from agora.vault.reencryption import SecretKey
from agora.vault.unixfs import read_file

OWNER = SecretKey.random()


def _put(store: BlockStore, data: bytes) -> str:
    return put_encrypted(store, io.BytesIO(data), OWNER.public_key())


def _store_envelope(store: BlockStore, envelope: Envelope) -> str:
    block = envelope.canonical_json()
    ref = BlockRef.of(RAW, block)
    store.put_block(ref, block)
    return ref.cid


@pytest.mark.parametrize("size", [0, 1, SEGMENT_SIZE, 2 * SEGMENT_SIZE + 3])
def test_the_owner_gets_back_what_was_put(size: int, tmp_path: Path) -> None:
    store = BlockStore(tmp_path / "blocks")
    data = os.urandom(size)

    cid = _put(store, data)

    assert get_decrypted(store, cid, OWNER, tmp_path / "out") == size
    assert (tmp_path / "out").read_bytes() == data


def test_nothing_stored_is_plaintext(tmp_path: Path) -> None:
    store = BlockStore(tmp_path)
    marker = b"patient-name:Jane Roe;" * 1000
    _put(store, marker)

    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"Jane Roe" not in path.read_bytes()


def test_putting_the_same_bytes_twice_gives_unlinkable_objects(
    tmp_path: Path,
) -> None:
    store = BlockStore(tmp_path)
    first, second = _put(store, b"same"), _put(store, b"same")
    assert first != second
    assert read_envelope(store, first).ciphertext != (
        read_envelope(store, second).ciphertext
    )


def test_another_key_gets_nothing(tmp_path: Path) -> None:
    store = BlockStore(tmp_path / "blocks")
    cid = _put(store, b"record")

    with pytest.raises(WrongKeyError):
        get_decrypted(store, cid, SecretKey.random(), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_tampered_ciphertext_block_writes_nothing(tmp_path: Path) -> None:
    store = BlockStore(tmp_path / "blocks")
    cid = _put(store, os.urandom(3 * SEGMENT_SIZE))
    last_leaf = sorted((tmp_path / "blocks").rglob("bafybei*"))[-1]
    last_leaf.write_bytes(last_leaf.read_bytes()[::-1])

    with pytest.raises(BlockIntegrityError):
        get_decrypted(store, cid, OWNER, tmp_path / "out")
    assert list(tmp_path.glob("out*")) == []
    assert list(tmp_path.glob(".tmp-*")) == []


def test_another_objects_ciphertext_under_this_envelope_is_refused(
    tmp_path: Path,
) -> None:
    # An envelope rewritten to point at the owner's other object: the key
    # still unwraps, but the segments are bound to the other object's id.
    store = BlockStore(tmp_path / "blocks")
    mine = read_envelope(store, _put(store, b"mine"))
    other = read_envelope(store, _put(store, b"other"))
    swapped = _store_envelope(
        store, mine.model_copy(update={"ciphertext": other.ciphertext})
    )

    with pytest.raises(TamperedObjectError) as caught:
        get_decrypted(store, swapped, OWNER, tmp_path / "out")
    assert caught.value.rule is StreamRule.AUTHENTICATION
    assert not (tmp_path / "out").exists()


def test_a_size_other_than_the_envelopes_breaks_the_length_rule(
    tmp_path: Path,
) -> None:
    store = BlockStore(tmp_path)
    envelope = read_envelope(store, _put(store, b"record"))
    lying = envelope.model_copy(update={"size": 5})
    data_key = owner_data_key(envelope, OWNER)

    with pytest.raises(TamperedObjectError) as caught:
        b"".join(stream_decrypted(store, lying, data_key))
    assert caught.value.rule is StreamRule.LENGTH


def test_a_swapped_key_check_is_a_wrong_key(tmp_path: Path) -> None:
    store = BlockStore(tmp_path)
    mine = read_envelope(store, _put(store, b"mine"))
    other = read_envelope(store, _put(store, b"other"))
    forged = _store_envelope(
        store, mine.model_copy(update={"key_check": other.key_check})
    )

    with pytest.raises(WrongKeyError):
        get_decrypted(store, forged, OWNER, tmp_path / "out")


@pytest.mark.parametrize(
    "change",
    [
        {"format": "agora-vault/v0"},
        {"object_id": "00"},
        {"size": -1},
        {"unknown": 1},
        {"owner": "02" + "00" * 32},
        {"ciphertext": "not-a-cid"},
        {"capsule": "not base64!"},
    ],
    ids=[
        "format-version",
        "object-id-length",
        "negative-size",
        "extra-field",
        "owner-not-a-curve-point",
        "ciphertext-not-a-cid",
        "capsule-not-base64",
    ],
)
def test_a_malformed_envelope_is_refused(
    change: dict[str, object], tmp_path: Path
) -> None:
    store = BlockStore(tmp_path)
    fields = json.loads(read_envelope(store, _put(store, b"x")).canonical_json())
    cid = store.put(json.dumps({**fields, **change}).encode())

    with pytest.raises(EnvelopeError):
        envelope = read_envelope(store, cid)
        owner_data_key(envelope, OWNER)


def test_a_wrapped_key_that_was_altered_opens_nothing(tmp_path: Path) -> None:
    store = BlockStore(tmp_path)
    envelope = read_envelope(store, _put(store, b"x"))
    other = read_envelope(store, _put(store, b"y"))
    forged = envelope.model_copy(update={"wrapped_key": other.wrapped_key})
    with pytest.raises(WrongKeyError):
        owner_data_key(forged, OWNER)


def test_a_file_cid_is_not_an_envelope(tmp_path: Path) -> None:
    store = BlockStore(tmp_path)
    envelope = read_envelope(store, _put(store, b"x"))
    with pytest.raises(EnvelopeError):
        read_envelope(store, envelope.ciphertext)


def test_an_envelope_hides_its_capsule_and_wrapped_key(tmp_path: Path) -> None:
    store = BlockStore(tmp_path)
    envelope = read_envelope(store, _put(store, b"x"))
    for secret in (envelope.capsule, envelope.wrapped_key, envelope.key_check):
        assert secret not in repr(envelope)
        assert secret not in str(envelope)


def test_memory_stays_flat_for_a_large_object(tmp_path: Path) -> None:
    # 64 MiB through put and get: Python-side allocations stay within a few
    # segments (tracemalloc sees every bytes object the pipeline makes).
    size = 64 * 1024 * 1024
    source = tmp_path / "big"
    with source.open("wb") as sink:
        for _ in range(size // (1024 * 1024)):
            sink.write(os.urandom(1024 * 1024))
    store = BlockStore(tmp_path / "blocks")

    tracemalloc.start()
    try:
        with source.open("rb") as stream:
            cid = put_encrypted(store, stream, OWNER.public_key())
        get_decrypted(store, cid, OWNER, tmp_path / "out")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 8 * 1024 * 1024
    assert (tmp_path / "out").stat().st_size == size
    ciphertext = read_envelope(store, cid).ciphertext
    assert sum(len(piece) for piece in read_file(store, ciphertext)) > size
