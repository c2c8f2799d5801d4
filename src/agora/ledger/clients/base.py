"""What every contract client shares: a chain, a contract, event parsing."""

from typing import Any, Self

from eth_typing import ChecksumAddress
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.logs import DISCARD
from web3.types import EventData, TxReceipt

from agora.ledger.build import ContractArtifact
from agora.ledger.chain import Chain
from agora.ledger.errors import TransactionError
from agora.ledger.model import Account, TxHash


class ContractClient:
    """A deployed contract plus the chain that reaches it.

    Subclasses add one typed method per contract function. Writes take the
    acting account as the keyword ``account``; it signs the transaction.
    """

    artifact_name: str
    """Name of the artifact (the ``.vy`` file's stem) this client wraps."""

    def __init__(self, chain: Chain, contract: Contract) -> None:
        self.chain = chain
        self.contract = contract

    @classmethod
    def at(
        cls, chain: Chain, artifact: ContractArtifact, address: ChecksumAddress
    ) -> Self:
        """Attach to the contract already deployed at ``address``."""
        return cls(chain, chain.contract(artifact, address))

    @property
    def address(self) -> ChecksumAddress:
        """Where the contract lives."""
        return self.contract.address

    def _transact(self, account: Account, function: ContractFunction) -> TxReceipt:
        return self.chain.transact(account, function)

    def _send(self, account: Account, function: ContractFunction) -> TxHash:
        receipt = self._transact(account, function)
        return TxHash(receipt["transactionHash"].to_0x_hex())

    def _call(self, function: ContractFunction) -> Any:
        return self.chain.call(function)

    def events(self, receipt: TxReceipt, name: str) -> list[EventData]:
        """The ``name`` events this contract emitted in ``receipt``, in order.

        Logs of other contracts and events in the same receipt are skipped.
        """
        parsed = self.contract.events[name]().process_receipt(receipt, errors=DISCARD)
        return [event for event in parsed if event["address"] == self.address]

    def _event(self, receipt: TxReceipt, name: str) -> EventData:
        """The single ``name`` event this contract emitted in ``receipt``."""
        events = self.events(receipt, name)
        if len(events) != 1:
            raise TransactionError(
                f"expected one {name} event, the receipt holds {len(events)}"
            )
        return events[0]
