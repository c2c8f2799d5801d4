"""``audit_job``: a job re-derived from the chain and its published artifacts.

Every job here runs on a real embedded chain through the production round
auditor (see ``audit_support``); the tampered ones are published by a
coordinator that lies in one artifact and puts that manifest on chain.
"""

from pathlib import Path

import numpy as np
import pytest
from audit_support import (
    REWARD,
    SPEC,
    Cast,
    HandJob,
    cast,
    run_by_hand,
    started_job,
    utility,
)

from agora.federated.arrays import Arrays, canonical_bytes
from agora.ledger import JobId, connect, deploy
from agora.market.artifacts import (
    DroppedEntry,
    JobManifest,
    RoundArtifact,
    RoundLink,
    fetch_arrays,
    fetch_document,
    put,
)
from agora.market.audit import JobAuditReport, Mismatch, audit_job
from agora.market.errors import (
    ArtifactCorruptError,
    ArtifactMalformedError,
    ArtifactMissingError,
    JobNotFinalizedError,
    JobNotFoundError,
    ManifestNotPublishedError,
)
from agora.market.spec import TrainingJobSpec
from agora.settings import Settings
from agora.vault.blockstore import BlockStore, parse_block_ref


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Cast:
    folder = tmp_path_factory.mktemp("audit")
    chain = connect(Settings(chain_url=None, cache_dir=folder / "cache"))
    admin = chain.new_account("admin")
    deployment = deploy(chain, admin)
    return cast(chain, deployment, admin, BlockStore(folder / "blocks"))


@pytest.fixture(scope="module")
def clean(market: Cast) -> HandJob:
    return run_by_hand(market)


def _audit(market: Cast, job: HandJob) -> JobAuditReport:
    return audit_job(market.deployment, market.store, job.job_id)


def _record(store: BlockStore, manifest: JobManifest, number: int) -> RoundArtifact:
    link = manifest.rounds[number - 1]
    return fetch_document(store, link.record_cid, RoundArtifact, "record")


def _with_round(
    store: BlockStore, manifest: JobManifest, record: RoundArtifact
) -> JobManifest:
    """The manifest with one round's record replaced (and published)."""
    link = RoundLink(round=record.round, record_cid=put(store, record.canonical_json()))
    rounds = tuple(link if r.round == record.round else r for r in manifest.rounds)
    return manifest.model_copy(update={"rounds": rounds})


def _found(report: JobAuditReport, check: str) -> list[Mismatch]:
    return [m for m in report.mismatches if m.check == check]


def test_a_clean_job_audits_clean(market: Cast, clean: HandJob) -> None:
    report = _audit(market, clean)

    assert report.ok, [str(m) for m in report.mismatches]
    assert [r.server_round for r in report.rounds] == [1, 2, 3]
    hospitals = [h.address for h in market.hospitals]
    # Round 2: hospital 1's NaN update rejected; round 3: hospital 2 dropped.
    assert report.rounds[1].rejected == [(hospitals[1], "non-finite")]
    assert report.rounds[1].accepted == [hospitals[0], hospitals[2]]
    assert report.rounds[2].dropped == [hospitals[2]]
    # Re-derived weights and payouts are what the coordinator measured and
    # what the chain paid.
    assert [p.weight_bps for p in report.providers] == clean.contributions.weights_bps
    assert [p.payout_derived for p in report.providers] == [
        p.payout_on_chain for p in report.providers
    ]
    assert sum(p.payout_on_chain for p in report.providers) <= REWARD
    assert report.to_json()["ok"] is True


def test_the_holder_of_the_validation_data_recomputes_the_utilities(
    market: Cast, clean: HandJob
) -> None:
    report = audit_job(market.deployment, market.store, clean.job_id, utility=utility)
    assert report.ok and report.utilities_recomputed

    # Another validation score than the one measured: every coalition differs.
    def other(arrays: Arrays) -> float:
        return utility(arrays) + 0.5

    report = audit_job(market.deployment, market.store, clean.job_id, utility=other)
    assert {(m.check, m.server_round) for m in report.mismatches} == {
        ("utility", 1),
        ("utility", 2),
        ("utility", 3),
    }


