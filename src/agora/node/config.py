"""A node's configuration: a small TOML file, plus ``AGORA_*`` settings.

``AGORA_STATE_DIR/nodes/<name>/node.toml`` by default::

    role = "hospital"                 # or "patient"
    did = "did:key:zQ3s…"             # the node's DID; its key is in the wallet
    wallet = "hospital.wallet"        # relative to this file
    staff = ["did:key:z6Mk…"]         # hospital: DIDs that may manage it

The chain is the local consortium the command line uses (``agora ledger
init``; ``AGORA_CHAIN_URL`` for a JSON-RPC node), the database
``AGORA_DB_URL`` or SQLite in the node's folder, the wallet's password
``AGORA_WALLET_PASSWORD``. Secrets stay in settings, never in this file.
"""

import tomllib
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agora.node.errors import NodeConfigError


class NodeRole(StrEnum):
    """What organisation a node serves."""

    PATIENT = "patient"
    HOSPITAL = "hospital"


class NodeConfig(BaseModel):
    """The parsed configuration file of one node."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: NodeRole
    did: str = Field(pattern=r"^did:(key|ethr):")
    """The node's DID: the audience of its tokens, and (for a patient node)
    the patient, whose wallet key it signs with."""

    wallet: Path
    """The wallet holding the key of ``did``."""

    staff: tuple[str, ...] = ()
    """Hospital: the DIDs that may register offers and read jobs and
    earnings. Consortium members may read the offers."""

    @classmethod
    def load(cls, path: Path) -> "NodeConfig":
        """Read ``path``; a relative ``wallet`` is relative to its folder.

        Raises :class:`NodeConfigError` naming the file and what is wrong.
        """
        try:
            document = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise NodeConfigError(f"no node configuration at {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise NodeConfigError(f"cannot read {path}: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise NodeConfigError(f"{path} is not TOML: {exc}") from None
        try:
            config = cls.model_validate(document)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
                for error in exc.errors()
            )
            raise NodeConfigError(f"{path}: {problems}") from None
        if config.role is NodeRole.PATIENT and config.staff:
            raise NodeConfigError(f"{path}: a patient node has no staff")
        return config.model_copy(update={"wallet": path.parent / config.wallet})


def node_folder(state_dir: Path, name: str) -> Path:
    """Where node ``name`` keeps its configuration and SQLite database."""
    return state_dir / "nodes" / name
