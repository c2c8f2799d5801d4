"""Verifier side: status from fetched lists that match their on-chain anchor.

:class:`AnchoredStatusChecker` satisfies the SD-JWT verifier's
``StatusChecker``. For each list URI it trusts, it knows the consortium
account that anchors the list and the issuer's key. A list pair is accepted
only when the Merkle root of the fetched JWTs equals the latest anchored
root for that account and list, both signatures verify, and no revocation
of the previously accepted pair was cleared (§2.1: revocation is final).
Accepted pairs are cached; the anchor is asked again once
``recheck_after_s`` has passed, and the pair refetched only when it moved.

Lists are trusted one by one (:meth:`AnchoredStatusChecker.trust`) or
found through ``discover``, which is given the list URI and the issuer of
the credential pointing at it; :func:`agora.identity.consortium.did_status_lists`
finds them in issuers' DID documents. Either way a list is accepted only for
credentials of its own issuer.
"""

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from eth_typing import ChecksumAddress

from agora.identity.sdjwt import (
    CredentialStatus,
    SdJwtError,
    StatusReference,
    VerificationKey,
)
from agora.identity.sdjwt.errors import Rule, VerificationError
from agora.identity.sdjwt.jose import CompactJws
from agora.identity.status_list.bitstring import Bitstring, StatusPurpose
from agora.identity.status_list.errors import (
    MalformedStatusListError,
    StatusRule,
    StatusUnavailableError,
)
from agora.identity.status_list.publisher import (
    JWT_TYPE,
    PURPOSES,
    STATUS_LIST_CREDENTIAL_TYPE,
    STATUS_LIST_TYPE,
    status_list_kind,
    status_list_root,
    status_list_url,
)
from agora.ledger import AnchorClient, AnchorId, LedgerError

logger = logging.getLogger(__name__)

_SIGNATURE_RULES = (Rule.CRITICAL_HEADER, Rule.ALGORITHM, Rule.ISSUER_SIGNATURE)

Fetch = Callable[[str], bytes]
"""Returns the document at a URL; raises :class:`OSError` or
:class:`LookupError` when it cannot."""

Discover = Callable[[str, str], "TrustedStatusList"]
"""Given a list URI and an issuer, who may publish that list for that
issuer; raises :class:`LookupError` when the issuer declares no such list."""


@dataclass(frozen=True)
class TrustedStatusList:
    """Who may publish a list: its anchoring account, issuer id and key."""

    writer: ChecksumAddress
    issuer: str
    key: VerificationKey


@dataclass
class _CachedPair:
    anchor_id: AnchorId
    lists: dict[StatusPurpose, Bitstring]
    checked_at: float
    issuer: str = ""


def read_status_list_credential(
    jwt: str, *, purpose: StatusPurpose, url: str, trusted: TrustedStatusList
) -> Bitstring:
    """The bitstring of a status list credential JWT, once its signature,
    issuer, id, type and purpose check out; raises
    :class:`StatusUnavailableError` naming the rule that failed."""
    try:
        token = CompactJws.parse(jwt, what="status list credential")
        token.verify(
            trusted.key,
            algorithm_rule=Rule.ALGORITHM,
            signature_rule=Rule.ISSUER_SIGNATURE,
        )
    except SdJwtError as exc:
        rule = StatusRule.CREDENTIAL
        if isinstance(exc, VerificationError) and exc.rule in _SIGNATURE_RULES:
            rule = StatusRule.SIGNATURE
        raise StatusUnavailableError(rule, f"{url}: {exc}") from exc

    # W3C Bitstring Status List v1.0 §2.2: the credential's shape.
    payload, subject = token.payload, token.payload.get("credentialSubject")
    types = payload.get("type")
    if (
        token.header.get("typ") != JWT_TYPE
        or not isinstance(types, list)
        or STATUS_LIST_CREDENTIAL_TYPE not in types
        or not isinstance(subject, dict)
        or subject.get("type") != STATUS_LIST_TYPE
        or not isinstance(subject.get("encodedList"), str)
    ):
        raise StatusUnavailableError(
            StatusRule.CREDENTIAL, f"{url} is not a status list credential"
        )
    if payload.get("issuer") != trusted.issuer or payload.get("id") != url:
        raise StatusUnavailableError(
            StatusRule.CREDENTIAL, f"{url} names another issuer or list"
        )
    if subject.get("statusPurpose") != purpose.value:
        raise StatusUnavailableError(
            StatusRule.PURPOSE, f"{url} is not a {purpose.value} list"
        )

    try:
        return Bitstring.decode(subject["encodedList"])
    except MalformedStatusListError as exc:
        raise StatusUnavailableError(exc.rule, f"{url}: {exc.detail}") from exc


