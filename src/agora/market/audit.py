"""Audit a finalised training job from the chain and its published artifacts.

:func:`audit_job` trusts neither the coordinator nor its records: it reads
the job, its providers, round commitments and payouts from ``DataMarket``,
follows the manifest CID recorded there (:mod:`agora.market.artifacts`),
and re-derives

1. per round, each accepted update's hash from its published bytes, bound
   to job, round and provider, and the RFC 6962 root of those hashes,
   against the on-chain root; that every provider of the job is accounted
   for once (accepted, rejected with a rule, or dropped); that each
   accepted update passes the job's validation rules;
2. the aggregate, recomputed from the published updates and the previous
   round's recomputed model with the spec's aggregation rule, against the
   on-chain aggregate hash (and the published aggregate);
3. the Shapley values from the coalition utilities the manifest records,
   the payout weights from those, and the payouts from those, against the
   manifest and the on-chain payouts and refund.

Every disagreement is a :class:`Mismatch` naming its round and provider.
The utilities themselves need the buyer's validation data; a caller who
holds it passes ``utility`` and each recorded utility is recomputed too.
"""

import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from agora.federated.arrays import Arrays, aggregate_digest, update_digest
from agora.federated.audit import Provider, RoundHistory
from agora.federated.contributions import shapley_from_utilities
from agora.federated.errors import ContributionError, InvalidUpdateError
from agora.federated.merkle import merkle_root
from agora.federated.robust import RobustRule, aggregate_round
from agora.federated.shapley import Coalition
from agora.federated.validation import validate_update
from agora.ledger import Deployment, JobId, JobState
from agora.ledger.errors import NotFoundError
from agora.ledger.model import Job
from agora.market.artifacts import (
    JobManifest,
    RoundArtifact,
    fetch,
    fetch_arrays,
    fetch_document,
)
from agora.market.audit_report import (
    JobAuditReport,
    Mismatch,
    ProviderAudit,
    RoundAudit,
)
from agora.market.errors import (
    ArtifactMalformedError,
    JobNotFinalizedError,
    JobNotFoundError,
    ManifestNotPublishedError,
    MissingInclusionError,
)
from agora.market.jobs import examples_bound
from agora.market.spec import TrainingJobSpec
from agora.vault.blockstore import BlockBackend

logger = logging.getLogger(__name__)

BPS = 10_000
SHAPLEY_TOLERANCE = 1e-9
"""Recomputed Shapley values and utilities may differ by float rounding
only: the audit sums the same numbers in the same order."""


def audit_job(
    deployment: Deployment,
    store: BlockBackend,
    job_id: JobId,
    *,
    utility: Callable[[Arrays], float] | None = None,
) -> JobAuditReport:
    """Re-derive a finalised job from the chain and its published artifacts.

    Returns the report, whose :attr:`~JobAuditReport.mismatches` lists what
    did not match. Raises :class:`~agora.market.errors.JobNotFoundError`,
    :class:`~agora.market.errors.JobNotFinalizedError`,
    :class:`~agora.market.errors.ManifestNotPublishedError`, and, for an
    artifact the audit cannot read, ``ArtifactMissingError``,
    ``ArtifactCorruptError`` or ``ArtifactMalformedError`` naming it.

    Example::

        report = audit_job(ledger.deployment, store, JobId(1))
        for mismatch in report.mismatches:
            print(mismatch)  # "round 2, provider 0x…: update-hash: …"
    """
    market = deployment.data_market
    try:
        job = market.get_job(job_id)
    except NotFoundError as exc:
        raise JobNotFoundError(f"no job {job_id} on chain") from exc
    if job.state is not JobState.FINALIZED:
        raise JobNotFinalizedError(f"job {job_id} is {job.state.name.lower()}")
    manifest_cid = market.manifest_cid(job_id)
    if manifest_cid is None:
        raise ManifestNotPublishedError(f"job {job_id} has no manifest on chain")

    manifest = fetch_document(
        store, manifest_cid, JobManifest, f"job {job_id} manifest"
    )
    spec = _spec(store, job)
    report = JobAuditReport(job_id, manifest_cid, job.spec_cid, job.reward)
    providers = []
    for index, address in enumerate(market.providers(job_id)):
        try:
            bound = examples_bound(market, job_id, address, spec)
        except MissingInclusionError as exc:
            # Consent-scoped, yet trained without saying on what: bound by
            # the offer, and the missing declaration is itself a finding.
            report.mismatches.append(Mismatch("inclusion", str(exc), None, address))
            bound = market.dataset(market.provider_dataset(job_id, address)).samples
        providers.append(Provider(index, address, address, max_examples=bound))
    _check_manifest(report, manifest, job, providers)

    # Rounds, each from the model the previous one re-derived.
    model = fetch_arrays(store, manifest.initial_model_cid, "initial model")
    accepted_sets: list[frozenset[int]] = []
    histories: list[RoundHistory] = []
    links = {link.round: link.record_cid for link in manifest.rounds}
    for number in range(1, job.rounds_committed + 1):
        if number not in links:
            report.mismatches.append(
                Mismatch("rounds", "committed on chain, not in the manifest", number)
            )
            break
        history = _audit_round(
            report, store, spec, providers, number, links[number], model, deployment
        )
        accepted_sets.append(frozenset(history.updates))
        histories.append(history)
        model = history.aggregate

    _audit_contributions(report, manifest, providers, accepted_sets, histories, utility)
    _audit_payouts(report, deployment, job, providers)
    return report


