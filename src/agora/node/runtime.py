"""What a running node holds: its key, database, chain and settings."""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from agora.identity.document import Did
from agora.identity.keys import KeyPair
from agora.identity.wallet import Wallet
from agora.ledger import Account
from agora.ledger.local import LocalLedger
from agora.node.config import NodeConfig, node_folder
from agora.node.db import NodeDatabase, sqlite_url
from agora.node.errors import NodeConfigError
from agora.settings import Settings
from agora.vault.local import owner_key_pair

logger = logging.getLogger(__name__)


@dataclass
class NodeRuntime:
    """One node's resources, shared by its request handlers.

    ``lock`` serialises use of the chain: the embedded EVM is not
    thread-safe, and FastAPI runs handlers on a thread pool. ``clock``
    (Unix seconds) is injectable so that token expiry is tested without
    sleeping.
    """

    name: str
    config: NodeConfig
    key: KeyPair = field(repr=False)
    database: NodeDatabase
    ledger: LocalLedger
    settings: Settings
    clock: Callable[[], float] = time.time
    lock: threading.RLock = field(default_factory=threading.RLock)
    _account: Account | None = field(default=None, repr=False)

    @property
    def did(self) -> Did:
        """The node's DID, the audience of its tokens."""
        return Did(self.config.did)

    def account(self) -> Account:
        """The node's account on the chain, given gas money on first use."""
        if self._account is None:
            with self.lock:
                self._account = self.ledger.account(
                    self.key.private_bytes(), f"node-{self.name}"
                )
        return self._account

    def close(self) -> None:
        """Release the database and the chain."""
        self.database.close()
        self.ledger.close()


def node_key(config: NodeConfig, password: str) -> KeyPair:
    """The key of the node's DID, from its wallet (a secp256k1 key: the
    node acts on chain with the account of that key)."""
    wallet = Wallet.open(config.wallet, password)
    return owner_key_pair(wallet, config.did)


def open_node(
    name: str,
    config: NodeConfig,
    settings: Settings,
    *,
    clock: Callable[[], float] = time.time,
) -> NodeRuntime:
    """Open node ``name``'s wallet key, database and the local consortium."""
    if settings.wallet_password is None:
        raise NodeConfigError("set AGORA_WALLET_PASSWORD to the node wallet's")
    key = node_key(config, settings.wallet_password.get_secret_value())

    folder = node_folder(settings.state_dir, name)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NodeConfigError(f"cannot create {folder}: {exc.strerror}") from None
    url = (
        settings.db_url.get_secret_value()
        if settings.db_url is not None
        else sqlite_url(folder)
    )
    database = NodeDatabase.connect(url)
    try:
        ledger = LocalLedger.open(settings)
    except BaseException:
        database.close()
        raise
    logger.info("node %s opened as %s", name, config.role)
    return NodeRuntime(
        name=name,
        config=config,
        key=key,
        database=database,
        ledger=ledger,
        settings=settings,
        clock=clock,
    )
