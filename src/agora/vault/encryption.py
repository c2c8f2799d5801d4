"""Chunked AES-256-GCM for objects of any size, in constant memory.

The construction is the STREAM online AEAD of Hoang, Reyhanitabar, Rogaway
and Vizár ("Online Authenticated-Encryption and its Nonce-Reuse
Misuse-Resistance", CRYPTO 2015, §7): the plaintext is cut into segments of
:data:`SEGMENT_SIZE` bytes, each sealed under a nonce made of its index and
a flag set on the last one only. Every object has its own random data key,
so ``(index, last)`` never repeats under a key (NIST SP 800-38D §8.2.1,
deterministic construction). The associated data repeats the index and flag
and adds a format label and the object's random id, so a segment moved
within an object, moved from another object, dropped from the end, or
followed by extra segments does not authenticate where it is found.

A sealed segment is :data:`SEGMENT_SIZE` + 16 bytes = 256 KiB, one UnixFS
chunk, so ciphertext flows into :mod:`agora.vault.unixfs` without copying.

Example::

    >>> key, object_id = DataKey.generate(), new_object_id()
    >>> sealed = list(seal_segments(key, object_id, [b"record"]))
    >>> b"".join(open_segments(key, object_id, sealed))
    b'record'
"""

import hmac
import secrets
import struct
from collections.abc import Iterable, Iterator
from typing import NewType

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from agora.vault.errors import StreamRule, TamperedObjectError, WrongKeyError

TAG_SIZE = 16
SEGMENT_SIZE = 256 * 1024 - TAG_SIZE
"""Plaintext bytes per sealed segment; the last one may be shorter."""
SEALED_SEGMENT_SIZE = SEGMENT_SIZE + TAG_SIZE

KEY_SIZE = 32
"""AES-256 (FIPS 197)."""
OBJECT_ID_SIZE = 16

_LABEL = b"agora-vault/v1 segment"
_KEY_CHECK_LABEL = b"agora-vault/v1 key check"

ObjectId = NewType("ObjectId", bytes)
"""16 random bytes naming one encrypted object; bound into every segment."""


def new_object_id() -> ObjectId:
    """A fresh random object id."""
    return ObjectId(secrets.token_bytes(OBJECT_ID_SIZE))


class DataKey:
    """An object's AES-256 key. Its bytes never appear in a repr or a log."""

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes) -> None:
        if len(secret) != KEY_SIZE:
            raise WrongKeyError(f"a data key has {KEY_SIZE} bytes")
        self._secret = secret

    @classmethod
    def generate(cls) -> "DataKey":
        """A fresh random key from the OS CSPRNG."""
        return cls(secrets.token_bytes(KEY_SIZE))

    def unsafe_bytes(self) -> bytes:
        """The raw key, for wrapping it; never store or log the result."""
        return self._secret

    def key_check(self, object_id: ObjectId) -> bytes:
        """A commitment to this key for ``object_id``.

        GCM is not key-committing: stored beside the object, this value
        tells a wrong key from tampered data, and refuses a second key
        crafted to open the same ciphertext (Albertini et al., "How to
        Abuse and Fix Authenticated Encryption Without Key Commitment",
        USENIX Security 2022).
        """
        return hmac.digest(self._secret, _KEY_CHECK_LABEL + object_id, "sha256")

    def verify_key_check(self, object_id: ObjectId, expected: bytes) -> None:
        """Raise :class:`WrongKeyError` unless ``expected`` commits to us."""
        if not hmac.compare_digest(self.key_check(object_id), expected):
            raise WrongKeyError("the data key does not open this object")

    def __repr__(self) -> str:
        return "DataKey(<hidden>)"


def sealed_size(plaintext_size: int) -> int:
    """Bytes of ciphertext for ``plaintext_size`` bytes of plaintext."""
    segments = max(1, -(-plaintext_size // SEGMENT_SIZE))
    return plaintext_size + segments * TAG_SIZE


def seal_segments(
    key: DataKey, object_id: ObjectId, chunks: Iterable[bytes | memoryview]
) -> Iterator[bytes]:
    """Encrypt a plaintext stream given as ``chunks`` of any sizes.

    An empty stream gives one sealed, empty, last segment.
    """
    cipher = AESGCM(key.unsafe_bytes())
    for index, (segment, last) in enumerate(_segments(chunks, SEGMENT_SIZE)):
        nonce, aad = _nonce(index, last=last), _aad(object_id, index, last=last)
        yield cipher.encrypt(nonce, segment, aad)


def open_segments(
    key: DataKey, object_id: ObjectId, sealed: Iterable[bytes | memoryview]
) -> Iterator[bytes]:
    """Decrypt what :func:`seal_segments` produced, segment by segment.

    Raises :class:`TamperedObjectError` naming the rule a segment breaks,
    before that segment's plaintext is released.
    """
    cipher = AESGCM(key.unsafe_bytes())
    for index, (segment, last) in enumerate(_segments(sealed, SEALED_SEGMENT_SIZE)):
        if not segment:
            raise TamperedObjectError(StreamRule.TRUNCATED, "the object is empty")
        if len(segment) < TAG_SIZE:
            raise TamperedObjectError(
                StreamRule.LENGTH, f"segment {index} is shorter than a GCM tag"
            )
        yield _open(cipher, object_id, index, segment, last=last)


def _segments(
    chunks: Iterable[bytes | memoryview], size: int
) -> Iterator[tuple[bytes | memoryview, bool]]:
    """Re-cut ``chunks`` into ``size``-byte segments, flagging the last.

    One segment is held back until the next byte arrives, so the last one
    is known when it is yielded; it may be shorter, or empty if the stream
    is. Chunks of exactly ``size`` bytes pass through without a copy.
    """
    held: bytes | memoryview | None = None
    pending = bytearray()
    for chunk in chunks:
        if not len(chunk):
            continue
        if held is not None:
            yield held, False
            held = None
        if not pending and len(chunk) == size:
            held = chunk
            continue

        pending += chunk
        while len(pending) > size:
            yield bytes(pending[:size]), False
            del pending[:size]
    yield (held, True) if held is not None else (bytes(pending), True)


def _nonce(index: int, *, last: bool) -> bytes:
    # 96 bits: 64-bit segment index, 32-bit last-segment flag.
    return struct.pack(">QI", index, int(last))


def _aad(object_id: ObjectId, index: int, *, last: bool) -> bytes:
    return _LABEL + object_id + struct.pack(">QB", index, int(last))


def _open(
    cipher: AESGCM,
    object_id: ObjectId,
    index: int,
    segment: bytes | memoryview,
    *,
    last: bool,
) -> bytes:
    try:
        return cipher.decrypt(
            _nonce(index, last=last), segment, _aad(object_id, index, last=last)
        )
    except InvalidTag:
        pass

    # Name the rule: a segment that opens with the other flag was cut off
    # from, or extended past, the real end of the object.
    try:
        cipher.decrypt(
            _nonce(index, last=not last), segment, _aad(object_id, index, last=not last)
        )
    except InvalidTag:
        raise TamperedObjectError(
            StreamRule.AUTHENTICATION, f"segment {index} does not authenticate"
        ) from None
    if last:
        raise TamperedObjectError(
            StreamRule.TRUNCATED, f"object ends after segment {index}, not its last"
        )
    raise TamperedObjectError(
        StreamRule.EXTENDED, f"bytes follow segment {index}, the object's last"
    )
