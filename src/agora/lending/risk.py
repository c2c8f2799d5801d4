"""Joint risk control between lending platforms that share no customer lists.

Each :class:`PlatformNode` keeps its book of active loans under keyed hashes
(:mod:`agora.privacy.keyed_hash`), publishes a PSI filter of it, answers
other platforms' membership requests and takes part in debt sums. A
platform checking an applicant (:class:`RiskChecker`) first needs the
applicant's consent: a presentation of the government identity credential
disclosing ``national_id``, bound to this platform and a single-use nonce.
With it, it learns

- how many other platforms hold an active loan for the applicant (PSI
  against each platform's anchored filter; or only whether any does),
- the applicant's outstanding debt at the other platforms in total
  (additive secret sharing among all of them: no single figure),
- whether the applicant is on the consortium's fraud list,

and logs the check in ``Anchor``: who asked, when, and the hash of the
consent it relied on, never an identifier. The other platforms see blinded
requests they cannot link to anyone; for the debt sum they look up the
applicant by keyed hash, so they learn that one of their customers applied
somewhere, which the consent covers.

Platforms talk to each other through :class:`PlatformNode` methods taking and
returning bytes and integers, as a node's HTTP API would carry them.
"""

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from agora.identity.credentials import IDENTITY_VCT
from agora.identity.sdjwt import (
    NonceStore,
    PresentationRequest,
    PresentationVerifier,
    VerificationError,
)
from agora.ledger import (
    Account,
    AnchorId,
    Deployment,
    FraudReason,
    TxHash,
    anchor_kind,
)
from agora.lending.errors import ConsentError
from agora.privacy import (
    BorrowerFilter,
    FilterReader,
    MembershipQuery,
    PublishedFilter,
    SubjectKey,
    anchor_filter,
    reconstruct,
    split,
)
from agora.privacy.psi import Fetch, Publish
from agora.privacy.secret_sharing import MODULUS

logger = logging.getLogger(__name__)

CHECK_KIND = anchor_kind("lending:multi-lending-check")
"""``Anchor`` kind of the check log."""

CONSENT_CLAIM = "national_id"


class PlatformNode:
    """One lending platform's side of joint risk control."""

    def __init__(
        self,
        name: str,
        account: Account,
        did: str,
        ledger: Deployment,
        subject_key: SubjectKey,
        publish: Publish,
    ) -> None:
        self.name = name
        self.account = account
        self.did = did
        self._ledger = ledger
        self._key = subject_key
        self._publish = publish
        self._filter = BorrowerFilter()
        self._book: dict[bytes, int] = {}

    # The book of active loans

    def lend(self, identifier: str, outstanding: int) -> None:
        """Record an active loan (``outstanding`` in whole currency units);
        takes effect for others at the next :meth:`refresh_filter`."""
        if outstanding <= 0:
            raise ValueError("an active loan has a positive balance")
        subject = self._key.subject(identifier)
        self._book[subject] = self._book.get(subject, 0) + outstanding

    def repay(self, identifier: str) -> None:
        """Close the applicant's loans here."""
        self._book.pop(self._key.subject(identifier), None)

    @property
    def active_loans(self) -> int:
        return len(self._book)

    def refresh_filter(self) -> PublishedFilter:
        """Publish and anchor a filter of the current book."""
        published = self._filter.build(self._book, self._publish)
        anchor_filter(published, self._ledger.anchor, account=self.account)
        return published

    # Answering other platforms

    def answer_membership(self, request: bytes) -> bytes:
        """Process a blinded PSI request (see :class:`BorrowerFilter`)."""
        return self._filter.answer(request)

    def debt_shares(self, subject: bytes, *, responders: int) -> list[int]:
        """This platform's outstanding balance for ``subject`` (0 if none),
        split into one share per responder."""
        return split(self._book.get(subject, 0), parties=responders)

    @staticmethod
    def partial_sum(received: Sequence[int]) -> int:
        """The sum of the shares this platform received, for the querier."""
        return sum(received) % MODULUS

    # The fraud list

    def report_fraud(
        self, identifier: str, reason: FraudReason, evidence_cid: str
    ) -> TxHash:
        """Report an applicant to the consortium's fraud list."""
        return self._ledger.fraud_list.report(
            self._key.subject(identifier), reason, evidence_cid, account=self.account
        )


