"""Access logs anchored by the proxies, and the patient's audit trail."""

from pathlib import Path

import pytest

from agora.federated.merkle import merkle_root
from agora.ledger import Category, GrantId, grantee_hash
from agora.vault.access_log import (
    ACCESS_LOG_KIND,
    FORMAT,
    AccessBatch,
    AccessEntry,
    anchored_batches,
    read_batch,
)
from agora.vault.audit import AccessEntry as AuditAccess
from agora.vault.audit import GrantEntry, RevocationEntry, audit_trail
from agora.vault.blockstore import RAW, BlockRef
from agora.vault.errors import AccessLogError, AccessLogRule, GrantRevokedError
from agora.vault.sharing import revoke

from .consent_support import World

CONDITION = "Condition/c1"
MEDICATION = "MedicationRequest/m1"


def test_audit_trail_shows_grant_accesses_and_revocation(
    world: World, tmp_path: Path
) -> None:
    patient, doctor = world.cast.patient, world.cast.doctor
    shared = world.share()
    world.read(shared, CONDITION, tmp_path / "c1", proxies=world.reachable(0, 1))
    world.read(shared, MEDICATION, tmp_path / "m1", proxies=world.reachable(1, 2))
    batches = [proxy.anchor_access_log() for proxy in world.proxies]
    revoke(world.ledger, patient, shared.grant_id)
    with pytest.raises(GrantRevokedError):
        world.read(shared, CONDITION, tmp_path / "again")

    trail = audit_trail(
        world.ledger, world.cast.store, patient.account.address, known_dids=[doctor.did]
    )

    granted, *accesses, revoked = trail
    assert isinstance(granted, GrantEntry)
    assert (granted.grant_id, granted.grantee, granted.purpose) == (
        shared.grant_id,
        doctor.did,
        "treatment",
    )
    assert granted.categories == Category.CONDITION | Category.MEDICATION_REQUEST
    assert isinstance(revoked, RevocationEntry)
    assert (revoked.grant_id, revoked.grantee) == (shared.grant_id, doctor.did)
    assert all(isinstance(a, AuditAccess) for a in accesses)
    served = sorted(
        (a.record_id, world.chain.name_of(a.proxy))
        for a in accesses
        if isinstance(a, AuditAccess)
    )
    assert served == [
        (CONDITION, "proxy-0"),
        (CONDITION, "proxy-1"),
        (MEDICATION, "proxy-1"),
        (MEDICATION, "proxy-2"),
    ]
    assert all(
        a.requester == doctor.did and a.grant_id == shared.grant_id
        for a in accesses
        if isinstance(a, AuditAccess)
    )
    assert granted.timestamp <= accesses[0].timestamp <= revoked.timestamp
    assert {b.anchor_id for b in batches if b} == {
        a.anchor_id for a in accesses if isinstance(a, AuditAccess)
    }


def test_audit_names_unknown_grantees_by_hash_and_skips_other_owners(
    world: World, tmp_path: Path
) -> None:
    shared = world.share()
    world.read(shared, CONDITION, tmp_path / "c1")
    world.proxies[0].anchor_access_log()
    world.proxies[1].anchor_access_log()
    stranger = world.chain.new_account("stranger", ether=0)

    trail = audit_trail(
        world.ledger, world.cast.store, world.cast.patient.account.address
    )

    assert {entry.grantee for entry in trail if isinstance(entry, GrantEntry)} == {
        "0x" + grantee_hash(world.cast.doctor.did).hex()
    }
    assert audit_trail(world.ledger, world.cast.store, stranger.address) == []


def test_a_proxy_with_nothing_served_anchors_nothing(world: World) -> None:
    assert world.proxies[0].anchor_access_log() is None
    assert world.ledger.anchor.of_kind(ACCESS_LOG_KIND) == []


def _entry(grant: int = 1) -> AccessEntry:
    return AccessEntry(
        grant_id=grant,
        record_id=CONDITION,
        requester_hash="ab" * 32,
        timestamp=1,
        nonce="cd" * 16,
    )


def _store_batch(world: World, block: bytes) -> str:
    ref = BlockRef.of(RAW, block)
    world.cast.store.put_block(ref, block)
    return "ipfs://" + ref.cid


@pytest.mark.parametrize(
    "rule",
    [AccessLogRule.ROOT, AccessLogRule.FORMAT, AccessLogRule.URI, AccessLogRule.WRITER],
)
def test_batch_rules(world: World, rule: AccessLogRule) -> None:
    proxy, other = world.cast.proxy_accounts[0], world.cast.proxy_accounts[1]
    batch = AccessBatch(format=FORMAT, proxy=proxy.address, entries=(_entry(),))
    uri = _store_batch(world, batch.to_block())
    root, writer = batch.root(), proxy
    if rule is AccessLogRule.ROOT:
        root = merkle_root([_entry(grant=2).leaf()])
    elif rule is AccessLogRule.FORMAT:
        uri = _store_batch(world, b'{"format":"something else"}')
    elif rule is AccessLogRule.URI:
        uri = "https://example.org/batch.json"
    else:
        writer = other

    anchor_id = world.ledger.anchor.anchor(root, ACCESS_LOG_KIND, uri, account=writer)

    with pytest.raises(AccessLogError) as info:
        read_batch(world.cast.store, world.ledger.anchor.get(anchor_id))
    assert info.value.rule is rule
    with pytest.raises(AccessLogError):
        audit_trail(world.ledger, world.cast.store, world.cast.patient.account.address)


def test_a_published_batch_reverifies(world: World, tmp_path: Path) -> None:
    shared = world.share()
    world.read(shared, CONDITION, tmp_path / "c1", proxies=world.reachable(0, 1))

    published = world.proxies[0].anchor_access_log()

    assert published is not None
    (again,) = anchored_batches(world.cast.store, world.ledger.anchor)
    assert again.batch == published.batch
    assert again.cid == published.cid
    (entry,) = again.batch.entries
    assert GrantId(entry.grant_id) == shared.grant_id
    assert entry.record_id == CONDITION
    assert world.cast.doctor.did not in again.batch.to_block().decode()