@pytest.mark.parametrize(
    ("aggregation", "byzantine", "applied"),
    [
        # Round 2 has two accepted updates: each rule as it then applies.
        ("coordinate-median", None, "coordinate-median"),
        ("trimmed-mean", 1, "trimmed-mean(trim=0)"),
        ("krum", 0, "coordinate-median"),
        ("multi-krum", 0, "coordinate-median"),
    ],
)
def test_robust_rules_are_recomputed_as_applied(
    market: Cast, aggregation: str, byzantine: int | None, applied: str
) -> None:
    spec = TrainingJobSpec.model_validate(
        {**SPEC.model_dump(), "aggregation": aggregation, "byzantine": byzantine}
    )
    report = _audit(market, run_by_hand(market, spec=spec))

    assert report.ok, [str(m) for m in report.mismatches]
    assert report.rounds[1].aggregation == applied


def test_a_record_claiming_another_rule_is_named(market: Cast) -> None:
    """Rule: the record's applied rule is what the spec's rule gives."""

    def relabel(store: BlockStore, manifest: JobManifest) -> JobManifest:
        record = _record(store, manifest, 3)
        aggregation = record.aggregation.model_copy(update={"applied": "krum(f=0,m=1)"})
        return _with_round(
            store, manifest, record.model_copy(update={"aggregation": aggregation})
        )

    report = _audit(market, run_by_hand(market, tamper=relabel))

    ((check, server_round),) = {(m.check, m.server_round) for m in report.mismatches}
    assert (check, server_round) == ("aggregation", 3)


def test_an_update_swapped_for_another_is_named(market: Cast) -> None:
    """Rule: each published update hashes to its on-chain leaf."""
    hospital = market.hospitals[0].address

    def swap_update(store: BlockStore, manifest: JobManifest) -> JobManifest:
        record = _record(store, manifest, 1)
        first = record.accepted[0]
        honest = fetch_arrays(store, first.update_cid, "update")
        forged = put(store, canonical_bytes({"w": honest["w"] + 0.25}))
        entry = first.model_copy(update={"update_cid": forged})
        record = record.model_copy(update={"accepted": (entry, *record.accepted[1:])})
        return _with_round(store, manifest, record)

    report = _audit(market, run_by_hand(market, tamper=swap_update))

    assert not report.ok
    (named,) = _found(report, "update-hash")
    assert (named.server_round, named.provider) == (1, hospital)
    assert str(named).startswith(f"round 1, provider {hospital}: update-hash")
    assert [m.server_round for m in _found(report, "updates-root")] == [1]


def test_a_round_record_naming_another_provider_is_named(market: Cast) -> None:
    """Rule: every provider of the job is accounted for once per round."""
    intruder = market.chain.new_account("intruder").address
    dropped = market.hospitals[2].address

    def other_provider(store: BlockStore, manifest: JobManifest) -> JobManifest:
        record = _record(store, manifest, 1)
        last = record.accepted[-1].model_copy(update={"provider": intruder})
        record = record.model_copy(update={"accepted": (*record.accepted[:-1], last)})
        return _with_round(store, manifest, record)

    report = _audit(market, run_by_hand(market, tamper=other_provider))

    provider_set = {
        (m.server_round, m.provider) for m in _found(report, "provider-set")
    }
    assert provider_set == {(1, intruder), (1, dropped)}