def audit_summary(
    deployment: Deployment, store: BlockBackend, job_id: JobId
) -> dict[str, Any]:
    """Audit a job and summarise it for a demo's ``result.json``: the
    manifest CID, whether everything matched, the number of mismatches
    (each logged), and how long the audit took."""
    started = time.perf_counter()
    report = audit_job(deployment, store, job_id)
    for mismatch in report.mismatches:
        logger.error("job %s audit: %s", job_id, mismatch)
    return {
        "manifest_cid": report.manifest_cid,
        "ok": report.ok,
        "mismatches": len(report.mismatches),
        "seconds": round(time.perf_counter() - started, 3),
    }


def _spec(store: BlockBackend, job: Job) -> TrainingJobSpec:
    what = f"job {job.job_id} spec"
    data = fetch(store, job.spec_cid, what)
    try:
        return TrainingJobSpec.model_validate_json(data)
    except ValidationError as exc:
        raise ArtifactMalformedError(f"{what}: not a valid job spec") from exc


def _check_manifest(
    report: JobAuditReport,
    manifest: JobManifest,
    job: Job,
    providers: Sequence[Provider],
) -> None:
    problems = report.mismatches
    if manifest.job_id != job.job_id:
        problems.append(Mismatch("manifest", f"is for job {manifest.job_id}"))
    if manifest.spec_cid != job.spec_cid:
        problems.append(
            Mismatch("manifest", f"spec {manifest.spec_cid} is not the job's")
        )
    on_chain = [p.address for p in providers]
    if list(manifest.providers) != on_chain:
        for address in sorted(set(manifest.providers) ^ set(on_chain)):
            problems.append(
                Mismatch("providers", "differs from the job's on chain", None, address)
            )
        if set(manifest.providers) == set(on_chain):
            problems.append(Mismatch("providers", "listed out of application order"))
    if len(manifest.rounds) != job.rounds_committed:
        problems.append(
            Mismatch(
                "rounds",
                f"manifest has {len(manifest.rounds)}, chain has "
                f"{job.rounds_committed}",
            )
        )


