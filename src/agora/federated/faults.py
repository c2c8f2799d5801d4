"""Fault and attack injection: a provider that really misbehaves, for tests
and benchmarks.

:class:`FaultyTrainer` wraps an honest :class:`LocalTrainer`; one provider
(``attacker``) misbehaves in the chosen rounds and every other provider
trains honestly. The misbehaviour happens in the provider's own ClientApp,
so what reaches the coordinator is exactly what such a provider would send
over the wire:

- ``nan``: every floating array of the reply is NaN (a diverged or broken
  client); the coordinator rejects it (``non-finite``);
- ``huge-norm``: the honest change from the global model, scaled by
  ``scale`` (a boosting attack); rejected (``norm-bound``);
- ``sign-flip``: the honest change reversed, same norm, so it passes every
  check and only a robust rule bounds it (Blanchard et al. 2017; Fang et
  al., USENIX Security 2020, "Local Model Poisoning Attacks");
- ``label-flip``: a well-formed update trained on flipped labels (data
  poisoning); the application supplies that training as ``poisoned``;
- ``dropout``: the provider fails mid-round and sends no reply; the round
  goes on without it and records it as missing;
- ``wrong-round``: an honest update tagged (and hashed) for the previous
  round, as a client out of step would send; rejected (``wrong-round``).

Nothing in the market uses this module; a job runner opts in by passing a
:class:`FaultyTrainer` as the job's trainer. Trainers nest: the ``honest``
trainer of one may be another with a different attacker or rounds.
"""

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from agora.errors import ConfigurationError
from agora.federated.arrays import Arrays
from agora.federated.clientapp import LocalTrainer, RoundTagger
from agora.federated.errors import FederatedError


class Attack(StrEnum):
    """The misbehaviours :class:`FaultyTrainer` can inject."""

    NAN = "nan"
    HUGE_NORM = "huge-norm"
    SIGN_FLIP = "sign-flip"
    LABEL_FLIP = "label-flip"
    DROPOUT = "dropout"
    WRONG_ROUND = "wrong-round"


class ProviderDroppedOutError(FederatedError):
    """Raised inside the attacker's ClientApp: the node fails mid-round."""


def _scaled_change(previous: Arrays, trained: Arrays, factor: float) -> Arrays:
    """``previous + factor * (trained - previous)`` on floating arrays;
    integer arrays (BatchNorm's batch counters) are sent as trained."""
    result: Arrays = {}
    for name, before in previous.items():
        after = trained[name]
        if np.issubdtype(after.dtype, np.floating):
            start = before.astype(np.float64)
            moved = start + factor * (after.astype(np.float64) - start)
            result[name] = moved.astype(after.dtype)
        else:
            result[name] = after
    return result


@dataclass(frozen=True)
class FaultyTrainer:
    """An honest trainer for every provider but ``attacker``, which runs
    ``attack`` in ``rounds`` (every round when ``None``)."""

    honest: LocalTrainer
    attack: Attack
    attacker: int
    rounds: frozenset[int] | None = None
    poisoned: LocalTrainer | None = None
    """Training on the attacker's poisoned data (``label-flip`` needs it)."""
    scale: float = 1_000.0
    """Multiplier of the honest change for ``huge-norm``."""

    def __post_init__(self) -> None:
        if self.attack is Attack.LABEL_FLIP and self.poisoned is None:
            raise ConfigurationError("a label-flip attack needs a poisoned trainer")

    def attacking(self, partition_id: int, server_round: int) -> bool:
        """Whether ``partition_id`` misbehaves in ``server_round``."""
        return partition_id == self.attacker and (
            self.rounds is None or server_round in self.rounds
        )

    def train(
        self,
        arrays: Arrays,
        *,
        partition_id: int,
        server_round: int,
        total_rounds: int,
    ) -> tuple[Arrays, int, float]:
        """Train honestly, or carry out the attack for the attacker."""
        trainer = self.honest
        if self.attacking(partition_id, server_round):
            if self.attack is Attack.NAN:
                # Nothing to compute: a broken client sends garbage at once.
                nans = {
                    name: np.full_like(array, np.nan)
                    if np.issubdtype(array.dtype, np.floating)
                    else array
                    for name, array in arrays.items()
                }
                return nans, 1, float("nan")
            if self.attack is Attack.DROPOUT:
                raise ProviderDroppedOutError(
                    f"provider {partition_id} dropped out in round {server_round}"
                )
            if self.attack is Attack.LABEL_FLIP and self.poisoned is not None:
                trainer = self.poisoned

        trained, examples, loss = trainer.train(
            arrays,
            partition_id=partition_id,
            server_round=server_round,
            total_rounds=total_rounds,
        )
        if not self.attacking(partition_id, server_round):
            return trained, examples, loss
        if self.attack is Attack.HUGE_NORM:
            trained = _scaled_change(arrays, trained, self.scale)
        elif self.attack is Attack.SIGN_FLIP:
            trained = _scaled_change(arrays, trained, -1.0)
        return trained, examples, loss

    def reply_round(self, *, partition_id: int, server_round: int) -> int:
        """The round the reply is tagged with: one behind for ``wrong-round``."""
        if self.attack is Attack.WRONG_ROUND and self.attacking(
            partition_id, server_round
        ):
            return server_round - 1
        if isinstance(self.honest, RoundTagger):
            return self.honest.reply_round(
                partition_id=partition_id, server_round=server_round
            )
        return server_round