def test_a_round_record_hiding_an_accepted_update_is_caught(market: Cast) -> None:
    """Rule: the accepted updates rebuild the on-chain root."""
    hidden = market.hospitals[0].address

    def hide(store: BlockStore, manifest: JobManifest) -> JobManifest:
        record = _record(store, manifest, 2)
        gone = DroppedEntry(index=0, provider=hidden)
        record = record.model_copy(
            update={
                "accepted": record.accepted[1:],
                "dropped": (*record.dropped, gone),
            }
        )
        return _with_round(store, manifest, record)

    report = _audit(market, run_by_hand(market, tamper=hide))

    (root,) = _found(report, "updates-root")
    assert root.server_round == 2
    assert hidden not in root.detail  # the record's list, which left it out
    assert 2 in [m.server_round for m in _found(report, "aggregate")]


def test_altered_shapley_values_are_named(market: Cast) -> None:
    """Rule: the recorded utilities give the manifest's Shapley values."""
    favoured = market.hospitals[2].address

    def inflate(store: BlockStore, manifest: JobManifest) -> JobManifest:
        recorded = manifest.contributions
        shapley = (*recorded.shapley[:2], recorded.shapley[2] + 1.0)
        contributions = recorded.model_copy(update={"shapley": shapley})
        return manifest.model_copy(update={"contributions": contributions})

    report = _audit(market, run_by_hand(market, tamper=inflate))

    ((check, provider),) = {(m.check, m.provider) for m in report.mismatches}
    assert (check, provider) == ("shapley", favoured)


def test_altered_utilities_change_the_derived_pay(market: Cast) -> None:
    """Rule: the on-chain payouts follow from the recorded utilities."""

    def boost(store: BlockStore, manifest: JobManifest) -> JobManifest:
        recorded = manifest.contributions
        round_one = tuple(
            c.model_copy(update={"utility": c.utility + 50.0})
            if 2 in c.providers
            else c
            for c in recorded.utilities[0]
        )
        utilities = (round_one, *recorded.utilities[1:])
        contributions = recorded.model_copy(update={"utilities": utilities})
        return manifest.model_copy(update={"contributions": contributions})

    report = _audit(market, run_by_hand(market, tamper=boost))

    favoured = market.hospitals[2].address
    assert favoured in {m.provider for m in _found(report, "shapley")}
    assert favoured in {m.provider for m in _found(report, "weight")}
    assert favoured in {m.provider for m in _found(report, "payout")}


def test_payouts_that_do_not_follow_the_contributions_are_named(
    market: Cast,
) -> None:
    """Rule: the chain paid reward x derived weight / 10,000 to each."""
    job = run_by_hand(market, weights_bps=[10_000, 0, 0])
    report = _audit(market, job)

    assert job.contributions.weights_bps != [10_000, 0, 0]
    named = {m.provider for m in _found(report, "payout")}
    assert named == {h.address for h in market.hospitals}
    assert _found(report, "shapley") == _found(report, "weight") == []


def _block_path(store: BlockStore, cid: str) -> Path:
    ref = parse_block_ref(cid)
    return store.root / ref.cid[-2:] / ref.cid


def test_a_missing_update_block_fails_naming_round_and_provider(
    market: Cast,
) -> None:
    job = run_by_hand(market)
    record = _record(market.store, job.manifest, 2)
    entry = record.accepted[-1]
    # Every job here trains the same updates: put the block back after.
    path = _block_path(market.store, entry.update_cid)
    original = path.read_bytes()
    path.unlink()
    try:
        with pytest.raises(ArtifactMissingError) as raised:
            _audit(market, job)
    finally:
        path.write_bytes(original)
    assert f"round 2 update of provider {entry.provider}" in str(raised.value)
    assert entry.provider == market.hospitals[2].address


def test_a_block_whose_bytes_do_not_match_its_cid_is_refused(market: Cast) -> None:
    job = run_by_hand(market)
    path = _block_path(market.store, job.manifest.rounds[0].record_cid)
    original = path.read_bytes()
    path.write_bytes(original.replace(b'"round":1', b'"round":7'))
    try:
        with pytest.raises(ArtifactCorruptError, match="round 1 record"):
            _audit(market, job)
    finally:
        path.write_bytes(original)


