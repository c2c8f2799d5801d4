"""The ``agora`` command line.

Every command fails in one place (:func:`_fail`): a one-line message on
stderr, or a JSON error object with ``--json``, and an exit code from
:class:`~agora.cli.exit_codes.ExitCode`, never a traceback for an
anticipated error.
"""

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from agora.cli import health_import
from agora.cli.exit_codes import ExitCode
from agora.errors import AgoraError, ConfigurationError, DataError
from agora.federated.errors import FederatedError
from agora.ledger.errors import LedgerError
from agora.market.errors import MarketError
from agora.settings import Settings, load_settings

app = typer.Typer(
    name="agora",
    help="Agora: an open decentralized data & AI marketplace.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
demo_app = typer.Typer(help="Run an application end to end.", no_args_is_help=True)
ledger_app = typer.Typer(help="Contracts and chain.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
app.add_typer(ledger_app, name="ledger")

logger = logging.getLogger("agora.cli")

_EXIT_BY_ERROR: list[tuple[type[AgoraError], ExitCode]] = [
    (ConfigurationError, ExitCode.CONFIGURATION),
    (DataError, ExitCode.DATA),
    (LedgerError, ExitCode.LEDGER),
    (MarketError, ExitCode.MARKET),
    (FederatedError, ExitCode.FEDERATED),
]


def _fail(error: AgoraError, *, as_json: bool) -> NoReturn:
    code = next(
        (code for kind, code in _EXIT_BY_ERROR if isinstance(error, kind)),
        ExitCode.UNEXPECTED,
    )
    if as_json:
        payload = {
            "error": type(error).__name__,
            "message": str(error),
            "exit_code": code,
        }
        typer.echo(json.dumps(payload), err=True)
    else:
        # Plain text: a message may hold paths with brackets, which Rich would
        # read as markup, and a script wants the error on one line.
        typer.echo(f"error: {error}", err=True)
    raise typer.Exit(int(code))


@contextmanager
def _failing_cleanly(*, as_json: bool) -> Iterator[None]:
    try:
        yield
    except AgoraError as error:
        logger.debug("command failed", exc_info=True)
        _fail(error, as_json=as_json)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    except Exception as error:
        # A bug, not a user error: one line here, the traceback in the log.
        logger.debug("unexpected failure", exc_info=True)
        message = f"unexpected {type(error).__name__}: {error} (a bug; please report)"
        if as_json:
            payload = {"error": "Unexpected", "message": message, "exit_code": 1}
            typer.echo(json.dumps(payload), err=True)
        else:
            typer.echo(f"error: {message}", err=True)
        raise typer.Exit(int(ExitCode.UNEXPECTED)) from None


def _settings(**overrides: object) -> Settings:
    settings = load_settings()
    values = {k: v for k, v in overrides.items() if v is not None}
    return settings.model_copy(update=values) if values else settings


JsonOption = Annotated[bool, typer.Option("--json", help="Errors as a JSON object.")]


@app.callback()
def main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Debug logs.")
    ] = False,
) -> None:
    """Agora command line."""
    # Third-party loggers stay at WARNING even with --verbose: web3's DEBUG
    # lines carry the full endpoint URL, credentials included.
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("agora").setLevel(logging.DEBUG if verbose else logging.WARNING)


@demo_app.command("health")
def demo_health(
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Folder with pneumoniamnist.npz (default: AGORA_DATA_DIR)."),
    ] = None,
    out: Annotated[
        Path, typer.Option(help="Where result.json and report.html go.")
    ] = Path("out/health"),
    rounds: Annotated[
        int | None,
        typer.Option(min=1, max=200, help="Federated rounds [default: 10; quick: 2]."),
    ] = None,
    local_epochs: Annotated[
        int | None,
        typer.Option(min=1, max=50, help="Epochs per round [default: 2; quick: 1]."),
    ] = None,
    seed: Annotated[
        int, typer.Option(min=0, max=2**31 - 1, help="Seed of split, init, training.")
    ] = 7,
    baseline: Annotated[
        bool, typer.Option(help="Also train the centralised baseline on the union.")
    ] = False,
    quick: Annotated[
        bool,
        typer.Option(help="Smoke configuration: 2 rounds of 1 epoch unless given."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """OpenHealth: hospitals train a pneumonia X-ray model, paid by contribution."""
    from agora.health.demo import HealthDemoOptions, run_health_demo

    with _failing_cleanly(as_json=as_json):
        settings = _settings(data_dir=data_dir)
        options = HealthDemoOptions.create(
            settings.data_dir,
            out,
            rounds=rounds,
            local_epochs=local_epochs,
            seed=seed,
            baseline=baseline,
            quick=quick,
        )
        run_health_demo(options, settings, Console())


@ledger_app.command("build")
def ledger_build(
    force: Annotated[bool, typer.Option(help="Recompile even if cached.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Compile the Vyper contracts into the artifact cache."""
    from agora.ledger.build import build_contracts, rebuild_contracts

    with _failing_cleanly(as_json=as_json):
        settings = load_settings()
        artifacts = (rebuild_contracts if force else build_contracts)(settings)
        folder = settings.cache_dir / "contracts"
        typer.echo(f"{len(artifacts)} contracts ready in {folder}")


health_import.register(app, failing_cleanly=_failing_cleanly)


if __name__ == "__main__":
    sys.exit(app())
