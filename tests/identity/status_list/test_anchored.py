"""Issuer publishes and anchors its status lists; a verifier checks status
against the anchored hash, from a cache refreshed when the anchor moves."""

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from eth_account.signers.local import LocalAccount

from agora.federated.merkle import merkle_root
from agora.identity.sdjwt import (
    Algorithm,
    CredentialIssuer,
    CredentialStatus,
    HeldCredential,
    InMemoryKeys,
    InMemoryTrustList,
    PresentationRequest,
    PresentationVerifier,
    Rule,
    SigningKey,
    StatusReference,
    VerificationError,
)
from agora.identity.status_list import (
    AnchoredStatusChecker,
    PublishedStatusList,
    StatusIndexError,
    StatusListIssuer,
    StatusPurpose,
    StatusRule,
    StatusTransitionError,
    StatusUnavailableError,
    TrustedStatusList,
    status_list_kind,
    status_list_url,
)
from agora.ledger import Chain, Deployment, Role, build_contracts, connect, deploy
from agora.settings import Settings

ISSUER = "did:web:bank.example"
LIST_URI = "https://bank.example/status/1"
VCT = "https://agora.example/vct/bank-statement"
START = 1.8e9
RECHECK_S = 30.0


@dataclass
class Clock:
    now: float = START

    def __call__(self) -> float:
        return self.now


@dataclass
class Host:
    """The issuer's web server: documents by URL."""

    documents: dict[str, bytes] = field(default_factory=dict)

    def serve(self, published: PublishedStatusList) -> None:
        self.documents.update(published.documents())

    def fetch(self, url: str) -> bytes:
        return self.documents[url]


@dataclass(frozen=True)
class Ledger:
    chain: Chain
    deployment: Deployment
    bank: LocalAccount
    other_member: LocalAccount


@pytest.fixture(scope="module")
def deployed() -> Ledger:
    settings = Settings(chain_url=None)
    chain = connect(settings)
    admin = chain.new_account("admin")
    deployment = deploy(chain, admin, artifacts=build_contracts(settings))
    bank, other = chain.new_account("bank"), chain.new_account("other")
    for account in (bank, other):
        deployment.consortium.add_member(
            account.address, chain.name_of(account.address), Role.ISSUER, account=admin
        )
    return Ledger(chain, deployment, bank, other)


@pytest.fixture
def ledger(deployed: Ledger) -> Iterator[Ledger]:
    snapshot = deployed.chain.snapshot()
    yield deployed
    deployed.chain.revert(snapshot)


@dataclass
class World:
    ledger: Ledger
    clock: Clock
    host: Host
    key: SigningKey
    lists: StatusListIssuer
    checker: AnchoredStatusChecker

    def publish(self, lists: StatusListIssuer | None = None) -> PublishedStatusList:
        """Sign, serve and anchor the issuer's lists as they stand."""
        published = (lists or self.lists).publish()
        self.host.serve(published)
        self.lists.anchor(
            published, self.ledger.deployment.anchor, account=self.ledger.bank
        )
        return published

    def later(self) -> None:
        self.clock.now += RECHECK_S + 1


@pytest.fixture
def world(ledger: Ledger) -> World:
    clock, host = Clock(), Host()
    key = SigningKey.generate(Algorithm.ES256, key_id=f"{ISSUER}#1")
    indexes = iter(range(5, 10_000, 7))
    lists = StatusListIssuer(
        LIST_URI,
        issuer=ISSUER,
        key=key,
        clock=clock,
        choose_index=lambda size: next(indexes),
    )
    checker = AnchoredStatusChecker(
        ledger.deployment.anchor,
        host.fetch,
        lists={
            LIST_URI: TrustedStatusList(
                ledger.bank.address, ISSUER, key.verification_key()
            )
        },
        clock=clock,
        recheck_after_s=RECHECK_S,
    )
    return World(ledger, clock, host, key, lists, checker)


def _unavailable(world: World, reference: StatusReference) -> StatusRule:
    with pytest.raises(StatusUnavailableError) as info:
        world.checker.status_of(reference)
    assert isinstance(info.value, LookupError)
    return info.value.rule


# Issuer side


def test_allocated_indexes_are_unique_and_start_valid(world: World) -> None:
    first, second = world.lists.allocate(), world.lists.allocate()

    assert first.uri == second.uri == LIST_URI
    assert first.index != second.index
    assert world.lists.status(first.index) is CredentialStatus.VALID


def test_rule_revocation_is_final(world: World) -> None:
    index = world.lists.allocate().index
    world.lists.revoke(index)
    world.lists.unsuspend(index)

    with pytest.raises(StatusTransitionError):
        world.lists.suspend(index)
    assert world.lists.status(index) is CredentialStatus.REVOKED


def test_rule_index_range_on_the_issuer(world: World) -> None:
    with pytest.raises(StatusIndexError):
        world.lists.revoke(world.lists.size)


