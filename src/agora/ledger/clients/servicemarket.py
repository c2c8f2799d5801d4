"""Typed client of ``ServiceMarket.vy``: services paid per call by receipts.

A consumer signs one EIP-712 :class:`Receipt` per call (the cumulative
count, so each supersedes the last); whoever holds the latest receipt can
settle it. Signing needs no chain access::

    >>> from eth_account import Account as Keys
    >>> consumer = Keys.create()
    >>> receipt = Receipt(service=1, consumer=consumer.address, calls=3, nonce=0)
    >>> signature = sign_receipt(receipt, consumer, chain_id=1,
    ...     contract="0x" + "11" * 20)
    >>> len(signature)
    65
"""

from dataclasses import dataclass
from typing import Any

from eth_account import Account as AccountFactory
from eth_account.messages import encode_typed_data
from eth_typing import ChecksumAddress

from agora.ledger.clients.base import ContractClient
from agora.ledger.errors import InvalidArgumentError
from agora.ledger.model import Account, JobId, TokenAmount, TxHash

DOMAIN_NAME = "Agora ServiceMarket"
DOMAIN_VERSION = "1"
RECEIPT_TYPES = {
    "Receipt": [
        {"name": "service", "type": "uint256"},
        {"name": "consumer", "type": "address"},
        {"name": "calls", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
    ]
}


@dataclass(frozen=True)
class Receipt:
    """A consumer's acknowledgement of ``calls`` calls so far (EIP-712)."""

    service: int
    consumer: ChecksumAddress
    calls: int
    nonce: int


@dataclass(frozen=True)
class Service:
    """A listed service."""

    service_id: int
    provider: ChecksumAddress
    model_cid: str
    price_per_call: TokenAmount
    provider_share_bps: int
    job_id: JobId
    active: bool


def _typed_data(receipt: Receipt, *, chain_id: int, contract: str) -> dict[str, Any]:
    return {
        "domain_data": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": contract,
        },
        "message_types": RECEIPT_TYPES,
        "message_data": {
            "service": receipt.service,
            "consumer": receipt.consumer,
            "calls": receipt.calls,
            "nonce": receipt.nonce,
        },
    }


def sign_receipt(
    receipt: Receipt, consumer: Account, *, chain_id: int, contract: str
) -> bytes:
    """The consumer's 65-byte signature of ``receipt`` for ``contract``."""
    if consumer.address != receipt.consumer:
        raise InvalidArgumentError("a receipt is signed by its own consumer")
    signable = encode_typed_data(
        **_typed_data(receipt, chain_id=chain_id, contract=contract)
    )
    return bytes(consumer.sign_message(signable).signature)


def receipt_signer(
    receipt: Receipt, signature: bytes, *, chain_id: int, contract: str
) -> ChecksumAddress:
    """Who signed ``receipt`` (what the contract will recover)."""
    signable = encode_typed_data(
        **_typed_data(receipt, chain_id=chain_id, contract=contract)
    )
    signer: ChecksumAddress = AccountFactory.recover_message(
        signable, signature=signature
    )
    return signer


class ServiceMarketClient(ContractClient):
    """Listing, deposits, settlement, royalties and withdrawals."""

    artifact_name = "ServiceMarket"

    def list_service(
        self,
        model_cid: str,
        price_per_call: TokenAmount,
        provider_share_bps: int,
        job_id: JobId,
        *,
        account: Account,
    ) -> int:
        """List the model of finalized ``job_id`` (``account`` is its
        buyer); returns the service id."""
        function = self.contract.functions.listService(
            model_cid, price_per_call, provider_share_bps, job_id
        )
        receipt = self._transact(account, function)
        return int(self._event(receipt, "ServiceListed")["args"]["serviceId"])

    def delist_service(self, service_id: int, *, account: Account) -> TxHash:
        return self._send(account, self.contract.functions.delistService(service_id))

    def deposit(self, amount: TokenAmount, *, account: Account) -> TxHash:
        """Add to ``account``'s deposit (approve the contract first)."""
        return self._send(account, self.contract.functions.deposit(amount))

    def settle(self, receipt: Receipt, signature: bytes, *, account: Account) -> TxHash:
        """Settle the calls ``receipt`` counts beyond those settled."""
        function = self.contract.functions.settle(
            receipt.service, receipt.consumer, receipt.calls, receipt.nonce, signature
        )
        return self._send(account, function)

    def claim(self, *, account: Account) -> TxHash:
        """Transfer everything ``account`` has earned."""
        return self._send(account, self.contract.functions.claim())

    def request_withdrawal(self, *, account: Account) -> TxHash:
        return self._send(account, self.contract.functions.requestWithdrawal())

    def withdraw(self, *, account: Account) -> TxHash:
        return self._send(account, self.contract.functions.withdraw())

    def service_count(self) -> int:
        """How many services were ever listed; the newest id."""
        return int(self._call(self.contract.functions.serviceCount()))

    def services(self) -> list[Service]:
        """Every service ever listed, delisted ones included, oldest first."""
        return [self.service(i) for i in range(1, self.service_count() + 1)]

    def service(self, service_id: int) -> Service:
        provider, cid, price, share, job, active = self._call(
            self.contract.functions.services(service_id)
        )
        return Service(
            service_id, provider, cid, TokenAmount(price), share, JobId(job), active
        )

    def deposit_of(self, consumer: ChecksumAddress) -> TokenAmount:
        return TokenAmount(self._call(self.contract.functions.deposits(consumer)))

    def nonce_of(self, consumer: ChecksumAddress) -> int:
        return int(self._call(self.contract.functions.nonces(consumer)))

    def settled_calls(
        self, service_id: int, consumer: ChecksumAddress, nonce: int
    ) -> int:
        return int(
            self._call(
                self.contract.functions.settledCalls(service_id, consumer, nonce)
            )
        )

    def earned(self, account: ChecksumAddress) -> TokenAmount:
        return TokenAmount(self._call(self.contract.functions.earned(account)))

    def sign(self, receipt: Receipt, consumer: Account) -> bytes:
        """:func:`sign_receipt` for this contract on this chain."""
        return sign_receipt(
            receipt, consumer, chain_id=self.chain.chain_id, contract=self.address
        )
