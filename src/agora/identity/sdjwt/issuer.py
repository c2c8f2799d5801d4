"""Issuing SD-JWT VCs (RFC 9901 §4, SD-JWT VC draft §3).

Every credential claim is selectively disclosable: each top-level claim
becomes a salted disclosure whose digest goes in ``_sd``. The claims SD-JWT
VC requires in the clear (``iss``, ``vct``, ``iat``, ``nbf``, ``exp``,
``cnf``, ``status``) are set here and may not be passed as claims. ::

    >>> from agora.identity.sdjwt.jose import Algorithm
    >>> issuer_key = SigningKey.generate(Algorithm.ES256, key_id="did:web:gov#1")
    >>> holder_key = SigningKey.generate(Algorithm.EDDSA)
    >>> issuer = CredentialIssuer("did:web:gov", issuer_key, clock=lambda: 1.8e9)
    >>> credential = issuer.issue(
    ...     "https://agora.example/vct/identity",
    ...     {"age_over_18": True, "given_name": "Ada"},
    ...     holder_jwk=holder_key.public_jwk(),
    ...     valid_for_s=86_400,
    ... )
    >>> credential.serialized.count("~")
    3
"""

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agora.identity.sdjwt.disclosures import (
    ARRAY_ELEMENT_KEY,
    DIGEST_ALGORITHM,
    SD_ALG_CLAIM,
    SD_CLAIM,
    SEPARATOR,
    Disclosure,
    digest,
)
from agora.identity.sdjwt.errors import IssuanceError
from agora.identity.sdjwt.jose import (
    SigningKey,
    VerificationKey,
    b64url_encode,
)

SD_JWT_VC_TYPE = "dc+sd-jwt"
"""The ``typ`` header of an SD-JWT VC (SD-JWT VC draft §3.2.1)."""

CLEAR_CLAIMS = frozenset({"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"})
"""Claims SD-JWT VC forbids to disclose selectively (draft §3.2.2.2)."""

SALT_BYTES = 16
"""128-bit salts, as RFC 9901 §9.3 recommends."""


@dataclass(frozen=True)
class StatusReference:
    """Where a credential's status lives: an index into a status list.

    Carried in the clear as ``status.status_list`` (SD-JWT VC draft
    §3.2.2.2, IETF Token Status List §6.1); the list itself is checked by
    an injected :class:`~agora.identity.sdjwt.verifier.StatusChecker`.
    """

    uri: str
    index: int
    issuer: str | None = field(default=None, compare=False)
    """The ``iss`` of the credential that carries the reference, filled in
    by the verifier so that a status checker can tell whose list it must
    be; not part of the claim."""

    def to_claim(self) -> dict[str, Any]:
        """The ``status`` claim value."""
        return {"status_list": {"idx": self.index, "uri": self.uri}}


@dataclass(frozen=True)
class IssuedCredential:
    """An issued SD-JWT: the signed JWT and every disclosure, for the holder."""

    issuer_jwt: str
    disclosures: tuple[Disclosure, ...]

    @property
    def serialized(self) -> str:
        """``<issuer JWT>~<disclosure>~…~``, the issuance format of RFC 9901 §4."""
        encoded = (disclosure.encoded for disclosure in self.disclosures)
        return SEPARATOR.join((self.issuer_jwt, *encoded, ""))


def _refuse_reserved_names(value: Any, *, where: str) -> None:
    # A nested `_sd` or `...` would be read as digests by every verifier.
    if isinstance(value, dict):
        for name, child in value.items():
            if name in (SD_CLAIM, ARRAY_ELEMENT_KEY):
                raise IssuanceError(f"claim {where!r} contains reserved name {name!r}")
            _refuse_reserved_names(child, where=where)
    elif isinstance(value, list):
        for child in value:
            _refuse_reserved_names(child, where=where)


class CredentialIssuer:
    """Signs SD-JWT VCs for one issuer identifier with one key.

    ``clock`` (epoch seconds) and ``salt`` (random bytes) are injectable so
    that tests are deterministic; ``decoys`` adds that many decoy digests to
    hide how many claims a credential has (RFC 9901 §4.2.5).
    """

    def __init__(
        self,
        issuer: str,
        key: SigningKey,
        *,
        clock: Callable[[], float] = time.time,
        salt: Callable[[], bytes] = lambda: secrets.token_bytes(SALT_BYTES),
        decoys: int = 0,
    ) -> None:
        if decoys < 0:
            raise IssuanceError("decoys must not be negative")
        self.issuer = issuer
        self._key = key
        self._clock = clock
        self._salt = salt
        self._decoys = decoys

    def issue(
        self,
        vct: str,
        claims: Mapping[str, Any],
        *,
        holder_jwk: Mapping[str, str],
        valid_for_s: int | None = None,
        not_before: int | None = None,
        status: StatusReference | None = None,
    ) -> IssuedCredential:
        """Issue ``claims`` as credential type ``vct``, bound to ``holder_jwk``.

        Raises :class:`IssuanceError` for a reserved claim name, a holder key
        Agora cannot verify with, or a non-positive validity.
        """
        # Validate before anything is signed.
        for name, value in claims.items():
            if name in CLEAR_CLAIMS or name in (SD_CLAIM, SD_ALG_CLAIM, "iat"):
                raise IssuanceError(f"claim name {name!r} is set by the issuer")
            _refuse_reserved_names(value, where=name)
        try:
            VerificationKey.from_jwk(holder_jwk)
        except ValueError as exc:
            raise IssuanceError("holder key is not a supported public JWK") from exc
        if valid_for_s is not None and valid_for_s <= 0:
            raise IssuanceError("valid_for_s must be positive")

        # One disclosure per claim; digests sorted so order reveals nothing.
        disclosures = tuple(
            Disclosure.create(self._salt(), name, value)
            for name, value in claims.items()
        )
        digests = [disclosure.digest for disclosure in disclosures]
        digests += [digest(b64url_encode(self._salt())) for _ in range(self._decoys)]

        # The claims SD-JWT VC keeps in the clear.
        issued_at = int(self._clock())
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "vct": vct,
            "iat": issued_at,
            "cnf": {"jwk": dict(holder_jwk)},
            SD_CLAIM: sorted(digests),
            SD_ALG_CLAIM: DIGEST_ALGORITHM,
        }
        if not_before is not None:
            payload["nbf"] = not_before
        if valid_for_s is not None:
            payload["exp"] = issued_at + valid_for_s
        if status is not None:
            payload["status"] = status.to_claim()

        issuer_jwt = self._key.sign_compact({"typ": SD_JWT_VC_TYPE}, payload)
        return IssuedCredential(issuer_jwt=issuer_jwt, disclosures=disclosures)
