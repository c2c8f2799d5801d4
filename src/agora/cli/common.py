"""What every ``agora`` subcommand shares: failing in one place, settings.

Every command fails through :func:`failing_cleanly`: a one-line message on
stderr, or a JSON error object with ``--json``, and an exit code from
:class:`~agora.cli.exit_codes.ExitCode`, never a traceback for an
anticipated error.
"""

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, NoReturn

import typer

from agora.cli.exit_codes import ExitCode
from agora.errors import AgoraError, ConfigurationError, DataError
from agora.federated.errors import FederatedError
from agora.identity.errors import IdentityError
from agora.identity.sdjwt.errors import SdJwtError, VerificationError
from agora.identity.status_list.errors import StatusListError
from agora.identity.wallet.errors import WalletError
from agora.ledger.errors import LedgerError
from agora.lending.errors import LendingError
from agora.market.errors import AuditMismatchError, MarketError
from agora.settings import Settings, load_settings
from agora.vault.errors import (
    ConsentRefusedError,
    InvalidSharingPolicyError,
    OwnerDidError,
    VaultError,
)

logger = logging.getLogger("agora.cli")

_EXIT_BY_ERROR: list[tuple[type[AgoraError], ExitCode]] = [
    (ConsentRefusedError, ExitCode.CONSENT),
    (OwnerDidError, ExitCode.IDENTITY),
    (InvalidSharingPolicyError, ExitCode.CONFIGURATION),
    (ConfigurationError, ExitCode.CONFIGURATION),
    (DataError, ExitCode.DATA),
    (LedgerError, ExitCode.LEDGER),
    (AuditMismatchError, ExitCode.AUDIT_MISMATCH),
    (MarketError, ExitCode.MARKET),
    (FederatedError, ExitCode.FEDERATED),
    (LendingError, ExitCode.LENDING),
    (VerificationError, ExitCode.VERIFICATION),
    (IdentityError, ExitCode.IDENTITY),
    (SdJwtError, ExitCode.IDENTITY),
    (StatusListError, ExitCode.IDENTITY),
    (WalletError, ExitCode.IDENTITY),
    (VaultError, ExitCode.DATA),
]


def fail(error: AgoraError, *, as_json: bool) -> NoReturn:
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
def failing_cleanly(*, as_json: bool) -> Iterator[None]:
    try:
        yield
    except AgoraError as error:
        logger.debug("command failed", exc_info=True)
        fail(error, as_json=as_json)
    except (typer.Exit, typer.Abort):
        # A command's own deliberate exit (with its code), not a failure.
        raise
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


def settings_with(**overrides: object) -> Settings:
    settings = load_settings()
    values = {k: v for k, v in overrides.items() if v is not None}
    return settings.model_copy(update=values) if values else settings


JsonOption = Annotated[bool, typer.Option("--json", help="Errors as a JSON object.")]
