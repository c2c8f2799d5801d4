"""Consortium.vy: only the admin manages members; roles are bit flags."""

import pytest
from eth_account import Account

from agora.ledger import Member, Role, credential_type_hash

from .support import Market, reverts

ZERO_ADDRESS = "0x" + "00" * 20


def test_role_constants_match_the_contract(market: Market) -> None:
    functions = market.ledger.consortium.contract.functions
    for role in Role:
        assert functions[role.name]().call() == role.value
    assert functions.ALL_ROLES().call() == sum(Role)


def test_admin_adds_a_member(market: Market) -> None:
    consortium = market.ledger.consortium
    account = Account.create().address

    consortium.add_member(
        account, "Lab", Role.PLATFORM | Role.ISSUER, account=market.admin
    )

    assert consortium.member(account) == Member(
        account=account, name="Lab", roles=Role.PLATFORM | Role.ISSUER, active=True
    )
    assert consortium.is_member(account)
    assert consortium.has_role(account, Role.PLATFORM)
    assert consortium.has_role(account, Role.PLATFORM | Role.ISSUER)
    assert not consortium.has_role(account, Role.PLATFORM | Role.PROXY)
    assert not consortium.has_role(account, Role(0))


def test_added_member_is_announced(market: Market) -> None:
    account = Account.create().address
    receipt = market.chain.transact(
        market.admin,
        market.ledger.consortium.contract.functions.addMember(account, "Lab", 8),
    )

    (event,) = market.ledger.consortium.events(receipt, "MemberAdded")
    assert dict(event["args"]) == {"account": account, "name": "Lab", "roles": 8}


def test_only_the_admin_manages_members(market: Market) -> None:
    consortium = market.ledger.consortium
    hospital = market.hospitals[0].address

    with reverts("consortium: not admin"):
        consortium.add_member(
            Account.create().address, "Rogue", Role.BUYER, account=market.outsider
        )
    with reverts("consortium: not admin"):
        consortium.set_roles(hospital, Role.BUYER, account=market.outsider)
    with reverts("consortium: not admin"):
        consortium.remove_member(hospital, account=market.hospitals[0])


@pytest.mark.parametrize(
    ("account", "name", "roles", "reason"),
    [
        (ZERO_ADDRESS, "Zero", 1, "consortium: zero address"),
        (None, "", 1, "consortium: empty name"),
        (None, "No roles", 0, "consortium: no roles"),
        (None, "Unknown", 64, "consortium: unknown role"),
        (None, "Unknown too", 1 | 128, "consortium: unknown role"),
    ],
)
def test_malformed_member_is_rejected(
    market: Market, account: str | None, name: str, roles: int, reason: str
) -> None:
    address = account or Account.create().address
    with reverts(reason):
        market.chain.transact(
            market.admin,
            market.ledger.consortium.contract.functions.addMember(address, name, roles),
        )


def test_duplicate_member_is_rejected(market: Market) -> None:
    with reverts("consortium: already member"):
        market.ledger.consortium.add_member(
            market.buyer.address, "Again", Role.BUYER, account=market.admin
        )


def test_set_roles_replaces_the_roles(market: Market) -> None:
    consortium = market.ledger.consortium
    buyer = market.buyer.address

    consortium.set_roles(buyer, Role.BUYER | Role.COORDINATOR, account=market.admin)

    assert consortium.has_role(buyer, Role.COORDINATOR)
    consortium.set_roles(buyer, Role.COORDINATOR, account=market.admin)
    assert not consortium.has_role(buyer, Role.BUYER)
    with reverts("consortium: no roles"):
        consortium.set_roles(buyer, Role(0), account=market.admin)
    with reverts("consortium: not a member"):
        consortium.set_roles(market.outsider.address, Role.BUYER, account=market.admin)


def test_removed_member_loses_every_role_and_may_return(market: Market) -> None:
    consortium = market.ledger.consortium
    hospital = market.hospitals[0]

    consortium.remove_member(hospital.address, account=market.admin)

    assert not consortium.is_member(hospital.address)
    assert not consortium.has_role(hospital.address, Role.HOSPITAL)
    assert consortium.member(hospital.address).name == "hospital-0"
    with reverts("datamarket: caller is not a data provider"):
        market.register(hospital)
    with reverts("consortium: not a member"):
        consortium.remove_member(hospital.address, account=market.admin)

    consortium.add_member(
        hospital.address, "hospital-0", Role.HOSPITAL, account=market.admin
    )
    assert market.register(hospital) >= 1


