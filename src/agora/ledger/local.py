"""The consortium a command-line user works with, kept between runs.

``agora ledger init`` deploys the contracts and records, in the state
folder (``AGORA_STATE_DIR``), where they are and the admin's key; later
commands reopen them. On the embedded chain the chain itself is kept too, as
a journal (:mod:`agora.ledger.journal`); on a JSON-RPC node the node keeps
it. The admin key file is the consortium admin's private key, readable by
its owner only: guard it like ``AGORA_FAUCET_KEY``.
"""

import json
import logging
import os
import shutil
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from eth_account import Account as AccountFactory
from eth_typing import ChecksumAddress

from agora.errors import ConfigurationError
from agora.ledger.build import build_contracts
from agora.ledger.chain import Chain, connect
from agora.ledger.deploy import Deployment, deploy
from agora.ledger.errors import LedgerError
from agora.ledger.model import Account
from agora.settings import Settings

logger = logging.getLogger(__name__)

GAS_ETHER = 1
"""Ether given to each account the command line creates, for its gas."""


class LocalLedger:
    """An open local consortium: its chain, contracts and admin account.

    Use as a context manager (or call :meth:`close`): on the embedded chain
    the journal stays locked while it is open.
    """

    def __init__(self, chain: Chain, deployment: Deployment, admin: Account) -> None:
        self.chain = chain
        self.deployment = deployment
        self.admin = admin

    @staticmethod
    def folder(settings: Settings) -> Path:
        """Where the local consortium is kept."""
        return settings.state_dir / "ledger"

    @classmethod
    def init(cls, settings: Settings, *, force: bool = False) -> Self:
        """Deploy a new consortium with a new admin; refuses to replace an
        existing one unless ``force``."""
        folder = cls.folder(settings)
        if (folder / "deployment.json").exists() and not force:
            raise LedgerError(
                f"a consortium is already set up in {folder}; "
                "pass --force to replace it (its data is lost)"
            )
        if force and folder.exists():
            shutil.rmtree(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigurationError(f"AGORA_STATE_DIR is not writable: {exc}") from exc

        chain = connect(settings, journal=folder / "chain.journal")
        admin = chain.new_account("admin", ether=100)
        deployment = deploy(chain, admin, artifacts=build_contracts(settings))
        record = {
            "chain_id": chain.chain_id,
            "addresses": deployment.addresses,
            "admin": admin.address,
        }
        _write_private(folder / "admin.key", admin.key.hex())
        (folder / "deployment.json").write_text(json.dumps(record, indent=2) + "\n")
        logger.info("consortium deployed on chain %s", chain.chain_id)
        return cls(chain, deployment, admin)

    @classmethod
    def addresses(cls, settings: Settings) -> tuple[int, dict[str, ChecksumAddress]]:
        """The chain id and contract addresses :meth:`init` recorded, read
        without connecting: for a process that signs for the consortium's
        contracts (EIP-712 receipts) while another holds the chain."""
        record = cls._record(cls.folder(settings))
        try:
            return int(record["chain_id"]), dict(record["addresses"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(
                f"{cls.folder(settings)} is damaged: {exc}"
            ) from exc

    @staticmethod
    def _record(folder: Path) -> dict[str, Any]:
        try:
            record: dict[str, Any] = json.loads(
                (folder / "deployment.json").read_text()
            )
        except FileNotFoundError:
            raise ConfigurationError(
                f"no consortium in {folder}: run `agora ledger init` first"
            ) from None
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"{folder} is damaged: {exc}") from exc
        return record

    @classmethod
    def open(cls, settings: Settings) -> Self:
        """Reopen the consortium :meth:`init` set up."""
        folder = cls.folder(settings)
        record = cls._record(folder)
        try:
            admin_key = (folder / "admin.key").read_text().strip()
        except FileNotFoundError:
            raise ConfigurationError(
                f"no consortium in {folder}: run `agora ledger init` first"
            ) from None
        except OSError as exc:
            raise ConfigurationError(f"{folder} is damaged: {exc}") from exc

        chain = connect(settings, journal=folder / "chain.journal")
        if chain.chain_id != record.get("chain_id"):
            chain.close()
            raise ConfigurationError(
                f"{folder} was set up on chain {record.get('chain_id')}, "
                f"AGORA_CHAIN_URL is chain {chain.chain_id}"
            )
        addresses: dict[str, ChecksumAddress] = record["addresses"]
        deployment = Deployment.attach(
            chain, addresses, artifacts=build_contracts(settings)
        )
        admin: Account = AccountFactory.from_key(admin_key)
        return cls(chain, deployment, admin)

    def account(self, private_key: bytes, name: str) -> Account:
        """The account of ``private_key``, given gas money if it has none."""
        account: Account = AccountFactory.from_key(private_key)
        if self.chain.ether_balance(account.address) == 0:
            return self.chain.new_account(
                name, ether=GAS_ETHER, private_key=private_key
            )
        return account

    def close(self) -> None:
        """Release the chain (and its journal lock)."""
        self.chain.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to a new file only its owner can read."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text + "\n")