def _audit_round(
    report: JobAuditReport,
    store: BlockBackend,
    spec: TrainingJobSpec,
    providers: Sequence[Provider],
    number: int,
    record_cid: str,
    previous: Arrays,
    deployment: Deployment,
) -> RoundHistory:
    """Re-derive one round; return its updates and recomputed aggregate."""
    problems = report.mismatches
    job_id = report.job_id
    record = fetch_document(store, record_cid, RoundArtifact, f"round {number} record")
    if (record.job_id, record.round) != (job_id, number):
        problems.append(
            Mismatch("record", f"is job {record.job_id} round {record.round}", number)
        )
    _check_provider_set(problems, record, providers, number)

    # Each accepted update: its bytes, its hash, the job's rules.
    by_address: dict[str, Provider] = {p.address: p for p in providers}
    updates: dict[int, Arrays] = {}
    weights: dict[int, int] = {}
    leaves: list[bytes] = []
    for entry in record.accepted:
        what = f"round {number} update of provider {entry.provider}"
        arrays = fetch_arrays(store, entry.update_cid, what)
        digest = update_digest(
            arrays, job_id=job_id, server_round=number, provider=entry.provider
        )
        if digest.hex() != entry.update_hash:
            problems.append(
                Mismatch(
                    "update-hash",
                    "published update does not hash to the recorded leaf",
                    number,
                    entry.provider,
                )
            )
        leaves.append(digest)
        provider = by_address.get(entry.provider)
        try:
            validate_update(
                arrays,
                previous,
                num_examples=entry.num_examples,
                max_norm=spec.max_update_norm,
                max_examples=provider.max_examples if provider else None,
            )
        except InvalidUpdateError as exc:
            problems.append(
                Mismatch(
                    "validation",
                    f"accepted update breaks {exc.rule}",
                    number,
                    entry.provider,
                )
            )
        updates[entry.index] = arrays
        weights[entry.index] = entry.num_examples

    # The root of the re-derived leaves against the chain.
    committed = deployment.data_market.round_commitment(JobId(job_id), number)
    root = merkle_root(leaves)
    if root != committed.updates_root:
        listed = ", ".join(e.provider for e in record.accepted) or "none"
        problems.append(
            Mismatch(
                "updates-root",
                f"root of the accepted updates ({listed}) is not the on-chain root",
                number,
            )
        )

    # The aggregate, recomputed by the spec's rule.
    rule = RobustRule(spec.aggregation)
    byzantine = spec.byzantine or 0
    aggregate, applied = previous, str(rule)
    if updates:
        try:
            aggregate, applied = aggregate_round(
                rule,
                list(updates.values()),
                list(weights.values()),
                byzantine=byzantine,
            )
        except (ValueError, KeyError) as exc:
            # Updates of mismatched shapes or names (also a validation
            # mismatch above) have no aggregate.
            problems.append(Mismatch("aggregate", f"cannot recompute: {exc}", number))
    if applied != record.aggregation.applied:
        problems.append(
            Mismatch(
                "aggregation",
                f"record says {record.aggregation.applied}, rule gives {applied}",
                number,
            )
        )
    aggregate_hash = aggregate_digest(aggregate, job_id=job_id, server_round=number)
    if aggregate_hash != committed.aggregate_hash:
        problems.append(
            Mismatch(
                "aggregate",
                f"recomputed with {applied}, does not match the on-chain hash",
                number,
            )
        )
    published = fetch_arrays(store, record.aggregate_cid, f"round {number} aggregate")
    published_hash = aggregate_digest(published, job_id=job_id, server_round=number)
    if published_hash != committed.aggregate_hash:
        problems.append(
            Mismatch(
                "aggregate", "published aggregate is not the committed one", number
            )
        )
    elif aggregate_hash != committed.aggregate_hash:
        # The next round trained on the committed model: audit it from
        # there, so one bad round does not taint every later one.
        aggregate = published

    report.rounds.append(
        RoundAudit(
            server_round=number,
            accepted=[e.provider for e in record.accepted],
            rejected=[(r.provider, r.rule) for r in record.rejected],
            dropped=[d.provider for d in record.dropped],
            aggregation=applied,
            updates_root=root.hex(),
            aggregate_hash=aggregate_hash.hex(),
        )
    )
    return RoundHistory(previous, updates, weights, aggregate, rule, byzantine)


def _check_provider_set(
    problems: list[Mismatch],
    record: RoundArtifact,
    providers: Sequence[Provider],
    number: int,
) -> None:
    """Every provider of the job once, by its on-chain index and address;
    accepted updates in tree (application) order."""
    listed = [(e.index, e.provider) for e in record.accepted]
    listed += [(e.index, e.provider) for e in record.rejected]
    listed += [(e.index, e.provider) for e in record.dropped]
    known = {(p.index, p.address) for p in providers}
    for index, address in listed:
        if (index, address) not in known:
            problems.append(
                Mismatch(
                    "provider-set",
                    f"listed as provider {index} but is not that provider of the job",
                    number,
                    address,
                )
            )
        elif listed.count((index, address)) > 1:
            problems.append(
                Mismatch("provider-set", "listed more than once", number, address)
            )
    for provider in providers:
        if (provider.index, provider.address) not in listed:
            problems.append(
                Mismatch("provider-set", "not accounted for", number, provider.address)
            )
    indices = [entry.index for entry in record.accepted]
    if indices != sorted(indices):
        problems.append(
            Mismatch("provider-set", "accepted updates out of tree order", number)
        )


