"""Connect to an EVM chain and send locally signed transactions to it.

One code path for both deployments (DESIGN.md): the embedded in-process EVM
(web3.py ``EthereumTesterProvider`` on py-evm) when ``AGORA_CHAIN_URL`` is
unset, any JSON-RPC node (anvil, Besu …) otherwise. Every transaction is
signed here with the acting account's key and sent raw, which both backends
accept alike.

This module is the ledger's adapter: web3.py, eth-tester and requests
exceptions are translated into :mod:`agora.ledger.errors` here and only here.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from eth_abi.abi import decode
from eth_account import Account as AccountFactory
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.exceptions import TransactionFailed
from eth_tester.exceptions import ValidationError as TesterValidationError
from eth_typing import ChecksumAddress, HexStr
from eth_utils.exceptions import ValidationError as EvmValidationError
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import ContractLogicError, TimeExhausted, Web3Exception
from web3.middleware import ExtraDataToPOAMiddleware
from web3.types import RPCEndpoint, TxParams, TxReceipt, Wei

from agora.errors import ConfigurationError
from agora.ledger.build import ContractArtifact
from agora.ledger.errors import (
    ChainUnavailableError,
    ContractRevertError,
    InvalidArgumentError,
    LedgerError,
    TransactionError,
)
from agora.ledger.journal import ChainJournal, JournalEntry, JournalError
from agora.ledger.model import Account
from agora.settings import Settings

logger = logging.getLogger(__name__)

EMBEDDED_GAS_LIMIT = 8_000_000
"""Gas limit of every embedded transaction (a 16-provider finalize needs
well under half of it). Sending without estimating saves one EVM execution
per transaction; a revert is then read from the receipt and replayed."""

RECEIPT_TIMEOUT_S = 120.0

# Selector of `Error(string)`, the revert payload of Vyper's
# `assert ..., "reason"` as of Solidity's `require` (Solidity docs, "Error
# handling: Assert, Require, Revert and Exceptions").
_ERROR_SELECTOR = bytes.fromhex("08c379a0")

_Transactable = ContractFunction | ContractConstructor


class Chain:
    """A connection to one EVM chain and the accounts acting on it.

    Build one with :func:`connect`. ``w3`` is the underlying ``Web3`` for
    reads the clients do not cover; writes go through :meth:`transact`.

    Example::

        >>> chain = connect(Settings(chain_url=None))
        >>> alice = chain.new_account("alice", ether=1)
        >>> chain.w3.eth.get_balance(alice.address) == 10**18
        True
    """

    def __init__(
        self,
        w3: Web3,
        faucet: Account,
        *,
        gas_limit: int | None,
        journal: ChainJournal | None = None,
    ) -> None:
        """Wrap ``w3``; ``gas_limit=None`` estimates gas for each transaction.
        With ``journal``, every mined transaction is recorded in it."""
        self.w3 = w3
        self.faucet = faucet
        self.gas_limit = gas_limit
        self.journal = journal
        self.chain_id = w3.eth.chain_id
        self._names: dict[ChecksumAddress, str] = {faucet.address: "faucet"}
        self._tip: Wei | None = None

    @property
    def embedded(self) -> bool:
        """True for the in-process EVM, which also supports test-only calls."""
        return isinstance(self.w3.provider, EthereumTesterProvider)

    def new_account(
        self,
        name: str,
        *,
        ether: int | Decimal = 10,
        private_key: bytes | None = None,
    ) -> Account:
        """Create an account (a fresh random key unless given) funded from the
        faucet with ``ether`` for gas. ``name`` labels it in logs."""
        account: Account = (
            AccountFactory.create()
            if private_key is None
            else AccountFactory.from_key(private_key)
        )
        self._names[account.address] = name

        value = Web3.to_wei(ether, "ether")
        if value > 0:
            self._send(self.faucet, {"to": account.address, "value": value})
        logger.debug("account %s is %s", name, account.address)
        return account

    def name_of(self, address: ChecksumAddress) -> str:
        """The name given to ``address`` by :meth:`new_account`, else the address."""
        return self._names.get(address, address)

    def transact(
        self, account: Account, function: ContractFunction, *, value: int = 0
    ) -> TxReceipt:
        """Sign ``function`` with ``account``'s key, send it and wait for it.

        Raises :class:`ContractRevertError` with the contract's reason when
        it reverts, whether the node reports that before sending (gas
        estimation) or only in the receipt.
        """
        return self._send(account, {"value": Wei(value)}, function)

    def deploy(
        self, account: Account, artifact: ContractArtifact, *args: Any
    ) -> Contract:
        """Deploy ``artifact`` with constructor ``args``, paid by ``account``."""
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = self._send(account, {}, factory.constructor(*args))
        address = receipt["contractAddress"]
        if address is None:
            raise TransactionError(f"deploying {artifact.name} created no contract")
        logger.info("deployed %s at %s", artifact.name, address)
        return self.contract(artifact, address)

    def contract(
        self, artifact: ContractArtifact, address: ChecksumAddress
    ) -> Contract:
        """A handle on an already deployed contract."""
        return self.w3.eth.contract(address=address, abi=artifact.abi)

    def call(self, function: ContractFunction) -> Any:
        """Run a read-only call, with the same error translation as writes."""
        with self._translated():
            return function.call()

    def ether_balance(self, address: ChecksumAddress) -> Wei:
        """Ether held by ``address``, in wei."""
        with self._translated():
            return self.w3.eth.get_balance(address)

    def now(self) -> int:
        """Timestamp of the latest block: the chain's clock, not the host's."""
        with self._translated():
            return int(self.w3.eth.get_block("latest")["timestamp"])

    def close(self) -> None:
        """Release the journal, if any; the chain is unusable afterwards."""
        if self.journal is not None:
            self.journal.close()
            self.journal = None

    def _refuse_if_journaled(self, what: str) -> None:
        if self.journal is not None:
            raise InvalidArgumentError(f"{what} is not possible on a persistent chain")

    def block_timestamp(self, number: int) -> int:
        """Timestamp of block ``number``."""
        with self._translated():
            return int(self.w3.eth.get_block(number)["timestamp"])

    def time_travel(self, timestamp: int) -> None:
        """Give the next block, hence the next transaction, ``timestamp``.

        Test and demo chains only (the embedded EVM, anvil); forward only.
        :meth:`now` keeps reporting the latest mined block, which is older.
        """
        self._refuse_if_journaled("time travel")
        if timestamp <= self.now():
            raise InvalidArgumentError(f"cannot travel back to {timestamp}")
        method = "testing_timeTravel" if self.embedded else "evm_setNextBlockTimestamp"
        with self._translated():
            self._node_request(method, [timestamp])

    def snapshot(self) -> int:
        """Remember the chain's state; see :meth:`revert`. Test chains only."""
        self._refuse_if_journaled("a snapshot")
        with self._translated():
            snapshot = self._node_request("evm_snapshot", [])
        # eth-tester answers an int, anvil a hex quantity.
        return int(snapshot, 16) if isinstance(snapshot, str) else int(snapshot)

    def revert(self, snapshot: int) -> None:
        """Return the chain to the state saved by :meth:`snapshot`."""
        with self._translated():
            self._node_request("evm_revert", [hex(snapshot)])

    def _node_request(self, method: str, params: list[Any]) -> Any:
        return self.w3.manager.request_blocking(RPCEndpoint(method), params)

    def _send(
        self,
        account: Account,
        params: TxParams,
        function: _Transactable | None = None,
    ) -> TxReceipt:
        """Fill in, sign, send and await one transaction."""
        with self._translated():
            transaction: TxParams = {
                **params,
                "from": account.address,
                "chainId": self.chain_id,
                "nonce": self.w3.eth.get_transaction_count(account.address, "pending"),
                **self._fees(),
            }
            if function is not None:
                # Without "gas", build_transaction would estimate it itself.
                transaction["gas"] = 0
                transaction = function.build_transaction(transaction)
            transaction["gas"] = self._gas(transaction)

            signed = account.sign_transaction(cast(dict[str, Any], transaction))
            tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            receipt = self.w3.eth.wait_for_transaction_receipt(
                tx_hash, timeout=RECEIPT_TIMEOUT_S, poll_latency=0.05
            )
            if self.journal is not None:
                block = self.w3.eth.get_block(receipt["blockNumber"])
                self.journal.append(
                    JournalEntry(
                        timestamp=int(block["timestamp"]),
                        raw=bytes(signed.raw_transaction),
                        tx_hash=tx_hash.to_0x_hex(),
                        status=int(receipt["status"]),
                    )
                )
            if receipt["status"] == 0:
                raise ContractRevertError(self._replay(transaction, receipt))
            return receipt

    def _fees(self) -> TxParams:
        # EIP-1559 fields the way web3.py's default strategy sets them:
        # room for the base fee to double before the transaction is stuck.
        if self._tip is None:
            self._tip = self.w3.eth.max_priority_fee
        return {
            "maxFeePerGas": Wei(2 * self.w3.eth.gas_price + self._tip),
            "maxPriorityFeePerGas": self._tip,
        }

    def _gas(self, transaction: TxParams) -> int:
        if self.gas_limit is not None:
            return self.gas_limit
        # On a shared chain a failing transaction costs real fees, and the
        # estimate surfaces the revert (with its reason) before sending.
        estimate_params = {k: v for k, v in transaction.items() if k != "gas"}
        estimate = self.w3.eth.estimate_gas(cast(TxParams, estimate_params))
        return estimate * 6 // 5

    def _replay(self, transaction: TxParams, receipt: TxReceipt) -> str | None:
        """Recover the revert reason of a mined, failed transaction.

        Receipts carry no revert data, so the transaction is re-run as a
        call in its own block: same timestamp and number, and (a reverted
        transaction changes no contract state) the state it ran on, save
        for transactions after it in the block, which automining never has.
        """
        call = cast(
            TxParams,
            {
                key: value
                for key, value in transaction.items()
                if key in ("from", "to", "data", "value", "gas")
            },
        )
        try:
            self.w3.eth.call(call, block_identifier=receipt["blockNumber"])
        except (TransactionFailed, ContractLogicError) as exc:
            return _revert_reason(exc)
        return None

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except LedgerError:
            raise
        except (TransactionFailed, ContractLogicError) as exc:
            raise ContractRevertError(_revert_reason(exc)) from exc
        except TimeExhausted as exc:
            raise TransactionError(f"no receipt within {RECEIPT_TIMEOUT_S}s") from exc
        except OSError as exc:
            # requests' connection errors derive from OSError.
            # `from None`: the transport error's text holds the full URL,
            # credentials included, and would reach a -v traceback.
            raise ChainUnavailableError(
                f"lost the chain at AGORA_CHAIN_URL: {exc.__class__.__name__}"
            ) from None
        except (Web3Exception, TesterValidationError, EvmValidationError) as exc:
            # The node refused the transaction itself (nonce, funds, format);
            # py-evm raises eth_utils' ValidationError for those.
            raise TransactionError(str(exc)) from exc


