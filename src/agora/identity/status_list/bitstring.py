"""The bitstring of W3C Bitstring Status List v1.0 and its encoding.

One bit per credential (``statusSize`` 1): index 0 is the left-most bit of
the first byte (§3.2). The encoded form, ``encodedList``, is the bitstring
GZIP-compressed, then base64url-encoded without padding, with the multibase
prefix ``u`` (§2.1).
"""

import base64
import gzip
import re
import zlib
from enum import StrEnum

from agora.identity.status_list.errors import (
    MalformedStatusListError,
    StatusIndexError,
    StatusRule,
)

MIN_ENTRIES = 131_072
"""The smallest list (16 KiB): §6.1 sets it for herd privacy."""

MAX_ENTRIES = 1 << 27
"""The largest list read (16 MiB): a bound on what a GZIP bomb can inflate."""

_MULTIBASE_BASE64URL = "u"
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


class StatusPurpose(StrEnum):
    """What a set bit means (§2.1 ``statusPurpose``)."""

    REVOCATION = "revocation"
    """Cancelled for good: a set bit is never cleared."""

    SUSPENSION = "suspension"
    """Held temporarily: a set bit may be cleared again."""


def _check_size(size: int) -> None:
    if size < MIN_ENTRIES or size > MAX_ENTRIES or size % 8:
        raise MalformedStatusListError(
            StatusRule.LENGTH,
            f"a list has a multiple of 8 entries from {MIN_ENTRIES} to "
            f"{MAX_ENTRIES}, not {size}",
        )


class Bitstring:
    """A fixed-size list of status bits, all clear to begin with. ::

    >>> bits = Bitstring()
    >>> bits.set(7)
    >>> bits.get(7), bits.get(8)
    (True, False)
    >>> Bitstring.decode(bits.encode()) == bits
    True
    """

    def __init__(self, size: int = MIN_ENTRIES) -> None:
        _check_size(size)
        self._bits = bytearray(size // 8)

    @property
    def size(self) -> int:
        """How many entries the list holds."""
        return len(self._bits) * 8

    def _locate(self, index: int) -> tuple[int, int]:
        if not 0 <= index < self.size:
            raise StatusIndexError(index, self.size)
        # §3.2: index 0 is the left-most (most significant) bit.
        return index // 8, 0x80 >> (index % 8)

    def get(self, index: int) -> bool:
        """Whether the bit at ``index`` is set."""
        offset, mask = self._locate(index)
        return bool(self._bits[offset] & mask)

    def set(self, index: int, value: bool = True) -> None:
        """Set (or, with ``value=False``, clear) the bit at ``index``."""
        offset, mask = self._locate(index)
        if value:
            self._bits[offset] |= mask
        else:
            self._bits[offset] &= ~mask & 0xFF

    def is_subset_of(self, other: "Bitstring") -> bool:
        """Whether every bit set here is set in ``other`` (same size)."""
        if self.size != other.size:
            return False
        mine = int.from_bytes(self._bits, "big")
        return mine & ~int.from_bytes(other._bits, "big") == 0

    def encode(self) -> str:
        """``encodedList``: multibase base64url (no padding) of the GZIP."""
        # mtime=0 makes the output, and so the anchored hash, reproducible.
        compressed = gzip.compress(bytes(self._bits), mtime=0)
        text = base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")
        return _MULTIBASE_BASE64URL + text

    @classmethod
    def decode(cls, encoded: str) -> "Bitstring":
        """Parse an ``encodedList``; :class:`MalformedStatusListError` names
        the rule it breaks."""
        compressed = _decode_base64url(encoded)
        raw = _gunzip(compressed)
        bits = cls.__new__(cls)
        _check_size(len(raw) * 8)
        bits._bits = bytearray(raw)
        return bits

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Bitstring) and self._bits == other._bits

    def __hash__(self) -> int:
        return hash(bytes(self._bits))

    def __repr__(self) -> str:
        return f"Bitstring(size={self.size})"


def _decode_base64url(encoded: str) -> bytes:
    if not encoded.startswith(_MULTIBASE_BASE64URL):
        raise MalformedStatusListError(
            StatusRule.MULTIBASE, "encodedList must carry the multibase prefix 'u'"
        )
    text = encoded[1:]
    if not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        raise MalformedStatusListError(
            StatusRule.BASE64URL, "encodedList is not unpadded base64url"
        )
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    # One spelling per value: stray low bits in the last character would
    # give a second encoding, and so a second hash, of the same list.
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii") != text:
        raise MalformedStatusListError(
            StatusRule.BASE64URL, "encodedList is not canonical base64url"
        )
    return data


def _gunzip(compressed: bytes) -> bytes:
    # wbits=31: a GZIP member (RFC 1952), header and CRC checked by zlib.
    inflater = zlib.decompressobj(wbits=31)
    try:
        raw = inflater.decompress(compressed, MAX_ENTRIES // 8 + 1)
    except zlib.error as exc:
        raise MalformedStatusListError(
            StatusRule.GZIP, "encodedList is not GZIP data"
        ) from exc
    if len(raw) > MAX_ENTRIES // 8:
        raise MalformedStatusListError(
            StatusRule.LENGTH, f"list inflates past {MAX_ENTRIES} entries"
        )
    if not inflater.eof or inflater.unused_data:
        raise MalformedStatusListError(
            StatusRule.GZIP, "encodedList is not exactly one complete GZIP member"
        )
    return raw
