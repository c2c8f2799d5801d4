"""Benchmark: consent-scoped training's chain work for the X-ray job.

The default split's three hospitals (4,708 PneumoniaMNIST train rows) get
their seeded pseudonymous patients (:mod:`agora.health.xray_consent`) on the
embedded chain. Timed, for all hospitals together: ``sign_s`` (patients
sign their grants, EIP-712), ``submit_s`` (hospitals submit them, 32 per
transaction), ``revoke_s`` (revoking patients are funded and revoke),
``read_s`` (each hospital reads every grant naming it, 256 per call) and
``read_and_filter_s`` (the provider's whole step: that read, the consent
rules over every row, and the inclusion root).

Prints one JSON object as its last line.

Usage: python benchmarks/consent_filter.py [--data-dir DIR] [--seed N]
"""

import argparse
import json
import os
import time
from pathlib import Path

from agora.health.xray import load_pneumoniamnist, partition_non_iid
from agora.health.xray_consent import (
    PURPOSE,
    SHORT_GRANT,
    ConsentStory,
    assign_patients,
    grant_request,
)
from agora.identity.did_ethr import ethr_did
from agora.ledger import connect, deploy, grantee_hash
from agora.market.consent import consented_records
from agora.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = os.environ.get("AGORA_DATA_DIR", "../shared/data")
    parser.add_argument("--data-dir", type=Path, default=Path(default_data))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    train = load_pneumoniamnist(args.data_dir).train
    parts = partition_non_iid(train.labels, seed=args.seed)
    chain = connect(Settings(chain_url=None))
    ledger = deploy(chain, chain.new_account("admin"))
    consent = ledger.consent
    steps = ("sign_s", "submit_s", "revoke_s", "read_s", "read_and_filter_s")
    timings = dict.fromkeys(steps, 0.0)
    patients_total = grants_total = included_total = 0
    roots: list[str] = []

    for index, rows in enumerate(parts):
        hospital = chain.new_account(f"hospital-{index}")
        did = ethr_did(chain.chain_id, hospital.address)
        patients = assign_patients(rows, seed=args.seed, hospital=index)
        patients_total += len(patients.patients)
        now = chain.now()

        # Sign, submit, revoke: what the demo's give_consent does, timed apart.
        started = time.perf_counter()
        chosen = [p for p in patients.patients if p.story is not ConsentStory.NO_GRANT]
        signed = [
            consent.sign(grant_request(p, grantee_hash(did), now=now), p.account)
            for p in chosen
        ]
        timings["sign_s"] += time.perf_counter() - started
        started = time.perf_counter()
        ids = consent.grant_signed(signed, account=hospital)
        timings["submit_s"] += time.perf_counter() - started
        grants_total += len(ids)
        started = time.perf_counter()
        for patient, grant_id in zip(chosen, ids, strict=True):
            if patient.story is ConsentStory.REVOKED:
                owner = chain.new_account(
                    "patient", ether=1, private_key=bytes(patient.account.key)
                )
                consent.revoke(grant_id, account=owner)
        timings["revoke_s"] += time.perf_counter() - started

        started = time.perf_counter()
        grants = consent.grants_to(grantee_hash(did))
        timings["read_s"] += time.perf_counter() - started
        if len(grants) != len(ids):
            raise SystemExit(f"read {len(grants)} grants, submitted {len(ids)}")
        started = time.perf_counter()
        # Filtered as the demo does, once the hour-long grants have expired.
        included = consented_records(
            consent,
            patients.records(),
            grantee=did,
            purpose=PURPOSE,
            now=now + SHORT_GRANT + 60,
        )
        roots.append("0x" + included.root.hex())
        timings["read_and_filter_s"] += time.perf_counter() - started
        included_total += len(included.included)

    print(
        json.dumps(
            {
                "rows": int(sum(len(p) for p in parts)),
                "patients": patients_total,
                "grants": grants_total,
                "included": included_total,
                **{k: round(v, 3) for k, v in timings.items()},
                "inclusion_roots": roots,
                "load_average_1m": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
