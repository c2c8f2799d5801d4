"""Benchmark: what publishing a job's audit artifacts costs the coordinator.

The X-ray job's model (``agora.health.xray_job.initial_model``), three
hospitals and ``--rounds`` rounds of updates (the model plus noise, as
training would move it) go through the production ``RoundAuditor`` (with
an in-memory committer: the chain's cost is measured by ``fl_pneumonia``).
Then ``publish_job_artifacts`` writes every update, aggregate and round
record and the manifest to a fresh folder blockstore: ``publish_s`` and
``published_mb``, beside ``audit_rounds_s`` (validation, hashing,
aggregation, Merkle root of the same rounds) for scale. ``reread_s`` is
what an auditor spends reading back and re-hashing every published update.

Prints one JSON object as its last line.

Usage: python benchmarks/job_artifacts.py [--rounds N]
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from agora.federated.arrays import Arrays, update_digest
from agora.federated.audit import Provider, RoundAuditor, Submission
from agora.federated.contributions import measure_contributions
from agora.health.xray_job import initial_model
from agora.market.artifacts import (
    JobManifest,
    RoundArtifact,
    fetch_arrays,
    fetch_document,
    publish_job_artifacts,
)
from agora.vault.blockstore import BlockStore

HOSPITALS = 3


def _moved(model: Arrays, rng: np.random.Generator) -> Arrays:
    return {
        name: (array + rng.normal(scale=1e-3, size=array.shape)).astype(array.dtype)
        if np.issubdtype(array.dtype, np.floating)
        else array
        for name, array in model.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    providers = [
        Provider(i, f"hospital-{i}", f"0x{i + 1:040x}") for i in range(HOSPITALS)
    ]
    auditor = RoundAuditor(
        job_id=1,
        providers=providers,
        committer=lambda server_round, root, aggregate: root.hex(),
        max_update_norm=1e3,
    )

    # The rounds, audited as the coordinator does.
    initial = initial_model(7)
    model = initial
    started = time.perf_counter()
    for server_round in range(1, args.rounds + 1):
        submissions = [
            Submission(i, _moved(model, rng), 100 * (i + 1)) for i in range(HOSPITALS)
        ]
        model, _ = auditor.audit_round(server_round, model, submissions)
    audit_rounds_s = time.perf_counter() - started
    contributions = measure_contributions(
        providers, auditor.history, lambda arrays: float(len(arrays))
    )

    with tempfile.TemporaryDirectory() as folder:
        store = BlockStore(Path(folder))
        started = time.perf_counter()
        cid, _ = publish_job_artifacts(
            store,
            job_id=1,
            spec_cid="bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq",
            providers=providers,
            initial=initial,
            records=auditor.records,
            history=auditor.history,
            contributions=contributions,
            utility="benchmark",
        )
        publish_s = time.perf_counter() - started
        published = sum(
            p.stat().st_size for p in Path(folder).rglob("*") if p.is_file()
        )

        # What the auditor spends reading back and re-hashing every update.
        started = time.perf_counter()
        manifest = fetch_document(store, cid, JobManifest, "manifest")
        for link in manifest.rounds:
            record = fetch_document(store, link.record_cid, RoundArtifact, "record")
            for entry in record.accepted:
                arrays = fetch_arrays(store, entry.update_cid, "update")
                update_digest(
                    arrays, job_id=1, server_round=link.round, provider=entry.provider
                )
        reread_s = time.perf_counter() - started

    model_mb = sum(a.nbytes for a in initial.values()) / 2**20
    print(
        json.dumps(
            {
                "rounds": args.rounds,
                "hospitals": HOSPITALS,
                "model_mb": round(model_mb, 3),
                "published_mb": round(published / 2**20, 3),
                "publish_s": round(publish_s, 4),
                "publish_s_per_round": round(publish_s / args.rounds, 4),
                "audit_rounds_s": round(audit_rounds_s, 4),
                "reread_s": round(reread_s, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
