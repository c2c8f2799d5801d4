"""Benchmark: the federated X-ray job, clean and with one misbehaving hospital.

Runs, in one invocation, the clean job (FedAvg, as the health demo posts it),
the clean job under the robust rule, and one job per attack of
:mod:`agora.federated.faults` (NaN, huge-norm, sign-flipped and
label-flipped updates, a dropout from the middle round on, replies tagged
for the wrong round), each attack posted with the robust rule in its spec:
one job configuration has to face every attack, since a buyer picks the
rule before anyone misbehaves. The attacker is the largest hospital (55 %
of the rows) unless ``--attacker`` says otherwise. ``--undefended`` adds
the sign-flip and label-flip jobs under plain FedAvg, for contrast.

Prints one JSON object as its last line: ``clean_test_auc`` (FedAvg),
``clean_robust_test_auc``, and ``attacks``, a list of objects with
``attack``, ``test_auc``, ``auc_drop`` (against ``clean_test_auc``),
``aggregation``, ``rejected`` (updates by rule, over all rounds),
``missing`` (provider-rounds without a reply), ``attacker_payout_bps`` and
``wall_s``; then the settings and the whole invocation's ``wall_s``.

Usage: python benchmarks/fl_attacks.py [--rounds N] [--local-epochs E]
       [--seed S] [--attacker I] [--aggregation RULE] [--byzantine F]
       [--attacks A ...] [--undefended] [--max-rows R] [--out DIR]
"""

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, get_args

from agora.federated.faults import Attack
from agora.health.xray_attacks import AttackRun, AttackSetup, run_attack_job
from agora.market.spec import Aggregation
from agora.settings import load_settings


def _entry(run: AttackRun, clean_auc: float, attacker: int) -> dict[str, Any]:
    payouts = {p.provider.index: p.weight_bps for p in run.outcome.payouts}
    return {
        "attack": str(run.attack),
        "test_auc": run.test_auc,
        "auc_drop": clean_auc - run.test_auc,
        "aggregation": run.aggregation,
        "rejected": run.rejected,
        "missing": run.missing,
        "attacker_payout_bps": payouts[attacker],
        "wall_s": run.wall_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--local-epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--attacker", type=int, default=0)
    parser.add_argument(
        "--aggregation",
        choices=[a for a in get_args(Aggregation) if a != "fedavg"],
        default="coordinate-median",
    )
    parser.add_argument(
        "--byzantine",
        type=int,
        default=None,
        help="tolerance for trimmed-mean and (multi-)krum",
    )
    parser.add_argument(
        "--attacks",
        nargs="+",
        type=Attack,
        choices=list(Attack),
        default=list(Attack),
        help="the attacks to run (all by default)",
    )
    parser.add_argument("--undefended", action="store_true")
    parser.add_argument(
        "--max-rows",
        type=int,
        default=None,
        help="rows per hospital (smoke runs only; all rows by default)",
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    settings = load_settings()
    setup = AttackSetup(
        settings.data_dir,
        args.out or Path(tempfile.mkdtemp(prefix="agora-attacks-")),
        rounds=args.rounds,
        local_epochs=args.local_epochs,
        seed=args.seed,
        attacker=args.attacker,
        max_rows=args.max_rows,
    )
    started = time.perf_counter()

    def run(attack: Attack | None, aggregation: Aggregation) -> AttackRun:
        byzantine = args.byzantine
        if aggregation in ("fedavg", "coordinate-median"):
            byzantine = None
        elif byzantine is None:
            # Three hospitals: a trimmed mean can drop one at each end;
            # Krum needs n >= 2f + 3, so it tolerates none by its own count.
            byzantine = 1 if aggregation == "trimmed-mean" else 0
        result = run_attack_job(
            setup, attack, aggregation=aggregation, byzantine=byzantine
        )
        print(
            f"{attack or 'clean'} ({aggregation}): test AUC {result.test_auc:.4f}, "
            f"rejected {result.rejected}, missing {result.missing}, "
            f"{result.wall_s:.0f} s",
            file=sys.stderr,
            flush=True,
        )
        return result

    clean = run(None, "fedavg")
    clean_robust = run(None, args.aggregation)
    attacks = [
        _entry(run(attack, args.aggregation), clean.test_auc, args.attacker)
        for attack in args.attacks
    ]
    undefended = (
        [
            _entry(run(attack, "fedavg"), clean.test_auc, args.attacker)
            for attack in (Attack.SIGN_FLIP, Attack.LABEL_FLIP)
            if attack in args.attacks
        ]
        if args.undefended
        else []
    )
    print(
        json.dumps(
            {
                "benchmark": "fl_attacks",
                "clean_test_auc": clean.test_auc,
                "clean_robust_test_auc": clean_robust.test_auc,
                "aggregation": args.aggregation,
                "attacks": attacks,
                "undefended": undefended,
                "max_auc_drop": max(a["auc_drop"] for a in attacks),
                "attacker": args.attacker,
                "rounds": args.rounds,
                "local_epochs": args.local_epochs,
                "seed": args.seed,
                "max_rows": args.max_rows,
                "wall_s": time.perf_counter() - started,
                "out": str(setup.work_dir),
            }
        )
    )


if __name__ == "__main__":
    main()