def connect(settings: Settings | None = None, *, journal: Path | None = None) -> Chain:
    """Connect to the chain the settings select.

    ``AGORA_CHAIN_URL`` unset: a fresh in-process EVM whose first genesis
    account is the faucet; with ``journal``, the chain recorded there is
    replayed first and new transactions are added to it (see
    :mod:`agora.ledger.journal`; call :meth:`Chain.close` when done). Set:
    that JSON-RPC node, with the faucet key from ``AGORA_FAUCET_KEY``, and
    ``journal`` is ignored: the node keeps its own state. Raises
    :class:`ChainUnavailableError` naming ``AGORA_CHAIN_URL`` when the node
    cannot be reached.

    Example::

        >>> connect(Settings(chain_url=None)).embedded
        True
    """
    settings = settings or Settings()
    if settings.chain_url is None:
        if journal is None:
            return _connect_embedded()
        return _connect_journaled(ChainJournal.open(journal))
    return _connect_node(settings.chain_url, settings)


def _connect_embedded() -> Chain:
    return _embedded_chain(PyEVMBackend())


def _embedded_chain(backend: PyEVMBackend) -> Chain:
    w3 = Web3(EthereumTesterProvider(EthereumTester(backend)))
    faucet: Account = AccountFactory.from_key(backend.account_keys[0].to_bytes())
    return Chain(w3, faucet, gas_limit=EMBEDDED_GAS_LIMIT)