def test_published_lists_are_anchored_as_one_merkle_root(world: World) -> None:
    published = world.publish()
    anchored = world.ledger.deployment.anchor.history(
        world.ledger.bank.address, status_list_kind(LIST_URI)
    )

    assert [record.root for record in anchored] == [
        merkle_root(
            [published.revocation_jwt.encode(), published.suspension_jwt.encode()]
        )
    ]
    assert anchored[0].uri == LIST_URI


# Verifier side


def test_status_follows_the_anchored_lists(world: World) -> None:
    valid, revoked, suspended = (world.lists.allocate() for _ in range(3))
    world.lists.revoke(revoked.index)
    world.lists.suspend(suspended.index)
    world.publish()

    assert world.checker.status_of(valid) is CredentialStatus.VALID
    assert world.checker.status_of(revoked) is CredentialStatus.REVOKED
    assert world.checker.status_of(suspended) is CredentialStatus.SUSPENDED


def test_stale_cache_is_refreshed_once_the_anchor_moves(world: World) -> None:
    reference = world.lists.allocate()
    world.publish()
    assert world.checker.status_of(reference) is CredentialStatus.VALID

    world.lists.revoke(reference.index)
    world.publish()
    # Within recheck_after_s the cached pair answers, without the chain.
    assert world.checker.status_of(reference) is CredentialStatus.VALID

    world.later()
    assert world.checker.status_of(reference) is CredentialStatus.REVOKED


def test_refresh_asks_the_anchor_at_once(world: World) -> None:
    reference = world.lists.allocate()
    world.publish()
    world.checker.status_of(reference)
    world.lists.suspend(reference.index)
    world.publish()

    world.checker.refresh(LIST_URI)

    assert world.checker.status_of(reference) is CredentialStatus.SUSPENDED


def test_an_unmoved_anchor_keeps_the_cache_without_refetching(world: World) -> None:
    reference = world.lists.allocate()
    world.publish()
    world.checker.status_of(reference)
    world.host.documents.clear()

    world.later()

    assert world.checker.status_of(reference) is CredentialStatus.VALID


def test_rule_hash_mismatch_tampered_list(world: World) -> None:
    reference = world.lists.allocate()
    world.publish()
    # The host (or a man in the middle) serves a list the issuer signed
    # later but never anchored: still refused.
    world.lists.revoke(reference.index)
    world.host.serve(world.lists.publish())

    assert _unavailable(world, reference) is StatusRule.HASH_MISMATCH


def test_rule_hash_mismatch_altered_bytes(world: World) -> None:
    reference = world.lists.allocate()
    world.publish()
    url = status_list_url(LIST_URI, StatusPurpose.SUSPENSION)
    served = world.host.documents[url]
    # Two signature characters changed, never to what they already are (an
    # Ed25519 signature ends in "AA" about once in 256 lists).
    world.host.documents[url] = served[:-2] + (b"AB" if served[-2:] != b"AB" else b"BA")

    assert _unavailable(world, reference) is StatusRule.HASH_MISMATCH


def test_rule_hash_mismatch_on_refresh_keeps_nothing_stale(world: World) -> None:
    reference = world.lists.allocate()
    world.publish()
    world.checker.status_of(reference)
    world.lists.revoke(reference.index)
    anchored = world.publish()
    world.host.documents.update(
        {url: b"x" + body for url, body in anchored.documents().items()}
    )

    world.later()

    assert _unavailable(world, reference) is StatusRule.HASH_MISMATCH


def test_rule_unknown_list(world: World) -> None:
    world.publish()

    assert (
        _unavailable(world, StatusReference("https://evil.example/status/1", 0))
        is StatusRule.UNKNOWN_LIST
    )


def test_rule_not_anchored(world: World) -> None:
    world.host.serve(world.lists.publish())

    assert _unavailable(world, world.lists.allocate()) is StatusRule.NOT_ANCHORED


def test_rule_not_anchored_by_the_trusted_writer(world: World) -> None:
    # Another member anchoring the same list's kind does not count.
    published = world.lists.publish()
    world.host.serve(published)
    world.lists.anchor(
        published,
        world.ledger.deployment.anchor,
        account=world.ledger.other_member,
    )

    assert _unavailable(world, world.lists.allocate()) is StatusRule.NOT_ANCHORED


def test_rule_signature_under_another_key(world: World) -> None:
    forger = StatusListIssuer(
        LIST_URI, issuer=ISSUER, key=SigningKey.generate(Algorithm.ES256)
    )
    world.publish(forger)

    assert _unavailable(world, world.lists.allocate()) is StatusRule.SIGNATURE


def test_rule_credential_from_another_issuer(world: World) -> None:
    world.publish(StatusListIssuer(LIST_URI, issuer="did:web:other", key=world.key))

    assert _unavailable(world, world.lists.allocate()) is StatusRule.CREDENTIAL


