"""The ``agora`` command line.

Every command fails in one place (:func:`agora.cli.common.failing_cleanly`):
a one-line message on stderr, or a JSON error object with ``--json``, and an
exit code from :class:`~agora.cli.exit_codes.ExitCode`, never a traceback
for an anticipated error.
"""

import logging
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from agora.cli import health_import
from agora.cli.audit import audit_app
from agora.cli.blocks import blocks_app
from agora.cli.common import JsonOption, failing_cleanly, settings_with
from agora.cli.did import did_app
from agora.cli.market import market_app
from agora.cli.node import node_app
from agora.cli.vault import vault_app
from agora.cli.vc import vc_app
from agora.cli.wallet import wallet_app
from agora.settings import load_settings

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
app.add_typer(did_app, name="did")
app.add_typer(vc_app, name="vc")
app.add_typer(wallet_app, name="wallet")
app.add_typer(blocks_app, name="blocks")
app.add_typer(vault_app, name="vault")
app.add_typer(market_app, name="market")
app.add_typer(node_app, name="node")
app.add_typer(audit_app, name="audit")


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
    dp_epsilon: Annotated[
        float | None,
        typer.Option(
            help="Train under DP-SGD at this epsilon per hospital (whole job), "
            "and run the plain job beside it for the accuracy cost."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """OpenHealth: hospitals train a pneumonia X-ray model, paid by contribution."""
    from agora.health.demo import HealthDemoOptions, run_health_demo

    with failing_cleanly(as_json=as_json):
        settings = settings_with(data_dir=data_dir)
        options = HealthDemoOptions.create(
            settings.data_dir,
            out,
            rounds=rounds,
            local_epochs=local_epochs,
            seed=seed,
            baseline=baseline,
            quick=quick,
            dp_epsilon=dp_epsilon,
        )
        run_health_demo(options, settings, Console())


@demo_app.command("lending")
def demo_lending(
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Folder with credit_default_taiwan.csv (default: AGORA_DATA_DIR)."
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option(help="Where result.json and report.html go.")
    ] = Path("out/lending"),
    rounds: Annotated[
        int | None,
        typer.Option(min=1, max=200, help="Federated rounds [default: 20; quick: 3]."),
    ] = None,
    local_epochs: Annotated[
        int | None, typer.Option(min=1, max=50, help="Epochs per round [default: 1].")
    ] = None,
    seed: Annotated[
        int, typer.Option(min=0, max=2**31 - 1, help="Seed of split, init, training.")
    ] = 7,
    quick: Annotated[
        bool, typer.Option(help="Smoke configuration: 3 rounds unless given.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Joint lending: credentials, multi-lending checks, a federated credit model."""
    from agora.lending.demo import LendingDemoOptions, run_lending_demo

    with failing_cleanly(as_json=as_json):
        settings = settings_with(data_dir=data_dir)
        options = LendingDemoOptions.create(
            settings.data_dir,
            out,
            rounds=rounds,
            local_epochs=local_epochs,
            seed=seed,
            quick=quick,
        )
        run_lending_demo(options, settings, Console())


@ledger_app.command("build")
def ledger_build(
    force: Annotated[bool, typer.Option(help="Recompile even if cached.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Compile the Vyper contracts into the artifact cache."""
    from agora.ledger.build import build_contracts, rebuild_contracts

    with failing_cleanly(as_json=as_json):
        settings = load_settings()
        artifacts = (rebuild_contracts if force else build_contracts)(settings)
        folder = settings.cache_dir / "contracts"
        typer.echo(f"{len(artifacts)} contracts ready in {folder}")


@ledger_app.command("init")
def ledger_init(
    force: Annotated[
        bool, typer.Option(help="Replace an existing local consortium.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Deploy a consortium for the command line to use (AGORA_STATE_DIR)."""
    from agora.ledger.local import LocalLedger

    with (
        failing_cleanly(as_json=as_json),
        LocalLedger.init(load_settings(), force=force) as ledger,
    ):
        typer.echo(f"chain {ledger.chain.chain_id}, admin {ledger.admin.address}")
        for name, address in ledger.deployment.addresses.items():
            typer.echo(f"{name:12} {address}")


class MemberRole(StrEnum):
    """Consortium roles an admin can give from the command line."""

    HOSPITAL = "hospital"
    COORDINATOR = "coordinator"
    BUYER = "buyer"
    PLATFORM = "platform"
    ISSUER = "issuer"
    PROXY = "proxy"


@ledger_app.command("admit")
def ledger_admit(
    did: Annotated[
        str, typer.Argument(help="The member's DID (did:ethr or secp256k1 did:key).")
    ],
    name: Annotated[str, typer.Option(help="The member's name (1 to 64 bytes).")],
    role: Annotated[
        list[MemberRole], typer.Option(help="A role to give (repeatable).")
    ],
    as_json: JsonOption = False,
) -> None:
    """Admit the account of DID to the local consortium (as its admin)."""
    from agora.identity.errors import IdentityError
    from agora.ledger import Role
    from agora.ledger.local import LocalLedger
    from agora.vault.errors import OwnerDidError
    from agora.vault.sharing import owner_address

    with failing_cleanly(as_json=as_json):
        try:
            address = owner_address(did)
        except OwnerDidError:
            raise IdentityError(
                "a member is the account of a did:ethr or a secp256k1 did:key"
            ) from None
        roles = Role(0)
        for chosen in role:
            roles |= Role[chosen.name]
        with LocalLedger.open(load_settings()) as ledger:
            ledger.deployment.consortium.add_member(
                address, name, roles, account=ledger.admin
            )
        typer.echo(f"admitted {name} ({address}) as {'+'.join(r.value for r in role)}")


health_import.register(app, failing_cleanly=failing_cleanly)


if __name__ == "__main__":
    sys.exit(app())
