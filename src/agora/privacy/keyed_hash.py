"""Keyed hashes of identity numbers: the only form one leaves a platform in.

A national identity number has a few billion possible values at most, so a
plain hash of it is reversed by trying them all. The consortium's platforms
share a 256-bit key instead and use HMAC-SHA256 under it (RFC 2104): the
fraud list and the multi-lending filters hold these, and only key holders
can link a number to its hash. The key is distributed off chain (in a
deployment, wrapped to each platform's key); it never reaches the ledger,
a log or an error. ::

    >>> key = SubjectKey.generate()
    >>> key.subject("a123456789") == key.subject(" A123456789 ")
    True
    >>> len(key.subject("A123456789"))
    32
"""

import hashlib
import hmac
import secrets

KEY_BYTES = 32


class SubjectKey:
    """The consortium's HMAC key for subjects; its ``repr`` hides it."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a subject key is {KEY_BYTES} bytes")
        self._key = key

    @classmethod
    def generate(cls) -> "SubjectKey":
        """A fresh random key."""
        return cls(secrets.token_bytes(KEY_BYTES))

    def subject(self, identifier: str) -> bytes:
        """The 32-byte keyed hash of ``identifier``, normalised first
        (surrounding spaces dropped, letters upper-cased)."""
        normalised = identifier.strip().upper().encode("utf-8")
        return hmac.new(self._key, normalised, hashlib.sha256).digest()

    def __repr__(self) -> str:
        return "SubjectKey(<hidden>)"
