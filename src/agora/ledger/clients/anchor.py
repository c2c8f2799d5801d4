"""Typed client of ``Anchor.vy``: Merkle roots of batches, one per transaction.

A writer (an active consortium member) anchors the root of any batch under
a ``kind``, a 32-byte topic of its choosing, such as
:func:`anchor_kind` ``("status-list:https://bank.example/status/1")``.
Readers ask for the latest anchor of a (writer, kind) pair, or walk its
history backwards through each record's ``previous`` id.
"""

from dataclasses import dataclass
from typing import NewType

from eth_typing import ChecksumAddress
from web3 import Web3
from web3.exceptions import Web3Exception

from agora.ledger.clients.base import ContractClient
from agora.ledger.errors import (
    ChainUnavailableError,
    InvalidArgumentError,
    LedgerError,
    NotFoundError,
)
from agora.ledger.model import Account

AnchorId = NewType("AnchorId", int)
"""An anchor's id on the contract; the first is 1, 0 means none."""

MAX_URI_BYTES = 256
"""Longest ``uri`` the contract accepts (``MAX_URI``), in UTF-8 bytes."""


@dataclass(frozen=True)
class AnchorRecord:
    """One anchored root: what, by whom, where the batch lives, and when."""

    anchor_id: AnchorId
    root: bytes
    kind: bytes
    writer: ChecksumAddress
    uri: str
    timestamp: int
    block_number: int
    previous: AnchorId
    """The writer's anchor of the same kind before this one; 0 if none."""


def anchor_kind(topic: str) -> bytes:
    """A ``kind`` for ``topic``: the Keccak-256 of its UTF-8 bytes, so that
    topics of any length (a status list's URL) fit the contract's bytes32."""
    return bytes(Web3.keccak(text=topic))


def _check_bytes32(value: bytes, what: str) -> None:
    if len(value) != 32:
        raise InvalidArgumentError(f"{what} must be 32 bytes, not {len(value)}")
    if value == bytes(32):
        raise InvalidArgumentError(f"{what} must not be all zeros")


class AnchorClient(ContractClient):
    """Anchored roots; members write, anyone reads."""

    artifact_name = "Anchor"

    def anchor(
        self, root: bytes, kind: bytes, uri: str, *, account: Account
    ) -> AnchorId:
        """Anchor ``root`` under ``kind`` as ``account``; returns the new id.

        The contract refuses a non-member (``"anchor: not a member"``).
        """
        _check_bytes32(root, "root")
        _check_bytes32(kind, "kind")
        if len(uri.encode()) > MAX_URI_BYTES:
            raise InvalidArgumentError(f"uri is longer than {MAX_URI_BYTES} bytes")

        function = self.contract.functions.anchor(root, kind, uri)
        receipt = self._transact(account, function)
        return AnchorId(self._event(receipt, "Anchored")["args"]["id"])

    def anchor_count(self) -> int:
        """How many anchors exist; the newest id."""
        return int(self._call(self.contract.functions.anchorCount()))

    def latest_id(self, writer: ChecksumAddress, kind: bytes) -> AnchorId:
        """Id of ``writer``'s latest anchor of ``kind``; 0 if none."""
        return AnchorId(int(self._call(self.contract.functions.latestId(writer, kind))))

    def get(self, anchor_id: AnchorId) -> AnchorRecord:
        """The anchor ``anchor_id``; :class:`NotFoundError` if there is none."""
        if not 0 < anchor_id <= self.anchor_count():
            raise NotFoundError(f"no anchor {anchor_id}")
        root, kind, writer, uri, timestamp, block_number, previous = self._call(
            self.contract.functions.getAnchor(anchor_id)
        )
        return AnchorRecord(
            anchor_id=anchor_id,
            root=bytes(root),
            kind=bytes(kind),
            writer=Web3.to_checksum_address(writer),
            uri=uri,
            timestamp=timestamp,
            block_number=block_number,
            previous=AnchorId(previous),
        )

    def latest(self, writer: ChecksumAddress, kind: bytes) -> AnchorRecord:
        """``writer``'s latest anchor of ``kind``; :class:`NotFoundError` if
        it never anchored one."""
        anchor_id = self.latest_id(writer, kind)
        if anchor_id == 0:
            raise NotFoundError(f"{writer} has anchored nothing of that kind")
        return self.get(anchor_id)

    def history(self, writer: ChecksumAddress, kind: bytes) -> list[AnchorRecord]:
        """Every anchor of ``writer`` and ``kind``, oldest first."""
        records: list[AnchorRecord] = []
        anchor_id = self.latest_id(writer, kind)
        while anchor_id != 0:
            record = self.get(anchor_id)
            records.append(record)
            anchor_id = record.previous
        return records[::-1]

    def of_kind(self, kind: bytes) -> list[AnchorRecord]:
        """Every anchor of ``kind``, by any writer, oldest first (read from
        the ``Anchored`` events, whose ``kind`` is indexed)."""
        _check_bytes32(kind, "kind")
        try:
            events = self.contract.events.Anchored.get_logs(
                from_block=0, argument_filters={"kind": kind}
            )
        except OSError as exc:
            # requests' connection errors derive from OSError.
            raise ChainUnavailableError(f"reading logs failed: {exc}") from exc
        except Web3Exception as exc:
            raise LedgerError(f"reading logs failed: {exc}") from exc
        ids = sorted(AnchorId(int(event["args"]["id"])) for event in events)
        return [self.get(anchor_id) for anchor_id in ids]
