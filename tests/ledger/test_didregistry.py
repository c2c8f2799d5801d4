"""DIDRegistry.vy: ERC-1056 owners, delegates, attributes and the change list."""

from eth_account import Account
from web3 import Web3

from agora.ledger import (
    Artifacts,
    AttributeChanged,
    DelegateChanged,
    Deployment,
    OwnerChanged,
    bytes32,
)

from .support import Market, reverts

ZERO_ADDRESS = "0x" + "00" * 20
VERI_KEY = bytes32("veriKey")
SERVICE = bytes32("did/svc/HubService")
DAY = 24 * 3600


def test_identity_owns_itself_until_changed(market: Market) -> None:
    registry = market.ledger.did_registry
    identity = Account.create().address

    assert registry.identity_owner(identity) == identity
    assert registry.changed(identity) == 0
    assert registry.history(identity) == []
    assert not registry.is_deactivated(identity)


def test_owner_change_moves_control_and_links_to_the_previous_change(
    market: Market,
) -> None:
    registry = market.ledger.did_registry
    alice, bob = market.hospitals[0], market.hospitals[1]

    registry.change_owner(alice.address, bob.address, account=alice)
    first = registry.changed(alice.address)
    registry.change_owner(alice.address, alice.address, account=bob)
    second = registry.changed(alice.address)

    assert registry.identity_owner(alice.address) == alice.address
    assert second > first > 0
    assert registry.history(alice.address) == [
        OwnerChanged(alice.address, bob.address, 0, first),
        OwnerChanged(alice.address, alice.address, first, second),
    ]


def test_only_the_owner_writes(market: Market) -> None:
    registry = market.ledger.did_registry
    alice, mallory = market.hospitals[0], market.outsider
    identity = alice.address

    with reverts("didregistry: not owner"):
        registry.change_owner(identity, mallory.address, account=mallory)
    with reverts("didregistry: not owner"):
        registry.add_delegate(
            identity, VERI_KEY, mallory.address, validity=DAY, account=mallory
        )
    with reverts("didregistry: not owner"):
        registry.revoke_delegate(identity, VERI_KEY, alice.address, account=mallory)
    with reverts("didregistry: not owner"):
        registry.set_attribute(identity, SERVICE, b"x", validity=DAY, account=mallory)
    with reverts("didregistry: not owner"):
        registry.revoke_attribute(identity, SERVICE, b"x", account=mallory)


def test_previous_owner_loses_control(market: Market) -> None:
    registry = market.ledger.did_registry
    alice, bob = market.hospitals[0], market.hospitals[1]
    registry.change_owner(alice.address, bob.address, account=alice)

    with reverts("didregistry: not owner"):
        registry.change_owner(alice.address, alice.address, account=alice)


def test_delegates_expire_and_can_be_revoked(market: Market) -> None:
    registry = market.ledger.did_registry
    alice, delegate = market.hospitals[0], market.hospitals[1]

    registry.add_delegate(
        alice.address, VERI_KEY, delegate.address, validity=DAY, account=alice
    )
    added_at = market.chain.now()
    assert registry.valid_delegate(alice.address, VERI_KEY, delegate.address)
    assert not registry.valid_delegate(
        alice.address, bytes32("sigAuth"), delegate.address
    )

    market.chain.time_travel(added_at + DAY + 1)
    registry.add_delegate(  # any transaction mines a block at the new time
        alice.address, VERI_KEY, market.buyer.address, validity=DAY, account=alice
    )
    assert not registry.valid_delegate(alice.address, VERI_KEY, delegate.address)

    registry.revoke_delegate(
        alice.address, VERI_KEY, market.buyer.address, account=alice
    )
    assert not registry.valid_delegate(alice.address, VERI_KEY, market.buyer.address)
    (*_, revoked) = registry.history(alice.address)
    assert isinstance(revoked, DelegateChanged)
    assert revoked.valid_to == market.chain.now()


def test_zero_delegate_is_refused(market: Market) -> None:
    alice = market.hospitals[0]
    with reverts("didregistry: zero delegate"):
        market.ledger.did_registry.add_delegate(
            alice.address, VERI_KEY, ZERO_ADDRESS, validity=DAY, account=alice
        )


def test_attributes_live_in_events(market: Market) -> None:
    registry = market.ledger.did_registry
    alice = market.hospitals[0]
    endpoint = b"https://hub.example/alice"

    registry.set_attribute(
        alice.address, SERVICE, endpoint, validity=DAY, account=alice
    )
    set_at = market.chain.now()
    registry.revoke_attribute(alice.address, SERVICE, endpoint, account=alice)

    added, revoked = registry.history(alice.address)
    assert isinstance(added, AttributeChanged)
    assert isinstance(revoked, AttributeChanged)
    assert (added.name, added.value, added.valid_to) == (
        SERVICE,
        endpoint,
        set_at + DAY,
    )
    assert (revoked.value, revoked.valid_to) == (endpoint, 0)
    assert revoked.previous_change == added.block_number


