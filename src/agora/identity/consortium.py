"""Credentials in a consortium: issuers, trust and status from the ledger.

The pieces of :mod:`agora.identity.sdjwt` and :mod:`agora.identity.status_list`
are protocols; here they are backed by the consortium's contracts:

- an issuer is a consortium member whose DID is the ``did:ethr`` of its
  account. It signs with a key it publishes in ``DIDRegistry`` as a
  ``did/pub/<alg>/veriKey`` attribute (the account's own secp256k1 key names
  an address, not a key, so it cannot verify a JWS), and advertises its
  status list as a ``did/svc/BitstringStatusList`` service;
- :class:`ConsortiumTrustList` reads the trust list in ``Consortium``;
- :func:`did_status_lists` finds a credential's status list in its issuer's
  DID document, so a list is only ever believed for its own issuer;
- :func:`consortium_verifier` assembles a verifier from all of this.
"""

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from agora.identity.did_ethr import EthrResolver, ethr_did, parse_ethr_did
from agora.identity.document import Did
from agora.identity.errors import IdentityError, InvalidDidError
from agora.identity.keys import KeyPair, KeyType, PublicKey
from agora.identity.resolver import DidResolver
from agora.identity.sdjwt import (
    CredentialIssuer,
    IssuedCredential,
    NonceStore,
    PresentationVerifier,
    SigningKey,
    VerificationKey,
)
from agora.identity.sdjwt.did_keys import DidIssuerKeys
from agora.identity.status_list import (
    AnchoredStatusChecker,
    Fetch,
    StatusListIssuer,
    TrustedStatusList,
)
from agora.identity.status_list.checker import Discover
from agora.ledger import (
    Account,
    ConsortiumClient,
    Deployment,
    LedgerError,
    Role,
    bytes32,
)

logger = logging.getLogger(__name__)

STATUS_LIST_SERVICE = "BitstringStatusList"
"""Service type under which an issuer's DID document lists its status lists."""

KEY_ATTRIBUTE = {
    KeyType.ED25519: "did/pub/Ed25519/veriKey/hex",
    KeyType.SECP256K1: "did/pub/Secp256k1/veriKey/hex",
}
"""The ``DIDRegistry`` attribute publishing an issuer's signing key (did:ethr
spec, "Non-Ethereum Attributes"); P-256 has no did:ethr attribute name."""

PUBLICATION_VALIDITY_S = 10 * 365 * 86_400
"""How long a published key or service stays in the DID document unless
revoked first."""


class TrustListUnavailableError(LookupError):
    """``Consortium`` could not be read; the verifier reports it under
    ``issuer_trust`` instead of calling the issuer untrusted."""


