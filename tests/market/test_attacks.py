"""The X-ray market job with misbehaving hospitals, on a small subset.

One job of three hospitals (150 rows each, one local epoch, coordinate
median posted in the spec), every step the production path: the embedded
ledger, Flower's Simulation Engine, the auditor, Shapley contributions and
the payout. Attacks are injected in the attackers' own ClientApps
(:mod:`agora.federated.faults`) and spread over the rounds, so that one
job (one Ray start, the slow part) covers every attack; hospital 2 is
honest throughout:

- round 1: hospital 0 sends NaN, hospital 1 a huge-norm update;
- round 2: hospital 0 replies for round 1, hospital 1 drops out;
- round 3: hospital 0 sends a sign-flipped update, round 4 one trained on
  flipped labels; both pass every check, and the median bounds them.
"""

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from agora.federated.arrays import Arrays, aggregate_digest, weighted_average
from agora.federated.clientapp import LocalTrainer
from agora.federated.faults import Attack, FaultyTrainer
from agora.federated.simulation import SimulationResources
from agora.health.xray import NPZ_NAME
from agora.health.xray_attacks import (
    AttackSetup,
    attack_rounds,
    honest_trainer,
    run_xray_job,
)
from agora.health.xray_job import auc_or_chance
from agora.market.jobs import JobOutcome

DATA_DIR = Path(
    os.environ.get(
        "AGORA_DATA_DIR", Path(__file__).parents[2].parent / "shared" / "data"
    )
)


def _setup(tmp_path: Path, rounds: int) -> AttackSetup:
    if not (DATA_DIR / NPZ_NAME).is_file():
        pytest.skip(f"{NPZ_NAME} not in {DATA_DIR}; set AGORA_DATA_DIR")
    return AttackSetup(
        DATA_DIR,
        tmp_path,
        rounds=rounds,
        local_epochs=1,
        max_rows=150,
        eval_rows=300,
        resources=SimulationResources(num_cpus=2, cpus_per_client=0.5),
    )


def _in(*rounds: int) -> frozenset[int]:
    return frozenset(rounds)


@pytest.fixture(scope="module")
def attacked(tmp_path_factory: pytest.TempPathFactory) -> tuple[JobOutcome, float]:
    setup = _setup(tmp_path_factory.mktemp("attacked"), rounds=4)
    honest = honest_trainer(setup)
    trainer: LocalTrainer = honest
    for attack, attacker, rounds in [
        (Attack.NAN, 0, _in(1)),
        (Attack.HUGE_NORM, 1, _in(1)),
        (Attack.WRONG_ROUND, 0, _in(2)),
        (Attack.DROPOUT, 1, _in(2)),
        (Attack.SIGN_FLIP, 0, _in(3)),
    ]:
        trainer = FaultyTrainer(trainer, attack, attacker, rounds=rounds)
    trainer = FaultyTrainer(
        trainer,
        Attack.LABEL_FLIP,
        0,
        rounds=_in(4),
        poisoned=replace(honest, flip_labels=True),
    )
    return run_xray_job(
        setup, trainer, aggregation="coordinate-median", label="attacked"
    )


def _decisions(outcome: JobOutcome, server_round: int) -> dict[str, list[object]]:
    record = outcome.rounds[server_round - 1]
    return {
        "accepted": [u.provider.index for u in record.accepted],
        "rejected": [(r.provider.index, r.rule) for r in record.rejected],
        "missing": [p.index for p in record.missing],
    }


def test_nan_and_huge_norm_updates_are_rejected_by_rule(
    attacked: tuple[JobOutcome, float],
) -> None:
    outcome, _ = attacked
    assert _decisions(outcome, 1) == {
        "accepted": [2],
        "rejected": [(0, "non-finite"), (1, "norm-bound")],
        "missing": [],
    }
    huge = outcome.rounds[0].rejected[1]
    assert huge.detail.endswith("> bound 50")


def test_wrong_round_reply_is_rejected_and_the_dropout_recorded_missing(
    attacked: tuple[JobOutcome, float],
) -> None:
    outcome, _ = attacked
    assert _decisions(outcome, 2) == {
        "accepted": [2],
        "rejected": [(0, "wrong-round")],
        "missing": [1],
    }
    assert outcome.rounds[1].rejected[0].detail == "reply is for round 1, not 2"


def _within(aggregate: Arrays, honest: list[Arrays]) -> bool:
    """Every floating coordinate lies between the honest updates' values."""
    return all(
        bool(
            np.all(aggregate[name] >= np.minimum(*(h[name] for h in honest)) - 1e-6)
            and np.all(aggregate[name] <= np.maximum(*(h[name] for h in honest)) + 1e-6)
        )
        for name in aggregate
        if np.issubdtype(aggregate[name].dtype, np.floating)
    )


@pytest.mark.parametrize(
    ("server_round", "attack"), [(3, "sign-flip"), (4, "label-flip")]
)
def test_poisoned_updates_pass_validation_and_the_median_bounds_them(
    attacked: tuple[JobOutcome, float], server_round: int, attack: str
) -> None:
    outcome, _ = attacked
    past = outcome.history[server_round - 1]
    assert _decisions(outcome, server_round) == {
        "accepted": [0, 1, 2],
        "rejected": [],
        "missing": [],
    }

    # The median stays between the two honest updates everywhere, where
    # FedAvg of the same replies leaves that range.
    honest = [past.updates[1], past.updates[2]]
    assert _within(past.aggregate, honest)
    fedavg = weighted_average(
        [past.updates[i] for i in (0, 1, 2)], [past.weights[i] for i in (0, 1, 2)]
    )
    assert not _within(fedavg, honest)


def test_attacked_job_commits_what_it_aggregated_and_finishes(
    attacked: tuple[JobOutcome, float],
) -> None:
    outcome, test_auc = attacked
    assert len(outcome.rounds) == 4
    for record, past in zip(outcome.rounds, outcome.history, strict=True):
        assert record.aggregation == "coordinate-median"
        assert record.aggregate_hash == aggregate_digest(
            past.aggregate, job_id=outcome.job_id, server_round=record.server_round
        )
    assert all(np.isfinite(array).all() for array in outcome.model.values())
    assert test_auc > 0.7


def test_poisoner_earns_nothing_and_the_escrow_is_conserved(
    attacked: tuple[JobOutcome, float],
) -> None:
    outcome, _ = attacked
    shapley = outcome.contributions.shapley
    assert shapley[0] < min(shapley[1], shapley[2])
    assert outcome.payouts[0].weight_bps == 0 and outcome.payouts[0].amount == 0
    # Only providers with an accepted update in some round are paid.
    delivered = {u.provider.index for r in outcome.rounds for u in r.accepted}
    assert {p.provider.index for p in outcome.payouts if p.amount > 0} <= delivered
    assert sum(p.amount for p in outcome.payouts) + outcome.refund == outcome.escrow


def test_dropout_attack_starts_mid_job() -> None:
    assert attack_rounds(Attack.DROPOUT, 10) == frozenset(range(6, 11))
    assert attack_rounds(Attack.SIGN_FLIP, 10) is None


def test_a_model_with_non_finite_scores_ranks_at_chance() -> None:
    labels = np.array([0, 1, 0, 1])
    assert auc_or_chance(labels, np.array([0.1, 0.9, 0.2, 0.8])) == 1.0
    assert auc_or_chance(labels, np.array([0.1, np.nan, 0.2, 0.8])) == 0.5