def _audit_contributions(
    report: JobAuditReport,
    manifest: JobManifest,
    providers: Sequence[Provider],
    accepted_sets: Sequence[frozenset[int]],
    histories: Sequence[RoundHistory],
    utility: Callable[[Arrays], float] | None,
) -> None:
    problems = report.mismatches
    recorded = manifest.contributions
    utilities: list[dict[Coalition, float]] = [
        {frozenset(c.providers): c.utility for c in measured}
        for measured in recorded.utilities
    ]

    # The utilities themselves, by whoever holds the validation data.
    if utility is not None:
        report.utilities_recomputed = True
        for number, (history, measured) in enumerate(
            zip(histories, utilities, strict=False), start=1
        ):
            for members, value in measured.items():
                if not members <= history.updates.keys():
                    continue  # reported by the Shapley step below
                again = utility(history.combine(sorted(members)))
                if not math.isclose(again, value, rel_tol=SHAPLEY_TOLERANCE):
                    problems.append(
                        Mismatch(
                            "utility",
                            f"providers {sorted(members)} score {again}, "
                            f"manifest says {value}",
                            number,
                        )
                    )

    # Shapley values and weights from the recorded utilities.
    try:
        derived = shapley_from_utilities(providers, accepted_sets, utilities)
    except ContributionError as exc:
        problems.append(Mismatch("shapley", str(exc)))
        report.providers = [
            ProviderAudit(p.index, p.address, None, None, None, 0) for p in providers
        ]
        return
    for provider in providers:
        i = provider.index
        shapley = recorded.shapley[i] if i < len(recorded.shapley) else math.nan
        if not math.isclose(
            shapley, derived.shapley[i], rel_tol=SHAPLEY_TOLERANCE, abs_tol=1e-12
        ):
            problems.append(
                Mismatch(
                    "shapley",
                    f"manifest says {shapley}, utilities give {derived.shapley[i]}",
                    None,
                    provider.address,
                )
            )
        weight = recorded.weights_bps[i] if i < len(recorded.weights_bps) else None
        if weight != derived.weights_bps[i]:
            problems.append(
                Mismatch(
                    "weight",
                    f"manifest says {weight} bps, utilities give "
                    f"{derived.weights_bps[i]}",
                    None,
                    provider.address,
                )
            )
        report.providers.append(
            ProviderAudit(
                i,
                provider.address,
                derived.shapley[i],
                derived.weights_bps[i],
                report.reward * derived.weights_bps[i] // BPS,
                0,
            )
        )


def _audit_payouts(
    report: JobAuditReport,
    deployment: Deployment,
    job: Job,
    providers: Sequence[Provider],
) -> None:
    market = deployment.data_market
    paid = 0
    for position, provider in enumerate(providers):
        on_chain = market.payout(job.job_id, provider.address)
        paid += on_chain
        audit = report.providers[position]
        report.providers[position] = ProviderAudit(
            audit.index,
            audit.address,
            audit.shapley,
            audit.weight_bps,
            audit.payout_derived,
            on_chain,
        )
        if audit.payout_derived is not None and on_chain != audit.payout_derived:
            report.mismatches.append(
                Mismatch(
                    "payout",
                    f"chain paid {on_chain}, contributions give {audit.payout_derived}",
                    None,
                    provider.address,
                )
            )
    refunded = market.refunded(job.job_id)
    if paid + refunded != job.reward:
        report.mismatches.append(
            Mismatch("refund", f"paid {paid} + refunded {refunded} != {job.reward}")
        )


__all__ = [
    "JobAuditReport",
    "Mismatch",
    "ProviderAudit",
    "RoundAudit",
    "audit_job",
    "audit_summary",
]