class ConsortiumTrustList:
    """The verifier's ``TrustPolicy``, read from ``Consortium``.

    An issuer is a ``did:ethr`` of this chain whose account is listed for
    the credential type and still an active member with the ISSUER role.
    Any other DID is untrusted. Answers are cached for ``recheck_after_s``.
    """

    def __init__(
        self,
        consortium: ConsortiumClient,
        *,
        recheck_after_s: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._consortium = consortium
        self._chain_id = consortium.chain.chain_id
        self._recheck_after_s = recheck_after_s
        self._monotonic = monotonic
        self._cache: dict[tuple[str, str], tuple[bool, float]] = {}

    def may_issue(self, issuer: str, vct: str) -> bool:
        """Whether ``issuer`` may issue ``vct``; raises
        :class:`TrustListUnavailableError` when the chain cannot say."""
        now = self._monotonic()
        cached = self._cache.get((issuer, vct))
        if cached is not None and now - cached[1] < self._recheck_after_s:
            return cached[0]
        try:
            chain_id, account = parse_ethr_did(issuer)
        except InvalidDidError:
            return False
        if chain_id != self._chain_id:
            return False
        try:
            allowed = self._consortium.may_issue(account, vct)
        except LedgerError as exc:
            raise TrustListUnavailableError("Consortium unreadable") from exc
        self._cache[(issuer, vct)] = (allowed, now)
        return allowed


@dataclass(frozen=True)
class PublicKeyMethod:
    """A verification method id and the public key it carries."""

    id: str
    public_key: PublicKey


def latest_assertion_key(resolver: DidResolver, did: str) -> PublicKeyMethod:
    """The most recently published assertion method of ``did`` that carries
    a public key, and that key; raises :class:`LookupError` if none does."""
    try:
        result = resolver.resolve(did)
    except IdentityError as exc:
        raise LookupError(f"{did} does not resolve") from exc
    if result.deactivated:
        raise LookupError(f"{did} is deactivated")
    document = result.document
    keyed = [
        PublicKeyMethod(method.id, method.public_key)
        for method in map(document.verification_method, document.assertion_method)
        if method.public_key is not None
    ]
    if not keyed:
        raise LookupError(f"{did} publishes no assertion key")
    return keyed[-1]


def did_status_lists(resolver: DidResolver) -> Discover:
    """Status list discovery for :class:`AnchoredStatusChecker`.

    A list ``uri`` belongs to ``issuer`` when the issuer's DID document
    lists it as a ``BitstringStatusList`` service; it must be anchored by
    the issuer's account and signed with its latest assertion key.
    """

    def discover(uri: str, issuer: str) -> TrustedStatusList:
        try:
            _, account = parse_ethr_did(issuer)
        except InvalidDidError as exc:
            raise LookupError(f"{issuer} has no account to anchor lists") from exc
        method = latest_assertion_key(resolver, issuer)
        services = resolver.resolve(issuer).document.services
        if not any(
            service.type == STATUS_LIST_SERVICE and service.service_endpoint == uri
            for service in services
        ):
            raise LookupError(f"{issuer} does not list {uri}")
        key = VerificationKey.from_jwk(method.public_key.to_jwk())
        return TrustedStatusList(writer=account, issuer=issuer, key=key)

    return discover


def consortium_verifier(
    deployment: Deployment,
    fetch: Fetch,
    *,
    nonces: NonceStore | None = None,
    recheck_after_s: float = 5.0,
    clock: Callable[[], float] = time.time,
) -> PresentationVerifier:
    """A presentation verifier backed by ``deployment``.

    Issuer keys come from DID documents in ``DIDRegistry``, trust from
    ``Consortium``, status from lists fetched by ``fetch`` and accepted only
    when they match their ``Anchor`` record. Chain reads are cached for
    ``recheck_after_s``: a revocation, a distrust or a key rotation is
    seen within that long.
    """
    ethr = EthrResolver(deployment.did_registry, recheck_after_s=recheck_after_s)
    resolver = DidResolver(ethr=ethr)
    status = AnchoredStatusChecker(
        deployment.anchor,
        fetch,
        discover=did_status_lists(resolver),
        clock=clock,
        recheck_after_s=recheck_after_s,
    )
    trust = ConsortiumTrustList(deployment.consortium, recheck_after_s=recheck_after_s)
    return PresentationVerifier(
        keys=DidIssuerKeys(resolver),
        trust=trust,
        status=status,
        clock=clock,
        nonces=nonces,
    )


class DocumentPublisher(Protocol):
    """Where an issuer publishes documents (URL to bytes) for verifiers."""

    def publish(self, documents: Mapping[str, bytes]) -> None: ...


class DocumentHost:
    """Published documents by URL: where verifiers fetch status lists.

    In one process this dictionary is the web; a node serves the same
    documents over HTTP (see DESIGN.md).
    """

    def __init__(self) -> None:
        self._documents: dict[str, bytes] = {}

    def publish(self, documents: Mapping[str, bytes]) -> None:
        """Serve ``documents`` (URL to bytes), replacing older versions."""
        self._documents.update(documents)

    def fetch(self, url: str) -> bytes:
        """The document at ``url``; raises :class:`KeyError`."""
        return self._documents[url]


def enroll_issuer(
    consortium: ConsortiumClient,
    issuer: Account,
    name: str,
    credential_types: Iterable[str],
    *,
    admin: Account,
) -> Did:
    """Admit ``issuer`` with the ISSUER role (if it is not a member yet) and
    list it for ``credential_types``; returns its DID. Admin only."""
    member = consortium.member(issuer.address)
    if not member.active:
        consortium.add_member(issuer.address, name, Role.ISSUER, account=admin)
    elif Role.ISSUER not in member.roles:
        consortium.set_roles(issuer.address, member.roles | Role.ISSUER, account=admin)
    for vct in credential_types:
        if not consortium.may_issue(issuer.address, vct):
            consortium.trust_issuer(issuer.address, vct, account=admin)
    return ethr_did(consortium.chain.chain_id, issuer.address)


@dataclass
class CredentialRecord:
    """What an issuer keeps about one credential it issued: enough to
    revoke or suspend it, never its claims."""

    vct: str
    status_index: int


class IssuerOrganisation:
    """A consortium member issuing credentials under its ``did:ethr``.

    :meth:`setup` publishes its signing key and status list service in
    ``DIDRegistry`` and anchors an empty status list; afterwards
    :meth:`issue` signs credentials that a :func:`consortium_verifier`
    accepts, and :meth:`revoke` / :meth:`suspend` take effect once
    the new list is anchored (they do it at once).
    """

    def __init__(
        self,
        deployment: Deployment,
        account: Account,
        signing_key: SigningKey,
        status_list: StatusListIssuer,
        host: DocumentPublisher,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.deployment = deployment
        self.account = account
        self.did = ethr_did(deployment.consortium.chain.chain_id, account.address)
        self.key_id = signing_key.key_id
        """The DID URL of the signing key: the ``kid`` of what it issues."""
        self.public_jwk = signing_key.public_jwk()
        self._issuer = CredentialIssuer(self.did, signing_key, clock=clock)
        self.status_list = status_list
        self._host = host

    @classmethod
    def setup(
        cls,
        deployment: Deployment,
        account: Account,
        *,
        status_uri: str,
        host: DocumentPublisher,
        key: KeyPair | None = None,
        clock: Callable[[], float] = time.time,
    ) -> "IssuerOrganisation":
        """Publish ``key`` (a fresh Ed25519 key if None) and the status list
        service for ``account``'s DID, then anchor the empty list."""
        pair = key or KeyPair.generate(KeyType.ED25519)
        if pair.key_type not in KEY_ATTRIBUTE:
            raise IdentityError(f"did:ethr cannot publish a {pair.key_type.value} key")
        did = ethr_did(deployment.consortium.chain.chain_id, account.address)
        registry = deployment.did_registry
        registry.set_attribute(
            account.address,
            bytes32(KEY_ATTRIBUTE[pair.key_type]),
            pair.public_key.raw,
            validity=PUBLICATION_VALIDITY_S,
            account=account,
        )
        registry.set_attribute(
            account.address,
            bytes32(f"did/svc/{STATUS_LIST_SERVICE}"),
            status_uri.encode(),
            validity=PUBLICATION_VALIDITY_S,
            account=account,
        )
        method = latest_assertion_key(DidResolver(ethr=EthrResolver(registry)), did)
        signing_key = SigningKey(pair.private_jwk(), key_id=method.id)
        status = StatusListIssuer(status_uri, issuer=did, key=signing_key, clock=clock)
        organisation = cls(deployment, account, signing_key, status, host, clock=clock)
        organisation.publish_status()
        logger.info("issuer %s set up with key %s", did, method.id)
        return organisation

    def issue(
        self,
        vct: str,
        claims: Mapping[str, Any],
        *,
        holder_jwk: Mapping[str, str],
        valid_for_s: int | None = None,
    ) -> tuple[IssuedCredential, CredentialRecord]:
        """Sign ``claims`` as ``vct`` for the holder; returns the credential
        and the record to revoke it by."""
        reference = self.status_list.allocate()
        credential = self._issuer.issue(
            vct,
            claims,
            holder_jwk=holder_jwk,
            valid_for_s=valid_for_s,
            status=reference,
        )
        return credential, CredentialRecord(vct=vct, status_index=reference.index)

    def revoke(self, record: CredentialRecord) -> None:
        """Revoke for good, and publish and anchor the list."""
        self.status_list.revoke(record.status_index)
        self.publish_status()

    def suspend(self, record: CredentialRecord) -> None:
        """Suspend, and publish and anchor the list."""
        self.status_list.suspend(record.status_index)
        self.publish_status()

    def unsuspend(self, record: CredentialRecord) -> None:
        """Lift a suspension, and publish and anchor the list."""
        self.status_list.unsuspend(record.status_index)
        self.publish_status()

    def publish_status(self) -> None:
        """Sign the status lists as they stand, serve them, anchor them."""
        published = self.status_list.publish()
        self._host.publish(published.documents())
        self.status_list.anchor(published, self.deployment.anchor, account=self.account)
