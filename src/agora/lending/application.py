"""Applying for a loan with verifiable credentials, disclosing only what is asked.

A lending platform publishes what it needs to see, one ask per credential
type (``age_over_18`` from a government identity, the degree from a school,
``income_over_3000`` from a bank statement). For each application it hands
out an :class:`ApplicationRequest` with a fresh nonce per ask. The borrower's
wallet answers with one presentation per ask that reveals the asked claims
and nothing else; the platform verifies each against the consortium and
gets a :class:`VerifiedApplication` or an :class:`ApplicationRejectedError`
naming the credential type and the rule that failed.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agora.identity.credentials import BANK_STATEMENT_VCT, DEGREE_VCT, IDENTITY_VCT
from agora.identity.sdjwt import (
    NonceStore,
    PresentationRequest,
    PresentationVerifier,
    VerificationError,
)
from agora.identity.wallet import CredentialSummary, Wallet
from agora.lending.errors import ApplicationRejectedError, NoMatchingCredentialError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CredentialAsk:
    """What a platform asks of one credential type."""

    vct: str
    required: frozenset[str]
    optional: frozenset[str] = frozenset()


DEFAULT_ASKS = (
    CredentialAsk(IDENTITY_VCT, frozenset({"age_over_18"})),
    CredentialAsk(DEGREE_VCT, frozenset({"degree"}), frozenset({"field"})),
    CredentialAsk(BANK_STATEMENT_VCT, frozenset({"income_over_3000"})),
)
"""A platform's default asks: adulthood, a degree, income over 3000 a month.
Never the national id, the birth date or the exact income."""


@dataclass(frozen=True)
class ApplicationRequest:
    """One application's presentation requests, by credential type."""

    platform: str
    requests: Mapping[str, PresentationRequest]


@dataclass(frozen=True)
class LoanApplication:
    """The borrower's answer: one presentation per credential type."""

    presentations: Mapping[str, str]


@dataclass(frozen=True)
class VerifiedApplication:
    """What the platform verified: claims and issuer per credential type."""

    claims: Mapping[str, Mapping[str, Any]]
    issuers: Mapping[str, str]
    holder_keys: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def disclosed(self) -> dict[str, bool | int | str]:
        """Every verified claim, flattened; names are unique across asks."""
        merged: dict[str, Any] = {}
        for claims in self.claims.values():
            merged.update(claims)
        return merged


class LendingPlatform:
    """A platform's side of an application: ask, then verify.

    ``verifier`` must spend nonces from ``nonces`` (see
    :func:`agora.identity.consortium.consortium_verifier`), so an
    application cannot be replayed, to this platform or any other.
    """

    def __init__(
        self,
        did: str,
        verifier: PresentationVerifier,
        nonces: NonceStore,
        *,
        asks: tuple[CredentialAsk, ...] = DEFAULT_ASKS,
    ) -> None:
        self.did = did
        self.asks = asks
        self._verifier = verifier
        self._nonces = nonces

    def request_application(self) -> ApplicationRequest:
        """Fresh presentation requests, one per ask."""
        requests = {
            ask.vct: PresentationRequest(
                nonce=self._nonces.issue(),
                audience=self.did,
                required_claims=ask.required,
                optional_claims=ask.optional,
                credential_types=frozenset({ask.vct}),
            )
            for ask in self.asks
        }
        return ApplicationRequest(platform=self.did, requests=requests)

    def verify_application(
        self, request: ApplicationRequest, application: LoanApplication
    ) -> VerifiedApplication:
        """Verify every presentation; raises :class:`ApplicationRejectedError`
        for a missing one or the first that fails, naming its type and rule.

        Every presentation must be bound to one holder key, so that three
        borrowers cannot pool their credentials into one application.
        """
        claims: dict[str, Mapping[str, Any]] = {}
        issuers: dict[str, str] = {}
        holders: dict[str, Mapping[str, str]] = {}
        for vct, presentation_request in request.requests.items():
            presentation = application.presentations.get(vct)
            if presentation is None:
                raise ApplicationRejectedError(vct, "missing", "no presentation")
            try:
                verified = self._verifier.verify(presentation, presentation_request)
            except VerificationError as exc:
                raise ApplicationRejectedError(vct, exc.rule.value, exc.detail) from exc
            claims[vct], issuers[vct] = verified.claims, verified.issuer
            holders[vct] = verified.holder_jwk

        if len({tuple(sorted(jwk.items())) for jwk in holders.values()}) > 1:
            raise ApplicationRejectedError(
                "*", "holder_mismatch", "credentials are bound to different holders"
            )
        logger.info("application to %s verified", self.did)
        return VerifiedApplication(claims=claims, issuers=issuers, holder_keys=holders)


def choose_credential(wallet: Wallet, vct: str, *, now: float) -> CredentialSummary:
    """The newest unexpired credential of type ``vct`` in ``wallet`` (the
    last added among those issued in the same second); raises
    :class:`NoMatchingCredentialError`."""
    candidates = [
        (summary.issued_at or 0, order, summary)
        for order, summary in enumerate(wallet.credentials())
        if summary.vct == vct
        and (summary.expires_at is None or summary.expires_at > now)
    ]
    if not candidates:
        raise NoMatchingCredentialError(f"the wallet holds no valid {vct}")
    return max(candidates, key=lambda candidate: candidate[:2])[2]


def apply_for_loan(
    wallet: Wallet, request: ApplicationRequest, *, now: float
) -> LoanApplication:
    """Answer ``request`` from ``wallet``: for each ask, the requested claims
    the chosen credential holds (all required ones, the optional ones it
    has), and nothing more."""
    presentations: dict[str, str] = {}
    for vct, presentation_request in request.requests.items():
        summary = choose_credential(wallet, vct, now=now)
        held = set(summary.claim_names)
        missing = presentation_request.required_claims - held
        if missing:
            raise NoMatchingCredentialError(
                f"the {vct} credential lacks {sorted(missing)}"
            )
        disclosed = presentation_request.required_claims | (
            presentation_request.optional_claims & held
        )
        presentations[vct] = wallet.present(
            summary.id,
            sorted(disclosed),
            nonce=presentation_request.nonce,
            audience=presentation_request.audience,
        )
    return LoanApplication(presentations=presentations)
