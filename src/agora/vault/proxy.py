"""Proxy services: re-encryption gated by consent on chain, and logged.

A :class:`ProxyService` is one proxy of the m-of-n that hold a grant's key
fragments. It has its own consortium account (it anchors its access log),
its own Umbral key pair (owners encrypt each kfrag to it, so no one on the
way reads the fragment) and its own fragment storage. Everything it takes
in is a message (:class:`FragmentDelivery`, :class:`AccessRequest`), so
the same object can later sit behind a network endpoint in its own
process.

Before every re-encryption it checks, in this order, and refuses with the
:class:`~agora.vault.errors.ConsentRefusedError` naming the rule:

1. the request is for this proxy and fresh (issued within
   ``freshness_s`` of its clock);
2. the grant exists on chain, is not revoked and, in chain time, has
   not expired;
3. it holds a fragment for the grant;
4. the requester's DID hashes to the grant's grantee and signed the
   request with one of its ``authentication`` keys;
5. the nonce is new (a signed request is good for one use, whatever its
   outcome);
6. the owner's label of the record is genuine and the grant's scope
   covers it (:func:`agora.vault.scope.check_covered`).

It sees capsules and fragments only, never plaintext or a data key.
"""

import dataclasses
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from eth_typing import ChecksumAddress
from umbral_pre import Capsule, PublicKey, SecretKey, decrypt_original, encrypt

from agora.identity.errors import IdentityError, InvalidSignatureError
from agora.identity.keys import KeyPair, KeyType, verify_recoverable
from agora.identity.resolver import DidResolver
from agora.ledger import (
    Account,
    Deployment,
    Grant,
    GrantId,
    NotFoundError,
    grantee_hash,
)
from agora.vault.access_log import AccessEntry, AnchoredBatch, publish_batch
from agora.vault.blockstore import BlockBackend
from agora.vault.errors import (
    ConsentRefusedError,
    GrantExpiredError,
    GrantRevokedError,
    KeyFragmentError,
    MisdirectedRequestError,
    NotOwnerError,
    ReplayedRequestError,
    StaleRequestError,
    UnknownGrantError,
    WrongRequesterError,
)
from agora.vault.objects import read_envelope
from agora.vault.reencryption import (
    Parties,
    VerifiedKeyFrag,
    reencrypt,
    verify_kfrag,
)
from agora.vault.scope import InclusionProof, RecordLabel, check_covered

logger = logging.getLogger(__name__)

FRESHNESS_S = 300
"""How far a request's ``issued_at`` may be from the proxy's clock."""

NONCE_BYTES = 16

_DELIVERY_DOMAIN = b"agora-consent/v1 fragment delivery\n"
_REQUEST_DOMAIN = b"agora-consent/v1 access request\n"


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class FragmentDelivery:
    """One kfrag for one proxy, encrypted to it and signed by the owner.

    ``capsule`` and ``ciphertext`` are the kfrag under Umbral ``encrypt``
    to the proxy's public key; ``signer``, ``owner`` and ``grantee`` are the
    compressed Umbral public keys the kfrag is checked against. The owner's
    account signs all of it (ES256K), which ties the fragment to the grant
    the account owns.
    """

    grant_id: GrantId
    proxy: ChecksumAddress
    signer: bytes
    owner: bytes
    grantee: bytes
    capsule: bytes = field(repr=False)
    ciphertext: bytes = field(repr=False)
    signature: bytes = field(repr=False, default=b"")

    def message(self) -> bytes:
        """The bytes the owner signs."""
        body = {
            "grant": int(self.grant_id),
            "proxy": self.proxy,
            "signer": self.signer.hex(),
            "owner": self.owner.hex(),
            "grantee": self.grantee.hex(),
            "capsule": self.capsule.hex(),
            "ciphertext": self.ciphertext.hex(),
        }
        return _DELIVERY_DOMAIN + _canonical(body)

    @classmethod
    def seal(
        cls,
        kfrag: VerifiedKeyFrag,
        *,
        grant_id: GrantId,
        proxy: "ProxyEndpoint",
        parties: Parties,
        owner_account: Account,
    ) -> "FragmentDelivery":
        """Encrypt ``kfrag`` to ``proxy`` and sign it as ``owner_account``."""
        capsule, ciphertext = encrypt(proxy.public_key, bytes(kfrag))
        unsigned = cls(
            grant_id=grant_id,
            proxy=proxy.address,
            signer=parties.signer.to_compressed_bytes(),
            owner=parties.owner.to_compressed_bytes(),
            grantee=parties.grantee.to_compressed_bytes(),
            capsule=bytes(capsule),
            ciphertext=ciphertext,
        )
        pair = KeyPair.from_private_bytes(KeyType.SECP256K1, bytes(owner_account.key))
        return dataclasses.replace(unsigned, signature=pair.sign(unsigned.message()))


