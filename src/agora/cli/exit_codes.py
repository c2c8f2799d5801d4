"""Exit codes of the ``agora`` command, one registry for every subcommand.

Scripts may rely on these numbers; they only ever get new entries.
"""

from enum import IntEnum


class ExitCode(IntEnum):
    """Why ``agora`` stopped."""

    SUCCESS = 0
    UNEXPECTED = 1
    """A bug: an error Agora did not anticipate (traceback with ``-v``)."""
    USAGE = 2
    """Bad options or arguments (Typer/Click's own code)."""
    CONFIGURATION = 3
    """A setting is missing or invalid (``AGORA_*`` or an option)."""
    DATA = 4
    """Input data is missing, unreadable or malformed."""
    LEDGER = 5
    """The chain is unreachable or a transaction was refused."""
    MARKET = 6
    """A market job could not be carried through."""
    FEDERATED = 7
    """Federated training failed."""
    IDENTITY = 8
    """A DID, credential, status list or wallet operation was refused
    (wrong password, unknown DID, tampered wallet …)."""
    VERIFICATION = 9
    """A presentation failed verification; the rule it broke is printed."""
    LENDING = 10
    """A loan application could not be made or was rejected."""
    CONSENT = 11
    """A proxy refused access by consent (revoked or expired grant, a
    requester who is not the grantee, a record out of scope …); the rule
    is printed."""
    AUDIT_MISMATCH = 12
    """An audit re-derived something that does not match the chain or the
    published artifacts; the first mismatch (round, provider) is printed."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C (128 + SIGINT, the shell convention)."""
