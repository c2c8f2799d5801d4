"""Jobs run by hand on a real chain, for the audit tests.

The coordinator's steps of ``TrainingMarket.run_job`` without Flower: each
round goes through the production :class:`RoundAuditor` (validate, hash,
aggregate, commit on chain), contributions are measured, artifacts are
published and the manifest CID goes on chain before finalisation. A test
may alter the manifest before it goes on chain (a lying coordinator) or
finalise with other weights. A round takes milliseconds.

Three hospitals fit a linear regression; hospital 1 sends NaN weights in
round 2 (rejected: ``non-finite``) and hospital 2 sends nothing in round 3
(dropped).
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from agora.federated.arrays import Arrays
from agora.federated.audit import Provider, RoundAuditor, Submission
from agora.federated.contributions import Contributions, measure_contributions
from agora.federated.robust import RobustRule
from agora.ledger import (
    Account,
    Chain,
    DatasetId,
    Deployment,
    Inclusion,
    JobId,
    Role,
    TokenAmount,
    tokens,
)
from agora.market.artifacts import JobManifest, publish_job_artifacts, put
from agora.market.jobs import TrainingMarket
from agora.market.spec import DatasetSchema, TrainingJobSpec
from agora.vault.blockstore import BlockStore, Cid

TRUE_WEIGHTS = np.array([1.0, -2.0, 0.5])
REWARD = TokenAmount(tokens(100) + 7)
SPEC = TrainingJobSpec(
    task="regression",
    modality="tabular/3",
    labels=("y", "unused"),
    model="linear",
    rounds=3,
    local_epochs=1,
    min_samples=10,
    min_providers=3,
    max_providers=3,
    max_update_norm=100.0,
    seed=0,
)


def rows(seed: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(count, 3))
    return features, features @ TRUE_WEIGHTS + rng.normal(scale=0.1, size=count)


VALIDATION = rows(99, 200)


def utility(arrays: Arrays) -> float:
    """Negative validation MSE: the buyer's private score."""
    features, targets = VALIDATION
    return -float(np.mean((features @ arrays["w"] - targets) ** 2))


def train(model: Arrays, hospital: int) -> tuple[Arrays, int]:
    features, targets = rows(hospital, 40 * (hospital + 1))
    weights = model["w"].copy()
    for _ in range(5):
        weights -= 0.1 * features.T @ (features @ weights - targets) / len(targets)
    return {"w": weights}, len(targets)


@dataclass
class Cast:
    """A deployed market, its buyer (also the coordinator) and hospitals."""

    chain: Chain
    deployment: Deployment
    store: BlockStore
    buyer: Account
    hospitals: list[Account]
    datasets: list[DatasetId]


def cast(
    chain: Chain, deployment: Deployment, admin: Account, store: BlockStore
) -> Cast:
    """Members, funds and one dataset offer per hospital."""
    buyer = chain.new_account("buyer")
    hospitals = [chain.new_account(f"hospital-{i}") for i in range(3)]
    deployment.consortium.add_member(
        buyer.address, "buyer", Role.BUYER | Role.COORDINATOR, account=admin
    )
    deployment.token.mint(buyer.address, TokenAmount(REWARD * 50), account=admin)
    datasets = []
    for i, hospital in enumerate(hospitals):
        deployment.consortium.add_member(
            hospital.address, f"hospital-{i}", Role.HOSPITAL, account=admin
        )
        schema = DatasetSchema(
            modality="tabular/3",
            labels=("y", "unused"),
            shape=(3,),
            dtype="float64",
            samples=40 * (i + 1),
            label_counts={},
        )
        datasets.append(
            TrainingMarket(deployment, store).offer_dataset(hospital, schema)
        )
    return Cast(chain, deployment, store, buyer, hospitals, datasets)


@dataclass(frozen=True)
class HandJob:
    job_id: JobId
    manifest_cid: Cid
    manifest: JobManifest
    contributions: Contributions


def started_job(
    cast: Cast,
    spec: TrainingJobSpec = SPEC,
    *,
    declared: dict[int, int] | None = None,
) -> tuple[JobId, list[Provider]]:
    """A job posted, applied to by the three hospitals, and started; with
    ``declared``, hospital ``i`` first declares ``declared[i]`` included
    records on chain (a consent-scoped job)."""
    market = TrainingMarket(cast.deployment, cast.store)
    job_id, _ = market.post_job(
        cast.buyer,
        spec,
        reward=REWARD,
        deadline=cast.chain.now() + 3600,
        coordinator=cast.buyer.address,
    )
    for hospital, dataset in zip(cast.hospitals, cast.datasets, strict=True):
        market.apply(hospital, job_id, dataset)
    for index, count in (declared or {}).items():
        cast.deployment.data_market.declare_inclusion(
            job_id,
            Inclusion(bytes([index + 1]) * 32, count),
            account=cast.hospitals[index],
        )
    cast.deployment.data_market.start_job(job_id, account=cast.buyer)
    providers = [
        Provider(i, f"hospital-{i}", h.address, max_examples=40 * (i + 1))
        for i, h in enumerate(cast.hospitals)
    ]
    return job_id, providers


def run_by_hand(
    cast: Cast,
    *,
    tamper: Callable[[BlockStore, JobManifest], JobManifest] | None = None,
    weights_bps: list[int] | None = None,
    spec: TrainingJobSpec = SPEC,
    declared: dict[int, int] | None = None,
) -> HandJob:
    """Run, publish and finalise a job; ``tamper`` rewrites the manifest
    before its CID goes on chain, ``weights_bps`` replaces the measured
    weights at finalisation, ``declared`` as for :func:`started_job`. The
    hand coordinator bounds updates by the offers, whatever was declared."""
    data_market = cast.deployment.data_market
    job_id, providers = started_job(cast, spec, declared=declared)

    def commit(server_round: int, root: bytes, aggregate_hash: bytes) -> str:
        return data_market.commit_round(
            job_id, server_round, root, aggregate_hash, account=cast.buyer
        )

    auditor = RoundAuditor(
        job_id=job_id,
        providers=providers,
        committer=commit,
        max_update_norm=spec.max_update_norm,
        aggregation=RobustRule(spec.aggregation),
        byzantine=spec.byzantine or 0,
    )
    initial: Arrays = {"w": np.zeros(3)}
    model = initial
    for server_round in range(1, spec.rounds + 1):
        submissions = []
        for hospital in range(3):
            if hospital == 2 and server_round == 3:
                continue  # dropped out
            update, examples = train(model, hospital)
            if hospital == 1 and server_round == 2:
                update = {"w": np.full(3, np.nan)}
            submissions.append(Submission(hospital, update, examples))
        model, _ = auditor.audit_round(server_round, model, submissions)

    contributions = measure_contributions(providers, auditor.history, utility)
    manifest_cid, manifest = publish_job_artifacts(
        cast.store,
        job_id=job_id,
        spec_cid=data_market.get_job(job_id).spec_cid,
        providers=providers,
        initial=initial,
        records=auditor.records,
        history=auditor.history,
        contributions=contributions,
        utility="negative MSE on 200 held-out rows",
    )
    if tamper is not None:
        manifest = tamper(cast.store, manifest)
        manifest_cid = put(cast.store, manifest.canonical_json())
    data_market.publish_manifest(job_id, manifest_cid, account=cast.buyer)
    data_market.finalize(
        job_id, weights_bps or contributions.weights_bps, account=cast.buyer
    )
    return HandJob(job_id, manifest_cid, manifest, contributions)
