"""Loan applications: only the asked claims travel; every bad case is refused."""

import time
from pathlib import Path

import pytest

from agora.identity.credentials import BANK_STATEMENT_VCT, DEGREE_VCT, IDENTITY_VCT
from agora.identity.sdjwt import (
    Algorithm,
    CredentialIssuer,
    InMemoryKeys,
    InMemoryStatusList,
    InMemoryTrustList,
    NonceStore,
    PresentationVerifier,
    SigningKey,
    StatusReference,
)
from agora.identity.wallet import ScryptParameters, Wallet
from agora.lending import (
    ApplicationRejectedError,
    LendingPlatform,
    LoanApplication,
    NoMatchingCredentialError,
    apply_for_loan,
    choose_credential,
)
from agora.lending.walkthrough import run_loan_walkthrough
from agora.settings import Settings

PLATFORM = "did:web:platform-a.example"
CLAIMS = {
    IDENTITY_VCT: {"age_over_18": True, "national_id": "A234567890"},
    DEGREE_VCT: {"degree": "MSc", "field": "EE", "institution": "NTU"},
    BANK_STATEMENT_VCT: {"income_over_3000": True, "average_monthly_income": 61_000},
}
ISSUER = "did:web:issuer.example"
STATUS_URI = "https://issuer.example/status/1"


class World:
    """One issuer for all three types, in-memory collaborators."""

    def __init__(self, folder: Path) -> None:
        self.key = SigningKey.generate(Algorithm.EDDSA, key_id=f"{ISSUER}#1")
        keys = InMemoryKeys()
        keys.add(ISSUER, self.key.public_jwk(), key_id=f"{ISSUER}#1")
        self.nonces = NonceStore()
        verifier = PresentationVerifier(
            keys=keys,
            trust=InMemoryTrustList({ISSUER: list(CLAIMS)}),
            status=InMemoryStatusList([STATUS_URI]),
            nonces=self.nonces,
        )
        self.platform = LendingPlatform(PLATFORM, verifier, self.nonces)
        self.folder = folder

    def wallet(self, name: str, vcts: tuple[str, ...] = tuple(CLAIMS)) -> Wallet:
        wallet = Wallet.create(self.folder / name, "pw", kdf=ScryptParameters(n=2**4))
        holder = wallet.new_did()
        for vct in vcts:
            self.give(wallet, holder, vct)
        return wallet

    def give(
        self, wallet: Wallet, holder: str, vct: str, valid_for_s: int = 3600
    ) -> None:
        credential = CredentialIssuer(ISSUER, self.key).issue(
            vct,
            CLAIMS[vct],
            holder_jwk=wallet.public_jwk(holder),
            valid_for_s=valid_for_s,
            status=StatusReference(uri=STATUS_URI, index=len(wallet.credentials())),
        )
        wallet.add_credential(credential.serialized)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_only_the_asked_claims_are_disclosed(world: World) -> None:
    wallet = world.wallet("borrower")
    request = world.platform.request_application()

    verified = world.platform.verify_application(
        request, apply_for_loan(wallet, request, now=time.time())
    )

    assert verified.claims == {
        IDENTITY_VCT: {"age_over_18": True},
        DEGREE_VCT: {"degree": "MSc", "field": "EE"},
        BANK_STATEMENT_VCT: {"income_over_3000": True},
    }
    assert "national_id" not in verified.disclosed


def test_a_missing_presentation_is_rejected(world: World) -> None:
    request = world.platform.request_application()

    with pytest.raises(ApplicationRejectedError) as caught:
        world.platform.verify_application(request, LoanApplication({}))
    assert caught.value.rule == "missing"


def test_a_wallet_without_the_credential_cannot_apply(world: World) -> None:
    wallet = world.wallet("borrower", (IDENTITY_VCT, DEGREE_VCT))

    with pytest.raises(NoMatchingCredentialError):
        apply_for_loan(wallet, world.platform.request_application(), now=time.time())


def test_expired_credentials_are_not_chosen(world: World) -> None:
    wallet = world.wallet("borrower", ())
    holder = wallet.dids()[0]
    world.give(wallet, holder, DEGREE_VCT, valid_for_s=1)

    with pytest.raises(NoMatchingCredentialError):
        choose_credential(wallet, DEGREE_VCT, now=time.time() + 5)


def test_pooled_credentials_of_different_holders_are_rejected(
    world: World,
) -> None:
    ada, bob = world.wallet("ada"), world.wallet("bob")
    request = world.platform.request_application()
    from_ada = apply_for_loan(ada, request, now=time.time())
    from_bob = apply_for_loan(bob, request, now=time.time())
    pooled = LoanApplication(
        {
            **from_ada.presentations,
            BANK_STATEMENT_VCT: from_bob.presentations[BANK_STATEMENT_VCT],
        }
    )

    with pytest.raises(ApplicationRejectedError) as caught:
        world.platform.verify_application(request, pooled)
    assert caught.value.rule == "holder_mismatch"


def test_the_walkthrough_discloses_little_and_refuses_every_attack(
    tmp_path: Path,
) -> None:
    result = run_loan_walkthrough(Settings(chain_url=None), wallet_dir=tmp_path)

    assert result.disclosed == {
        IDENTITY_VCT: {"age_over_18": True},
        DEGREE_VCT: {"degree": "Master of Science", "field": "Electrical Engineering"},
        BANK_STATEMENT_VCT: {"income_over_3000": True},
    }
    assert "national_id" in result.withheld[IDENTITY_VCT]
    assert "average_monthly_income" in result.withheld[BANK_STATEMENT_VCT]
    assert [(check.case, check.rule) for check in result.refusals] == [
        ("replayed to platform A", "replayed_nonce"),
        ("forwarded to platform B", "nonce"),
        ("degree from an unlisted issuer", "issuer_trust"),
        ("revoked bank statement", "revoked"),
    ]
