"""Benchmark: the default health demo with its centralised baseline.

Runs ``agora demo health --baseline`` with the default settings (or the
options given) and prints one JSON object as its last line:
``test_auc``, ``test_acc``, ``centralized_test_auc``, ``centralized_test_acc``,
``audit_overhead_fraction``, ``wall_s`` (the whole invocation), ``demo_wall_s``
(the demo alone, without the baseline) and the settings used.

Usage: python benchmarks/fl_pneumonia.py [--rounds N] [--local-epochs E]
       [--seed S] [--out DIR]
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

from rich.console import Console

from agora.health.demo import HealthDemoOptions, run_health_demo
from agora.settings import load_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = HealthDemoOptions(Path(), Path())
    parser.add_argument("--rounds", type=int, default=defaults.rounds)
    parser.add_argument("--local-epochs", type=int, default=defaults.local_epochs)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    settings = load_settings()
    out = args.out or Path(tempfile.mkdtemp(prefix="agora-bench-"))
    options = HealthDemoOptions(
        settings.data_dir,
        out,
        rounds=args.rounds,
        local_epochs=args.local_epochs,
        seed=args.seed,
        baseline=True,
    )
    started = time.perf_counter()
    result = run_health_demo(options, settings, Console(stderr=True))
    centralized = result["centralized"]
    print(
        json.dumps(
            {
                "benchmark": "fl_pneumonia",
                "test_auc": result["test_auc"],
                "test_acc": result["test_acc"],
                "centralized_test_auc": centralized["test_auc"],
                "centralized_test_acc": centralized["test_acc"],
                "audit_overhead_fraction": result["audit_overhead_fraction"],
                "centralized_train_s": centralized["train_seconds"],
                "rounds_wall_s": result["round_seconds"],
                # The demo without its baseline, which --baseline adds on top.
                "demo_wall_s": result["wall_s"] - centralized["train_seconds"],
                "wall_s": time.perf_counter() - started,
                "rounds": options.rounds,
                "local_epochs": options.local_epochs,
                "seed": options.seed,
                "out": str(out),
            }
        )
    )


if __name__ == "__main__":
    main()
