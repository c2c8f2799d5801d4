"""Consent.vy: owners grant a scope for a purpose until an expiry, and revoke."""

import pytest

from agora.ledger import (
    NO_RECORDS,
    Artifacts,
    Category,
    Deployment,
    Granted,
    GrantId,
    InvalidArgumentError,
    NotFoundError,
    Revoked,
    grantee_hash,
    purpose_code,
)

from .support import Market, mine_at, reverts

DOCTOR = grantee_hash("did:key:zDoctor")
ROOT = bytes(range(1, 33))
TREATMENT = purpose_code("treatment")
DAY = 24 * 3600


def _grant(market: Market, **overrides: object) -> GrantId:
    arguments: dict[str, object] = {
        "categories": Category.CONDITION | Category.MEDICATION_REQUEST,
        "purpose": TREATMENT,
        "expiry": market.chain.now() + DAY,
        "account": market.outsider,
    }
    arguments.update(overrides)
    return market.ledger.consent.grant(DOCTOR, **arguments)


def test_an_owner_grants_a_scope_until_an_expiry(market: Market) -> None:
    consent = market.ledger.consent
    expiry = market.chain.now() + DAY

    grant_id = _grant(market, records_root=ROOT, expiry=expiry)
    grant = consent.get(grant_id)

    assert grant_id == GrantId(1)
    assert grant.owner == market.outsider.address
    assert grant.grantee_hash == DOCTOR
    assert grant.records_root == ROOT
    assert grant.categories == Category.CONDITION | Category.MEDICATION_REQUEST
    assert grant.purpose.rstrip(b"\x00") == b"treatment"
    assert grant.expiry == expiry
    assert grant.granted_at > 0
    assert not grant.revoked
    assert consent.is_active(grant_id)


def test_the_owner_revokes_and_the_grant_ends(market: Market) -> None:
    consent = market.ledger.consent
    grant_id = _grant(market)

    consent.revoke(grant_id, account=market.outsider)

    assert consent.get(grant_id).revoked
    assert not consent.is_active(grant_id)


def test_a_grant_ends_at_its_expiry(market: Market) -> None:
    consent = market.ledger.consent
    expiry = market.chain.now() + DAY
    grant_id = _grant(market, expiry=expiry)

    mine_at(market.chain, expiry)

    assert not consent.is_active(grant_id)
    assert consent.get(grant_id).expired(market.chain.now())
    assert not consent.get(grant_id).revoked


def test_events_of_an_owner_in_order(market: Market) -> None:
    consent = market.ledger.consent
    first = _grant(market)
    _grant(market, account=market.hospitals[0])
    second = _grant(market, records_root=ROOT, categories=None)
    consent.revoke(first, account=market.outsider)

    events = consent.events_of(market.outsider.address)

    assert [(type(e), e.grant_id) for e in events] == [
        (Granted, first),
        (Granted, second),
        (Revoked, first),
    ]
    granted = events[1]
    assert isinstance(granted, Granted)
    assert (granted.records_root, granted.categories) == (ROOT, Category(0))
    assert all(e.grantee_hash == DOCTOR for e in events)
    assert events[0].timestamp <= events[1].timestamp <= events[2].timestamp
    assert events[2].timestamp == market.chain.now()


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("empty-grantee", "consent: empty grantee"),
        ("empty-scope", "consent: empty scope"),
        ("unknown-category", "consent: unknown category"),
        ("empty-purpose", "consent: empty purpose"),
        ("expiry-now", "consent: expiry not in the future"),
        ("expiry-past", "consent: expiry not in the future"),
    ],
)
def test_grant_rules(market: Market, case: str, reason: str) -> None:
    grantee, root, categories, purpose = DOCTOR, NO_RECORDS, 1, TREATMENT
    expiry = market.chain.now() + DAY
    if case == "empty-grantee":
        grantee = bytes(32)
    elif case == "empty-scope":
        categories = 0
    elif case == "unknown-category":
        categories = 1 << 17
    elif case == "empty-purpose":
        purpose = bytes(32)
    elif case == "expiry-now":
        # Mined in a later block, never an earlier one.
        expiry = market.chain.now()
    else:
        expiry = 1

    function = market.ledger.consent.contract.functions.grant(
        grantee, root, categories, purpose, expiry
    )
    with reverts(reason):
        market.chain.transact(market.outsider, function)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("unknown", "consent: unknown grant"),
        ("zero", "consent: unknown grant"),
        ("someone-else", "consent: not the owner"),
        ("the-grantee", "consent: not the owner"),
        ("twice", "consent: already revoked"),
    ],
)
def test_revoke_rules(market: Market, case: str, reason: str) -> None:
    consent = market.ledger.consent
    grant_id = _grant(market)
    target, account = grant_id, market.outsider
    if case == "unknown":
        target = GrantId(grant_id + 1)
    elif case == "zero":
        target = GrantId(0)
    elif case in ("someone-else", "the-grantee"):
        account = market.hospitals[0]
    else:
        consent.revoke(grant_id, account=market.outsider)

    with reverts(reason):
        consent.revoke(target, account=account)


def test_an_expired_grant_may_still_be_revoked(market: Market) -> None:
    consent = market.ledger.consent
    expiry = market.chain.now() + 60
    grant_id = _grant(market, expiry=expiry)
    market.chain.time_travel(expiry + 1)

    consent.revoke(grant_id, account=market.outsider)

    assert consent.get(grant_id).revoked


def test_unknown_grants_are_inactive_and_not_found(market: Market) -> None:
    consent = market.ledger.consent
    assert not consent.is_active(GrantId(0))
    assert not consent.is_active(GrantId(7))
    with pytest.raises(NotFoundError):
        consent.get(GrantId(1))
    with reverts("consent: unknown grant"):
        market.chain.call(consent.contract.functions.getGrant(1))


def test_client_refuses_malformed_arguments(market: Market) -> None:
    with pytest.raises(InvalidArgumentError):
        market.ledger.consent.grant(
            b"short", purpose=TREATMENT, expiry=1, account=market.outsider
        )
    with pytest.raises(InvalidArgumentError):
        purpose_code("")
    with pytest.raises(InvalidArgumentError):
        purpose_code("x" * 33)
    with pytest.raises(InvalidArgumentError):
        grantee_hash("0xabc")


def test_categories_follow_fhir_resource_types() -> None:
    assert Category.of("Condition") is Category.CONDITION
    assert Category.of("MedicationRequest") is Category.MEDICATION_REQUEST
    assert Category.of("ExplanationOfBenefit") is Category.EXPLANATION_OF_BENEFIT
    assert Category.of("Organization") is Category.OTHER
    assert max(Category) == 1 << 16  # ALL_CATEGORIES in Consent.vy: 2**17 - 1


def test_attach_finds_consent(market: Market, artifacts: Artifacts) -> None:
    attached = Deployment.attach(
        market.chain, market.ledger.addresses, artifacts=artifacts
    )
    grant_id = _grant(market)

    assert market.ledger.addresses["Consent"] == market.ledger.consent.address
    assert attached.consent.get(grant_id).grantee_hash == DOCTOR
