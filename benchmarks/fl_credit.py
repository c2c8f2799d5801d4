"""Benchmark: the federated credit model of the lending demo, and its baseline.

Runs ``agora demo lending`` with the default settings (or the options
given): the credit job among three platforms on the Taiwan credit-default
table, the centralised baseline of the same model and schedule in the same
run, and the applicants it scores. Prints one JSON object as its last line:
``test_auc``, ``centralized_test_auc`` (both on the held-out test split),
``val_auc``, ``rounds_wall_s`` (the rounds, Flower start included),
``centralized_train_s``, ``wall_s`` (the whole invocation) and the settings;
``gbdt_test_auc`` is scikit-learn's histogram gradient boosting (default
settings) trained on the same pooled train rows' raw columns, a reference
for how hard this seed's test split is.

Published for comparison on this table: centralised gradient boosting test
AUC about 0.783; a federated FedAvg MLP 0.776.

Usage: python benchmarks/fl_credit.py [--rounds N] [--local-epochs E]
       [--seed S] [--out DIR]
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

from rich.console import Console
from sklearn.ensemble import HistGradientBoostingClassifier

from agora.lending.credit import auc, load_credit_table, split_holdout
from agora.lending.demo import LendingDemoOptions, run_lending_demo
from agora.settings import load_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = LendingDemoOptions(Path(), Path())
    parser.add_argument("--rounds", type=int, default=defaults.rounds)
    parser.add_argument("--local-epochs", type=int, default=defaults.local_epochs)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    settings = load_settings()
    out = args.out or Path(tempfile.mkdtemp(prefix="agora-bench-"))
    options = LendingDemoOptions(
        settings.data_dir,
        out,
        rounds=args.rounds,
        local_epochs=args.local_epochs,
        seed=args.seed,
    )
    started = time.perf_counter()
    result = run_lending_demo(options, settings, Console(stderr=True))
    splits = split_holdout(load_credit_table(settings.data_dir), seed=args.seed)
    boosting = HistGradientBoostingClassifier(random_state=0).fit(
        splits.train.features, splits.train.labels
    )
    gbdt_auc = auc(
        splits.test.labels, boosting.predict_proba(splits.test.features)[:, 1]
    )
    print(
        json.dumps(
            {
                "benchmark": "fl_credit",
                "test_auc": result["test_auc"],
                "centralized_test_auc": result["centralized"]["test_auc"],
                "gbdt_test_auc": gbdt_auc,
                "val_auc": result["val_auc"],
                "rounds_wall_s": sum(
                    r["round_seconds"] for r in result["round_details"]
                ),
                "centralized_train_s": result["centralized"]["train_seconds"],
                "demo_wall_s": result["wall_s"],
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
