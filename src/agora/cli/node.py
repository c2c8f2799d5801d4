"""``agora node``: serve one organisation's node, mint tokens for one.

``agora node serve --role hospital --name st-mary`` reads
``AGORA_STATE_DIR/nodes/st-mary/node.toml`` (or ``--config``), opens the
node's wallet key (``AGORA_WALLET_PASSWORD``), its database
(``AGORA_DB_URL`` or SQLite in that folder) and the local consortium, and
serves until SIGTERM or Ctrl-C. ``agora node token`` prints a bearer token
for ``curl``.
"""

from pathlib import Path
from typing import Annotated

import typer

from agora.cli.common import JsonOption, failing_cleanly
from agora.cli.wallet import WalletOption, open_wallet
from agora.node.auth import MAX_LIFETIME_S, mint_token
from agora.node.config import NodeConfig, NodeRole, node_folder
from agora.node.errors import NodeConfigError
from agora.settings import load_settings

node_app = typer.Typer(
    help="Organisation nodes: HTTP services with DID-signed tokens.",
    no_args_is_help=True,
)


@node_app.command("serve")
def serve_command(
    role: Annotated[NodeRole, typer.Option(help="The role the node serves.")],
    name: Annotated[
        str,
        typer.Option(help="The node's name (its folder under AGORA_STATE_DIR/nodes)."),
    ],
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8700,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    config: Annotated[
        Path | None,
        typer.Option(help="Configuration file [default: <node folder>/node.toml]."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Serve a node until SIGTERM or Ctrl-C."""
    from agora.node.runtime import open_node
    from agora.node.server import serve

    with failing_cleanly(as_json=as_json):
        settings = load_settings()
        path = config or node_folder(settings.state_dir, name) / "node.toml"
        parsed = NodeConfig.load(path)
        if parsed.role is not role:
            raise NodeConfigError(f"{path} configures a {parsed.role} node, not {role}")
        runtime = open_node(name, parsed, settings)
        typer.echo(f"node {name} ({role}) {runtime.did} on http://{host}:{port}")
        serve(runtime, host=host, port=port)


@node_app.command("token")
def token_command(
    did: Annotated[str, typer.Option(help="The caller's DID (key in the wallet).")],
    audience: Annotated[str, typer.Option("--aud", help="The node's DID.")],
    lifetime: Annotated[
        int, typer.Option(min=1, max=MAX_LIFETIME_S, help="Seconds it stays valid.")
    ] = 60,
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print a bearer token from DID for the node AUD (one use)."""
    with failing_cleanly(as_json=as_json):
        pair = open_wallet(load_settings(), wallet).key_pair(did)
        typer.echo(mint_token(pair, did, audience, lifetime_s=lifetime))