def test_rule_purpose_swapped_lists(world: World) -> None:
    published = world.lists.publish()
    swapped = PublishedStatusList(
        LIST_URI, published.suspension_jwt, published.revocation_jwt
    )
    world.host.serve(swapped)
    world.lists.anchor(
        swapped, world.ledger.deployment.anchor, account=world.ledger.bank
    )

    assert _unavailable(world, world.lists.allocate()) is StatusRule.CREDENTIAL


def test_rule_fetch(world: World) -> None:
    world.publish()
    world.host.documents.clear()

    assert _unavailable(world, world.lists.allocate()) is StatusRule.FETCH


def test_rule_index_range(world: World) -> None:
    world.publish()

    for index in (-1, world.lists.size):
        reference = StatusReference(LIST_URI, index)
        assert _unavailable(world, reference) is StatusRule.INDEX_RANGE


def test_rule_revocation_undone(world: World) -> None:
    reference = world.lists.allocate()
    world.lists.revoke(reference.index)
    world.publish()
    assert world.checker.status_of(reference) is CredentialStatus.REVOKED

    # A fresh pair without the revocation, signed and anchored by the issuer.
    world.publish(StatusListIssuer(LIST_URI, issuer=ISSUER, key=world.key))
    world.later()

    assert _unavailable(world, reference) is StatusRule.REVOCATION_UNDONE


# Through the SD-JWT verifier


@pytest.fixture
def credential(world: World) -> tuple[StatusReference, str, SigningKey]:
    holder_key = SigningKey.generate(Algorithm.EDDSA)
    reference = world.lists.allocate()
    issuer = CredentialIssuer(ISSUER, world.key, clock=world.clock)
    issued = issuer.issue(
        VCT,
        {"income_over_3000": True},
        holder_jwk=holder_key.public_jwk(),
        valid_for_s=365 * 86_400,
        status=reference,
    )
    return reference, issued.serialized, holder_key


def _verify(world: World, serialized: str, holder_key: SigningKey) -> None:
    presentation = HeldCredential.parse_unverified(serialized).present(
        ["income_over_3000"],
        holder_key=holder_key,
        nonce="n-1",
        audience="did:web:lender",
        clock=world.clock,
    )
    keys = InMemoryKeys()
    keys.add(ISSUER, world.key.public_jwk(), key_id=world.key.key_id)
    verifier = PresentationVerifier(
        keys=keys,
        trust=InMemoryTrustList({ISSUER: [VCT]}),
        status=world.checker,
        clock=world.clock,
    )
    request = PresentationRequest(
        nonce="n-1",
        audience="did:web:lender",
        required_claims=frozenset({"income_over_3000"}),
    )
    verifier.verify(presentation, request)


def _rule(world: World, serialized: str, holder_key: SigningKey) -> Rule:
    with pytest.raises(VerificationError) as info:
        _verify(world, serialized, holder_key)
    return info.value.rule


def test_verifier_rule_revoked(
    world: World, credential: tuple[StatusReference, str, SigningKey]
) -> None:
    reference, serialized, holder_key = credential
    world.publish()
    _verify(world, serialized, holder_key)

    world.lists.revoke(reference.index)
    world.publish()
    world.later()

    assert _rule(world, serialized, holder_key) is Rule.REVOKED


def test_verifier_suspend_then_unsuspend(
    world: World, credential: tuple[StatusReference, str, SigningKey]
) -> None:
    reference, serialized, holder_key = credential
    world.lists.suspend(reference.index)
    world.publish()
    assert _rule(world, serialized, holder_key) is Rule.SUSPENDED

    world.lists.unsuspend(reference.index)
    world.publish()
    world.later()

    _verify(world, serialized, holder_key)


def test_verifier_rule_status_unavailable_for_a_tampered_list(
    world: World, credential: tuple[StatusReference, str, SigningKey]
) -> None:
    reference, serialized, holder_key = credential
    world.lists.revoke(reference.index)
    world.publish()
    # Serve a list without the revocation in its place.
    world.host.serve(StatusListIssuer(LIST_URI, issuer=ISSUER, key=world.key).publish())

    assert _rule(world, serialized, holder_key) is Rule.STATUS_UNAVAILABLE


def test_each_list_uri_has_its_own_anchor(world: World) -> None:
    world.publish()
    other_uri = "https://bank.example/status/2"
    world.checker.trust(
        other_uri,
        TrustedStatusList(
            world.ledger.bank.address, ISSUER, world.key.verification_key()
        ),
    )

    reference = StatusReference(other_uri, 0)
    assert _unavailable(world, reference) is StatusRule.NOT_ANCHORED
    assert world.checker.status_of(world.lists.allocate()) is CredentialStatus.VALID
