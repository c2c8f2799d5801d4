"""Applicants going through the whole lending flow, to a decision.

Each applicant is onboarded (a DID and three credentials in their own
wallet), applies to a platform disclosing only what it asks, consents to a
joint risk check (a presentation of ``national_id`` bound to that platform
and a fresh nonce), is scored by the credit model and gets a decision with
its reasons (:func:`agora.lending.decision.decide`).

:func:`demo_applicants` makes the cast of ``agora demo lending``: synthetic
people (no real person is described) arranged so that each of the
decision's rules shows: a clean applicant, one who already borrows at two
other platforms, one on the fraud list, one without the income asked for,
and one the credit model rates likely to default.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agora.identity.credentials import (
    IDENTITY_VCT,
    BankStatementClaims,
    DegreeClaims,
    IdentityClaims,
)
from agora.identity.wallet import ScryptParameters, Wallet
from agora.ledger import FraudReason
from agora.lending.application import apply_for_loan, choose_credential
from agora.lending.consortium import BorrowerProfile, LendingConsortium
from agora.lending.decision import Decision, LendingPolicy, RiskFacts, decide
from agora.lending.risk import CONSENT_CLAIM

logger = logging.getLogger(__name__)

Scorer = Callable[[int], float]
"""The credit model: a credit file's index to a probability of default."""


@dataclass(frozen=True)
class Applicant:
    """One demo applicant and what the demo arranged for them."""

    label: str
    profile: BorrowerProfile
    credit_file: int
    """Row of the held-out credit table that stands for their credit history."""
    story: str
    loans_elsewhere: tuple[tuple[str, int], ...] = ()
    """Active loans at other platforms: (platform, outstanding)."""
    reported_by: str | None = None
    """A platform that reported them to the fraud list."""


@dataclass(frozen=True)
class ApplicationOutcome:
    """What happened to one application."""

    applicant: str
    did: str
    story: str
    decision: Decision
    disclosed: dict[str, Any]
    multi_lending_platforms: int | None
    outstanding_elsewhere: int
    on_fraud_list: bool
    default_probability: float

    def to_json(self) -> dict[str, Any]:
        return {
            "applicant": self.applicant,
            "did": self.did,
            "story": self.story,
            **self.decision.to_json(),
            "disclosed": self.disclosed,
            "multi_lending_platforms": self.multi_lending_platforms,
            "outstanding_elsewhere": self.outstanding_elsewhere,
            "on_fraud_list": self.on_fraud_list,
            "default_probability": round(self.default_probability, 4),
        }


def _profile(
    given: str, family: str, national_id: str, income: int, *, born: str
) -> BorrowerProfile:
    return BorrowerProfile(
        identity=IdentityClaims.parse(
            {
                "given_name": given,
                "family_name": family,
                "birth_date": born,
                "national_id": national_id,
                "address": {
                    "street": "1 Demo Rd",
                    "locality": "Taipei",
                    "postal_code": "100",
                    "country": "TW",
                },
            }
        ),
        degree=DegreeClaims.parse(
            {
                "institution": "National Taiwan University",
                "degree": "Bachelor of Science",
                "field_of_study": "Economics",
                "graduation_year": 2015,
            }
        ),
        statement=BankStatementClaims.parse(
            {
                "monthly_incomes": [income] * 6,
                "current_balance": income * 2,
                "account_age_months": 48,
                "currency": "TWD",
            }
        ),
    )


def demo_applicants(*, safe_files: list[int], risky_file: int) -> list[Applicant]:
    """The demo's five applicants; ``safe_files`` (four rows) and
    ``risky_file`` are credit-table rows the model rates low and high."""
    return [
        Applicant(
            "applicant-1",
            _profile("Wei", "Lin", "B120000001", 52_000, born="1990-03-02"),
            safe_files[0],
            "clean record",
        ),
        Applicant(
            "applicant-2",
            _profile("Hao", "Wu", "C220000002", 48_000, born="1988-11-17"),
            safe_files[1],
            "already borrows at platforms B and C",
            loans_elsewhere=(("platform-b", 300_000), ("platform-c", 250_000)),
        ),
        Applicant(
            "applicant-3",
            _profile("Yu", "Chang", "D120000003", 61_000, born="1985-06-30"),
            safe_files[2],
            "reported to the fraud list by platform C",
            reported_by="platform-c",
        ),
        Applicant(
            "applicant-4",
            _profile("Ting", "Huang", "E220000004", 2_400, born="2001-01-09"),
            safe_files[3],
            "monthly income under 3000",
        ),
        Applicant(
            "applicant-5",
            _profile("Jun", "Kao", "F120000005", 45_000, born="1979-08-12"),
            risky_file,
            "credit history the model rates likely to default",
        ),
    ]


def arrange(consortium: LendingConsortium, applicants: list[Applicant]) -> None:
    """Put the applicants' loans on other platforms' books and their fraud
    reports on chain; then every platform refreshes its filter."""
    for applicant in applicants:
        national_id = applicant.profile.identity.national_id
        for lender, outstanding in applicant.loans_elsewhere:
            consortium.platforms[lender].lend(national_id, outstanding)
        if applicant.reported_by is not None:
            consortium.platforms[applicant.reported_by].report_fraud(
                national_id,
                FraudReason.SYNTHETIC_IDENTITY,
                "bafkreidemoevidence",
            )
    for node in consortium.platforms.values():
        node.refresh_filter()


def process_application(
    consortium: LendingConsortium,
    applicant: Applicant,
    folder: Path,
    *,
    platform: str,
    score: Scorer,
    policy: LendingPolicy | None = None,
) -> ApplicationOutcome:
    """Onboard ``applicant``, apply to ``platform``, check, score, decide."""
    wallet = Wallet.create(
        folder / f"{applicant.label}.wallet",
        f"{applicant.label}-demo-password",
        kdf=ScryptParameters(n=2**14),
    )
    holder, _ = consortium.onboard(wallet, applicant.profile)

    # The application: only what the platform asks.
    lender = consortium.lending_platform(platform)
    request = lender.request_application()
    verified = lender.verify_application(
        request, apply_for_loan(wallet, request, now=time.time())
    )

    # The joint risk check, under the applicant's consent.
    checker = consortium.risk_checker(platform)
    consent_request = checker.consent_request()
    identity = choose_credential(wallet, IDENTITY_VCT, now=time.time())
    consent = wallet.present(
        identity.id,
        [CONSENT_CLAIM],
        nonce=consent_request.nonce,
        audience=consent_request.audience,
    )
    risk = checker.check(consent_request, consent)

    probability = score(applicant.credit_file)
    decision = decide(
        verified.disclosed,
        RiskFacts(
            other_platforms_with_loans=risk.other_platforms_with_loans,
            outstanding_elsewhere=risk.outstanding_elsewhere,
            on_fraud_list=risk.on_fraud_list,
        ),
        default_probability=probability,
        policy=policy,
    )
    logger.info(
        "%s: %s", applicant.label, "approved" if decision.approved else "declined"
    )
    return ApplicationOutcome(
        applicant=applicant.label,
        did=holder,
        story=applicant.story,
        decision=decision,
        disclosed=verified.disclosed,
        multi_lending_platforms=risk.other_platforms_with_loans,
        outstanding_elsewhere=risk.outstanding_elsewhere,
        on_fraud_list=risk.on_fraud_list,
        default_probability=probability,
    )
