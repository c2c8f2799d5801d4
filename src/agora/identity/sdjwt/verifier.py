"""Verifying SD-JWT VC presentations (RFC 9901 §7, SD-JWT VC draft §3).

:class:`PresentationVerifier` checks, in this order: encoding, the issuer's
signature under a key from the injected :class:`KeyResolver` (algorithm
from the key's type), the registered claims, issuer trust for the
credential type (:class:`TrustPolicy`), the validity window (injected
clock), every disclosure against its digest, status
(:class:`StatusChecker`), the Key Binding JWT (holder key from ``cnf.jwk``,
``sd_hash``, nonce, audience, freshness) and finally that every required
claim was disclosed. It returns a :class:`VerifiedPresentation` or raises a
:class:`~agora.identity.sdjwt.errors.VerificationError` whose ``rule``
names the first check that failed.
"""

import functools
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from agora.identity.sdjwt.disclosures import (
    DIGEST_ALGORITHM,
    CombinedSdJwt,
    Disclosure,
    digest,
)
from agora.identity.sdjwt.errors import (
    MalformedPresentationError,
    Rule,
    UnsupportedKeyError,
    VerificationError,
)
from agora.identity.sdjwt.holder import KEY_BINDING_TYPE
from agora.identity.sdjwt.issuer import SD_JWT_VC_TYPE, StatusReference
from agora.identity.sdjwt.jose import CompactJws, VerificationKey
from agora.identity.sdjwt.nonces import NonceStore
from agora.identity.sdjwt.payload import reconstruct_claims

logger = logging.getLogger(__name__)

DEFAULT_LEEWAY_S = 30
"""Clock skew tolerated on ``iat``, ``nbf`` and ``exp`` (RFC 7519 §4.1.4)."""


class KeyResolver(Protocol):
    """Finds the public key an issuer signs with.

    A DID resolver fits behind this: ``issuer`` is the ``iss`` claim and
    ``key_id`` the JWT's ``kid`` header (a DID URL), which the resolver must
    check belongs to ``issuer``. Raises :class:`LookupError` when no key
    matches.
    """

    def resolve_issuer_key(
        self, issuer: str, key_id: str | None
    ) -> Mapping[str, Any]: ...


class TrustPolicy(Protocol):
    """Says whether an issuer may issue a credential type (the trust list).

    Raises :class:`LookupError` when the list cannot be read, which the
    verifier reports under ``issuer_trust`` rather than as "untrusted".
    """

    def may_issue(self, issuer: str, vct: str) -> bool: ...


class CredentialStatus(StrEnum):
    """A credential's entry in its status list."""

    VALID = "valid"
    REVOKED = "revoked"
    SUSPENDED = "suspended"


class StatusChecker(Protocol):
    """Looks up a status list entry; raises :class:`LookupError` if unknown."""

    def status_of(self, reference: StatusReference) -> CredentialStatus: ...


@dataclass(frozen=True)
class PresentationRequest:
    """What a verifier asks for: claims, and the nonce and audience to bind.

    ``nonce`` must be fresh and single-use: the caller keeps the record of
    nonces handed out, which is what stops a replay. ``credential_types``,
    when given, lists the acceptable ``vct`` values.
    """

    nonce: str
    audience: str
    required_claims: frozenset[str] = frozenset()
    optional_claims: frozenset[str] = frozenset()
    credential_types: frozenset[str] | None = None
    max_key_binding_age_s: int = 300
    require_status: bool = True

    @property
    def requested_claims(self) -> frozenset[str]:
        """Required and optional claims: all the verifier will keep."""
        return self.required_claims | self.optional_claims


@dataclass(frozen=True)
class VerifiedPresentation:
    """The outcome of a successful verification.

    ``claims`` holds only the requested claims that were disclosed: the
    verifier keeps nothing it did not ask for.
    """

    claims: dict[str, Any]
    issuer: str
    vct: str
    holder_jwk: dict[str, str]
    issued_at: int
    expires_at: int | None
    status: StatusReference | None = field(default=None)


