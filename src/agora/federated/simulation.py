"""Run an audited federated job on Flower's Simulation Engine (one process).

This is the embedded deployment of DESIGN.md: the ServerApp runs in a thread
of this process (so it reaches the in-process ledger directly) and each
provider's ClientApp runs in a Ray worker process. The grown-up deployment
runs the same ServerApp and ClientApp on Flower's Deployment Engine.
"""

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flwr.app import ArrayRecord, ConfigRecord, Context, MetricRecord
from flwr.serverapp import Grid, ServerApp
from flwr.simulation import run_simulation

from agora.federated.arrays import Arrays, from_record, to_record
from agora.federated.clientapp import TOTAL_ROUNDS, LocalTrainer, make_client_app
from agora.federated.errors import FederatedError
from agora.federated.strategy import AuditedFedAvg

logger = logging.getLogger(__name__)

RoundEvaluator = Callable[[int, Arrays], dict[str, float]]
"""Coordinator-side evaluation after each round: (round, model) -> metrics."""


@dataclass(frozen=True)
class SimulationResources:
    """CPU given to the Ray runtime and to each ClientApp."""

    num_cpus: int = max(os.cpu_count() or 1, 1)
    cpus_per_client: float = 1.0


@dataclass
class _Outcome:
    arrays: Arrays | None = None


@contextmanager
def quiet_flower() -> Iterator[None]:
    """Keep Flower's console lines (per-round INFO, the notice that
    ``run_simulation`` is deprecated in favour of ``flwr run``) off the
    console while a job runs; Agora shows its own progress and records."""
    flower_logger = logging.getLogger("flwr")
    level = flower_logger.level
    flower_logger.setLevel(logging.ERROR)
    # Ray 2.5x warns on every start that it will stop overriding
    # accelerator variables; the opt-in below is the behaviour we want.
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    try:
        yield
    finally:
        flower_logger.setLevel(level)


def run_simulated_job(
    *,
    strategy: AuditedFedAvg,
    trainer: LocalTrainer,
    initial: Arrays,
    rounds: int,
    evaluate: RoundEvaluator | None = None,
    resources: SimulationResources | None = None,
) -> Arrays:
    """Train for ``rounds`` rounds; return the final global model."""
    resources = resources or SimulationResources()
    outcome = _Outcome()
    server_app = ServerApp()

    def evaluate_fn(server_round: int, record: ArrayRecord) -> MetricRecord | None:
        if evaluate is None:
            return None
        metrics: dict[str, int | float | list[int] | list[float]] = dict(
            evaluate(server_round, from_record(record))
        )
        return MetricRecord(metrics)

    @server_app.main()
    def main(grid: Grid, context: Context) -> None:
        result = strategy.start(
            grid=grid,
            initial_arrays=to_record(initial),
            num_rounds=rounds,
            train_config=ConfigRecord({TOTAL_ROUNDS: rounds}),
            evaluate_fn=evaluate_fn,
        )
        outcome.arrays = from_record(result.arrays)

    backend_config = {
        "client_resources": {"num_cpus": resources.cpus_per_client, "num_gpus": 0.0},
        "init_args": {
            "num_cpus": resources.num_cpus,
            "include_dashboard": False,
            "logging_level": logging.ERROR,
            "log_to_driver": False,
        },
    }
    with quiet_flower():
        run_simulation(
            server_app=server_app,
            client_app=make_client_app(trainer),
            num_supernodes=len(strategy.auditor.providers),
            backend_config=backend_config,  # type: ignore[arg-type]
        )

    if outcome.arrays is None:
        raise FederatedError("the federated run ended without a final model")
    if len(strategy.auditor.records) != rounds:
        raise FederatedError(
            f"only {len(strategy.auditor.records)} of {rounds} rounds completed"
        )
    return outcome.arrays
