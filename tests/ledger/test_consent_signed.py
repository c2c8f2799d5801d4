"""Consent.vy: grants signed off chain by their owners, submitted in batches
by someone else, and read back by grantee in pages."""

from dataclasses import replace
from typing import Any

import pytest
from eth_account import Account as AccountFactory
from eth_typing import ChecksumAddress

from agora.ledger import (
    Category,
    GrantRequest,
    InvalidArgumentError,
    SignedGrant,
    grantee_hash,
    purpose_code,
    sign_grant,
)
from agora.ledger.clients.consent import MAX_BATCH, MAX_PAGE, grant_signer

from .support import Market, reverts

HOSPITAL = grantee_hash("did:key:zHospital")
RESEARCH = purpose_code("research:pneumonia-model")
DAY = 24 * 3600


def _request(market: Market, owner: ChecksumAddress, **overrides: Any) -> GrantRequest:
    request = GrantRequest(
        owner=owner,
        grantee_hash=HOSPITAL,
        purpose=RESEARCH,
        expiry=market.chain.now() + DAY,
        categories=Category.IMAGING_STUDY,
    )
    return replace(request, **overrides)


def test_a_relayer_submits_owners_signed_grants_in_batches(market: Market) -> None:
    consent = market.ledger.consent
    # More owners than one batch holds: the client splits them.
    owners = [AccountFactory.create() for _ in range(MAX_BATCH + 3)]
    signed = [consent.sign(_request(market, o.address), o) for o in owners]

    ids = consent.grant_signed(signed, account=market.hospitals[0])

    assert ids == list(range(1, len(owners) + 1))
    grants = consent.grants_to(HOSPITAL)
    assert [g.grant_id for g in grants] == ids
    # The owner is the signer, not the relayer who paid for the transaction.
    assert [g.owner for g in grants] == [o.address for o in owners]
    assert all(g.categories == Category.IMAGING_STUDY for g in grants)
    assert all(consent.nonce(o.address) == 1 for o in owners)
    assert (
        grant_signer(
            signed[0], chain_id=market.chain.chain_id, contract=consent.address
        )
        == owners[0].address
    )


def test_grants_to_reads_only_the_grantees_grants(market: Market) -> None:
    consent = market.ledger.consent
    owner = AccountFactory.create()
    other = grantee_hash("did:key:zSomeoneElse")
    first = consent.sign(_request(market, owner.address, grantee_hash=other), owner)
    second = consent.sign(_request(market, owner.address, nonce=1), owner)

    consent.grant_signed([first, second], account=market.hospitals[0])

    assert [g.grant_id for g in consent.grants_to(HOSPITAL)] == [2]
    assert [g.grant_id for g in consent.grants_to(other)] == [1]
    assert consent.grants_to(grantee_hash("did:key:zNobody")) == []


def test_grants_to_reads_past_one_page(market: Market) -> None:
    consent = market.ledger.consent
    owners = [AccountFactory.create() for _ in range(MAX_PAGE + 5)]
    signed = [consent.sign(_request(market, o.address), o) for o in owners]
    ids = consent.grant_signed(signed, account=market.hospitals[0])

    grants = consent.grants_to(HOSPITAL)

    assert [g.grant_id for g in grants] == ids
    assert len(grants) == MAX_PAGE + 5


def test_rule_bad_signature_a_grant_signed_by_another_key_reverts(
    market: Market,
) -> None:
    owner, forger = AccountFactory.create(), AccountFactory.create()
    request = _request(market, owner.address)
    forged = SignedGrant(
        request,
        sign_grant(
            _request(market, forger.address),
            forger,
            chain_id=market.chain.chain_id,
            contract=market.ledger.consent.address,
        ).signature,
    )

    with reverts("consent: bad signature"):
        market.ledger.consent.grant_signed([forged], account=market.hospitals[0])


def test_rule_bad_signature_a_replayed_grant_reverts(market: Market) -> None:
    # Replay would re-create a grant the owner has since revoked.
    consent = market.ledger.consent
    owner = AccountFactory.create()
    signed = consent.sign(_request(market, owner.address), owner)
    consent.grant_signed([signed], account=market.hospitals[0])

    with reverts("consent: bad signature"):
        consent.grant_signed([signed], account=market.hospitals[0])


def test_rule_bad_signature_a_changed_scope_reverts(market: Market) -> None:
    consent = market.ledger.consent
    owner = AccountFactory.create()
    signed = consent.sign(_request(market, owner.address), owner)
    widened = SignedGrant(
        _request(
            market,
            owner.address,
            categories=Category.IMAGING_STUDY | Category.CONDITION,
        ),
        signed.signature,
    )

    with reverts("consent: bad signature"):
        consent.grant_signed([widened], account=market.hospitals[0])


def test_rule_expiry_signed_grants_obey_the_grant_rules(market: Market) -> None:
    consent = market.ledger.consent
    owner = AccountFactory.create()
    stale = _request(market, owner.address, expiry=market.chain.now() - 1)

    with reverts("consent: expiry not in the future"):
        consent.grant_signed([consent.sign(stale, owner)], account=market.hospitals[0])


def test_a_grant_is_signed_by_its_own_owner_only(market: Market) -> None:
    owner, other = AccountFactory.create(), AccountFactory.create()
    with pytest.raises(InvalidArgumentError):
        market.ledger.consent.sign(_request(market, owner.address), other)
