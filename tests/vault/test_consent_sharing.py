"""Sharing by consent: share, re-encrypt at m-of-n proxies, decrypt; and
every refusal, named after the rule it enforces."""

import dataclasses
import json
from pathlib import Path

import pytest

from agora.identity.did_ethr import ethr_did
from agora.identity.did_key import did_key_from_key_pair
from agora.identity.keys import KeyPair, KeyType, ethereum_address
from agora.ledger import Category, GrantId
from agora.vault.errors import (
    ConsentRule,
    ForeignLabelError,
    GrantExpiredError,
    GrantRevokedError,
    InvalidSharingPolicyError,
    KeyFragmentError,
    MisdirectedRequestError,
    NotOwnerError,
    OutOfScopeError,
    OwnerDidError,
    ReplayedRequestError,
    ShareFormatError,
    StaleRequestError,
    TooFewFragmentsError,
    UnknownGrantError,
    WrongRequesterError,
)
from agora.vault.proxy import (
    FRESHNESS_S,
    AccessRequest,
    FragmentDelivery,
    ProxyService,
)
from agora.vault.reencryption import Parties, SharingPolicy, generate_kfrags
from agora.vault.scope import RecordId, RecordLabel, Scope
from agora.vault.sharing import Share, owner_address, revoke, share

from .consent_support import DAY, PLAINTEXTS, World

CONDITION = "Condition/c1"
MEDICATION = "MedicationRequest/m1"
OBSERVATION = "Observation/o1"


def _mine_at(world: World, timestamp: int) -> None:
    # Time travel dates the next block; any transaction mines it.
    world.chain.time_travel(timestamp)
    world.chain.new_account("clock", ether=1)


def test_share_then_two_proxies_reencrypt_and_the_doctor_reads(
    world: World, tmp_path: Path
) -> None:
    shared = world.share()

    data = world.read(shared, CONDITION, tmp_path / "c1", proxies=world.reachable(1, 2))

    assert data == PLAINTEXTS[RecordId(CONDITION)]
    assert shared.threshold == 2
    assert sorted(shared.labels) == [CONDITION, MEDICATION]
    assert [p.pending_accesses for p in world.proxies] == [0, 1, 1]
    assert world.ledger.consent.is_active(shared.grant_id)


def test_a_record_set_scope_reads_with_an_inclusion_proof(
    world: World, tmp_path: Path
) -> None:
    shared = world.share(Scope(records=frozenset({RecordId(OBSERVATION)})))

    data = world.read(shared, OBSERVATION, tmp_path / "o1")

    assert data == PLAINTEXTS[RecordId(OBSERVATION)]
    assert set(shared.labels) == set(shared.proofs) == {OBSERVATION}


def test_rule_revoked(world: World, tmp_path: Path) -> None:
    shared = world.share()
    world.read(shared, CONDITION, tmp_path / "before")
    request = world.request(shared, CONDITION, proxy=0)

    revoke(world.ledger, world.cast.patient, shared.grant_id)

    with pytest.raises(GrantRevokedError) as info:
        world.proxies[0].reencrypt(request)
    assert info.value.rule is ConsentRule.REVOKED
    with pytest.raises(GrantRevokedError):
        world.read(shared, CONDITION, tmp_path / "after")
    assert not (tmp_path / "after").exists()


def test_rule_revoked_proxies_told_drop_their_fragments(world: World) -> None:
    shared = world.share()
    assert not world.proxies[0].forget(shared.grant_id)  # still active
    assert all(proxy.holds(shared.grant_id) for proxy in world.proxies)

    revoke(world.ledger, world.cast.patient, shared.grant_id, proxies=world.proxies)

    assert not any(proxy.holds(shared.grant_id) for proxy in world.proxies)
    with pytest.raises(GrantRevokedError):
        world.proxies[0].reencrypt(world.request(shared, CONDITION))


def test_rule_unknown_grant_no_fragment_held(world: World) -> None:
    shared = world.share()
    newcomer = ProxyService(
        account=world.cast.proxy_accounts[0],
        ledger=world.ledger,
        store=world.cast.store,
        clock=world.clock,
    )
    request = world.request(shared, CONDITION)

    with pytest.raises(UnknownGrantError):
        newcomer.reencrypt(request)


def test_rule_expired(world: World, tmp_path: Path) -> None:
    expiry = world.chain.now() + DAY
    shared = world.share(expiry=expiry)
    world.read(shared, CONDITION, tmp_path / "before")

    _mine_at(world, expiry)

    with pytest.raises(GrantExpiredError) as info:
        world.read(shared, CONDITION, tmp_path / "after")
    assert info.value.rule is ConsentRule.EXPIRED


def test_rule_wrong_requester_another_did_uses_the_grant(
    world: World, tmp_path: Path
) -> None:
    shared = world.share()

    with pytest.raises(WrongRequesterError):
        world.read(shared, CONDITION, tmp_path / "c1", grantee=world.cast.nurse)