@dataclass(frozen=True)
class AccessRequest:
    """A grantee's signed request for one record's capsule fragment."""

    grant_id: GrantId
    label: RecordLabel
    proof: InclusionProof | None
    """The record id's inclusion in the grant's records root, if the grant
    covers the record by id rather than by category."""
    requester: str
    """The requester's DID."""
    method_id: str
    """The verification method (``<did>#<fragment>``) that signed."""
    proxy: ChecksumAddress
    """The audience: the proxy this request is for."""
    nonce: bytes
    issued_at: int
    signature: bytes = field(repr=False, default=b"")

    def message(self) -> bytes:
        """The bytes the requester signs."""
        body = {
            "grant": int(self.grant_id),
            "record": self.label.record_id,
            "envelope": self.label.envelope,
            "requester": self.requester,
            "method": self.method_id,
            "proxy": self.proxy,
            "nonce": self.nonce.hex(),
            "issued_at": self.issued_at,
        }
        return _REQUEST_DOMAIN + _canonical(body)


def sign_request(
    grant_id: GrantId,
    label: RecordLabel,
    *,
    proof: InclusionProof | None,
    proxy: ChecksumAddress,
    requester: str,
    method_id: str,
    key: KeyPair,
    now: int,
    nonce: bytes | None = None,
) -> AccessRequest:
    """A request signed with ``key``, the key of ``method_id``."""
    unsigned = AccessRequest(
        grant_id=grant_id,
        label=label,
        proof=proof,
        requester=requester,
        method_id=method_id,
        proxy=proxy,
        nonce=nonce if nonce is not None else secrets.token_bytes(NONCE_BYTES),
        issued_at=now,
    )
    return dataclasses.replace(unsigned, signature=key.sign(unsigned.message()))


class ProxyEndpoint(Protocol):
    """What owners and grantees talk to: a proxy in this process now, a
    network client of one later."""

    @property
    def address(self) -> ChecksumAddress:
        """The proxy's consortium account."""

    @property
    def public_key(self) -> PublicKey:
        """The proxy's Umbral public key (kfrags are encrypted to it)."""

    def accept(self, delivery: FragmentDelivery) -> None:
        """Keep a grant's kfrag after checking it."""

    def reencrypt(self, request: AccessRequest) -> bytes:
        """A capsule fragment for the request's record, or a refusal."""

    def forget(self, grant_id: GrantId) -> bool:
        """Drop the grant's kfrag if the chain says the grant is over."""


@dataclass(frozen=True)
class HeldFragment:
    """A verified kfrag and the keys it was checked against."""

    kfrag: VerifiedKeyFrag = field(repr=False)
    parties: Parties = field(repr=False)


class FragmentStore(Protocol):
    """Where a proxy keeps its kfrags, one per grant."""

    def put(self, grant_id: GrantId, held: HeldFragment) -> None:
        """Keep ``held`` for ``grant_id``, replacing any earlier one."""

    def get(self, grant_id: GrantId) -> HeldFragment | None:
        """The fragment for ``grant_id``, if held."""

    def discard(self, grant_id: GrantId) -> None:
        """Forget the fragment for ``grant_id``, if held."""


