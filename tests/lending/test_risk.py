"""Joint risk control: multi-lending by PSI, debt sums, fraud list, consent."""

import hashlib
from dataclasses import dataclass
from datetime import date

import pytest

from agora.identity.consortium import (
    DocumentHost,
    IssuerOrganisation,
    consortium_verifier,
    enroll_issuer,
)
from agora.identity.credentials import IDENTITY_VCT, IdentityClaims
from agora.identity.did_ethr import ethr_did
from agora.identity.sdjwt import (
    Algorithm,
    HeldCredential,
    NonceStore,
    SigningKey,
)
from agora.ledger import Deployment, FraudReason, Role, build_contracts, connect, deploy
from agora.lending.errors import ConsentError
from agora.lending.risk import CHECK_KIND, PlatformNode, RiskChecker
from agora.privacy import MalformedPsiMessageError, SubjectKey
from agora.settings import Settings

NATIONAL_ID = "A234567890"
CLAIMS = IdentityClaims.parse(
    {
        "given_name": "Mei-Ling",
        "family_name": "Chen",
        "birth_date": "1994-07-21",
        "national_id": NATIONAL_ID,
        "address": {
            "street": "1 Main St",
            "locality": "Taipei",
            "postal_code": "106",
            "country": "TW",
        },
    }
).to_claims(today=date(2026, 12, 3))


class Blobs:
    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def publish(self, blob: bytes) -> str:
        cid = "sha256-" + hashlib.sha256(blob).hexdigest()
        self.data[cid] = blob
        return cid

    def fetch(self, cid: str) -> bytes:
        return self.data[cid]


@dataclass
class World:
    ledger: Deployment
    platforms: list[PlatformNode]
    government: IssuerOrganisation
    host: DocumentHost
    blobs: Blobs
    key: SubjectKey
    holder: SigningKey
    credential: str

    def checker(self, *, reveal_count: bool = True) -> RiskChecker:
        nonces = NonceStore()
        return RiskChecker(
            self.platforms[0],
            self.platforms[1:],
            ledger=self.ledger,
            verifier=consortium_verifier(
                self.ledger, self.host.fetch, nonces=nonces, recheck_after_s=0
            ),
            nonces=nonces,
            subject_key=self.key,
            fetch=self.blobs.fetch,
            reveal_count=reveal_count,
        )

    def consent(
        self, nonce: str, audience: str, claims: tuple[str, ...] = ("national_id",)
    ) -> str:
        return HeldCredential.parse_unverified(self.credential).present(
            list(claims), holder_key=self.holder, nonce=nonce, audience=audience
        )


@pytest.fixture(scope="module")
def world() -> World:
    settings = Settings(chain_url=None)
    chain = connect(settings)
    admin = chain.new_account("admin")
    ledger = deploy(chain, admin, artifacts=build_contracts(settings))
    host, blobs, key = DocumentHost(), Blobs(), SubjectKey.generate()
    government_account = chain.new_account("government")
    enroll_issuer(
        ledger.consortium, government_account, "gov", [IDENTITY_VCT], admin=admin
    )
    government = IssuerOrganisation.setup(
        ledger, government_account, status_uri="https://gov.example/status/1", host=host
    )
    platforms = []
    for name in ("platform-a", "platform-b", "platform-c", "platform-d"):
        account = chain.new_account(name)
        ledger.consortium.add_member(
            account.address, name, Role.PLATFORM, account=admin
        )
        did = ethr_did(chain.chain_id, account.address)
        platforms.append(PlatformNode(name, account, did, ledger, key, blobs.publish))
    platforms[1].lend(NATIONAL_ID, 120_000)
    platforms[2].lend(NATIONAL_ID.lower(), 35_500)
    for n, platform in enumerate(platforms):
        for other in range(50):
            platform.lend(f"Z{n}{other:08d}", 10_000)
        platform.refresh_filter()
    holder = SigningKey.generate(Algorithm.EDDSA)
    credential, _ = government.issue(
        IDENTITY_VCT, CLAIMS, holder_jwk=holder.public_jwk(), valid_for_s=3600
    )
    return World(
        ledger, platforms, government, host, blobs, key, holder, credential.serialized
    )


def test_multi_lending_and_debt_total_are_found(world: World) -> None:
    checker = world.checker()
    request = checker.consent_request()

    check = checker.check(request, world.consent(request.nonce, request.audience))

    assert check.other_platforms_with_loans == 2
    assert check.outstanding_elsewhere == 155_500
    assert not check.on_fraud_list
    record = world.ledger.anchor.get(check.log_anchor)
    assert record.kind == CHECK_KIND
    assert record.writer == world.platforms[0].account.address
    assert NATIONAL_ID not in record.uri


def test_only_whether_when_the_count_is_not_revealed(world: World) -> None:
    checker = world.checker(reveal_count=False)
    request = checker.consent_request()

    check = checker.check(request, world.consent(request.nonce, request.audience))

    assert check.other_platforms_with_loans is None
    assert check.any_other_loans


def test_the_fraud_list_is_checked(world: World) -> None:
    snapshot = world.ledger.consortium.chain.snapshot()
    world.platforms[3].report_fraud(
        NATIONAL_ID, FraudReason.LOAN_STACKING, "bafy-evidence"
    )
    checker = world.checker()
    request = checker.consent_request()

    check = checker.check(request, world.consent(request.nonce, request.audience))

    assert check.on_fraud_list
    world.ledger.consortium.chain.revert(snapshot)


@pytest.mark.parametrize(
    ("case", "rule"),
    [
        ("reused", "replayed_nonce"),
        ("bound to another platform", "audience"),
        ("another nonce", "nonce"),
        ("national id not disclosed", "required_claim"),
        ("missing", "malformed_encoding"),
    ],
)
def test_no_check_runs_without_valid_consent(
    world: World, case: str, rule: str
) -> None:
    checker = world.checker()
    request = checker.consent_request()
    consent = world.consent(request.nonce, request.audience)
    if case == "reused":
        checker.check(request, consent)
    elif case == "bound to another platform":
        consent = world.consent(request.nonce, world.platforms[1].did)
    elif case == "another nonce":
        consent = world.consent("a-nonce-of-my-choosing", request.audience)
    elif case == "national id not disclosed":
        consent = world.consent(request.nonce, request.audience, ("age_over_18",))
    else:
        consent = ""
    logged_before = world.ledger.anchor.anchor_count()

    with pytest.raises(ConsentError) as caught:
        checker.check(request, consent)

    assert caught.value.rule == rule
    assert world.ledger.anchor.anchor_count() == logged_before


def test_a_platform_refuses_a_malformed_psi_request(world: World) -> None:
    with pytest.raises(MalformedPsiMessageError):
        world.platforms[1].answer_membership(b"\x00\x01garbage")


def test_a_debt_sum_needs_two_other_platforms(world: World) -> None:
    with pytest.raises(ValueError, match="fewer than two"):
        RiskChecker(
            world.platforms[0],
            world.platforms[1:2],
            ledger=world.ledger,
            verifier=consortium_verifier(world.ledger, world.host.fetch),
            nonces=NonceStore(),
            subject_key=world.key,
            fetch=world.blobs.fetch,
        )