def test_rule_wrong_requester_claims_the_grantee_did_without_its_key(
    world: World,
) -> None:
    shared = world.share()
    doctor, nurse = world.cast.doctor, world.cast.nurse
    impostor = dataclasses.replace(nurse, did=doctor.did, method_id=doctor.method_id)

    with pytest.raises(WrongRequesterError):
        world.proxies[0].reencrypt(world.request(shared, CONDITION, grantee=impostor))


def test_rule_wrong_requester_signature_altered(world: World) -> None:
    shared = world.share()
    request = world.request(shared, CONDITION)
    altered = dataclasses.replace(request, issued_at=request.issued_at - 1)

    with pytest.raises(WrongRequesterError):
        world.proxies[0].reencrypt(altered)


def test_rule_out_of_scope_category(world: World) -> None:
    shared = world.share()  # conditions and medications
    observation = next(r for r in world.cast.records if r.record_id == OBSERVATION)
    genuine = RecordLabel.sign(
        observation.record_id,
        observation.category,
        observation.envelope,
        owner=world.cast.patient.account,
    )

    with pytest.raises(OutOfScopeError) as info:
        world.proxies[0].reencrypt(world.request(shared, OBSERVATION, label=genuine))
    assert info.value.rule is ConsentRule.OUT_OF_SCOPE


def test_rule_out_of_scope_record_set(world: World) -> None:
    shared = world.share(Scope(records=frozenset({RecordId(OBSERVATION)})))
    other = world.share(Scope(records=frozenset({RecordId(CONDITION)})))
    borrowed = dataclasses.replace(
        other, grant_id=shared.grant_id, proxies=shared.proxies
    )

    # A genuine label and proof from another grant, presented under this one.
    request = world.request(borrowed, CONDITION)
    with pytest.raises(OutOfScopeError):
        world.proxies[0].reencrypt(request)


def test_rule_out_of_scope_no_label_in_the_share(world: World, tmp_path: Path) -> None:
    shared = world.share()

    with pytest.raises(OutOfScopeError):
        world.read(shared, OBSERVATION, tmp_path / "o1")


def test_rule_foreign_label(world: World) -> None:
    shared = world.share()
    real = shared.labels[RecordId(MEDICATION)]
    forged = RecordLabel.sign(
        real.record_id,
        Category.CONDITION,
        real.envelope,
        owner=world.chain.new_account("forger", ether=0),
    )

    with pytest.raises(ForeignLabelError):
        world.proxies[0].reencrypt(world.request(shared, MEDICATION, label=forged))


def test_rule_replayed(world: World) -> None:
    shared = world.share()
    request = world.request(shared, CONDITION)
    world.proxies[0].reencrypt(request)

    with pytest.raises(ReplayedRequestError) as info:
        world.proxies[0].reencrypt(request)
    assert info.value.rule is ConsentRule.REPLAYED
    assert world.proxies[0].pending_accesses == 1


def test_rule_stale(world: World) -> None:
    shared = world.share()
    request = world.request(shared, CONDITION)
    world.clock.now += FRESHNESS_S + 1

    with pytest.raises(StaleRequestError):
        world.proxies[0].reencrypt(request)


def test_rule_misdirected(world: World) -> None:
    shared = world.share()

    with pytest.raises(MisdirectedRequestError):
        world.proxies[1].reencrypt(world.request(shared, CONDITION, proxy=0))


def test_rule_unknown_grant(world: World) -> None:
    shared = world.share()
    request = dataclasses.replace(
        world.request(shared, CONDITION), grant_id=GrantId(shared.grant_id + 1)
    )

    with pytest.raises(UnknownGrantError):
        world.proxies[0].reencrypt(request)


def test_rule_forged_cfrag(world: World, tmp_path: Path) -> None:
    shared = world.share()
    # Proxy 1 answers every request with a genuine fragment of another
    # capsule, which does not verify for the record asked for.
    honest = world.proxies[1]

    class Forger:
        address = honest.address
        public_key = honest.public_key

        def accept(self, delivery: FragmentDelivery) -> None:
            honest.accept(delivery)

        def reencrypt(self, request: AccessRequest) -> bytes:
            other = world.request(shared, MEDICATION, proxy=1)
            return honest.reencrypt(other)

        def forget(self, grant_id: GrantId) -> bool:
            return honest.forget(grant_id)

    two = {world.proxies[0].address: world.proxies[0], honest.address: Forger()}
    with pytest.raises(TooFewFragmentsError) as info:
        world.read(shared, CONDITION, tmp_path / "two", proxies=two)
    assert isinstance(info.value.__cause__, KeyFragmentError)
    assert not (tmp_path / "two").exists()

    three = {**two, world.proxies[2].address: world.proxies[2]}
    data = world.read(shared, CONDITION, tmp_path / "three", proxies=three)
    assert data == PLAINTEXTS[RecordId(CONDITION)]


def test_rule_too_few_cfrags(world: World, tmp_path: Path) -> None:
    shared = world.share()

    with pytest.raises(TooFewFragmentsError):
        world.read(shared, CONDITION, tmp_path / "c1", proxies=world.reachable(2))
    assert not (tmp_path / "c1").exists()