@dataclass(frozen=True)
class RiskCheck:
    """What a platform learned about an applicant from the others."""

    other_platforms_with_loans: int | None
    """How many hold an active loan; None when only ``any_other_loans`` is
    revealed."""
    any_other_loans: bool
    outstanding_elsewhere: int
    on_fraud_list: bool
    consent_hash: str
    log_anchor: AnchorId


class RiskChecker:
    """A platform checking applicants against the other platforms.

    ``reveal_count`` chooses whether the PSI result is the number of
    platforms holding the applicant or only whether any does.
    """

    def __init__(
        self,
        platform: PlatformNode,
        others: Sequence[PlatformNode],
        *,
        ledger: Deployment,
        verifier: PresentationVerifier,
        nonces: NonceStore,
        subject_key: SubjectKey,
        fetch: Fetch,
        reveal_count: bool = True,
    ) -> None:
        if len(others) < 2:
            raise ValueError("a debt sum over fewer than two platforms reveals one")
        self.platform = platform
        self.others = list(others)
        self._ledger = ledger
        self._verifier = verifier
        self._nonces = nonces
        self._key = subject_key
        self._filters = FilterReader(ledger.anchor, fetch)
        self._reveal_count = reveal_count

    def consent_request(self) -> PresentationRequest:
        """What the applicant must present to consent to one check."""
        return PresentationRequest(
            nonce=self._nonces.issue(),
            audience=self.platform.did,
            required_claims=frozenset({CONSENT_CLAIM}),
            credential_types=frozenset({IDENTITY_VCT}),
        )

    def check(self, request: PresentationRequest, consent: str) -> RiskCheck:
        """Run one check under ``consent``; raises :class:`ConsentError`
        (naming the verifier's rule) when the consent does not hold: no
        check runs without it."""
        try:
            verified = self._verifier.verify(consent, request)
        except VerificationError as exc:
            raise ConsentError(exc.rule.value, exc.detail) from exc
        subject = self._key.subject(str(verified.claims[CONSENT_CLAIM]))

        # Multi-lending: one blinded request under a key fresh for this check
        # (so checks cannot be linked), sent to every platform. Platforms
        # comparing notes could tell they were asked about the same unknown
        # person; a key per platform would hide even that, at 5 ms a key.
        query = MembershipQuery(subject)
        blinded = query.request()
        holding = sum(
            query.holds(
                self._filters.current(other.account.address),
                other.answer_membership(blinded),
            )
            for other in self.others
        )

        # Outstanding debt: every other platform shares, lender or not.
        responders = len(self.others)
        outgoing = [
            other.debt_shares(subject, responders=responders) for other in self.others
        ]
        partials = [
            receiver.partial_sum([shares[index] for shares in outgoing])
            for index, receiver in enumerate(self.others)
        ]
        outstanding = reconstruct(partials)

        on_fraud_list = self._ledger.fraud_list.is_listed(subject)
        consent_hash = hashlib.sha256(consent.encode()).digest()
        log_anchor = self._ledger.anchor.anchor(
            consent_hash,
            CHECK_KIND,
            f"platforms={responders}",
            account=self.platform.account,
        )
        logger.info(
            "risk check by %s logged as anchor %s", self.platform.name, log_anchor
        )
        return RiskCheck(
            other_platforms_with_loans=holding if self._reveal_count else None,
            any_other_loans=holding > 0,
            outstanding_elsewhere=outstanding,
            on_fraud_list=on_fraud_list,
            consent_hash=consent_hash.hex(),
            log_anchor=log_anchor,
        )