class AnchoredStatusChecker:
    """Credential status from anchored Bitstring Status Lists. ::

    checker = AnchoredStatusChecker(ledger.anchor, fetch)
    checker.trust(uri, TrustedStatusList(writer, issuer_did, issuer_key))
    PresentationVerifier(keys=..., trust=..., status=checker)
    """

    def __init__(
        self,
        anchor: AnchorClient,
        fetch: Fetch,
        *,
        lists: Mapping[str, TrustedStatusList] | None = None,
        discover: Discover | None = None,
        clock: Callable[[], float] = time.time,
        recheck_after_s: float = 30.0,
    ) -> None:
        self._anchor = anchor
        self._fetch = fetch
        self._lists = dict(lists or {})
        self._discover = discover
        self._clock = clock
        self._recheck_after_s = recheck_after_s
        self._cache: dict[str, _CachedPair] = {}

    def trust(self, uri: str, trusted: TrustedStatusList) -> None:
        """Accept list ``uri`` from ``trusted``; drops any cached copy."""
        self._lists[uri] = trusted
        self._cache.pop(uri, None)

    def status_of(self, reference: StatusReference) -> CredentialStatus:
        """The entry's status in the latest anchored pair; raises
        :class:`StatusUnavailableError` (a :class:`LookupError`)."""
        pair = self._current(reference.uri, reference.issuer)
        revoked = pair.lists[StatusPurpose.REVOCATION]
        if not 0 <= reference.index < revoked.size:
            raise StatusUnavailableError(
                StatusRule.INDEX_RANGE,
                f"index {reference.index} is outside a list of {revoked.size}",
            )
        if revoked.get(reference.index):
            return CredentialStatus.REVOKED
        if pair.lists[StatusPurpose.SUSPENSION].get(reference.index):
            return CredentialStatus.SUSPENDED
        return CredentialStatus.VALID

    def refresh(self, uri: str, issuer: str | None = None) -> None:
        """Ask the anchor now, whatever the time since the last check."""
        pair = self._cache.get(uri)
        if pair is not None:
            pair.checked_at = float("-inf")
        self._current(uri, issuer)

    def _current(self, uri: str, issuer: str | None) -> _CachedPair:
        now = self._clock()
        cached = self._cache.get(uri)
        if (
            cached is not None
            and (issuer is None or cached.issuer == issuer)
            and now - cached.checked_at < self._recheck_after_s
        ):
            return cached

        trusted = self._trusted(uri, issuer)

        # The anchor is the source of truth; a pair it no longer names is stale.
        latest = self._latest_anchor(uri, trusted)
        if cached is not None and cached.anchor_id == latest:
            cached.checked_at = now
            return cached
        pair = self._load(uri, trusted, latest, previous=cached)
        pair.checked_at = now
        pair.issuer = trusted.issuer
        self._cache[uri] = pair
        logger.info("status list %s accepted at anchor %s", uri, latest)
        return pair

    def _trusted(self, uri: str, issuer: str | None) -> TrustedStatusList:
        """Who publishes ``uri``: registered, else discovered (afresh at each
        recheck, so a rotated issuer key is picked up)."""
        trusted = self._lists.get(uri)
        if trusted is None and self._discover is not None and issuer is not None:
            try:
                trusted = self._discover(uri, issuer)
            except LookupError as exc:
                raise StatusUnavailableError(
                    StatusRule.UNKNOWN_LIST, f"{uri} is not a list of {issuer}"
                ) from exc
        if trusted is None:
            raise StatusUnavailableError(StatusRule.UNKNOWN_LIST, f"{uri} not trusted")
        if issuer is not None and trusted.issuer != issuer:
            raise StatusUnavailableError(
                StatusRule.UNKNOWN_LIST, f"{uri} belongs to another issuer"
            )
        return trusted

    def _latest_anchor(self, uri: str, trusted: TrustedStatusList) -> AnchorId:
        try:
            latest = self._anchor.latest_id(trusted.writer, status_list_kind(uri))
        except LedgerError as exc:
            raise StatusUnavailableError(
                StatusRule.LEDGER, f"cannot read the anchor of {uri}"
            ) from exc
        if latest == 0:
            raise StatusUnavailableError(StatusRule.NOT_ANCHORED, uri)
        return latest

    def _load(
        self,
        uri: str,
        trusted: TrustedStatusList,
        anchor_id: AnchorId,
        *,
        previous: _CachedPair | None,
    ) -> _CachedPair:
        try:
            root = self._anchor.get(anchor_id).root
        except LedgerError as exc:
            raise StatusUnavailableError(
                StatusRule.LEDGER, f"cannot read anchor {anchor_id}"
            ) from exc
        revocation, suspension = (
            self._fetch_one(status_list_url(uri, purpose)) for purpose in PURPOSES
        )

        # Compare before parsing: nothing unanchored reaches the JSON parser.
        if status_list_root(revocation, suspension) != root:
            raise StatusUnavailableError(
                StatusRule.HASH_MISMATCH, f"{uri} does not match anchor {anchor_id}"
            )
        documents = [_ascii(revocation, uri), _ascii(suspension, uri)]
        lists = {
            purpose: read_status_list_credential(
                document,
                purpose=purpose,
                url=status_list_url(uri, purpose),
                trusted=trusted,
            )
            for purpose, document in zip(PURPOSES, documents, strict=True)
        }
        if len({bits.size for bits in lists.values()}) != 1:
            raise StatusUnavailableError(
                StatusRule.LENGTH, f"{uri}: the pair's lists differ in size"
            )
        if previous is not None:
            _check_revocations_kept(uri, previous, lists)
        return _CachedPair(anchor_id, lists, checked_at=self._clock())

    def _fetch_one(self, url: str) -> bytes:
        try:
            return self._fetch(url)
        except (OSError, LookupError) as exc:
            raise StatusUnavailableError(StatusRule.FETCH, url) from exc


def _ascii(document: bytes, uri: str) -> str:
    try:
        return document.decode("ascii")
    except UnicodeDecodeError as exc:
        raise StatusUnavailableError(
            StatusRule.CREDENTIAL, f"{uri}: a list is not a compact JWS"
        ) from exc


def _check_revocations_kept(
    uri: str, previous: _CachedPair, lists: Mapping[StatusPurpose, Bitstring]
) -> None:
    # §2.1: a revocation "cannot be reversed"; a new list that clears one
    # is refused rather than believed.
    before = previous.lists[StatusPurpose.REVOCATION]
    after = lists[StatusPurpose.REVOCATION]
    if before.size != after.size or not before.is_subset_of(after):
        raise StatusUnavailableError(
            StatusRule.REVOCATION_UNDONE, f"{uri} clears an earlier revocation"
        )