def _delivery(world: World, grant_id: GrantId, proxy: int = 0) -> FragmentDelivery:
    patient, doctor = world.cast.patient, world.cast.doctor
    policy = SharingPolicy(threshold=1, shares=1)
    (kfrag,) = generate_kfrags(
        patient.umbral, doctor.public_key, patient.signer, policy
    )
    parties = Parties(
        patient.signer.public_key(), patient.public_key, doctor.public_key
    )
    return FragmentDelivery.seal(
        kfrag,
        grant_id=grant_id,
        proxy=world.proxies[proxy],
        parties=parties,
        owner_account=patient.account,
    )


def test_delivery_rule_not_owner(world: World) -> None:
    shared = world.share()
    delivery = _delivery(world, shared.grant_id)
    stranger = world.chain.new_account("stranger", ether=0)
    pair = KeyPair.from_private_bytes(KeyType.SECP256K1, bytes(stranger.key))
    resigned = dataclasses.replace(delivery, signature=pair.sign(delivery.message()))

    with pytest.raises(NotOwnerError):
        world.proxies[0].accept(resigned)


def test_delivery_rules_grant_state_audience_and_fragment(world: World) -> None:
    shared = world.share()
    proxy = world.proxies[0]

    with pytest.raises(MisdirectedRequestError):
        world.proxies[1].accept(_delivery(world, shared.grant_id, proxy=0))
    with pytest.raises(UnknownGrantError):
        proxy.accept(_delivery(world, GrantId(99)))

    garbled = _delivery(world, shared.grant_id)
    garbled = dataclasses.replace(garbled, ciphertext=garbled.ciphertext[:-1] + b"!")
    patient = world.cast.patient
    pair = KeyPair.from_private_bytes(KeyType.SECP256K1, bytes(patient.account.key))
    garbled = dataclasses.replace(garbled, signature=pair.sign(garbled.message()))
    with pytest.raises(KeyFragmentError):
        proxy.accept(garbled)

    revoke(world.ledger, patient, shared.grant_id)
    with pytest.raises(GrantRevokedError):
        proxy.accept(_delivery(world, shared.grant_id))


def test_share_rule_one_proxy_per_fragment(world: World) -> None:
    with pytest.raises(InvalidSharingPolicyError):
        share(
            world.ledger,
            world.cast.patient,
            grantee=world.cast.doctor.did,
            grantee_key=world.cast.doctor.public_key,
            scope=Scope(categories=Category.CONDITION),
            purpose="treatment",
            expiry=world.chain.now() + DAY,
            proxies=world.proxies[:2],
        )


def test_scope_rule_not_empty() -> None:
    with pytest.raises(OutOfScopeError):
        Scope()


def test_owner_of_a_patient_did() -> None:
    secp = KeyPair.generate(KeyType.SECP256K1)
    address = ethereum_address(secp.public_key)

    assert owner_address(ethr_did(1337, address)) == address
    assert owner_address(did_key_from_key_pair(secp)) == address
    with pytest.raises(OwnerDidError):
        owner_address(did_key_from_key_pair(KeyPair.generate(KeyType.ED25519)))
    with pytest.raises(OwnerDidError):
        owner_address("did:web:example.org")


def test_no_secret_in_reprs(world: World) -> None:
    shared = world.share()
    delivery = _delivery(world, shared.grant_id)
    request = world.request(shared, CONDITION)
    patient, doctor = world.cast.patient, world.cast.doctor

    texts = [repr(x) for x in (patient, doctor, delivery, request, world.proxies[0])]

    secrets = [
        bytes(patient.account.key).hex(),
        patient.umbral.to_be_bytes().hex(),
        doctor.umbral.to_be_bytes().hex(),
        delivery.ciphertext.hex(),
        delivery.capsule.hex(),
    ]
    assert not any(secret in text for secret in secrets for text in texts)


def test_a_share_travels_as_json(world: World, tmp_path: Path) -> None:
    shared = world.share(Scope(records=frozenset({RecordId(OBSERVATION)})))

    document = json.loads(json.dumps(shared.to_json()))
    again = Share.from_json(document)

    assert again == dataclasses.replace(shared, signer=again.signer)
    assert again.signer.to_compressed_bytes() == shared.signer.to_compressed_bytes()
    data = world.read(again, OBSERVATION, tmp_path / "o1")
    assert data == PLAINTEXTS[RecordId(OBSERVATION)]


@pytest.mark.parametrize(
    "case",
    ["format", "grant-zero", "signer", "proxy", "envelope", "proof-node", "extra"],
)
def test_share_document_rules(world: World, case: str) -> None:
    document = world.share(Scope(records=frozenset({RecordId(OBSERVATION)}))).to_json()
    if case == "format":
        document["format"] = "agora-consent-share/v0"
    elif case == "grant-zero":
        document["grant_id"] = 0
    elif case == "signer":
        document["signer"] = "02" + "00" * 32
    elif case == "proxy":
        document["proxies"] = ["proxy-0"]
    elif case == "envelope":
        document["labels"][0]["envelope"] = "not-a-cid"
    elif case == "proof-node":
        document["proofs"][OBSERVATION]["path"] = ["zz"]
    else:
        document["note"] = "hello"

    with pytest.raises(ShareFormatError):
        Share.from_json(document)
