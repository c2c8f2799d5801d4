"""``agora wallet``: the holder's keys and credentials, encrypted at rest."""

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from agora.cli.common import JsonOption, failing_cleanly
from agora.errors import DataError
from agora.identity.wallet import Wallet
from agora.settings import Settings, load_settings

wallet_app = typer.Typer(
    help="Holder keys and credentials, encrypted at rest.", no_args_is_help=True
)

WalletOption = Annotated[
    Path | None,
    typer.Option(
        "--wallet",
        help="Wallet file [default: AGORA_STATE_DIR/wallets/default.wallet].",
    ),
]


def wallet_path(settings: Settings, given: Path | None) -> Path:
    """The wallet file a command works on."""
    return given or settings.state_dir / "wallets" / "default.wallet"


def wallet_password(settings: Settings, *, confirm: bool = False) -> str:
    """``AGORA_WALLET_PASSWORD``, else asked at the prompt (never echoed)."""
    if settings.wallet_password is not None:
        return settings.wallet_password.get_secret_value()
    password: str = typer.prompt(
        "Wallet password", hide_input=True, confirmation_prompt=confirm
    )
    return password


def open_wallet(settings: Settings, given: Path | None) -> Wallet:
    """Open the wallet a command works on, asking for its password."""
    return Wallet.open(wallet_path(settings, given), wallet_password(settings))


def read_text_input(source: str, what: str) -> str:
    """The text of file ``source``, or of stdin for ``-``; a
    :class:`DataError` naming ``what`` when it cannot be read."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read the {what} from {source}: {exc}") from exc
    return text.strip()


def echo_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout."""
    typer.echo(json.dumps(value, indent=2, sort_keys=True))


@wallet_app.command("create")
def create(wallet: WalletOption = None, as_json: JsonOption = False) -> None:
    """Create an empty wallet."""
    with failing_cleanly(as_json=as_json):
        settings = load_settings()
        path = wallet_path(settings, wallet)
        path.parent.mkdir(parents=True, exist_ok=True)
        Wallet.create(path, wallet_password(settings, confirm=True))
        typer.echo(f"created {path}")


@wallet_app.command("list")
def list_contents(wallet: WalletOption = None, as_json: JsonOption = False) -> None:
    """DIDs and credentials in the wallet (no claim values)."""
    with failing_cleanly(as_json=as_json):
        opened = open_wallet(load_settings(), wallet)
        credentials = [
            {
                "id": c.id,
                "type": c.vct,
                "issuer": c.issuer,
                "expires_at": c.expires_at,
                "claims": list(c.claim_names),
            }
            for c in opened.credentials()
        ]
        if as_json:
            echo_json({"dids": list(opened.dids()), "credentials": credentials})
            return
        for did in opened.dids():
            typer.echo(f"did  {did}")
        for c in credentials:
            typer.echo(f"vc   {c['id']}  {c['type']}  from {c['issuer']}")


@wallet_app.command("add")
def add(
    source: Annotated[str, typer.Argument(help="Credential file, or - for stdin.")],
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """Store an issued credential (SD-JWT VC) in the wallet."""
    with failing_cleanly(as_json=as_json):
        settings = load_settings()
        credential = read_text_input(source, "credential")
        summary = open_wallet(settings, wallet).add_credential(credential)
        typer.echo(summary.id)


@wallet_app.command("show")
def show(
    credential_id: Annotated[str, typer.Argument(help="Credential id.")],
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every claim of one credential, as its disclosures state them
    (unverified: for the holder's eyes)."""
    with failing_cleanly(as_json=as_json):
        echo_json(open_wallet(load_settings(), wallet).show_unverified(credential_id))


@wallet_app.command("present")
def present(
    credential_id: Annotated[str, typer.Argument(help="Credential id.")],
    claims: Annotated[
        str, typer.Option(help="Comma-separated claims to disclose, nothing else.")
    ],
    nonce: Annotated[str, typer.Option(help="The verifier's nonce.")],
    aud: Annotated[str, typer.Option(help="The verifier (audience).")],
    out: Annotated[
        Path | None, typer.Option(help="Write here instead of stdout.")
    ] = None,
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """A presentation disclosing only ``--claims``, bound to the verifier."""
    with failing_cleanly(as_json=as_json):
        names = [name.strip() for name in claims.split(",") if name.strip()]
        presentation = open_wallet(load_settings(), wallet).present(
            credential_id, names, nonce=nonce, audience=aud
        )
        if out is None:
            typer.echo(presentation)
        else:
            out.write_text(presentation + "\n")


@wallet_app.command("delete")
def delete(
    credential_id: Annotated[str, typer.Argument(help="Credential id.")],
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """Remove one credential from the wallet."""
    with failing_cleanly(as_json=as_json):
        open_wallet(load_settings(), wallet).delete_credential(credential_id)
        typer.echo(f"deleted {credential_id}")
