"""The loan application, end to end on one ledger: the first half of
``agora demo lending``.

Three issuers (government, school, bank) and three lending platforms join
the consortium; the admin lists each issuer for its credential type. A
borrower keeps a DID and the three credentials in an encrypted wallet and
applies to platform A, disclosing only what A asks. Then the attacks a
platform must refuse: the same application replayed to A, sent on to B,
a revoked bank statement, and a degree from an issuer nobody listed.
"""

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agora.identity.consortium import CredentialRecord, IssuerOrganisation
from agora.identity.credentials import (
    BANK_STATEMENT_VCT,
    DEGREE_VCT,
    BankStatementClaims,
    DegreeClaims,
    IdentityClaims,
)
from agora.identity.document import Did
from agora.identity.wallet import ScryptParameters, Wallet
from agora.ledger import Role
from agora.lending.application import (
    ApplicationRequest,
    LendingPlatform,
    LoanApplication,
    apply_for_loan,
)
from agora.lending.consortium import (
    BorrowerProfile,
    LendingConsortium,
    Step,
    no_step,
)
from agora.lending.errors import ApplicationRejectedError
from agora.settings import Settings

logger = logging.getLogger(__name__)

SAMPLE_BORROWER = BorrowerProfile(
    identity=IdentityClaims.parse(
        {
            "given_name": "Mei-Ling",
            "family_name": "Chen",
            "birth_date": "1994-07-21",
            "national_id": "A234567890",
            "address": {
                "street": "12 Roosevelt Rd Sec 4",
                "locality": "Taipei",
                "postal_code": "106",
                "country": "TW",
            },
        }
    ),
    degree=DegreeClaims.parse(
        {
            "institution": "National Taiwan University",
            "degree": "Master of Science",
            "field_of_study": "Electrical Engineering",
            "graduation_year": 2019,
        }
    ),
    statement=BankStatementClaims.parse(
        {
            "monthly_incomes": [61_000, 59_500, 62_300, 60_800, 63_100, 61_900],
            "current_balance": 284_000,
            "account_age_months": 74,
            "currency": "TWD",
        }
    ),
)
"""A made-up borrower; no real person is described. Incomes in TWD, which
clears every ``income_over_<t>`` threshold."""


@dataclass(frozen=True)
class RefusalCheck:
    """An attack the platform must refuse, and what it said."""

    case: str
    expected_rule: str
    rule: str | None

    @property
    def refused_as_expected(self) -> bool:
        return self.rule == self.expected_rule