def test_delegate_may_not_write(market: Market) -> None:
    registry = market.ledger.did_registry
    alice, delegate = market.hospitals[0], market.hospitals[1]
    registry.add_delegate(
        alice.address, VERI_KEY, delegate.address, validity=DAY, account=alice
    )

    with reverts("didregistry: not owner"):
        registry.set_attribute(
            alice.address, SERVICE, b"x", validity=DAY, account=delegate
        )


def test_deactivation_is_irreversible(market: Market) -> None:
    registry = market.ledger.did_registry
    alice = market.hospitals[0]
    registry.add_delegate(
        alice.address, VERI_KEY, market.buyer.address, validity=DAY, account=alice
    )

    registry.change_owner(alice.address, ZERO_ADDRESS, account=alice)

    assert registry.is_deactivated(alice.address)
    assert registry.identity_owner(alice.address) == ZERO_ADDRESS
    assert not registry.valid_delegate(alice.address, VERI_KEY, market.buyer.address)
    with reverts("didregistry: deactivated"):
        registry.change_owner(alice.address, alice.address, account=alice)
    with reverts("didregistry: deactivated"):
        registry.set_attribute(
            alice.address, SERVICE, b"x", validity=DAY, account=alice
        )
    with reverts("didregistry: deactivated"):
        registry.add_delegate(
            alice.address, VERI_KEY, alice.address, validity=DAY, account=alice
        )
    (*_, last) = registry.history(alice.address)
    assert last == OwnerChanged(
        alice.address, ZERO_ADDRESS, last.previous_change, last.block_number
    )


def test_deployment_lists_the_registry(market: Market) -> None:
    addresses = market.ledger.addresses
    assert addresses["DIDRegistry"] == market.ledger.did_registry.address


def test_attach_finds_the_registry(market: Market, artifacts: Artifacts) -> None:
    attached = Deployment.attach(
        market.chain, market.ledger.addresses, artifacts=artifacts
    )
    identity = Account.create().address

    assert attached.did_registry.address == market.ledger.did_registry.address
    assert attached.did_registry.identity_owner(identity) == identity


def test_signed_changes_are_relayed(market: Market) -> None:
    registry = market.ledger.did_registry
    alice, bob, relayer = market.hospitals[0], market.hospitals[1], market.outsider
    identity = alice.address

    registry.add_delegate_signed(
        identity, VERI_KEY, bob.address, validity=DAY, signer=alice, account=relayer
    )
    registry.set_attribute_signed(
        identity, SERVICE, b"https://hub", validity=DAY, signer=alice, account=relayer
    )
    registry.revoke_attribute_signed(
        identity, SERVICE, b"https://hub", signer=alice, account=relayer
    )
    registry.revoke_delegate_signed(
        identity, VERI_KEY, bob.address, signer=alice, account=relayer
    )
    registry.change_owner_signed(identity, bob.address, signer=alice, account=relayer)

    assert registry.nonce(alice.address) == 5
    assert registry.identity_owner(identity) == bob.address
    assert [type(event) for event in registry.history(identity)] == [
        DelegateChanged,
        AttributeChanged,
        AttributeChanged,
        DelegateChanged,
        OwnerChanged,
    ]


def test_signatures_of_others_are_refused(market: Market) -> None:
    registry = market.ledger.did_registry
    alice, mallory = market.hospitals[0], market.outsider

    with reverts("didregistry: bad signature"):
        registry.change_owner_signed(
            alice.address, mallory.address, signer=mallory, account=mallory
        )
    with reverts("didregistry: bad signature"):
        registry.set_attribute_signed(
            alice.address, SERVICE, b"x", validity=DAY, signer=mallory, account=alice
        )


def test_a_signature_is_spent_once(market: Market) -> None:
    registry = market.ledger.did_registry
    alice, relayer = market.hospitals[0], market.outsider
    # ERC-1056's packed message, built here independently of the client.
    digest = Web3.keccak(
        b"\x19\x00"
        + bytes.fromhex(registry.address[2:])
        + (0).to_bytes(32, "big")
        + bytes.fromhex(alice.address[2:])
        + b"setAttribute"
        + SERVICE
        + b"x"
        + DAY.to_bytes(32, "big")
    )
    signed = alice.unsafe_sign_hash(digest)
    args = (
        alice.address,
        signed.v,
        signed.r.to_bytes(32, "big"),
        signed.s.to_bytes(32, "big"),
        SERVICE,
        b"x",
        DAY,
    )
    function = registry.contract.functions.setAttributeSigned
    market.chain.transact(relayer, function(*args))

    assert registry.nonce(alice.address) == 1
    with reverts("didregistry: bad signature"):
        market.chain.transact(relayer, function(*args))


def test_deactivated_identity_refuses_signed_changes(market: Market) -> None:
    registry = market.ledger.did_registry
    alice = market.hospitals[0]
    registry.change_owner(alice.address, ZERO_ADDRESS, account=alice)

    with reverts("didregistry: deactivated"):
        registry.change_owner_signed(
            alice.address, alice.address, signer=alice, account=alice
        )
