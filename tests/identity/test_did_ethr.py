"""did:ethr resolution from DIDRegistry events: rotation, delegates,
attributes, expiry, deactivation and the cache."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress, HexAddress, HexStr

from agora.identity.did_ethr import EthrResolver, ethr_did, parse_ethr_did
from agora.identity.did_key import multikey
from agora.identity.errors import (
    DidResolutionError,
    InvalidDidError,
    InvalidSignatureError,
)
from agora.identity.keys import KeyPair, KeyType
from agora.identity.resolver import DidResolver
from agora.ledger import (
    Chain,
    ContractRevertError,
    DIDRegistryClient,
    build_contracts,
    bytes32,
    connect,
)
from agora.settings import Settings

ZERO_ADDRESS = ChecksumAddress(HexAddress(HexStr("0x" + "00" * 20)))
DAY = 24 * 3600


@dataclass(frozen=True)
class Registry:
    chain: Chain
    client: DIDRegistryClient
    alice: LocalAccount
    bob: LocalAccount
    carol: LocalAccount


@pytest.fixture(scope="module")
def deployed() -> Registry:
    # The artifact cache is content-keyed: `make` fills the default one
    # (`agora ledger build`), so the contracts are not compiled again here.
    settings = Settings(chain_url=None)
    artifact = build_contracts(settings)["DIDRegistry"]
    chain = connect(settings)
    admin = chain.new_account("admin")
    client = DIDRegistryClient(chain, chain.deploy(admin, artifact))
    alice, bob, carol = (chain.new_account(name) for name in ("alice", "bob", "carol"))
    return Registry(chain, client, alice, bob, carol)


@pytest.fixture
def registry(deployed: Registry) -> Iterator[Registry]:
    snapshot = deployed.chain.snapshot()
    yield deployed
    deployed.chain.revert(snapshot)


def _account_ids(document_json: dict[str, object]) -> list[object]:
    methods = document_json.get("verificationMethod", [])
    assert isinstance(methods, list)
    return [method.get("blockchainAccountId") for method in methods]


def test_unchanged_identity_is_controlled_by_itself(registry: Registry) -> None:
    resolver = EthrResolver(registry.client)
    did = resolver.did_of(registry.alice.address)
    chain_id = registry.chain.chain_id

    body = resolver.resolve(did).to_json()

    assert body["didDocumentMetadata"] == {}
    assert body["didDocument"] == {
        "@context": [
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/suites/secp256k1recovery-2020/v2",
        ],
        "id": did,
        "verificationMethod": [
            {
                "id": f"{did}#controller",
                "type": "EcdsaSecp256k1RecoveryMethod2020",
                "controller": did,
                "blockchainAccountId": f"eip155:{chain_id}:{registry.alice.address}",
            }
        ],
        "authentication": [f"{did}#controller"],
        "assertionMethod": [f"{did}#controller"],
    }


def test_key_rotation_moves_the_controller(registry: Registry) -> None:
    client, alice, bob, carol = (
        registry.client,
        registry.alice,
        registry.bob,
        registry.carol,
    )
    resolver = EthrResolver(client)
    did = resolver.did_of(alice.address)

    client.change_owner(alice.address, bob.address, account=alice)
    client.change_owner(alice.address, carol.address, account=bob)
    result = resolver.resolve(did)

    chain_id = registry.chain.chain_id
    assert _account_ids(result.document.to_json()) == [
        f"eip155:{chain_id}:{carol.address}"
    ]
    assert result.metadata == {"versionId": str(client.changed(alice.address))}


def test_service_endpoint_is_added(registry: Registry) -> None:
    client, alice = registry.client, registry.alice
    resolver = EthrResolver(client)
    did = resolver.did_of(alice.address)

    client.set_attribute(
        alice.address,
        bytes32("did/svc/LinkedDomains"),
        b"https://alice.example",
        validity=DAY,
        account=alice,
    )

    assert resolver.resolve(did).document.to_json()["service"] == [
        {
            "id": f"{did}#service-1",
            "type": "LinkedDomains",
            "serviceEndpoint": "https://alice.example",
        }
    ]


def test_delegates_by_type(registry: Registry) -> None:
    client, alice, bob, carol = (
        registry.client,
        registry.alice,
        registry.bob,
        registry.carol,
    )
    resolver = EthrResolver(client)
    did = resolver.did_of(alice.address)

    client.add_delegate(
        alice.address, bytes32("veriKey"), bob.address, validity=DAY, account=alice
    )
    client.add_delegate(
        alice.address, bytes32("sigAuth"), carol.address, validity=DAY, account=alice
    )
    document = resolver.resolve(did).document

    assert document.assertion_method == (
        f"{did}#controller",
        f"{did}#delegate-1",
        f"{did}#delegate-2",
    )
    assert document.authentication == (f"{did}#controller", f"{did}#delegate-2")
    chain_id = registry.chain.chain_id
    assert _account_ids(document.to_json())[1:] == [
        f"eip155:{chain_id}:{bob.address}",
        f"eip155:{chain_id}:{carol.address}",
    ]


def test_revoked_delegate_is_gone(registry: Registry) -> None:
    client, alice, bob = registry.client, registry.alice, registry.bob
    resolver = EthrResolver(client)
    did = resolver.did_of(alice.address)
    veri_key = bytes32("veriKey")

    client.add_delegate(
        alice.address, veri_key, bob.address, validity=DAY, account=alice
    )
    client.revoke_delegate(alice.address, veri_key, bob.address, account=alice)

    document = resolver.resolve(did).document
    assert [method.id for method in document.verification_methods] == [
        f"{did}#controller"
    ]


def test_expired_delegate_is_gone_and_the_cache_knows(registry: Registry) -> None:
    client, alice, bob = registry.client, registry.alice, registry.bob
    now = [registry.chain.now()]
    resolver = EthrResolver(client, clock=lambda: now[0])
    did = resolver.did_of(alice.address)

    client.add_delegate(
        alice.address, bytes32("veriKey"), bob.address, validity=DAY, account=alice
    )
    valid_to = registry.chain.now() + DAY
    now[0] = valid_to - 1
    assert len(resolver.resolve(did).document.verification_methods) == 2

    now[0] = valid_to
    assert len(resolver.resolve(did).document.verification_methods) == 1


def test_ed25519_attribute_key(registry: Registry) -> None:
    client, alice = registry.client, registry.alice
    resolver = EthrResolver(client)
    did = resolver.did_of(alice.address)
    key = KeyPair.from_private_bytes(KeyType.ED25519, bytes(32)).public_key
    base58 = multikey(key)  # the did:key id, whose tail is not the raw key
    raw_base58 = "4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS"  # did:key vector

    client.set_attribute(
        alice.address,
        bytes32("did/pub/Ed25519/veriKey/base58"),
        raw_base58.encode(),
        validity=DAY,
        account=alice,
    )
    document = resolver.resolve(did).document

    method = document.to_json()["verificationMethod"][1]
    assert method == {
        "id": f"{did}#delegate-1",
        "type": "Ed25519VerificationKey2018",
        "controller": did,
        "publicKeyBase58": raw_base58,
    }
    assert document.assertion_key(f"{did}#delegate-1") == key
    assert base58 != raw_base58


def test_unknown_attributes_are_ignored(registry: Registry) -> None:
    client, alice = registry.client, registry.alice
    resolver = EthrResolver(client)
    did = resolver.did_of(alice.address)

    for name, value in (
        ("did/pub/RSA/veriKey/hex", b"\x01"),
        ("did/pub/Ed25519/veriKey/base58", b"not base58!"),
        ("did/pub/Ed25519/veriKey/hex", b"\x00" * 31),
        ("color", b"blue"),
    ):
        client.set_attribute(
            alice.address, bytes32(name), value, validity=DAY, account=alice
        )

    assert len(resolver.resolve(did).document.verification_methods) == 1


def test_deactivation_is_irreversible(registry: Registry) -> None:
    client, alice, bob = registry.client, registry.alice, registry.bob
    resolver = EthrResolver(client)
    did = resolver.did_of(alice.address)
    client.add_delegate(
        alice.address, bytes32("sigAuth"), bob.address, validity=DAY, account=alice
    )

    client.change_owner(alice.address, ZERO_ADDRESS, account=alice)
    result = resolver.resolve(did)

    assert result.deactivated
    assert result.document.verification_methods == ()
    assert result.to_json()["didDocument"] == {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": did,
    }
    assert result.to_json()["didDocumentMetadata"]["deactivated"] is True
    with pytest.raises(ContractRevertError):
        client.change_owner(alice.address, alice.address, account=alice)
    assert resolver.resolve(did).deactivated


def test_cache_is_invalidated_by_a_new_change(registry: Registry) -> None:
    client, alice = registry.client, registry.alice
    resolver = EthrResolver(client)
    did = resolver.did_of(alice.address)

    first = resolver.resolve(did)
    assert resolver.resolve(did) is first

    client.set_attribute(
        alice.address,
        bytes32("did/svc/Hub"),
        b"https://hub.example",
        validity=DAY,
        account=alice,
    )
    second = resolver.resolve(did)
    assert second is not first
    assert [service.type for service in second.document.services] == ["Hub"]
    assert resolver.resolve(did) is second


def test_expired_service_leaves_the_cache(registry: Registry) -> None:
    client, alice = registry.client, registry.alice
    now = [registry.chain.now()]
    resolver = EthrResolver(client, clock=lambda: now[0])
    did = resolver.did_of(alice.address)
    client.set_attribute(
        alice.address,
        bytes32("did/svc/Hub"),
        b"https://hub.example",
        validity=60,
        account=alice,
    )
    now[0] = registry.chain.now()

    assert resolver.resolve(did).document.services
    now[0] += 60
    assert not resolver.resolve(did).document.services


def test_did_round_trips() -> None:
    address = "0x" + "ab" * 20
    did = ethr_did(1337, address)

    assert did.startswith("did:ethr:0x539:0x")
    assert parse_ethr_did(did)[0] == 1337
    assert parse_ethr_did("did:ethr:1337:" + address)[0] == 1337
    assert parse_ethr_did(did)[1].lower() == address


@pytest.mark.parametrize(
    ("rule", "did"),
    [
        ("syntax", "ethr:0x539:0x" + "ab" * 20),
        ("method", "did:key:z6Mk"),
        ("syntax", "did:ethr:0x539:0x" + "ab" * 19),
        ("syntax", "did:ethr:0x539:0x" + "ab" * 21),
        ("syntax", "did:ethr:0x539:" + "ab" * 20),
        ("syntax", "did:ethr:0x" + "ab" * 20),
        ("syntax", "did:ethr:0x539:0x" + "ab" * 20 + "#controller"),
        ("network", "did:ethr:0x1:0x" + "ab" * 20),
    ],
)
def test_malformed_dids_are_rejected(registry: Registry, rule: str, did: str) -> None:
    with pytest.raises(InvalidDidError) as caught:
        EthrResolver(registry.client).resolve(did)

    assert caught.value.rule == rule


def test_controller_and_delegate_signatures_verify(registry: Registry) -> None:
    client, alice, bob = registry.client, registry.alice, registry.bob
    resolver = DidResolver(ethr=EthrResolver(client))
    did = ethr_did(registry.chain.chain_id, alice.address)
    alice_key = KeyPair.from_private_bytes(KeyType.SECP256K1, alice.key)
    bob_key = KeyPair.from_private_bytes(KeyType.SECP256K1, bob.key)
    client.add_delegate(
        alice.address, bytes32("veriKey"), bob.address, validity=DAY, account=alice
    )

    controller = resolver.verify(
        f"{did}#controller",
        alice_key.sign(b"vc"),
        b"vc",
        relationship="authentication",
    )
    resolver.verify(
        f"{did}#delegate-1", bob_key.sign(b"vc"), b"vc", relationship="assertionMethod"
    )

    assert controller.algorithm == "ES256K"
    with pytest.raises(InvalidSignatureError):
        resolver.verify(
            f"{did}#controller",
            bob_key.sign(b"vc"),
            b"vc",
            relationship="authentication",
        )
    with pytest.raises(DidResolutionError):  # veriKey may not authenticate
        resolver.verify(
            f"{did}#delegate-1",
            bob_key.sign(b"vc"),
            b"vc",
            relationship="authentication",
        )


def test_deactivated_did_verifies_nothing(registry: Registry) -> None:
    client, alice = registry.client, registry.alice
    resolver = DidResolver(ethr=EthrResolver(client))
    did = ethr_did(registry.chain.chain_id, alice.address)
    alice_key = KeyPair.from_private_bytes(KeyType.SECP256K1, alice.key)
    client.change_owner(alice.address, ZERO_ADDRESS, account=alice)

    with pytest.raises(DidResolutionError):
        resolver.verify(
            f"{did}#controller",
            alice_key.sign(b"vc"),
            b"vc",
            relationship="assertionMethod",
        )


def test_revoked_attributes_are_gone(registry: Registry) -> None:
    client, alice = registry.client, registry.alice
    resolver = EthrResolver(client)
    did = resolver.did_of(alice.address)
    key = KeyPair.generate(KeyType.SECP256K1).public_key
    attributes = [
        (bytes32("did/pub/Secp256k1/sigAuth/hex"), key.raw),
        (bytes32("did/svc/Hub"), b"https://hub.example"),
    ]
    for name, value in attributes:
        client.set_attribute(alice.address, name, value, validity=DAY, account=alice)

    document = resolver.resolve(did).document
    assert document.authentication_key(f"{did}#delegate-1") == key
    assert len(document.services) == 1

    for name, value in attributes:
        client.revoke_attribute(alice.address, name, value, account=alice)
    document = resolver.resolve(did).document
    assert len(document.verification_methods) == 1
    assert document.services == ()


def test_staleness_window_serves_the_cache_then_sees_the_change(
    registry: Registry,
) -> None:
    client, alice = registry.client, registry.alice
    tick = [0.0]
    resolver = EthrResolver(client, recheck_after_s=5.0, monotonic=lambda: tick[0])
    did = resolver.did_of(alice.address)
    first = resolver.resolve(did)
    client.set_attribute(
        alice.address,
        bytes32("did/svc/Hub"),
        b"https://hub.example",
        validity=DAY,
        account=alice,
    )

    tick[0] = 4.9
    assert resolver.resolve(did) is first
    tick[0] = 5.0
    assert [s.type for s in resolver.resolve(did).document.services] == ["Hub"]


def test_staleness_window_never_outlives_an_entry(registry: Registry) -> None:
    client, alice = registry.client, registry.alice
    client.set_attribute(
        alice.address,
        bytes32("did/svc/Hub"),
        b"https://hub.example",
        validity=60,
        account=alice,
    )
    now, tick = [registry.chain.now()], [0.0]
    resolver = EthrResolver(
        client,
        clock=lambda: now[0],
        recheck_after_s=3600.0,
        monotonic=lambda: tick[0],
    )
    did = resolver.did_of(alice.address)
    assert resolver.resolve(did).document.services

    # An hour of staleness is allowed, but the service expires within it.
    now[0] += 61
    tick[0] = 61.0
    assert not resolver.resolve(did).document.services
