"""The command line's vault state: derived keys, proxies' fragment files,
owners' catalogs."""

import json
from pathlib import Path

import pytest

from agora.identity.keys import KeyPair, KeyType
from agora.ledger import Category, GrantId
from agora.vault.blockstore import Cid
from agora.vault.errors import KeyFragmentError
from agora.vault.local import FolderFragmentStore, OwnerCatalog, UnknownRecordError
from agora.vault.proxy import HeldFragment
from agora.vault.reencryption import (
    Parties,
    SecretKey,
    SharingPolicy,
    generate_kfrags,
)
from agora.vault.scope import RecordId
from agora.vault.sharing import GranteeKeys, SharedRecord, derive_umbral_key

ENVELOPE = Cid("bafkreiayw5dovld7pcj3qjyuw3jgi2q27ag4a4n7pk2qfbd6tope2idlqq")


def _compressed(key: SecretKey) -> bytes:
    return key.public_key().to_compressed_bytes()


def test_derived_keys_are_deterministic_and_separated_by_label() -> None:
    secret = bytes(range(32))

    owner = derive_umbral_key(secret, "owner")

    assert _compressed(owner) == _compressed(derive_umbral_key(secret, "owner"))
    assert _compressed(owner) != _compressed(derive_umbral_key(secret, "grantee"))
    assert _compressed(owner) != _compressed(derive_umbral_key(bytes(32), "owner"))


def test_a_grantee_derives_the_same_keys_from_the_same_did_key() -> None:
    pair = KeyPair.generate(KeyType.ED25519)
    again = KeyPair.from_private_bytes(KeyType.ED25519, pair.private_bytes())

    first, second = GranteeKeys.derive(pair), GranteeKeys.derive(again)

    assert first.did == second.did and first.did.startswith("did:key:z6Mk")
    assert first.method_id == f"{first.did}#{first.did.removeprefix('did:key:')}"
    assert first.public_key.to_compressed_bytes() == (
        second.public_key.to_compressed_bytes()
    )


def _held() -> HeldFragment:
    owner, grantee, signer = (SecretKey.random() for _ in range(3))
    (kfrag,) = generate_kfrags(
        owner, grantee.public_key(), signer, SharingPolicy(threshold=1, shares=1)
    )
    parties = Parties(signer.public_key(), owner.public_key(), grantee.public_key())
    return HeldFragment(kfrag, parties)


def test_fragment_files_round_trip_owner_only(tmp_path: Path) -> None:
    store, held = FolderFragmentStore(tmp_path / "fragments"), _held()

    store.put(GrantId(7), held)
    read = store.get(GrantId(7))

    assert read is not None and bytes(read.kfrag) == bytes(held.kfrag)
    assert (tmp_path / "fragments" / "7.json").stat().st_mode & 0o777 == 0o600
    assert store.get(GrantId(8)) is None
    store.discard(GrantId(7))
    assert store.get(GrantId(7)) is None


def test_rule_an_altered_fragment_file_is_refused(tmp_path: Path) -> None:
    store = FolderFragmentStore(tmp_path)
    store.put(GrantId(1), _held())
    path = tmp_path / "1.json"
    document = json.loads(path.read_text())
    other = _held()
    document["grantee"] = other.parties.grantee.to_compressed_bytes().hex()
    path.write_text(json.dumps(document))

    with pytest.raises(KeyFragmentError):
        store.get(GrantId(1))


def test_the_catalog_keeps_records_and_grantees(tmp_path: Path) -> None:
    catalog = OwnerCatalog.open(tmp_path, "0xOwner")
    record = SharedRecord(RecordId("Condition/c1"), Category.CONDITION, ENVELOPE)
    catalog.add_record(record)
    catalog.add_grant(GrantId(3), "did:key:z6MkDoctor")

    reopened = OwnerCatalog.open(tmp_path, "0xOwner")

    assert reopened.records() == [record]
    assert reopened.envelope("Condition/c1") == ENVELOPE
    assert reopened.envelope(ENVELOPE) == ENVELOPE  # a CID stands for itself
    assert reopened.grantees() == ["did:key:z6MkDoctor"]


def test_rule_an_unknown_record_is_neither_in_the_catalog_nor_a_cid(
    tmp_path: Path,
) -> None:
    with pytest.raises(UnknownRecordError, match="Condition/none"):
        OwnerCatalog.open(tmp_path, "0xOwner").envelope("Condition/none")