def _connect_journaled(journal: ChainJournal) -> Chain:
    """Replay ``journal`` into a fresh embedded chain, then record into it."""
    backend = PyEVMBackend(
        PyEVMBackend.generate_genesis_params(
            overrides={"timestamp": journal.genesis_timestamp}
        )
    )
    chain = _embedded_chain(backend)
    try:
        for number, entry in enumerate(journal.entries, start=1):
            # eth-tester offers only forward time travel, which mines an empty
            # block; setting the pending header's time mines the transaction
            # in a block of its recorded time, as the first run did.
            backend.chain.header = backend.chain.header.copy(timestamp=entry.timestamp)
            tx_hash = chain.w3.eth.send_raw_transaction(entry.raw)
            status = chain.w3.eth.get_transaction_receipt(tx_hash)["status"]
            if tx_hash.to_0x_hex() != entry.tx_hash or status != entry.status:
                raise JournalError(
                    f"{journal.path} does not replay at transaction {number}"
                )
    except (Web3Exception, TesterValidationError, EvmValidationError) as exc:
        journal.close()
        raise JournalError(f"{journal.path} does not replay: {exc}") from exc
    except JournalError:
        journal.close()
        raise
    chain.journal = journal
    logger.info("replayed %d transactions from %s", len(journal.entries), journal.path)
    return chain