@dataclass
class WalkthroughResult:
    """Everything the walk-through did, for result.json and the report."""

    chain_id: int
    contracts: dict[str, str]
    issuers: dict[str, Did]
    platforms: dict[str, Did]
    borrower: str
    credentials: list[dict[str, Any]]
    disclosed: dict[str, dict[str, Any]]
    withheld: dict[str, list[str]]
    refusals: list[RefusalCheck]
    verify_ms: float
    steps: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary; claim values appear only where disclosed."""
        return {
            "chain_id": self.chain_id,
            "contracts": self.contracts,
            "issuers": self.issuers,
            "platforms": self.platforms,
            "borrower": self.borrower,
            "credentials": self.credentials,
            "disclosed_to_platform_a": self.disclosed,
            "withheld_from_platform_a": self.withheld,
            "refusals": [
                {
                    "case": check.case,
                    "expected_rule": check.expected_rule,
                    "rule": check.rule,
                    "refused_as_expected": check.refused_as_expected,
                }
                for check in self.refusals
            ],
            "application_verify_ms": round(self.verify_ms, 2),
        }


def run_loan_walkthrough(
    settings: Settings,
    *,
    wallet_dir: Path | None = None,
    on_step: Step = no_step,
    borrower: BorrowerProfile = SAMPLE_BORROWER,
) -> WalkthroughResult:
    """Run the walk-through on the chain ``settings`` select.

    The borrower's wallet lives in ``wallet_dir`` (a temporary folder when
    None) under a throw-away password.
    """
    with tempfile.TemporaryDirectory(prefix="agora-wallet-") as scratch:
        folder = wallet_dir or Path(scratch)
        return _run(settings, folder, on_step, borrower)


def _run(
    settings: Settings, folder: Path, on_step: Step, borrower: BorrowerProfile
) -> WalkthroughResult:
    consortium = LendingConsortium.setup(settings, on_step=on_step)
    return walk_through(consortium, folder, on_step=on_step, borrower=borrower)


def walk_through(
    consortium: LendingConsortium,
    folder: Path,
    *,
    on_step: Step = no_step,
    borrower: BorrowerProfile = SAMPLE_BORROWER,
) -> WalkthroughResult:
    """The walk-through on an existing consortium; the borrower's wallet
    is created in ``folder``."""
    on_step("borrower receives three credentials")
    wallet = Wallet.create(
        folder / "borrower.wallet", "borrower-demo-password", kdf=ScryptParameters()
    )
    holder, records = consortium.onboard(wallet, borrower)
    credentials = [
        {"vct": c.vct, "issuer": c.issuer, "claims": list(c.claim_names)}
        for c in wallet.credentials()
    ]
    claim_names = {c.vct: set(c.claim_names) for c in wallet.credentials()}

    on_step("apply to platform A")
    platform_a = consortium.lending_platform("platform-a")
    request = platform_a.request_application()
    application = apply_for_loan(wallet, request, now=time.time())
    started = time.perf_counter()
    verified = platform_a.verify_application(request, application)
    verify_ms = (time.perf_counter() - started) * 1000
    withheld = {
        vct: sorted(names - set(verified.claims[vct]))
        for vct, names in claim_names.items()
    }

    on_step("refuse replays, revocations and untrusted issuers")
    refusals = _refusals(
        consortium,
        wallet=wallet,
        platform_a=platform_a,
        replayed=(request, application),
        bank_record=records[BANK_STATEMENT_VCT],
        degree_claims=borrower.degree.to_claims(),
        holder_jwk=wallet.public_jwk(holder),
    )
    return WalkthroughResult(
        chain_id=consortium.chain.chain_id,
        contracts=dict(consortium.ledger.addresses),
        issuers={name: issuer.did for name, issuer in consortium.issuers.items()},
        platforms={name: Did(node.did) for name, node in consortium.platforms.items()},
        borrower=holder,
        credentials=credentials,
        disclosed={vct: dict(values) for vct, values in verified.claims.items()},
        withheld=withheld,
        refusals=refusals,
        verify_ms=verify_ms,
    )


def _refusals(
    consortium: LendingConsortium,
    *,
    wallet: Wallet,
    platform_a: LendingPlatform,
    replayed: tuple[ApplicationRequest, LoanApplication],
    bank_record: CredentialRecord,
    degree_claims: dict[str, Any],
    holder_jwk: dict[str, str],
) -> list[RefusalCheck]:
    checks: list[RefusalCheck] = []

    def attempt(case: str, expected: str, run: Callable[[], object]) -> None:
        try:
            run()
        except ApplicationRejectedError as exc:
            checks.append(RefusalCheck(case, expected, exc.rule))
        else:
            checks.append(RefusalCheck(case, expected, None))
        logger.info("refusal check %s: %s", case, checks[-1].rule)

    # The same application again, to A: its nonces are spent.
    request, application = replayed
    attempt(
        "replayed to platform A",
        "replayed_nonce",
        lambda: platform_a.verify_application(request, application),
    )

    # The application A received, forwarded by A (or a thief) to B.
    platform_b = consortium.lending_platform("platform-b")
    attempt(
        "forwarded to platform B",
        "nonce",
        lambda: platform_b.verify_application(
            platform_b.request_application(), application
        ),
    )

    # A degree from a "diploma mill" that joined but was never listed.
    mill = consortium.chain.new_account("diploma-mill")
    consortium.ledger.consortium.add_member(
        mill.address, "mill", Role.ISSUER, account=consortium.admin
    )
    mill_issuer = IssuerOrganisation.setup(
        consortium.ledger,
        mill,
        status_uri="https://mill.example/status/1",
        host=consortium.host,
    )
    fake, _ = mill_issuer.issue(DEGREE_VCT, degree_claims, holder_jwk=holder_jwk)
    wallet.add_credential(fake.serialized)
    attempt(
        "degree from an unlisted issuer",
        "issuer_trust",
        lambda: _apply_again(wallet, platform_a),
    )
    wallet.delete_credential(
        next(c.id for c in wallet.credentials() if c.issuer == mill_issuer.did)
    )

    # The bank revokes the statement; the next application fails.
    consortium.issuers["bank"].revoke(bank_record)
    attempt(
        "revoked bank statement",
        "revoked",
        lambda: _apply_again(wallet, platform_a),
    )
    return checks


def _apply_again(wallet: Wallet, platform: LendingPlatform) -> None:
    request = platform.request_application()
    application = apply_for_loan(wallet, request, now=time.time())
    platform.verify_application(request, application)
