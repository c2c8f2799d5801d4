"""Anchor.vy: members anchor batch roots; the latest per (writer, kind) is read."""

import pytest

from agora.federated.merkle import merkle_root
from agora.ledger import (
    AnchorId,
    Artifacts,
    Deployment,
    InvalidArgumentError,
    NotFoundError,
    anchor_kind,
)

from .support import Market, reverts

STATUS = anchor_kind("status-list:https://bank.example/status/1")
AUDIT = anchor_kind("audit-log")
ROOT_A = merkle_root([b"record-1", b"record-2", b"record-3"])
ROOT_B = merkle_root([b"record-4"])


def test_a_member_anchors_a_batch_root(market: Market) -> None:
    anchor = market.ledger.anchor
    writer = market.hospitals[0]

    anchor_id = anchor.anchor(ROOT_A, AUDIT, "ipfs://bafy-batch", account=writer)
    record = anchor.get(anchor_id)

    assert anchor_id == AnchorId(1)
    assert anchor.anchor_count() == 1
    assert record.root == ROOT_A
    assert record.kind == AUDIT
    assert record.writer == writer.address
    assert record.uri == "ipfs://bafy-batch"
    assert record.previous == 0
    assert record.block_number > 0
    assert record.timestamp > 0


def test_latest_follows_each_writer_and_kind(market: Market) -> None:
    anchor = market.ledger.anchor
    alice, bob = market.hospitals[0], market.hospitals[1]

    first = anchor.anchor(ROOT_A, STATUS, "https://a/1", account=alice)
    anchor.anchor(ROOT_B, AUDIT, "https://a/audit", account=alice)
    anchor.anchor(ROOT_B, STATUS, "https://b/1", account=bob)
    second = anchor.anchor(ROOT_B, STATUS, "https://a/1", account=alice)

    latest = anchor.latest(alice.address, STATUS)
    assert latest.anchor_id == second
    assert latest.root == ROOT_B
    assert latest.previous == first
    assert anchor.latest(bob.address, STATUS).uri == "https://b/1"
    assert anchor.latest(alice.address, AUDIT).root == ROOT_B
    assert [r.anchor_id for r in anchor.history(alice.address, STATUS)] == [
        first,
        second,
    ]


def test_anchored_event_names_the_superseded_anchor(market: Market) -> None:
    anchor = market.ledger.anchor
    alice = market.hospitals[0]
    first = anchor.anchor(ROOT_A, STATUS, "u", account=alice)

    function = anchor.contract.functions.anchor(ROOT_B, STATUS, "u")
    receipt = market.chain.transact(alice, function)
    (event,) = anchor.events(receipt, "Anchored")

    assert event["args"]["writer"] == alice.address
    assert event["args"]["kind"] == STATUS
    assert event["args"]["root"] == ROOT_B
    assert event["args"]["previous"] == first


def test_rule_only_members_anchor(market: Market) -> None:
    with reverts("anchor: not a member"):
        market.ledger.anchor.anchor(ROOT_A, AUDIT, "u", account=market.outsider)


def test_rule_a_removed_member_no_longer_anchors(market: Market) -> None:
    hospital = market.hospitals[0]
    market.ledger.consortium.remove_member(hospital.address, account=market.admin)

    with reverts("anchor: not a member"):
        market.ledger.anchor.anchor(ROOT_A, AUDIT, "u", account=hospital)


def test_rule_zero_root_or_kind_is_refused_by_the_contract(market: Market) -> None:
    function = market.ledger.anchor.contract.functions
    writer = market.hospitals[0]

    with reverts("anchor: empty root"):
        market.chain.transact(writer, function.anchor(bytes(32), AUDIT, "u"))
    with reverts("anchor: empty kind"):
        market.chain.transact(writer, function.anchor(ROOT_A, bytes(32), "u"))


@pytest.mark.parametrize(
    ("rule", "root", "kind", "uri"),
    [
        ("root-length", b"\x01" * 31, AUDIT, "u"),
        ("root-nonzero", bytes(32), AUDIT, "u"),
        ("kind-length", ROOT_A, b"\x01" * 33, "u"),
        ("kind-nonzero", ROOT_A, bytes(32), "u"),
        ("uri-length", ROOT_A, AUDIT, "x" * 257),
    ],
)
def test_client_refuses_bad_arguments_before_sending(
    market: Market, rule: str, root: bytes, kind: bytes, uri: str
) -> None:
    with pytest.raises(InvalidArgumentError):
        market.ledger.anchor.anchor(root, kind, uri, account=market.hospitals[0])
    assert market.ledger.anchor.anchor_count() == 0, rule


def test_unknown_anchors_are_not_found(market: Market) -> None:
    anchor = market.ledger.anchor

    with pytest.raises(NotFoundError):
        anchor.get(AnchorId(1))
    with pytest.raises(NotFoundError):
        anchor.latest(market.hospitals[0].address, AUDIT)
    assert anchor.history(market.hospitals[0].address, AUDIT) == []
    with reverts("anchor: unknown anchor"):
        market.chain.call(anchor.contract.functions.getAnchor(0))
    with reverts("anchor: no anchor"):
        market.chain.call(
            anchor.contract.functions.latest(market.hospitals[0].address, AUDIT)
        )


def test_attach_finds_the_anchor(market: Market, artifacts: Artifacts) -> None:
    attached = Deployment.attach(
        market.chain, market.ledger.addresses, artifacts=artifacts
    )
    anchor_id = market.ledger.anchor.anchor(
        ROOT_A, AUDIT, "u", account=market.hospitals[0]
    )

    assert market.ledger.addresses["Anchor"] == market.ledger.anchor.address
    assert attached.anchor.get(anchor_id).root == ROOT_A


def test_of_kind_lists_every_writer_in_order(market: Market) -> None:
    anchor = market.ledger.anchor
    alice, bob = market.hospitals[0], market.hospitals[1]
    first = anchor.anchor(ROOT_A, AUDIT, "a", account=alice)
    anchor.anchor(ROOT_A, STATUS, "s", account=alice)
    second = anchor.anchor(ROOT_B, AUDIT, "b", account=bob)

    records = anchor.of_kind(AUDIT)

    assert [(r.anchor_id, r.writer, r.uri) for r in records] == [
        (first, alice.address, "a"),
        (second, bob.address, "b"),
    ]
    assert anchor.of_kind(anchor_kind("nothing")) == []
