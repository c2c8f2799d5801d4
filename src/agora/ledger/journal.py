"""A persistent embedded chain: its signed transactions, replayed on open.

The embedded EVM lives in memory, so each ``agora`` invocation would start
from an empty chain. For commands that build on each other (create a DID,
then rotate it; issue a credential, then revoke it) the chain is kept as a
journal: the genesis time, then every mined transaction's raw signed bytes
with its block time, hash and status. Opening the journal starts a fresh
embedded chain from the same genesis and sends each transaction again at
its recorded block time; accounts, contracts and storage come out the same.
A replay that diverges (another py-evm, an edited file) is refused.

One process at a time: the journal is locked while a chain uses it.
"""

import fcntl
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from agora.ledger.errors import LedgerError

logger = logging.getLogger(__name__)

FORMAT = 1


class JournalError(LedgerError):
    """The journal cannot be used: locked, unreadable, or it does not replay."""


@dataclass(frozen=True)
class JournalEntry:
    """One mined transaction as first sent."""

    timestamp: int
    raw: bytes
    tx_hash: str
    status: int

    def to_line(self) -> str:
        return json.dumps(
            {
                "t": self.timestamp,
                "tx": self.raw.hex(),
                "hash": self.tx_hash,
                "status": self.status,
            }
        )

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> "JournalEntry":
        return cls(
            timestamp=int(value["t"]),
            raw=bytes.fromhex(value["tx"]),
            tx_hash=str(value["hash"]),
            status=int(value["status"]),
        )


class ChainJournal:
    """An open, locked journal file. Use :meth:`open`; :meth:`close` when done."""

    def __init__(self, path: Path, handle: IO[str], genesis_timestamp: int) -> None:
        self.path = path
        self.genesis_timestamp = genesis_timestamp
        self._handle = handle
        self._entries: list[JournalEntry] = []

    @classmethod
    def open(cls, path: Path) -> "ChainJournal":
        """Lock and read the journal at ``path``, creating it if absent."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = path.open("a+", encoding="utf-8")
        except OSError as exc:
            raise JournalError(f"cannot open the chain journal {path}: {exc}") from exc
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise JournalError(
                f"the local chain {path} is in use by another agora process"
            ) from None

        handle.seek(0)
        text = handle.read()
        if text and not text.endswith("\n"):
            # A last line cut short by a crash: its transaction died with the
            # process's in-memory chain, so dropping it is consistent.
            logger.warning("dropping a torn last entry of %s", path)
            text = text[: text.rfind("\n") + 1]
            handle.truncate(len(text.encode()))
        lines = text.split("\n")
        if lines == [""]:
            genesis = int(time.time()) - 1
            handle.write(json.dumps({"format": FORMAT, "genesis": genesis}) + "\n")
            _sync(handle)
            return cls(path, handle, genesis)
        journal = cls(path, handle, _header(lines[0], path))
        journal._entries = _entries(lines[1:], path)
        return journal

    @property
    def entries(self) -> tuple[JournalEntry, ...]:
        """The recorded transactions, oldest first."""
        return tuple(self._entries)

    def append(self, entry: JournalEntry) -> None:
        """Record one mined transaction, durably, before anyone relies on it."""
        self._handle.write(entry.to_line() + "\n")
        _sync(self._handle)
        self._entries.append(entry)

    def close(self) -> None:
        """Release the lock."""
        self._handle.close()


def _sync(handle: IO[str]) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def _header(line: str, path: Path) -> int:
    try:
        header = json.loads(line)
        if header["format"] != FORMAT:
            raise JournalError(f"{path} is journal format {header['format']}")
        return int(header["genesis"])
    except (ValueError, KeyError, TypeError) as exc:
        raise JournalError(f"{path} is not a chain journal") from exc


def _entries(lines: list[str], path: Path) -> list[JournalEntry]:
    entries = []
    for number, line in enumerate(lines, start=2):
        if not line:
            continue
        try:
            entries.append(JournalEntry.from_json(json.loads(line)))
        except (ValueError, KeyError, TypeError) as exc:
            raise JournalError(f"{path} line {number} is corrupt") from exc
    return entries