@functools.lru_cache(maxsize=1024)
def _cached_key(members: tuple[tuple[str, Any], ...]) -> VerificationKey:
    return VerificationKey.from_jwk(dict(members))


def _parse_key(jwk: Any, *, rule: Rule) -> VerificationKey:
    if not isinstance(jwk, Mapping):
        raise VerificationError(rule, "key is not a JWK object")
    try:
        return _cached_key(tuple(sorted(jwk.items())))
    except (UnsupportedKeyError, TypeError) as exc:
        raise VerificationError(rule, "key is not a supported public JWK") from exc


def _numeric_date(payload: Mapping[str, Any], name: str) -> int | None:
    value = payload.get(name)
    if value is None:
        return None
    # bool is an int in Python; a NumericDate is not (RFC 7519 §2).
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise VerificationError(Rule.REGISTERED_CLAIMS, f"{name} is not a number")
    return int(value)


def _status_reference(payload: Mapping[str, Any]) -> StatusReference | None:
    status = payload.get("status")
    if status is None:
        return None
    entry = status.get("status_list") if isinstance(status, dict) else None
    if not isinstance(entry, dict):
        raise VerificationError(Rule.REGISTERED_CLAIMS, "status has no status_list")
    index, uri = entry.get("idx"), entry.get("uri")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise VerificationError(Rule.REGISTERED_CLAIMS, "status idx is not an index")
    if not isinstance(uri, str):
        raise VerificationError(Rule.REGISTERED_CLAIMS, "status uri is not a string")
    issuer = payload.get("iss")
    return StatusReference(
        uri=uri, index=index, issuer=issuer if isinstance(issuer, str) else None
    )