def test_an_artifact_that_is_not_what_it_claims_is_refused(market: Cast) -> None:
    """Rule: an update is canonical arrays (no pickles, no trailing bytes)."""

    def garbage(store: BlockStore, manifest: JobManifest) -> JobManifest:
        record = _record(store, manifest, 3)
        entry = record.accepted[0].model_copy(
            update={"update_cid": put(store, b"\x80\x04not arrays")}
        )
        record = record.model_copy(update={"accepted": (entry, *record.accepted[1:])})
        return _with_round(store, manifest, record)

    with pytest.raises(ArtifactMalformedError, match="round 3 update of provider"):
        _audit(market, run_by_hand(market, tamper=garbage))


def test_jobs_that_cannot_be_audited_get_typed_errors(market: Cast) -> None:
    data_market = market.deployment.data_market
    with pytest.raises(JobNotFoundError):
        audit_job(market.deployment, market.store, JobId(data_market.job_count() + 1))

    running, _ = started_job(market)
    with pytest.raises(JobNotFinalizedError, match="running"):
        audit_job(market.deployment, market.store, running)

    # Finalised with no manifest on chain: nothing to re-derive from.
    data_market.commit_round(
        running, 1, b"\x01" * 32, b"\x02" * 32, account=market.buyer
    )
    data_market.finalize(running, [5_000, 5_000, 0], account=market.buyer)
    with pytest.raises(ManifestNotPublishedError):
        audit_job(market.deployment, market.store, running)


def test_an_accepted_update_the_rules_reject_is_named(market: Cast) -> None:
    """Rule: every accepted update passes the spec's validation, re-run."""
    hospital = market.hospitals[1].address

    def oversized(store: BlockStore, manifest: JobManifest) -> JobManifest:
        record = _record(store, manifest, 1)
        entry = record.accepted[1].model_copy(
            update={"update_cid": put(store, canonical_bytes({"w": np.full(3, 1e6)}))}
        )
        accepted = (record.accepted[0], entry, *record.accepted[2:])
        return _with_round(
            store, manifest, record.model_copy(update={"accepted": accepted})
        )

    report = _audit(market, run_by_hand(market, tamper=oversized))

    (broken,) = _found(report, "validation")
    assert (broken.server_round, broken.provider) == (1, hospital)
    assert "norm" in broken.detail


CONSENT_SPEC = TrainingJobSpec.model_validate(
    {**SPEC.model_dump(), "purpose": "research:regression"}
)


def test_a_consent_scoped_update_past_the_declared_count_is_named(
    market: Cast,
) -> None:
    """Rule num-examples, consent-scoped: hospital 2 offered 120 rows but
    declared 100 consented ones, and the coordinator still accepted its
    120-example updates (rounds 1 and 2; it drops out in round 3)."""
    hospital = market.hospitals[2].address
    job = run_by_hand(market, spec=CONSENT_SPEC, declared={0: 40, 1: 80, 2: 100})

    report = _audit(market, job)

    broken = _found(report, "validation")
    assert {(m.server_round, m.provider) for m in broken} == {
        (1, hospital),
        (2, hospital),
    }
    assert all("num-examples" in m.detail for m in broken)


def test_a_consent_scoped_job_audits_clean_within_its_declarations(
    market: Cast,
) -> None:
    job = run_by_hand(market, spec=CONSENT_SPEC, declared={0: 40, 1: 80, 2: 120})

    report = _audit(market, job)

    assert report.ok, [str(m) for m in report.mismatches]


def test_a_consent_scoped_provider_that_declared_nothing_is_named(
    market: Cast,
) -> None:
    """Rule: every provider of a consent-scoped job declared its inclusion."""
    job = run_by_hand(market, spec=CONSENT_SPEC, declared={0: 40, 1: 80})

    report = _audit(market, job)

    (missing,) = _found(report, "inclusion")
    assert missing.provider == market.hospitals[2].address
    assert "declared no inclusion" in missing.detail