def test_admin_transfer_takes_two_steps(market: Market) -> None:
    consortium = market.ledger.consortium
    successor = market.chain.new_account("successor", ether=1)

    with reverts("ownable: caller is not the owner"):
        consortium.transfer_admin(successor.address, account=market.outsider)
    consortium.transfer_admin(successor.address, account=market.admin)
    assert consortium.admin() == market.admin.address
    with reverts("ownable_2step: caller is not the new owner"):
        consortium.accept_admin(account=market.outsider)

    consortium.accept_admin(account=successor)

    assert consortium.admin() == successor.address
    with reverts("consortium: not admin"):
        consortium.add_member(
            Account.create().address, "Late", Role.BUYER, account=market.admin
        )
    consortium.add_member(
        Account.create().address, "Welcome", Role.BUYER, account=successor
    )


VCT = "https://agora.example/vct/bank-statement"


def _issuer(market: Market) -> str:
    issuer = Account.create().address
    market.ledger.consortium.add_member(
        issuer, "Bank", Role.ISSUER, account=market.admin
    )
    return issuer


def test_admin_trusts_an_issuer_for_one_credential_type(market: Market) -> None:
    consortium = market.ledger.consortium
    issuer = _issuer(market)

    consortium.trust_issuer(issuer, VCT, account=market.admin)

    assert consortium.may_issue(issuer, VCT)
    assert not consortium.may_issue(issuer, VCT + "-v2")
    assert not consortium.may_issue(market.hospitals[0].address, VCT)


def test_trusting_is_announced_with_the_type(market: Market) -> None:
    issuer = _issuer(market)
    receipt = market.chain.transact(
        market.admin,
        market.ledger.consortium.contract.functions.trustIssuer(issuer, VCT),
    )

    (event,) = market.ledger.consortium.events(receipt, "IssuerTrusted")
    assert event["args"]["issuer"] == issuer
    assert event["args"]["vct"] == VCT
    assert event["args"]["vctHash"] == credential_type_hash(VCT)


def test_distrusting_withdraws_the_listing(market: Market) -> None:
    consortium = market.ledger.consortium
    issuer = _issuer(market)
    consortium.trust_issuer(issuer, VCT, account=market.admin)

    consortium.distrust_issuer(issuer, VCT, account=market.admin)

    assert not consortium.may_issue(issuer, VCT)
    with reverts("consortium: not trusted"):
        consortium.distrust_issuer(issuer, VCT, account=market.admin)


@pytest.mark.parametrize("withdraw", ["remove-member", "drop-issuer-role"])
def test_listing_lapses_with_membership_or_role(market: Market, withdraw: str) -> None:
    consortium = market.ledger.consortium
    issuer = _issuer(market)
    consortium.trust_issuer(issuer, VCT, account=market.admin)

    if withdraw == "remove-member":
        consortium.remove_member(issuer, account=market.admin)
    else:
        consortium.set_roles(issuer, Role.PLATFORM, account=market.admin)

    assert not consortium.may_issue(issuer, VCT)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("not-admin", "consortium: not admin"),
        ("not-issuer", "consortium: not an issuer"),
        ("not-member", "consortium: not an issuer"),
        ("empty-type", "consortium: empty credential type"),
        ("twice", "consortium: already trusted"),
    ],
)
def test_trust_list_rules(market: Market, case: str, reason: str) -> None:
    consortium = market.ledger.consortium
    issuer = _issuer(market)
    account, vct = market.admin, VCT
    if case == "not-admin":
        account = market.outsider
    elif case == "not-issuer":
        issuer = market.hospitals[0].address
    elif case == "not-member":
        issuer = Account.create().address
    elif case == "empty-type":
        vct = ""
    else:
        consortium.trust_issuer(issuer, vct, account=market.admin)

    with reverts(reason):
        consortium.trust_issuer(issuer, vct, account=account)
