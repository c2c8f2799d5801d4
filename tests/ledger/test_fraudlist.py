"""FraudList.vy: platforms report keyed hashes with evidence, and withdraw."""

import hashlib

import pytest
from eth_account import Account

from agora.ledger import FraudReason, InvalidArgumentError, Role

from .support import Market, reverts

SUBJECT = hashlib.sha256(b"a keyed hash stands here").digest()
CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"


def _platform(market: Market, name: str = "Lender") -> Account:
    platform = market.chain.new_account(name)
    market.ledger.consortium.add_member(
        platform.address, name, Role.PLATFORM, account=market.admin
    )
    return platform


def test_a_platform_reports_and_the_subject_is_listed(market: Market) -> None:
    fraud = market.ledger.fraud_list
    platform = _platform(market)

    fraud.report(SUBJECT, FraudReason.LOAN_STACKING, CID, account=platform)

    assert fraud.is_listed(SUBJECT)
    report = fraud.report_of(SUBJECT, platform.address)
    assert (report.reason, report.evidence_cid, report.active) == (
        FraudReason.LOAN_STACKING,
        CID,
        True,
    )
    assert not fraud.is_listed(bytes(31) + b"\x01")


def test_listed_while_any_report_stands(market: Market) -> None:
    fraud = market.ledger.fraud_list
    first, second = _platform(market, "A"), _platform(market, "B")
    fraud.report(SUBJECT, FraudReason.IDENTITY_FRAUD, CID, account=first)
    fraud.report(SUBJECT, FraudReason.FORGED_DOCUMENTS, CID, account=second)

    fraud.withdraw(SUBJECT, account=first)
    assert fraud.is_listed(SUBJECT)
    assert fraud.active_reports(SUBJECT) == 1
    fraud.withdraw(SUBJECT, account=second)
    assert not fraud.is_listed(SUBJECT)


def test_the_event_carries_no_identifier(market: Market) -> None:
    platform = _platform(market)
    receipt = market.chain.transact(
        platform,
        market.ledger.fraud_list.contract.functions.report(SUBJECT, 3, CID),
    )

    (event,) = market.ledger.fraud_list.events(receipt, "Reported")
    assert dict(event["args"]) == {
        "subject": SUBJECT,
        "reporter": platform.address,
        "reason": 3,
        "evidenceCid": CID,
    }


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("non-member", "fraud: not a platform"),
        ("hospital", "fraud: not a platform"),
        ("empty-subject", "fraud: empty subject"),
        ("reason-0", "fraud: unknown reason"),
        ("reason-6", "fraud: unknown reason"),
        ("no-evidence", "fraud: no evidence"),
        ("twice", "fraud: already reported"),
    ],
)
def test_report_rules(market: Market, case: str, reason: str) -> None:
    platform = _platform(market)
    account, subject, code, cid = platform, SUBJECT, 1, CID
    if case == "non-member":
        account = market.outsider
    elif case == "hospital":
        account = market.hospitals[0]
    elif case == "empty-subject":
        subject = bytes(32)
    elif case == "reason-0":
        code = 0
    elif case == "reason-6":
        code = 6
    elif case == "no-evidence":
        cid = ""
    else:
        market.ledger.fraud_list.report(SUBJECT, FraudReason(1), CID, account=platform)

    with reverts(reason):
        market.chain.transact(
            account,
            market.ledger.fraud_list.contract.functions.report(subject, code, cid),
        )


def test_only_the_reporter_withdraws(market: Market) -> None:
    fraud = market.ledger.fraud_list
    reporter, other = _platform(market, "A"), _platform(market, "B")
    fraud.report(SUBJECT, FraudReason.IDENTITY_FRAUD, CID, account=reporter)

    with reverts("fraud: no report to withdraw"):
        fraud.withdraw(SUBJECT, account=other)
    assert fraud.is_listed(SUBJECT)


def test_a_subject_must_be_32_bytes(market: Market) -> None:
    with pytest.raises(InvalidArgumentError):
        market.ledger.fraud_list.is_listed(b"A123456789")
