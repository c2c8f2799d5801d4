"""Process-wide settings, read from ``AGORA_*`` environment variables.

Choosing a deployment is configuration, never a code fork (DESIGN.md):
``AGORA_CHAIN_URL`` unset means the embedded in-process EVM.
"""

from pathlib import Path

from pydantic import SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from agora.errors import ConfigurationError


class Settings(BaseSettings):
    """Settings shared by every Agora surface.

    Example::

        >>> Settings(data_dir=Path("/data")).data_dir
        PosixPath('/data')
    """

    model_config = SettingsConfigDict(env_prefix="AGORA_", extra="ignore")

    data_dir: Path = Path("../shared/data")
    """Folder holding the real data (``pneumoniamnist.npz`` …)."""

    chain_url: str | None = None
    """JSON-RPC endpoint of an EVM chain; unset selects the embedded EVM."""

    cache_dir: Path = Path.home() / ".cache" / "agora"
    """Compiled contract artifacts and other rebuildable files."""

    state_dir: Path = Path.home() / ".local" / "share" / "agora"
    """What the command line keeps between runs: the local consortium (its
    chain journal, contract addresses and admin key), wallets, issuers'
    status lists and the verifier's spent nonces."""

    wallet_password: SecretStr | None = None
    """Password of the wallets the command line opens; asked at the prompt
    when unset. For scripts and tests; an interactive user should leave it
    unset."""

    faucet_key: SecretStr | None = None
    """Private key (hex) of a funded account on ``chain_url``; it pays the
    ether that new accounts need for gas. Unused by the embedded EVM."""

    vault_dir: Path = Path.home() / ".local" / "share" / "agora" / "blocks"
    """Folder of the embedded blockstore (content-addressed blocks)."""

    ipfs_api: str | None = None
    """Kubo RPC API (``http://127.0.0.1:5001``); set, it replaces
    ``vault_dir`` as the blockstore."""

    db_url: SecretStr | None = None
    """Database of a node's state (``postgresql://user:password@host/db``);
    unset selects SQLite in the node's state folder. Secret: it may hold a
    password."""

    evm_version: str = "cancun"
    """EVM version the contracts are compiled for; lower it for a chain that
    lacks Cancun (transient storage), e.g. ``shanghai``."""

    @field_validator("chain_url", "ipfs_api", "db_url", mode="before")
    @classmethod
    def _empty_url_is_unset(cls, value: object) -> object:
        # `AGORA_CHAIN_URL=` (set but empty) means "no chain URL", as unset does.
        # The same holds for `AGORA_IPFS_API=` and `AGORA_DB_URL=`.
        return None if isinstance(value, str) and not value.strip() else value


def load_settings() -> Settings:
    """Read the settings from the environment; a bad value names its variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"AGORA_{'_'.join(str(part) for part in error['loc']).upper()}: "
            f"{error['msg']}"
            for error in exc.errors()
        )
        raise ConfigurationError(f"invalid setting: {problems}") from exc
