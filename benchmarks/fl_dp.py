"""Benchmark: the federated X-ray job with differential privacy, beside the plain one.

Runs, in one invocation, the plain job (FedAvg, BatchNorm model, as the
health demo posts it) and the same job with a ``privacy`` section in its
spec: every hospital trains the GroupNorm model under DP-SGD (Opacus) with
the noise that keeps all rounds together within (``--epsilon``,
``--delta``) by the RDP accountant. Each hospital's dataset gets an
on-chain budget of ``--epsilon`` first, so the job spends it whole.

Prints one JSON object as its last line: ``epsilon``, ``delta``,
``test_auc`` (DP job), ``plain_test_auc``, ``val_auc`` and
``plain_val_auc`` (the buyer's validation split, the only split used to
pick settings), ``epsilon_spent`` (by hospital), ``noise_multiplier``,
``sample_rate`` and ``steps`` (by hospital), ``budget_left`` (milli-epsilon
on chain, by hospital), the settings and ``wall_s``.

Usage: python benchmarks/fl_dp.py [--epsilon E] [--delta D]
       [--max-grad-norm C] [--batch-size L] [--lr LR] [--rounds N]
       [--local-epochs E] [--seed S] [--max-rows R] [--no-plain] [--out DIR]
"""

import argparse
import json
import logging
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from agora.health.xray import load_pneumoniamnist
from agora.health.xray_attacks import (
    AttackSetup,
    honest_trainer,
    post_xray_job,
    run_posted_job,
)
from agora.health.xray_job import auc_or_chance, probabilities
from agora.ledger import MilliEpsilon
from agora.market.spec import PrivacySpec
from agora.settings import load_settings


def _run(setup: AttackSetup, label: str) -> dict[str, Any]:
    started = time.perf_counter()
    posted = post_xray_job(setup, work=setup.work_dir / label)
    outcome, test_auc = run_posted_job(setup, posted, honest_trainer(setup))
    val = load_pneumoniamnist(setup.data_dir).val
    result: dict[str, Any] = {
        "test_auc": test_auc,
        "val_auc": auc_or_chance(val.labels, probabilities(outcome.model, val)),
        "wall_s": time.perf_counter() - started,
    }
    if outcome.privacy is not None:
        providers = outcome.privacy.providers
        market = posted.deployment.data_market
        noise = {p.provider.name: p.noise_multiplier for p in providers}
        result |= {
            "epsilon_spent": outcome.privacy.spent,
            "noise_multiplier": noise,
            "sample_rate": {p.provider.name: p.sample_rate for p in providers},
            "steps": {p.provider.name: p.steps for p in providers},
            "budget_left": {
                p.provider.name: market.dataset(dataset).privacy_remaining
                for p, dataset in zip(providers, posted.datasets, strict=True)
            },
        }
    print(
        f"{label}: test AUC {test_auc:.4f}, val AUC {result['val_auc']:.4f}, "
        f"{result['wall_s']:.0f} s",
        file=sys.stderr,
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epsilon", type=float, default=8.0)
    parser.add_argument("--delta", type=float, default=1e-5)
    parser.add_argument("--max-grad-norm", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=None, help="DP job only")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--local-epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--max-rows",
        type=int,
        default=None,
        help="rows per hospital (smoke runs only; all rows by default)",
    )
    parser.add_argument("--no-plain", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    privacy = PrivacySpec(
        mechanism="dp-sgd",
        epsilon=args.epsilon,
        delta=args.delta,
        max_grad_norm=args.max_grad_norm,
        batch_size=args.batch_size,
    )
    plain = AttackSetup(
        load_settings().data_dir,
        args.out or Path(tempfile.mkdtemp(prefix="agora-dp-")),
        rounds=args.rounds,
        local_epochs=args.local_epochs,
        seed=args.seed,
        max_rows=args.max_rows,
    )
    private = replace(
        plain,
        privacy=privacy,
        privacy_budget=MilliEpsilon(privacy.milli_epsilon),
        lr=args.lr,
    )
    started = time.perf_counter()

    plain_result = None if args.no_plain else _run(plain, "plain")
    dp_result = _run(private, "dp")
    print(
        json.dumps(
            {
                "benchmark": "fl_dp",
                "epsilon": args.epsilon,
                "delta": args.delta,
                **dp_result,
                "plain_test_auc": plain_result and plain_result["test_auc"],
                "plain_val_auc": plain_result and plain_result["val_auc"],
                "plain_wall_s": plain_result and plain_result["wall_s"],
                "max_grad_norm": args.max_grad_norm,
                "batch_size": args.batch_size,
                "lr": args.lr,
                "rounds": args.rounds,
                "local_epochs": args.local_epochs,
                "seed": args.seed,
                "max_rows": args.max_rows,
                "wall_s": time.perf_counter() - started,
                "out": str(private.work_dir),
            }
        )
    )


if __name__ == "__main__":
    main()
