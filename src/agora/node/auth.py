"""Bearer tokens: short-lived, signed by the caller's DID key, for one node.

A token is a compact JWS (RFC 7515) whose protected header is::

    {"alg": "EdDSA" | "ES256" | "ES256K", "typ": "agora-node+jwt",
     "kid": "<caller DID>#<verification method>"}

and whose payload is::

    {"iss": "<caller DID>", "aud": "<node DID>", "iat": <Unix s>,
     "exp": <Unix s, at most 300 s after iat>, "jti": "<16-128 characters>"}

The node resolves ``kid`` with the :class:`~agora.identity.resolver.DidResolver`
and accepts it only under the DID document's ``authentication``
relationship. The algorithm is the one of that method's key; a header
naming another (``none``, ``HS256``, …) is refused before any signature
check (RFC 8725 §2.1, §3.1). ``typ`` is explicit (RFC 8725 §3.11) so that a
credential's key-binding JWT, signed by the same key, is no node token.
Each ``(iss, jti)`` is accepted once: the node keeps it until the token
would have expired (:class:`SpentTokens`).

Each refusal is an :class:`~agora.node.errors.UnauthenticatedError` whose
``rule`` names what broke.
"""

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from agora.identity.document import Did, VerificationMethod
from agora.identity.errors import IdentityError, InvalidSignatureError
from agora.identity.keys import KeyPair
from agora.identity.resolver import DidResolver
from agora.identity.sdjwt.errors import MalformedPresentationError
from agora.identity.sdjwt.jose import CompactJws, SigningKey
from agora.node.errors import AuthRule, UnauthenticatedError

logger = logging.getLogger(__name__)

HEADER_TYP = "agora-node+jwt"
"""The ``typ`` header of a node token."""

MAX_LIFETIME_S = 300
"""The longest a token may live (``exp - iat``)."""

CLOCK_SKEW_S = 30
"""How far the caller's clock may be from the node's, both ways."""

MIN_JTI, MAX_JTI = 16, 128
"""Bounds on the length of ``jti``."""

_CLAIMS = ("iss", "aud", "iat", "exp", "jti")


def default_key_id(did: str) -> str:
    """The verification method a ``did:key`` (its one key) or a ``did:ethr``
    (its ``#controller`` account) authenticates with."""
    if did.startswith("did:key:"):
        return f"{did}#{did.removeprefix('did:key:')}"
    return f"{did}#controller"


def mint_token(
    pair: KeyPair,
    issuer: str,
    audience: str,
    *,
    lifetime_s: int = 60,
    key_id: str | None = None,
    now: float | None = None,
    jti: str | None = None,
) -> str:
    """A bearer token from ``issuer`` (whose key ``pair`` is) for the node
    ``audience``, valid ``lifetime_s`` seconds from ``now``.

    Example::

        >>> from agora.identity.did_key import did_key_from_key_pair
        >>> from agora.identity.keys import KeyType
        >>> pair = KeyPair.generate(KeyType.ED25519)
        >>> token = mint_token(pair, did_key_from_key_pair(pair), "did:key:zNode")
        >>> token.count(".")
        2
    """
    issued_at = int(time.time() if now is None else now)
    signer = SigningKey(pair.private_jwk(), key_id=key_id or default_key_id(issuer))
    payload = {
        "iss": issuer,
        "aud": audience,
        "iat": issued_at,
        "exp": issued_at + lifetime_s,
        "jti": jti or secrets.token_urlsafe(24),
    }
    return signer.sign_compact({"typ": HEADER_TYP}, payload)


