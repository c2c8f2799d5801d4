"""PSI membership checks: right answers, anchored filters, malformed messages."""

import hashlib

import private_set_intersection.python as psi
import pytest

from agora.ledger import Account, Deployment, Role, build_contracts, connect, deploy
from agora.privacy import (
    BorrowerFilter,
    FilterMismatchError,
    FilterReader,
    MalformedPsiMessageError,
    MembershipQuery,
    SubjectKey,
    anchor_filter,
)
from agora.settings import Settings

KEY = SubjectKey(bytes(range(32)))
BORROWERS = [KEY.subject(f"A{n:09d}") for n in range(200)]


class Documents:
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def publish(self, data: bytes) -> str:
        cid = "sha256-" + hashlib.sha256(data).hexdigest()
        self.blobs[cid] = data
        return cid

    def fetch(self, cid: str) -> bytes:
        return self.blobs[cid]


@pytest.fixture(scope="module")
def platform_filter() -> BorrowerFilter:
    return BorrowerFilter()


@pytest.fixture(scope="module")
def published(platform_filter: BorrowerFilter) -> tuple[Documents, bytes]:
    documents = Documents()
    return documents, platform_filter.build(BORROWERS, documents.publish).setup


def _setup(setup_bytes: bytes) -> psi.ServerSetup:
    setup = psi.ServerSetup()
    setup.ParseFromString(setup_bytes)
    return setup


@pytest.mark.parametrize(
    ("identifier", "held"), [("A000000007", True), ("a000000199 ", True), ("B1", False)]
)
def test_membership_is_answered_correctly(
    platform_filter: BorrowerFilter,
    published: tuple[Documents, bytes],
    identifier: str,
    held: bool,
) -> None:
    query = MembershipQuery(KEY.subject(identifier))
    response = platform_filter.answer(query.request())

    assert query.holds(_setup(published[1]), response) is held


def test_requests_of_one_applicant_cannot_be_linked(
    platform_filter: BorrowerFilter,
) -> None:
    subject = KEY.subject("A000000007")
    assert MembershipQuery(subject).request() != MembershipQuery(subject).request()


@pytest.mark.parametrize(
    "request_bytes",
    [b"", b"garbage bytes", b"\x12\x03abc"],
    ids=["empty", "garbage", "not-a-point"],
)
def test_malformed_requests_are_refused(
    platform_filter: BorrowerFilter, request_bytes: bytes
) -> None:
    with pytest.raises(MalformedPsiMessageError):
        platform_filter.answer(request_bytes)


def test_a_request_probing_many_identities_is_refused(
    platform_filter: BorrowerFilter,
) -> None:
    client = psi.client.CreateWithNewKey(False)
    many = client.CreateRequest([s.hex() for s in BORROWERS[:50]]).SerializeToString()

    with pytest.raises(MalformedPsiMessageError, match="exactly 1 item"):
        platform_filter.answer(many)


@pytest.mark.parametrize("response", [b"", b"\x0a\x02ab\x0a\x02cd", b"junk junk"])
def test_malformed_responses_are_refused(
    published: tuple[Documents, bytes], response: bytes
) -> None:
    query = MembershipQuery(KEY.subject("A000000007"))
    query.request()

    with pytest.raises(MalformedPsiMessageError):
        query.holds(_setup(published[1]), response)


@pytest.fixture(scope="module")
def chain_setup() -> tuple[Deployment, Account]:
    settings = Settings(chain_url=None)
    chain = connect(settings)
    admin = chain.new_account("admin")
    ledger = deploy(chain, admin, artifacts=build_contracts(settings))
    platform = chain.new_account("platform")
    ledger.consortium.add_member(platform.address, "P", Role.PLATFORM, account=admin)
    return ledger, platform


def test_a_filter_is_believed_only_as_anchored(
    chain_setup: tuple[Deployment, Account], platform_filter: BorrowerFilter
) -> None:
    ledger, platform = chain_setup
    documents = Documents()
    reader = FilterReader(ledger.anchor, documents.fetch)

    with pytest.raises(FilterMismatchError, match="no filter"):
        reader.current(platform.address)

    published = platform_filter.build(BORROWERS, documents.publish)
    anchor_filter(published, ledger.anchor, account=platform)
    query = MembershipQuery(KEY.subject("A000000042"))
    setup = reader.current(platform.address)
    assert query.holds(setup, platform_filter.answer(query.request()))

    # The platform's published bytes are swapped for another filter.
    documents.blobs[published.cid] = (
        BorrowerFilter().build(BORROWERS[:10], documents.publish).setup
    )
    fresh_reader = FilterReader(ledger.anchor, documents.fetch)
    with pytest.raises(FilterMismatchError, match="does not match"):
        fresh_reader.current(platform.address)