class MemoryFragmentStore:
    """Kfrags in memory: gone when the process ends."""

    def __init__(self) -> None:
        self._held: dict[GrantId, HeldFragment] = {}

    def put(self, grant_id: GrantId, held: HeldFragment) -> None:
        """See :meth:`FragmentStore.put`."""
        self._held[grant_id] = held

    def get(self, grant_id: GrantId) -> HeldFragment | None:
        """See :meth:`FragmentStore.get`."""
        return self._held.get(grant_id)

    def discard(self, grant_id: GrantId) -> None:
        """See :meth:`FragmentStore.discard`."""
        self._held.pop(grant_id, None)

    def __repr__(self) -> str:
        return f"MemoryFragmentStore({len(self._held)} grants)"


class ProxyService:
    """One re-encryption proxy. See the module docstring for its checks.

    Not thread-safe: it serves one message at a time (a server in front of
    it serialises them). Served accesses wait in memory until
    :meth:`anchor_access_log`.
    """

    def __init__(
        self,
        *,
        account: Account,
        ledger: Deployment,
        store: BlockBackend,
        resolver: DidResolver | None = None,
        secret_key: SecretKey | None = None,
        fragments: FragmentStore | None = None,
        clock: Callable[[], float] = time.time,
        freshness_s: int = FRESHNESS_S,
    ) -> None:
        self.account = account
        self._ledger = ledger
        self._store = store
        self._resolver = resolver or DidResolver()
        self._secret = secret_key or SecretKey.random()
        self._fragments = fragments or MemoryFragmentStore()
        self._clock = clock
        self._freshness_s = freshness_s
        self._nonces: dict[bytes, int] = {}
        self._pending: list[AccessEntry] = []

    @property
    def address(self) -> ChecksumAddress:
        """The proxy's consortium account."""
        return self.account.address

    @property
    def public_key(self) -> PublicKey:
        """The proxy's Umbral public key."""
        return self._secret.public_key()

    def __repr__(self) -> str:
        return f"ProxyService({self.address})"

    def accept(self, delivery: FragmentDelivery) -> None:
        """Check a delivery against the grant on chain and keep its kfrag.

        Refuses a delivery for another proxy, for an unknown, revoked or
        expired grant, or not signed by the grant's owner; raises
        :class:`KeyFragmentError` for a kfrag that does not verify.
        """
        if delivery.proxy != self.address:
            raise MisdirectedRequestError("the delivery is for another proxy")
        grant = self._live_grant(delivery.grant_id, self._ledger.consent.chain.now())
        try:
            verify_recoverable(delivery.signature, delivery.message(), grant.owner)
        except InvalidSignatureError:
            raise NotOwnerError(
                f"the delivery for grant {grant.grant_id} is not its owner's"
            ) from None

        # Open the kfrag sealed to this proxy, then check it is the owner's
        # fragment for this grantee (Umbral kfrag verification).
        try:
            parties = Parties(
                signer=PublicKey.from_compressed_bytes(delivery.signer),
                owner=PublicKey.from_compressed_bytes(delivery.owner),
                grantee=PublicKey.from_compressed_bytes(delivery.grantee),
            )
            capsule = Capsule.from_bytes(delivery.capsule)
            kfrag_bytes = decrypt_original(self._secret, capsule, delivery.ciphertext)
        except ValueError as exc:
            raise KeyFragmentError("the key fragment could not be opened") from exc
        kfrag = verify_kfrag(kfrag_bytes, parties=parties)
        self._fragments.put(grant.grant_id, HeldFragment(kfrag, parties))
        logger.info("%s holds a fragment for grant %d", self.address, grant.grant_id)

    def holds(self, grant_id: GrantId) -> bool:
        """Whether this proxy holds a fragment for ``grant_id``."""
        return self._fragments.get(grant_id) is not None

    def forget(self, grant_id: GrantId) -> bool:
        """Drop the grant's kfrag if the grant is over (revoked, expired or
        unknown on chain); returns whether it did. Anyone may ask: the
        chain, not the caller, decides."""
        try:
            self._live_grant(grant_id, self._ledger.consent.chain.now())
        except (UnknownGrantError, GrantRevokedError, GrantExpiredError):
            self._fragments.discard(grant_id)
            logger.info("%s dropped the fragment of grant %d", self.address, grant_id)
            return True
        return False

    def reencrypt(self, request: AccessRequest) -> bytes:
        """The capsule fragment of the request's record, after every check
        of the module docstring; logs the access."""
        try:
            return self._serve(request)
        except ConsentRefusedError as exc:
            logger.info(
                "%s refused grant %d: %s", self.address, request.grant_id, exc.rule
            )
            raise

    def _serve(self, request: AccessRequest) -> bytes:
        # Audience and freshness: cheap, and they bound the nonce memory.
        now = int(self._clock())
        if request.proxy != self.address:
            raise MisdirectedRequestError("the request is for another proxy")
        if abs(now - request.issued_at) > self._freshness_s:
            raise StaleRequestError(
                f"issued {now - request.issued_at}s from this proxy's clock"
            )

        # The chain first: a revoked or expired grant is refused as such,
        # whether or not this proxy still holds its fragment.
        chain_now = self._ledger.consent.chain.now()
        grant = self._live_grant(request.grant_id, chain_now)
        held = self._fragments.get(request.grant_id)
        if held is None:
            raise UnknownGrantError(
                f"this proxy holds no fragment for grant {request.grant_id}"
            )
        self._authenticate(grant, request)
        self._spend_nonce(request.nonce, now)

        check_covered(grant, request.label, request.proof)
        envelope = read_envelope(self._store, request.label.envelope)
        if envelope.owner_key.to_compressed_bytes() != (
            held.parties.owner.to_compressed_bytes()
        ):
            raise KeyFragmentError("the record is not wrapped to the grant owner's key")
        cfrag = reencrypt(envelope.wrapped, held.kfrag)

        self._pending.append(
            AccessEntry(
                grant_id=grant.grant_id,
                record_id=request.label.record_id,
                requester_hash=grant.grantee_hash.hex(),
                timestamp=chain_now,
                nonce=request.nonce.hex(),
            )
        )
        logger.info("%s served grant %d", self.address, grant.grant_id)
        return bytes(cfrag)

    def _live_grant(self, grant_id: GrantId, chain_now: int) -> Grant:
        """The grant, refused if unknown, revoked or expired at chain time
        ``chain_now``."""
        try:
            grant = self._ledger.consent.get(grant_id)
        except NotFoundError:
            raise UnknownGrantError(f"no grant {grant_id} on chain") from None
        if grant.revoked:
            raise GrantRevokedError(f"grant {grant_id} was revoked")
        if grant.expired(chain_now):
            raise GrantExpiredError(f"grant {grant_id} has expired")
        return grant

    def _authenticate(self, grant: Grant, request: AccessRequest) -> None:
        """The requester is the grantee and signed with its DID's key."""
        did, _, fragment = request.method_id.partition("#")
        if did != request.requester or not fragment:
            raise WrongRequesterError("the signing key is not the requester's")
        if grantee_hash(request.requester) != grant.grantee_hash:
            raise WrongRequesterError(
                f"the requester is not the grantee of grant {grant.grant_id}"
            )
        try:
            self._resolver.verify(
                request.method_id,
                request.signature,
                request.message(),
                relationship="authentication",
            )
        except IdentityError as exc:
            raise WrongRequesterError(
                "the request is not signed by the grantee's DID"
            ) from exc

    def _spend_nonce(self, nonce: bytes, now: int) -> None:
        # A nonce older than twice the window can no longer pass the
        # freshness check, so it need not be remembered.
        horizon = now - 2 * self._freshness_s
        self._nonces = {n: t for n, t in self._nonces.items() if t >= horizon}
        if len(nonce) < NONCE_BYTES:
            raise ReplayedRequestError(f"a nonce has at least {NONCE_BYTES} bytes")
        if nonce in self._nonces:
            raise ReplayedRequestError("this request was served or refused before")
        self._nonces[nonce] = now

    @property
    def pending_accesses(self) -> int:
        """Accesses served and not yet anchored."""
        return len(self._pending)

    def anchor_access_log(self) -> AnchoredBatch | None:
        """Publish and anchor the accesses served since the last call;
        None if there were none."""
        if not self._pending:
            return None
        anchored = publish_batch(
            self._store, self._ledger.anchor, self._pending, account=self.account
        )
        self._pending = []
        return anchored
