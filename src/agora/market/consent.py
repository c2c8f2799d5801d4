"""Consent-scoped training: a provider trains only on consented records.

A job whose spec names a ``purpose`` is consent-scoped. Before training,
each provider reads, in a few calls, every ``Consent`` grant naming its DID
(:meth:`~agora.ledger.ConsentClient.grants_to`) and keeps a record only if
its owner holds a grant that, at the chain's current time,

1. is for the job's purpose (else ``other-purpose``),
2. is not revoked (``revoked``),
3. has not expired (``expired``), and
4. covers the record's category (``out-of-scope``).

An owner with no grant to the provider at all is ``no-grant``. One grant
passing every check is enough; an excluded record is reported with the rule
its owner's most recent grant broke.

The included record ids form an :class:`InclusionSet`, whose root is the
RFC 6962 Merkle tree of the ids sorted by their UTF-8 bytes (the same
canonical form as a consent scope, :func:`agora.vault.scope.records_root`).
The provider declares that root and the count on ``DataMarket`` before the
first round (:meth:`~agora.market.jobs.TrainingMarket.declare_inclusion`);
from then on the root proves, record by record, who was trained on: a
patient whose record is included gets an inclusion proof against the
on-chain root (:func:`verify_record_included`), and for an excluded record
no proof can exist.

Record-set scopes (a grant's records root) are not consulted: the provider
would need the owner's record list to check membership, so a grant counts
only through its categories here.

Example::

    >>> included = consented_records(  # doctest: +SKIP
    ...     ledger.consent, records, grantee=hospital_did,
    ...     purpose="research:pneumonia-model", now=chain.now())
    >>> ledger.data_market.declare_inclusion(  # doctest: +SKIP
    ...     job_id, included.inclusion, account=hospital)
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from eth_typing import ChecksumAddress

from agora.federated.merkle import InclusionProof, verify_inclusion
from agora.ledger import (
    Category,
    ConsentClient,
    Deployment,
    Grant,
    Inclusion,
    JobId,
    grantee_hash,
    purpose_code,
)
from agora.market.errors import NothingConsentedError, NotIncludedError
from agora.vault.scope import RecordId, record_proof, records_root


class ExclusionRule(StrEnum):
    """Why a record was left out of a consent-scoped job."""

    NO_GRANT = "no-grant"
    """Its owner granted the provider nothing."""
    OTHER_PURPOSE = "other-purpose"
    """Its owner's grant is for another purpose than the job's."""
    REVOKED = "revoked"
    """Its owner revoked the grant."""
    EXPIRED = "expired"
    """The grant's expiry has passed (chain time)."""
    OUT_OF_SCOPE = "out-of-scope"
    """The grant does not cover the record's category."""


@dataclass(frozen=True)
class ConsentedRecord:
    """A record a provider holds, as the consent filter sees it."""

    record_id: RecordId
    owner: ChecksumAddress
    """The account of the record's subject, which owns their grants."""
    category: Category


@dataclass(frozen=True)
class InclusionSet:
    """The records a provider may train a job on, and those it may not."""

    included: tuple[RecordId, ...]
    """Sorted by UTF-8 bytes: the leaf order of :attr:`root`."""
    excluded: dict[RecordId, ExclusionRule] = field(default_factory=dict)

    @property
    def root(self) -> bytes:
        """RFC 6962 root over the sorted included ids."""
        return records_root(self.included)

    @property
    def inclusion(self) -> Inclusion:
        """What the provider declares on chain."""
        return Inclusion(root=self.root, count=len(self.included))

    def excluded_by_rule(self) -> dict[ExclusionRule, int]:
        """How many records each rule left out."""
        counts = dict.fromkeys(ExclusionRule, 0)
        for rule in self.excluded.values():
            counts[rule] += 1
        return counts

    def proof(self, record_id: str) -> InclusionProof:
        """The proof that ``record_id`` was included; raises
        :class:`NotIncludedError` for any other record."""
        if record_id not in self.excluded and record_id not in self.included:
            raise NotIncludedError("the record is not one of the provider's")
        if record_id in self.excluded:
            raise NotIncludedError(
                f"the record was excluded ({self.excluded[RecordId(record_id)]})"
            )
        return record_proof(self.included, record_id)


def exclusion_rule(
    grants: Iterable[Grant], category: Category, *, purpose: bytes, now: int
) -> ExclusionRule | None:
    """Why ``grants`` (one owner's, to the provider) do not cover a record
    of ``category`` for ``purpose`` at chain time ``now``; ``None`` if one
    of them does."""
    rule = ExclusionRule.NO_GRANT
    for grant in sorted(grants, key=lambda g: g.grant_id):
        if grant.purpose != purpose:
            rule = ExclusionRule.OTHER_PURPOSE
        elif grant.revoked:
            rule = ExclusionRule.REVOKED
        elif grant.expired(now):
            rule = ExclusionRule.EXPIRED
        elif not grant.categories & category:
            rule = ExclusionRule.OUT_OF_SCOPE
        else:
            return None
    return rule


def consented_records(
    consent: ConsentClient,
    records: Iterable[ConsentedRecord],
    *,
    grantee: str,
    purpose: str,
    now: int,
) -> InclusionSet:
    """Filter a provider's ``records`` by its owners' grants to ``grantee``
    (the provider's DID) for ``purpose`` at chain time ``now``.

    Reads the grants in pages of 256, not one call per record. Raises
    :class:`NothingConsentedError` if no record is covered.
    """
    by_owner: dict[ChecksumAddress, list[Grant]] = defaultdict(list)
    for grant in consent.grants_to(grantee_hash(grantee)):
        by_owner[grant.owner].append(grant)
    code = purpose_code(purpose)

    included: list[RecordId] = []
    excluded: dict[RecordId, ExclusionRule] = {}
    for record in records:
        rule = exclusion_rule(
            by_owner.get(record.owner, ()), record.category, purpose=code, now=now
        )
        if rule is None:
            included.append(record.record_id)
        else:
            excluded[record.record_id] = rule
    if not included:
        raise NothingConsentedError(
            f"no record is covered by consent for {purpose!r} to {grantee}"
        )
    ordered = tuple(sorted(set(included), key=lambda r: r.encode()))
    return InclusionSet(ordered, excluded)


def verify_record_included(
    deployment: Deployment,
    job_id: JobId,
    provider: ChecksumAddress,
    record_id: str,
    proof: InclusionProof,
) -> None:
    """Check that ``record_id`` is in the inclusion root ``provider``
    declared on chain for ``job_id`` (a patient's check that they were, or
    were not, trained on). Raises
    :class:`~agora.federated.errors.InclusionProofError` if the proof fails
    and :class:`~agora.ledger.NotFoundError` if nothing was declared."""
    declared = deployment.data_market.inclusion(job_id, provider)
    verify_inclusion(record_id.encode(), proof, declared.root)
