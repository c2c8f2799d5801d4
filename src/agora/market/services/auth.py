"""Who is calling: requests signed by the consumer's did:ethr account.

A consumer is a ``did:ethr`` of this chain; its deposit in
``ServiceMarket`` belongs to the DID's address. Each request carries, in
headers, the DID, a fresh nonce, the time and a signature (EIP-191
``personal_sign``) by the DID's current controller over::

    agora-service-call
    <service id>
    <did>
    <nonce>
    <issued at, Unix seconds>
    <SHA-256 of the body, hex>

so a signature covers exactly one body for one service, once. The
controller is read from ``DIDRegistry`` (cached briefly), so a rotated or
deactivated DID's old key stops working.
"""

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from eth_account import Account as AccountFactory
from eth_account.messages import encode_defunct
from eth_keys.exceptions import BadSignature
from eth_typing import ChecksumAddress
from eth_utils.exceptions import ValidationError as EthValidationError

from agora.identity.did_ethr import ZERO_ADDRESS, parse_ethr_did
from agora.identity.errors import InvalidDidError
from agora.ledger import Account, DIDRegistryClient, LedgerError
from agora.market.services.errors import UnauthenticatedCallError

MAX_SKEW_S = 60
"""How far a request's time may be from the service's."""

PREFIX = "agora-service-call"


def call_message(
    service_id: int, did: str, nonce: str, issued_at: int, body: bytes
) -> bytes:
    """The text a consumer signs for one call."""
    digest = hashlib.sha256(body).hexdigest()
    return f"{PREFIX}\n{service_id}\n{did}\n{nonce}\n{issued_at}\n{digest}".encode()


@dataclass(frozen=True)
class SignedCall:
    """The authentication headers of one call."""

    did: str
    nonce: str
    issued_at: int
    signature: bytes

    def headers(self) -> dict[str, str]:
        return {
            "X-Agora-DID": self.did,
            "X-Agora-Nonce": self.nonce,
            "X-Agora-Issued-At": str(self.issued_at),
            "X-Agora-Signature": "0x" + self.signature.hex(),
        }


def sign_call(
    service_id: int,
    did: str,
    controller: Account,
    body: bytes,
    *,
    nonce: str,
    issued_at: int | None = None,
) -> SignedCall:
    """Sign one call as ``did``'s controller."""
    when = int(time.time()) if issued_at is None else issued_at
    message = encode_defunct(call_message(service_id, did, nonce, when, body))
    signature = bytes(controller.sign_message(message).signature)
    return SignedCall(did, nonce, when, signature)


class CallAuthenticator:
    """Checks signed calls for one service; remembers nonces for
    twice ``MAX_SKEW_S`` so that a replay inside the window is refused."""

    def __init__(
        self,
        service_id: int,
        registry: DIDRegistryClient,
        *,
        clock: Callable[[], float] = time.time,
        owner_ttl_s: float = 5.0,
    ) -> None:
        self.service_id = service_id
        self._registry = registry
        self.chain_id = registry.chain.chain_id
        self._clock = clock
        self._owner_ttl_s = owner_ttl_s
        self._owners: dict[ChecksumAddress, tuple[ChecksumAddress, float]] = {}
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def authenticate(
        self,
        *,
        did: str | None,
        nonce: str | None,
        issued_at: str | None,
        signature: str | None,
        body: bytes,
    ) -> ChecksumAddress:
        """The consumer's address; raises :class:`UnauthenticatedCallError`
        naming what is wrong."""
        if not did or not nonce or not issued_at or not signature:
            raise UnauthenticatedCallError(
                "sign the call: X-Agora-DID, X-Agora-Nonce, X-Agora-Issued-At "
                "and X-Agora-Signature are required"
            )
        try:
            chain_id, identity = parse_ethr_did(did)
        except InvalidDidError as exc:
            raise UnauthenticatedCallError(f"X-Agora-DID: {exc}") from None
        if chain_id != self.chain_id:
            raise UnauthenticatedCallError("X-Agora-DID is a DID of another chain")
        if not 8 <= len(nonce) <= 128:
            raise UnauthenticatedCallError("X-Agora-Nonce must be 8 to 128 characters")
        try:
            when = int(issued_at)
            raw = bytes.fromhex(signature.removeprefix("0x"))
        except ValueError:
            raise UnauthenticatedCallError(
                "X-Agora-Issued-At must be an integer and X-Agora-Signature hex"
            ) from None
        now = self._clock()
        if abs(now - when) > MAX_SKEW_S:
            raise UnauthenticatedCallError("the call is stale or from the future")

        message = encode_defunct(call_message(self.service_id, did, nonce, when, body))
        try:
            signer = AccountFactory.recover_message(message, signature=raw)
        except (IndexError, ValueError, BadSignature, EthValidationError):
            # Short, zeroed or out-of-range signatures, as eth_keys reports them.
            raise UnauthenticatedCallError(
                "X-Agora-Signature is not a signature"
            ) from None
        if signer != self._controller(identity, now):
            raise UnauthenticatedCallError("the signature is not the DID controller's")

        with self._lock:
            self._forget(now)
            if (did, nonce) in self._seen:
                raise UnauthenticatedCallError("the nonce was used already")
            self._seen[(did, nonce)] = now + 2 * MAX_SKEW_S
        return identity

    def _controller(self, identity: ChecksumAddress, now: float) -> ChecksumAddress:
        cached = self._owners.get(identity)
        if cached is not None and now - cached[1] < self._owner_ttl_s:
            return cached[0]
        try:
            owner = self._registry.identity_owner(identity)
        except LedgerError as exc:
            raise UnauthenticatedCallError("the DID registry is unreachable") from exc
        if owner == ZERO_ADDRESS:
            raise UnauthenticatedCallError("the DID is deactivated")
        self._owners[identity] = (owner, now)
        return owner

    def _forget(self, now: float) -> None:
        expired = [key for key, until in self._seen.items() if until <= now]
        for key in expired:
            del self._seen[key]
