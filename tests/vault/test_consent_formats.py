"""The signed messages of docs/consent.md, byte for byte, and record-set
scopes, without a chain."""

import pytest
from eth_account import Account

from agora.federated.merkle import leaf_hash, node_hash
from agora.identity.errors import InvalidSignatureError
from agora.identity.keys import KeyPair, KeyType, verify_recoverable
from agora.ledger import NO_RECORDS, Category, GrantId
from agora.vault.blockstore import Cid
from agora.vault.errors import ForeignLabelError, OutOfScopeError
from agora.vault.proxy import sign_request
from agora.vault.scope import (
    RecordId,
    RecordLabel,
    Scope,
    record_proof,
    records_root,
)

ENVELOPE = Cid("bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy")
OWNER = Account.from_key(bytes(range(1, 33)))


def test_label_signs_the_documented_message() -> None:
    label = RecordLabel.sign("Condition/c1", Category.CONDITION, ENVELOPE, owner=OWNER)
    expected = (
        b"agora-consent/v1 record label\n"
        b'{"category":1,"envelope":"'
        + ENVELOPE.encode()
        + b'","record":"Condition/c1"}'
    )

    verify_recoverable(label.signature, expected, OWNER.address)
    label.verify(OWNER.address)
    with pytest.raises(InvalidSignatureError):
        verify_recoverable(label.signature, expected + b" ", OWNER.address)


def test_rule_foreign_label_altered_category() -> None:
    label = RecordLabel.sign(
        "MedicationRequest/m1", Category.MEDICATION_REQUEST, ENVELOPE, owner=OWNER
    )
    relabelled = RecordLabel(
        label.record_id, Category.CONDITION, label.envelope, label.signature
    )

    with pytest.raises(ForeignLabelError):
        relabelled.verify(OWNER.address)


def test_request_signs_the_documented_message() -> None:
    key = KeyPair.generate(KeyType.ED25519)
    label = RecordLabel.sign("Condition/c1", Category.CONDITION, ENVELOPE, owner=OWNER)
    request = sign_request(
        GrantId(7),
        label,
        proof=None,
        proxy=OWNER.address,
        requester="did:key:z6Mk",
        method_id="did:key:z6Mk#z6Mk",
        key=key,
        now=1_800_000_000,
        nonce=bytes(16),
    )
    expected = (
        b"agora-consent/v1 access request\n"
        b'{"envelope":"' + ENVELOPE.encode() + b'","grant":7,'
        b'"issued_at":1800000000,"method":"did:key:z6Mk#z6Mk",'
        b'"nonce":"' + b"00" * 16 + b'","proxy":"' + OWNER.address.encode() + b'",'
        b'"record":"Condition/c1","requester":"did:key:z6Mk"}'
    )

    assert request.message() == expected
    key.public_key.verify(request.signature, expected)


def test_records_root_is_rfc6962_over_sorted_ids() -> None:
    ids = ["Observation/o1", "Condition/c1", "Condition/c1", "MedicationRequest/m1"]
    leaves = [b"Condition/c1", b"MedicationRequest/m1", b"Observation/o1"]

    expected = node_hash(
        node_hash(leaf_hash(leaves[0]), leaf_hash(leaves[1])), leaf_hash(leaves[2])
    )
    assert records_root(ids) == expected
    assert record_proof(ids, "Observation/o1").tree_size == 3


@pytest.mark.parametrize("rule", ["empty-set", "not-in-set", "empty-scope"])
def test_scope_rules(rule: str) -> None:
    with pytest.raises(OutOfScopeError):
        if rule == "empty-set":
            records_root([])
        elif rule == "not-in-set":
            record_proof(["Condition/c1"], "Condition/c2")
        else:
            Scope()


def test_scope_admits_by_category_or_by_id() -> None:
    scope = Scope(
        records=frozenset({RecordId("Observation/o1")}), categories=Category.CONDITION
    )
    by_category = Scope(categories=Category.CONDITION)

    assert scope.admits("Condition/anything", Category.CONDITION)
    assert scope.admits("Observation/o1", Category.OBSERVATION)
    assert not scope.admits("Observation/o2", Category.OBSERVATION)
    assert by_category.root == NO_RECORDS
    assert scope.root == records_root(["Observation/o1"])