def _connect_node(url: str, settings: Settings) -> Chain:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            "AGORA_CHAIN_URL must be an http(s) JSON-RPC URL such as "
            "http://127.0.0.1:8545"
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigurationError("AGORA_CHAIN_URL has an invalid port") from exc
    # Never echo credentials that a URL may carry (user:password@, ?key=).
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    where = f"{parts.scheme}://{host}{f':{port}' if port else ''}"

    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 10}))
    # Proof-of-authority chains (Besu QBFT, Clique) put more than 32 bytes in
    # extraData, which web3.py rejects without this middleware.
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    try:
        chain_id = w3.eth.chain_id
    except (OSError, Web3Exception) as exc:
        # `from None`: the transport error's text holds the full URL,
        # credentials included, and would reach a -v traceback.
        raise ChainUnavailableError(
            f"no EVM JSON-RPC node answers at AGORA_CHAIN_URL ({where}): "
            f"{exc.__class__.__name__}"
        ) from None

    if settings.faucet_key is None:
        raise ConfigurationError(
            "AGORA_FAUCET_KEY must name a funded account when AGORA_CHAIN_URL is set"
        )
    try:
        faucet: Account = AccountFactory.from_key(
            settings.faucet_key.get_secret_value()
        )
    except (ValueError, TypeError) as exc:
        # The key itself never goes into the message.
        raise ConfigurationError(
            f"AGORA_FAUCET_KEY is not a 32-byte hex private key ({type(exc).__name__})"
        ) from None
    logger.info("connected to chain %s at %s", chain_id, where)
    return Chain(w3, faucet, gas_limit=None)


def _revert_reason(exc: TransactionFailed | ContractLogicError) -> str | None:
    """The ``Error(string)`` reason of a revert, or None if it carried none."""
    if isinstance(exc, ContractLogicError):
        data = exc.data if isinstance(exc.data, str) else None
        if data is not None and data.startswith("0x" + _ERROR_SELECTOR.hex()):
            payload = bytes.fromhex(HexStr(data[10:]))
            return str(decode(["string"], payload)[0])
        message = exc.message or ""
    else:
        # eth-tester has already decoded Error(string) into the message.
        message = str(exc.args[0]) if exc.args else ""

    reason = message.removeprefix("execution reverted").removeprefix(":").strip()
    # py-evm renders an empty revert payload as the bytes literal b''.
    return reason if reason and reason != "b''" else None
