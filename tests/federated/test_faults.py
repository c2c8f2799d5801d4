"""Fault injection: the attacker really sends what each attack says."""

from dataclasses import dataclass

import numpy as np
import pytest

from agora.errors import ConfigurationError
from agora.federated.arrays import Arrays
from agora.federated.clientapp import RoundTagger
from agora.federated.faults import Attack, FaultyTrainer, ProviderDroppedOutError

GLOBAL: Arrays = {
    "w": np.array([1.0, -2.0, 0.5], dtype=np.float32),
    "num_batches_tracked": np.array(4, dtype=np.int64),
}


@dataclass(frozen=True)
class StepTrainer:
    """Moves every weight by ``step`` and counts one batch: a plain trainer."""

    step: float

    def train(
        self, arrays: Arrays, *, partition_id: int, server_round: int, total_rounds: int
    ) -> tuple[Arrays, int, float]:
        return (
            {
                "w": arrays["w"] + np.float32(self.step),
                "num_batches_tracked": arrays["num_batches_tracked"] + 1,
            },
            20 + partition_id,
            0.5,
        )


HONEST = StepTrainer(0.25)


def _train(trainer: FaultyTrainer, partition_id: int, server_round: int = 2) -> Arrays:
    arrays, _, _ = trainer.train(
        GLOBAL, partition_id=partition_id, server_round=server_round, total_rounds=3
    )
    return arrays


def test_only_the_attacker_in_its_rounds_misbehaves() -> None:
    trainer = FaultyTrainer(HONEST, Attack.NAN, attacker=1, rounds=frozenset({2}))
    honest, _, _ = HONEST.train(GLOBAL, partition_id=0, server_round=2, total_rounds=3)
    np.testing.assert_array_equal(_train(trainer, 0)["w"], honest["w"])
    np.testing.assert_array_equal(_train(trainer, 1, server_round=3)["w"], honest["w"])
    assert np.isnan(_train(trainer, 1)["w"]).all()
    # Integer arrays cannot hold NaN; they go out as received.
    assert _train(trainer, 1)["num_batches_tracked"] == 4


def test_huge_norm_scales_and_sign_flip_reverses_the_honest_change() -> None:
    huge = _train(FaultyTrainer(HONEST, Attack.HUGE_NORM, attacker=0, scale=1e3), 0)
    flipped = _train(FaultyTrainer(HONEST, Attack.SIGN_FLIP, attacker=0), 0)

    np.testing.assert_allclose(huge["w"] - GLOBAL["w"], 250.0, rtol=1e-5)
    np.testing.assert_allclose(flipped["w"] - GLOBAL["w"], -0.25, rtol=1e-5)
    assert flipped["w"].dtype == np.float32
    assert flipped["num_batches_tracked"] == 5


def test_label_flip_trains_with_the_poisoned_trainer() -> None:
    trainer = FaultyTrainer(
        HONEST, Attack.LABEL_FLIP, attacker=2, poisoned=StepTrainer(-3.0)
    )
    np.testing.assert_allclose(_train(trainer, 2)["w"] - GLOBAL["w"], -3.0)
    np.testing.assert_allclose(_train(trainer, 1)["w"] - GLOBAL["w"], 0.25)
    with pytest.raises(ConfigurationError, match="poisoned trainer"):
        FaultyTrainer(HONEST, Attack.LABEL_FLIP, attacker=2)


def test_dropout_raises_in_the_attackers_worker() -> None:
    trainer = FaultyTrainer(HONEST, Attack.DROPOUT, attacker=0)
    with pytest.raises(ProviderDroppedOutError, match="round 2"):
        _train(trainer, 0)
    assert _train(trainer, 1)["w"].shape == (3,)


def test_wrong_round_tags_the_reply_one_round_behind_through_nesting() -> None:
    stale = FaultyTrainer(HONEST, Attack.WRONG_ROUND, attacker=1, rounds=frozenset({3}))
    outer = FaultyTrainer(stale, Attack.NAN, attacker=0)

    assert isinstance(outer, RoundTagger)
    assert outer.reply_round(partition_id=1, server_round=3) == 2
    assert outer.reply_round(partition_id=1, server_round=2) == 2
    assert outer.reply_round(partition_id=0, server_round=3) == 3
    assert np.isnan(_train(outer, 0)["w"]).all()