class PresentationVerifier:
    """Verifies presentations against requests, with injected collaborators.

    ``clock`` returns epoch seconds; ``leeway_s`` is the clock skew
    tolerated on every time check. With ``nonces``, a request's nonce must
    have been issued by that store and is spent by the first presentation
    whose key binding verifies: a replay fails under ``replayed_nonce``.
    """

    def __init__(
        self,
        *,
        keys: KeyResolver,
        trust: TrustPolicy,
        status: StatusChecker,
        clock: Callable[[], float] = time.time,
        leeway_s: int = DEFAULT_LEEWAY_S,
        nonces: NonceStore | None = None,
    ) -> None:
        self._keys = keys
        self._nonces = nonces
        self._trust = trust
        self._status = status
        self._clock = clock
        self._leeway_s = leeway_s

    def verify(
        self, presentation: str, request: PresentationRequest
    ) -> VerifiedPresentation:
        """Verify ``presentation`` for ``request``; raises ``VerificationError``."""
        try:
            return self._verify(presentation, request)
        except VerificationError as exc:
            # The rule only: never the presentation, a claim value or a key.
            logger.info("presentation rejected: %s", exc.rule.value)
            raise

    def _verify(
        self, presentation: str, request: PresentationRequest
    ) -> VerifiedPresentation:
        now = self._clock()

        # Encoding: split, then decode the JWT and every disclosure.
        if not isinstance(presentation, str):
            raise MalformedPresentationError(
                Rule.MALFORMED_ENCODING, "presentation is not text"
            )
        combined = CombinedSdJwt.split_unverified(presentation)
        issuer_jws = CompactJws.parse(combined.issuer_jwt, what="issuer JWT")
        disclosures = [Disclosure.parse(d) for d in combined.disclosures]

        # Issuer signature, under the key the resolver vouches for.
        issuer = self._check_issuer_signature(issuer_jws)
        payload = issuer_jws.payload

        # Registered claims, trust for this type, validity window.
        vct = payload.get("vct")
        if not isinstance(vct, str):
            raise VerificationError(Rule.REGISTERED_CLAIMS, "vct is not a string")
        issued_at = _numeric_date(payload, "iat")
        not_before = _numeric_date(payload, "nbf")
        expires_at = _numeric_date(payload, "exp")
        if issued_at is None:
            raise VerificationError(Rule.REGISTERED_CLAIMS, "iat is missing")
        status_reference = _status_reference(payload)

        if request.credential_types is not None and vct not in request.credential_types:
            raise VerificationError(Rule.CREDENTIAL_TYPE, "vct was not requested")
        try:
            trusted = self._trust.may_issue(issuer, vct)
        except LookupError as exc:
            raise VerificationError(
                Rule.ISSUER_TRUST, "trust list unavailable"
            ) from exc
        if not trusted:
            raise VerificationError(Rule.ISSUER_TRUST, "issuer may not issue this vct")

        self._check_validity(issued_at, not_before, expires_at, now)

        # Disclosures against their digests (RFC 9901 §7.1 steps 3-5).
        sd_alg = payload.get("_sd_alg", DIGEST_ALGORITHM)
        if sd_alg != DIGEST_ALGORITHM:
            raise VerificationError(Rule.DIGEST_ALGORITHM, "_sd_alg is not sha-256")
        claims = reconstruct_claims(payload, disclosures)

        # Status, from the injected checker's cache.
        if status_reference is None:
            if request.require_status:
                raise VerificationError(
                    Rule.STATUS_UNAVAILABLE, "credential has no status"
                )
        else:
            self._check_status(status_reference)

        # Holder binding: a KB-JWT signed by cnf.jwk, over exactly this SD-JWT.
        holder_jwk = self._check_key_binding(combined, payload, request, now)
        if self._nonces is not None:
            # Only a holder-signed nonce is spent: garbage cannot burn one.
            self._nonces.consume(request.nonce)

        # The request: required claims disclosed; keep only what was asked.
        missing = request.required_claims - claims.keys()
        if missing:
            raise VerificationError(
                Rule.REQUIRED_CLAIM, f"not disclosed: {sorted(missing)}"
            )
        kept = {n: v for n, v in claims.items() if n in request.requested_claims}
        return VerifiedPresentation(
            claims=kept,
            issuer=issuer,
            vct=vct,
            holder_jwk=holder_jwk,
            issued_at=issued_at,
            expires_at=expires_at,
            status=status_reference,
        )

    def _check_issuer_signature(self, issuer_jws: CompactJws) -> str:
        """Verify the issuer JWT's signature; return its ``iss``."""
        if issuer_jws.header.get("typ") != SD_JWT_VC_TYPE:
            raise VerificationError(Rule.HEADER_TYPE, f"typ is not {SD_JWT_VC_TYPE}")
        issuer = issuer_jws.payload.get("iss")
        if not isinstance(issuer, str):
            raise VerificationError(Rule.REGISTERED_CLAIMS, "iss is not a string")
        key_id = issuer_jws.header.get("kid")
        if key_id is not None and not isinstance(key_id, str):
            raise MalformedPresentationError(
                Rule.MALFORMED_ENCODING, "kid is not a string"
            )

        # A DID issuer signs with one of its own verification methods; the
        # resolver checks this too, but a forgotten check there is fatal.
        if (
            key_id is not None
            and issuer.startswith("did:")
            and not key_id.startswith(f"{issuer}#")
        ):
            raise VerificationError(Rule.ISSUER_KEY, "kid is not a key of iss")
        try:
            issuer_jwk = self._keys.resolve_issuer_key(issuer, key_id)
        except LookupError as exc:
            raise VerificationError(Rule.ISSUER_KEY, "issuer key not found") from exc

        issuer_jws.verify(
            _parse_key(issuer_jwk, rule=Rule.ISSUER_KEY),
            algorithm_rule=Rule.ALGORITHM,
            signature_rule=Rule.ISSUER_SIGNATURE,
        )
        return issuer

    def _check_validity(
        self,
        issued_at: int,
        not_before: int | None,
        expires_at: int | None,
        now: float,
    ) -> None:
        if issued_at > now + self._leeway_s:
            raise VerificationError(Rule.NOT_YET_VALID, "iat is in the future")
        if not_before is not None and not_before > now + self._leeway_s:
            raise VerificationError(Rule.NOT_YET_VALID, "nbf is in the future")
        if expires_at is not None and expires_at <= now - self._leeway_s:
            raise VerificationError(Rule.EXPIRED, "exp has passed")

    def _check_status(self, reference: StatusReference) -> None:
        try:
            status = self._status.status_of(reference)
        except LookupError as exc:
            raise VerificationError(
                Rule.STATUS_UNAVAILABLE, "status list entry unavailable"
            ) from exc
        if status is CredentialStatus.REVOKED:
            raise VerificationError(Rule.REVOKED, "credential is revoked")
        if status is CredentialStatus.SUSPENDED:
            raise VerificationError(Rule.SUSPENDED, "credential is suspended")
        if status is not CredentialStatus.VALID:
            raise VerificationError(Rule.STATUS_UNAVAILABLE, "unknown status value")

    def _check_key_binding(
        self,
        combined: CombinedSdJwt,
        payload: Mapping[str, Any],
        request: PresentationRequest,
        now: float,
    ) -> dict[str, str]:
        confirmation = payload.get("cnf")
        if not isinstance(confirmation, dict) or "jwk" not in confirmation:
            raise VerificationError(Rule.HOLDER_KEY, "cnf.jwk is missing")
        holder_key = _parse_key(confirmation["jwk"], rule=Rule.HOLDER_KEY)

        if not combined.key_binding_jwt:
            raise VerificationError(Rule.KEY_BINDING_MISSING, "no KB-JWT")
        kb_jws = CompactJws.parse(combined.key_binding_jwt, what="KB-JWT")
        if kb_jws.header.get("typ") != KEY_BINDING_TYPE:
            raise VerificationError(Rule.HEADER_TYPE, f"typ is not {KEY_BINDING_TYPE}")
        kb_jws.verify(
            holder_key,
            algorithm_rule=Rule.ALGORITHM,
            signature_rule=Rule.KEY_BINDING_SIGNATURE,
        )

        claims = kb_jws.payload
        if claims.get("sd_hash") != digest(combined.without_key_binding):
            raise VerificationError(Rule.SD_HASH, "sd_hash does not match")
        if claims.get("nonce") != request.nonce:
            raise VerificationError(Rule.NONCE, "nonce does not match")
        if claims.get("aud") != request.audience:
            raise VerificationError(Rule.AUDIENCE, "aud does not match")

        issued_at = claims.get("iat")
        if isinstance(issued_at, bool) or not isinstance(issued_at, int | float):
            raise VerificationError(Rule.FRESHNESS, "KB-JWT iat is not a number")
        if issued_at > now + self._leeway_s:
            raise VerificationError(Rule.FRESHNESS, "KB-JWT iat is in the future")
        if now - issued_at > request.max_key_binding_age_s + self._leeway_s:
            raise VerificationError(Rule.FRESHNESS, "KB-JWT is too old")
        return dict(holder_key.jwk)


def verify_presentation(
    presentation: str,
    request: PresentationRequest,
    *,
    keys: KeyResolver,
    trust: TrustPolicy,
    status: StatusChecker,
    clock: Callable[[], float] = time.time,
    leeway_s: int = DEFAULT_LEEWAY_S,
) -> VerifiedPresentation:
    """Verify one presentation; see :class:`PresentationVerifier`."""
    verifier = PresentationVerifier(
        keys=keys, trust=trust, status=status, clock=clock, leeway_s=leeway_s
    )
    return verifier.verify(presentation, request)