class SpentTokens(Protocol):
    """Where a node remembers the token ids it accepted."""

    def spend(self, issuer: str, jti: str, *, expires_at: int, now: int) -> bool:
        """Record ``(issuer, jti)`` until ``expires_at``; ``False`` if it
        was recorded already (a replay). Forgets what expired by ``now``."""
        ...


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: its DID and the method it signed with."""

    did: Did
    key_id: str


@dataclass(frozen=True)
class _Claims:
    issuer: str
    audience: str
    issued_at: int
    expires_at: int
    jti: str
    key_id: str


class TokenVerifier:
    """Checks bearer tokens addressed to the node ``audience``.

    ``clock`` (Unix seconds) is injectable so that expiry is tested
    without sleeping.
    """

    def __init__(
        self,
        audience: str,
        *,
        resolver: DidResolver,
        spent: SpentTokens,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.audience = audience
        self._resolver = resolver
        self._spent = spent
        self._clock = clock

    def verify(self, authorization: str | None) -> Caller:
        """The caller of a request whose ``Authorization`` header is
        ``authorization``; raises :class:`UnauthenticatedError`."""
        token = _bearer(authorization)
        try:
            jws = CompactJws.parse(token, what="token")
        except MalformedPresentationError as exc:
            raise UnauthenticatedError(AuthRule.MALFORMED, str(exc)) from None
        if jws.header.get("typ") != HEADER_TYP:
            raise UnauthenticatedError(
                AuthRule.WRONG_TYPE, f"the token's typ must be {HEADER_TYP}"
            )
        claims = _claims(jws.header, jws.payload)

        # Cheap checks first: nothing is resolved for a token that is not
        # for this node or not valid now.
        if claims.audience != self.audience:
            raise UnauthenticatedError(
                AuthRule.AUDIENCE, "the token is for another node"
            )
        self._check_times(claims)

        method = self._method(claims)
        if jws.header.get("alg") != method.algorithm:
            raise UnauthenticatedError(
                AuthRule.ALGORITHM,
                f"the header's alg is not {method.algorithm}, the key's algorithm",
            )
        try:
            method.verify(jws.signature, jws.signing_input)
        except InvalidSignatureError:
            raise UnauthenticatedError(
                AuthRule.SIGNATURE, "the signature does not verify"
            ) from None

        # Only a verified token spends its id: a forger cannot burn one.
        now = int(self._clock())
        expires_at = claims.expires_at + CLOCK_SKEW_S
        if not self._spent.spend(
            claims.issuer, claims.jti, expires_at=expires_at, now=now
        ):
            raise UnauthenticatedError(AuthRule.REPLAYED, "the token was used already")
        logger.debug("authenticated %s", claims.issuer)
        return Caller(Did(claims.issuer), claims.key_id)

    def _check_times(self, claims: _Claims) -> None:
        lifetime = claims.expires_at - claims.issued_at
        if not 0 < lifetime <= MAX_LIFETIME_S:
            raise UnauthenticatedError(
                AuthRule.LIFETIME,
                f"exp must be after iat by at most {MAX_LIFETIME_S} s",
            )
        now = self._clock()
        if claims.issued_at > now + CLOCK_SKEW_S:
            raise UnauthenticatedError(
                AuthRule.NOT_YET_VALID, "the token is issued in the future"
            )
        if claims.expires_at + CLOCK_SKEW_S <= now:
            raise UnauthenticatedError(AuthRule.EXPIRED, "the token has expired")

    def _method(self, claims: _Claims) -> VerificationMethod:
        try:
            return self._resolver.verification_method(
                claims.key_id, relationship="authentication"
            )
        except IdentityError as exc:
            # The detail (registry down, method not listed) is for the log.
            logger.info("token key %s not resolved: %s", claims.key_id, exc)
            raise UnauthenticatedError(
                AuthRule.UNKNOWN_DID,
                "the issuer's DID lists no such authentication key",
            ) from None


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    # RFC 6750 §2.1: the scheme is case-insensitive.
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthenticatedError(
            AuthRule.MISSING, "send Authorization: Bearer <token>"
        )
    return token.strip()


def _claims(header: dict[str, Any], payload: dict[str, Any]) -> _Claims:
    missing = [name for name in _CLAIMS if name not in payload]
    if missing:
        raise UnauthenticatedError(
            AuthRule.MALFORMED, f"the token lacks {', '.join(missing)}"
        )
    issuer, audience, jti = payload["iss"], payload["aud"], payload["jti"]
    issued_at, expires_at = payload["iat"], payload["exp"]
    if not all(isinstance(value, str) for value in (issuer, audience, jti)):
        raise UnauthenticatedError(
            AuthRule.MALFORMED, "iss, aud and jti must be strings"
        )
    # bool is an int in Python, not a NumericDate in RFC 7519 §2.
    if not all(
        isinstance(value, int) and not isinstance(value, bool)
        for value in (issued_at, expires_at)
    ):
        raise UnauthenticatedError(AuthRule.MALFORMED, "iat and exp must be integers")
    if not MIN_JTI <= len(jti) <= MAX_JTI:
        raise UnauthenticatedError(
            AuthRule.MALFORMED, f"jti must be {MIN_JTI} to {MAX_JTI} characters"
        )
    key_id = header.get("kid")
    if not isinstance(key_id, str) or not key_id.startswith(f"{issuer}#"):
        raise UnauthenticatedError(
            AuthRule.KEY_NOT_ISSUER, "kid must be a method of the iss DID"
        )
    return _Claims(issuer, audience, issued_at, expires_at, jti, key_id)
