"""Typed client of ``FraudList.vy``: the consortium's shared anti-fraud list."""

from dataclasses import dataclass
from enum import IntEnum

from eth_typing import ChecksumAddress

from agora.ledger.clients.base import ContractClient
from agora.ledger.errors import InvalidArgumentError
from agora.ledger.model import Account, TxHash

MAX_CID_BYTES = 128
"""Longest evidence CID the contract accepts (``MAX_CID``), in bytes."""


class FraudReason(IntEnum):
    """Why a subject was reported (the contract's reason codes)."""

    IDENTITY_FRAUD = 1
    FORGED_DOCUMENTS = 2
    LOAN_STACKING = 3
    INTENTIONAL_DEFAULT = 4
    SYNTHETIC_IDENTITY = 5


@dataclass(frozen=True)
class FraudReport:
    """One platform's report on a subject."""

    reporter: ChecksumAddress
    reason: FraudReason | None
    """None when there never was a report."""
    evidence_cid: str
    timestamp: int
    active: bool


class FraudListClient(ContractClient):
    """Reports keyed by a subject's keyed hash; platforms write, anyone reads.

    A subject is a 32-byte keyed hash (:mod:`agora.privacy.keyed_hash`),
    never an identifier or a plain hash of one.
    """

    artifact_name = "FraudList"

    def report(
        self,
        subject: bytes,
        reason: FraudReason,
        evidence_cid: str,
        *,
        account: Account,
    ) -> TxHash:
        """Report ``subject``; ``account`` must be a PLATFORM member."""
        _check_subject(subject)
        if len(evidence_cid.encode()) > MAX_CID_BYTES:
            raise InvalidArgumentError(f"evidence CID exceeds {MAX_CID_BYTES} bytes")
        function = self.contract.functions.report(subject, int(reason), evidence_cid)
        return self._send(account, function)

    def withdraw(self, subject: bytes, *, account: Account) -> TxHash:
        """Withdraw ``account``'s own report on ``subject``."""
        _check_subject(subject)
        return self._send(account, self.contract.functions.withdraw(subject))

    def is_listed(self, subject: bytes) -> bool:
        """Whether any report on ``subject`` stands."""
        _check_subject(subject)
        return bool(self._call(self.contract.functions.isListed(subject)))

    def active_reports(self, subject: bytes) -> int:
        """How many platforms currently report ``subject``."""
        _check_subject(subject)
        return int(self._call(self.contract.functions.activeReports(subject)))

    def report_of(self, subject: bytes, reporter: ChecksumAddress) -> FraudReport:
        """``reporter``'s report on ``subject`` (inactive and empty if none)."""
        _check_subject(subject)
        reporter_, reason, cid, timestamp, active = self._call(
            self.contract.functions.reportOf(subject, reporter)
        )
        return FraudReport(
            reporter=reporter_,
            reason=FraudReason(reason) if reason else None,
            evidence_cid=cid,
            timestamp=timestamp,
            active=active,
        )


def _check_subject(subject: bytes) -> None:
    if len(subject) != 32:
        raise InvalidArgumentError(f"a subject is 32 bytes, not {len(subject)}")
