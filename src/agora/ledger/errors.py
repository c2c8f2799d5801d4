"""Errors raised by :mod:`agora.ledger`.

web3.py, eth-tester and requests exceptions are translated into these once,
in :mod:`agora.ledger.chain` (and compiler errors in :mod:`agora.ledger.build`),
always ``from`` the original so the cause stays in the traceback.
"""

from agora.errors import AgoraError


class LedgerError(AgoraError):
    """Root of every error the ledger layer raises."""


class BuildError(LedgerError):
    """A contract failed to compile; the message names the source file."""


class ChainUnavailableError(LedgerError, ConnectionError):
    """The chain cannot be reached; the message names ``AGORA_CHAIN_URL``."""


class TransactionError(LedgerError):
    """The node refused a transaction or no receipt arrived in time.

    Distinct from :class:`ContractRevertError`: the contract never ran, or
    its outcome is unknown (nonce clash, insufficient ether for gas, timeout).
    """


class ContractRevertError(LedgerError):
    """A contract call or transaction reverted.

    ``reason`` is the contract's revert string (``"datamarket: job not
    open"``), or ``None`` when the revert carried none, which is what Vyper's
    ``@nonreentrant`` lock and checked-arithmetic failures produce.
    """

    def __init__(self, reason: str | None) -> None:
        self.reason = reason
        message = f"reverted: {reason}" if reason else "reverted without a reason"
        super().__init__(message)


class NotFoundError(LedgerError, LookupError):
    """A job, dataset or round that the contract has no record of."""


class InvalidArgumentError(LedgerError, ValueError):
    """An argument that can be rejected before any transaction is sent."""
