"""Metering calls against deposits, with receipts the consumer signs.

For each consumer the meter counts calls served under the consumer's
current ``ServiceMarket`` nonce. Every answer carries the receipt for the
new cumulative count; the consumer signs it and sends the signature with
its next call (or to :meth:`Meter.acknowledge`). A consumer may be at most
one unsigned receipt behind: a call is refused (HTTP 402) while the last
receipt is unsigned, or when its price would exceed what the deposit still
covers after everything served. The newest signed receipt per consumer is
what the provider settles on chain; counts only grow, so settling it covers
every earlier call.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from eth_keys.exceptions import BadSignature
from eth_typing import ChecksumAddress
from eth_utils.exceptions import ValidationError as EthValidationError

from agora.ledger import LedgerError, Receipt, ServiceMarketClient, TokenAmount
from agora.ledger.clients.servicemarket import receipt_signer
from agora.market.services.errors import (
    BadReceiptError,
    PaymentRequiredError,
    UnknownServiceError,
)


@dataclass
class _Account:
    nonce: int
    served: int = 0
    acknowledged: int = 0
    settled: int = 0
    deposit: int = 0
    checked_at: float = float("-inf")
    signature: bytes | None = None


class Meter:
    """Calls, deposits and receipts of one service.

    Chain reads (deposit, nonce, settled count) are cached for
    ``refresh_s``; a consumer's deposit can only shrink by this service's
    own settlements in between, which the meter accounts for itself.
    """

    def __init__(
        self,
        services: ServiceMarketClient,
        service_id: int,
        *,
        refresh_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        try:
            listed = services.service(service_id)
        except LedgerError as exc:
            raise UnknownServiceError(f"service {service_id} is unreadable") from exc
        if not listed.active:
            raise UnknownServiceError(f"service {service_id} is not listed")
        self.service_id = service_id
        self.price: TokenAmount = listed.price_per_call
        self._services = services
        self._refresh_s = refresh_s
        self._clock = clock
        self._accounts: dict[ChecksumAddress, _Account] = {}
        self._lock = threading.Lock()

    def _account(self, consumer: ChecksumAddress) -> _Account:
        account = self._accounts.get(consumer)
        now = self._clock()
        if account is not None and now - account.checked_at < self._refresh_s:
            return account
        try:
            nonce = self._services.nonce_of(consumer)
            deposit = self._services.deposit_of(consumer)
            settled = self._services.settled_calls(self.service_id, consumer, nonce)
        except LedgerError as exc:
            raise PaymentRequiredError("the deposit cannot be read now") from exc
        if account is None or account.nonce != nonce:
            # New consumer, or a withdrawal started a new count.
            account = _Account(nonce=nonce, served=settled, acknowledged=settled)
            self._accounts[consumer] = account
        account.settled, account.deposit, account.checked_at = settled, deposit, now
        return account

    def acknowledge(self, consumer: ChecksumAddress, signature: bytes) -> None:
        """Accept the consumer's signature of the receipt for everything
        served so far; raises :class:`BadReceiptError`."""
        with self._lock:
            account = self._account(consumer)
            receipt = self._receipt(consumer, account)
            try:
                signer = receipt_signer(
                    receipt,
                    signature,
                    chain_id=self._services.chain.chain_id,
                    contract=self._services.address,
                )
            except (IndexError, ValueError, BadSignature, EthValidationError):
                # Short, zeroed or out-of-range signatures (eth_keys' words).
                raise BadReceiptError("the receipt signature is malformed") from None
            if signer != consumer:
                raise BadReceiptError(
                    "the signature is not the consumer's receipt for "
                    f"{account.served} calls"
                )
            account.acknowledged, account.signature = account.served, signature

    def admit(self, consumer: ChecksumAddress) -> None:
        """Reserve one call; raises :class:`PaymentRequiredError`."""
        with self._lock:
            account = self._account(consumer)
            if account.served > account.acknowledged:
                raise PaymentRequiredError(
                    f"sign the receipt for {account.served} calls before calling again"
                )
            owed = (account.served + 1 - account.settled) * self.price
            if owed > account.deposit:
                raise PaymentRequiredError(
                    f"the deposit covers {account.deposit // self.price} more calls "
                    f"at {self.price} each; deposit more Token"
                )
            account.served += 1

    def release(self, consumer: ChecksumAddress) -> None:
        """Give back the call :meth:`admit` reserved, when it failed."""
        with self._lock:
            self._accounts[consumer].served -= 1

    def receipt(self, consumer: ChecksumAddress) -> Receipt:
        """The receipt for everything served to ``consumer`` so far."""
        with self._lock:
            return self._receipt(consumer, self._accounts[consumer])

    def _receipt(self, consumer: ChecksumAddress, account: _Account) -> Receipt:
        return Receipt(self.service_id, consumer, account.served, account.nonce)

    def pending(self) -> list[tuple[Receipt, bytes]]:
        """The newest signed receipt of each consumer with unsettled calls."""
        with self._lock:
            return [
                (Receipt(self.service_id, c, a.acknowledged, a.nonce), a.signature)
                for c, a in self._accounts.items()
                if a.signature is not None and a.acknowledged > a.settled
            ]

    def settled(self, consumer: ChecksumAddress, calls: int) -> None:
        """Record a settlement made on chain (the deposit shrank by it)."""
        with self._lock:
            account = self._accounts[consumer]
            account.deposit -= (calls - account.settled) * self.price
            account.settled = calls
