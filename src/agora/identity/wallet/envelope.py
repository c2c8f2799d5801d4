"""The encrypted wallet file: a scrypt-derived key and AES-256-GCM.

Layout, integers big-endian::

    magic    8 bytes   b"AGORAWLT"
    length   4 bytes   byte length of the header
    header   JSON      {"version", "kdf": {"name", "n", "r", "p", "salt"},
                        "cipher": {"name", "nonce"}}
    check   32 bytes   HMAC-SHA256(check key, CHECK_LABEL)
    sealed   …         AES-256-GCM ciphertext and its 16-byte tag
    digest  32 bytes   SHA-256 of everything above

Scrypt (RFC 7914) turns the password and the header's salt into 64 bytes:
the AES-256 key and a check key. The salt and the cost parameters live in the
header so that a later write can raise them. The magic, length and header are
the GCM associated data, so a changed header fails authentication.

Opening reports one failure per cause. The unkeyed digest catches truncation
and corruption anywhere; the check value tells a wrong password from a file
whose ciphertext or header was altered. An attacker who rewrites the salt
and recomputes the digest is indistinguishable from a wrong password; they
still cannot make a wallet open.
"""

import hashlib
import hmac
import json
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from agora.identity.keys import b64url_decode, b64url_encode
from agora.identity.wallet.errors import (
    FileRule,
    InvalidKdfParametersError,
    InvalidPasswordError,
    UnsupportedWalletVersionError,
    WalletTamperedError,
    WrongPasswordError,
)

MAGIC = b"AGORAWLT"
VERSION = 1
LENGTH_BYTES = 4
CHECK_BYTES = 32
DIGEST_BYTES = 32
TAG_BYTES = 16
CHECK_LABEL = b"agora-wallet/v1 password check"

KEY_BYTES = 32
"""AES-256 (FIPS 197) key length."""

NONCE_BYTES = 12
"""96-bit GCM nonces, random per write (NIST SP 800-38D §8.2.2); one key
stays well under the 2**32 random-nonce limit of §8.3 for a wallet."""

SALT_BYTES = 16
"""128-bit salts, the minimum of NIST SP 800-132 §5.1."""

MAX_SCRYPT_MEMORY = 2**30
"""Upper bound on scrypt's 128·n·r bytes (1 GiB): room for the scrypt
paper's file-encryption choice n=2**20, r=8, while a tampered header
cannot make opening exhaust memory."""

MAX_HEADER_BYTES = 4096


@dataclass(frozen=True)
class ScryptParameters:
    """Scrypt cost parameters (RFC 7914 §2).

    The default is the OWASP Password Storage Cheat Sheet's scrypt setting,
    n=2**17, r=8, p=1 (128 MiB, about 0.4 s). Tests pass tiny values;
    the bounds only stop a tampered header from exhausting memory.
    """

    n: int = 2**17
    r: int = 8
    p: int = 1

    def __post_init__(self) -> None:
        # RFC 7914 §2: n a power of two greater than 1; r, p positive.
        if self.n < 2 or self.n & (self.n - 1):
            raise InvalidKdfParametersError("scrypt n must be a power of two ≥ 2")
        if self.r < 1 or not 1 <= self.p <= 16:
            raise InvalidKdfParametersError("scrypt r must be ≥ 1 and p in 1..16")
        if 128 * self.n * self.r > MAX_SCRYPT_MEMORY:
            raise InvalidKdfParametersError("scrypt 128·n·r exceeds 1 GiB")


def normalize_password(password: str) -> bytes:
    """UTF-8 of the NFC form, as RFC 8265 §4.2 (OpaqueString) prepares
    passwords, so the same password typed on two systems opens the wallet."""
    if not password:
        raise InvalidPasswordError("password must not be empty")
    return unicodedata.normalize("NFC", password).encode("utf-8")


class SealingKey:
    """The AES key and password check derived from one password and salt.

    Kept by an open wallet so that writes need no new scrypt run; its
    ``repr`` shows only the parameters.
    """

    __slots__ = ("_check", "_encryption", "kdf", "salt")

    def __init__(self, password: bytes, kdf: ScryptParameters, salt: bytes) -> None:
        derived = Scrypt(
            salt=salt, length=2 * KEY_BYTES, n=kdf.n, r=kdf.r, p=kdf.p
        ).derive(password)
        self.kdf = kdf
        self.salt = salt
        self._encryption = derived[:KEY_BYTES]
        self._check = hmac.digest(derived[KEY_BYTES:], CHECK_LABEL, "sha256")

    @classmethod
    def fresh(cls, password: str, kdf: ScryptParameters) -> "SealingKey":
        """A key under a new random salt."""
        salt = secrets.token_bytes(SALT_BYTES)
        return cls(normalize_password(password), kdf, salt)

    def confirms(self, password: str) -> bool:
        """Whether ``password`` derives this key (one more scrypt run)."""
        again = SealingKey(normalize_password(password), self.kdf, self.salt)
        return self.matches(again.check)

    @property
    def check(self) -> bytes:
        """The password check value the file stores: not secret, since
        recomputing it costs a scrypt run, as a decryption attempt does."""
        return self._check

    def matches(self, check: bytes) -> bool:
        """Whether ``check`` is this key's password check, in constant time."""
        return hmac.compare_digest(self._check, check)

    def seal(self, plaintext: bytes) -> bytes:
        """The whole file for ``plaintext``, under a fresh nonce."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        header = json.dumps(
            {
                "version": VERSION,
                "kdf": {
                    "name": "scrypt",
                    "n": self.kdf.n,
                    "r": self.kdf.r,
                    "p": self.kdf.p,
                    "salt": b64url_encode(self.salt),
                },
                "cipher": {"name": "AES-256-GCM", "nonce": b64url_encode(nonce)},
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode("ascii")
        associated = MAGIC + len(header).to_bytes(LENGTH_BYTES, "big") + header

        sealed = AESGCM(self._encryption).encrypt(nonce, plaintext, associated)
        body = associated + self.check + sealed
        return body + hashlib.sha256(body).digest()

    def decrypt(self, nonce: bytes, sealed: bytes, associated: bytes) -> bytes:
        """Authenticate and decrypt; :class:`WalletTamperedError` on failure."""
        try:
            return AESGCM(self._encryption).decrypt(nonce, sealed, associated)
        except InvalidTag as exc:
            raise WalletTamperedError(
                FileRule.AUTHENTICATION, "ciphertext or header fails authentication"
            ) from exc

    def __repr__(self) -> str:
        return f"SealingKey({self.kdf!r})"


@dataclass(frozen=True)
class _Parsed:
    associated: bytes
    kdf: ScryptParameters
    salt: bytes
    nonce: bytes
    check: bytes
    sealed: bytes


def _split(data: bytes) -> _Parsed:
    """The file's parts; the digest is checked before the header is read."""
    prefix = len(MAGIC) + LENGTH_BYTES
    if len(data) < prefix:
        raise WalletTamperedError(FileRule.TRUNCATED, "shorter than its prefix")
    if data[: len(MAGIC)] != MAGIC:
        raise WalletTamperedError(FileRule.MAGIC, "not an Agora wallet file")
    header_length = int.from_bytes(data[len(MAGIC) : prefix], "big")
    if header_length > MAX_HEADER_BYTES:
        raise WalletTamperedError(FileRule.HEADER, "header length out of bounds")
    header_end = prefix + header_length
    if len(data) < header_end + CHECK_BYTES + TAG_BYTES + DIGEST_BYTES:
        raise WalletTamperedError(FileRule.TRUNCATED, "shorter than its header says")

    body, digest = data[:-DIGEST_BYTES], data[-DIGEST_BYTES:]
    if not hmac.compare_digest(hashlib.sha256(body).digest(), digest):
        raise WalletTamperedError(FileRule.CHECKSUM, "file digest does not match")

    header = _load_header(data[prefix:header_end])
    kdf, salt, nonce = _header_fields(header)
    return _Parsed(
        associated=data[:header_end],
        kdf=kdf,
        salt=salt,
        nonce=nonce,
        check=body[header_end : header_end + CHECK_BYTES],
        sealed=body[header_end + CHECK_BYTES :],
    )


def _load_header(raw: bytes) -> dict[str, Any]:
    try:
        header = json.loads(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise WalletTamperedError(FileRule.HEADER, "header is not JSON") from exc
    if not isinstance(header, dict):
        raise WalletTamperedError(FileRule.HEADER, "header is not an object")
    if header.get("version") != VERSION:
        raise UnsupportedWalletVersionError(
            f"wallet format version {header.get('version')!r}, expected {VERSION}"
        )
    return header


def _header_fields(header: dict[str, Any]) -> tuple[ScryptParameters, bytes, bytes]:
    kdf, cipher = header.get("kdf"), header.get("cipher")
    if not isinstance(kdf, dict) or kdf.get("name") != "scrypt":
        raise WalletTamperedError(FileRule.HEADER, "key derivation is not scrypt")
    if not isinstance(cipher, dict) or cipher.get("name") != "AES-256-GCM":
        raise WalletTamperedError(FileRule.HEADER, "cipher is not AES-256-GCM")

    n, r, p = (kdf.get(name) for name in ("n", "r", "p"))
    if type(n) is not int or type(r) is not int or type(p) is not int:
        raise WalletTamperedError(FileRule.KDF_PARAMETERS, "scrypt costs not integers")
    try:
        parameters = ScryptParameters(n=n, r=r, p=p)
    except InvalidKdfParametersError as exc:
        raise WalletTamperedError(FileRule.KDF_PARAMETERS, str(exc)) from exc

    salt = _header_bytes(kdf.get("salt"), "salt")
    nonce = _header_bytes(cipher.get("nonce"), "nonce")
    if len(salt) < SALT_BYTES or len(nonce) != NONCE_BYTES:
        raise WalletTamperedError(FileRule.HEADER, "salt or nonce of wrong length")
    return parameters, salt, nonce


def _header_bytes(value: Any, name: str) -> bytes:
    if not isinstance(value, str):
        raise WalletTamperedError(FileRule.HEADER, f"{name} is not a string")
    try:
        return b64url_decode(value)
    except ValueError as exc:
        raise WalletTamperedError(FileRule.HEADER, f"{name} not base64url") from exc


def unseal(data: bytes, password: str) -> tuple[bytes, SealingKey]:
    """The plaintext of a wallet file and the key that opened it.

    Raises :class:`WalletTamperedError` naming the failed check,
    :class:`UnsupportedWalletVersionError` or :class:`WrongPasswordError`.
    """
    parsed = _split(data)
    key = SealingKey(normalize_password(password), parsed.kdf, parsed.salt)
    if not key.matches(parsed.check):
        raise WrongPasswordError("the password does not open this wallet")
    return key.decrypt(parsed.nonce, parsed.sealed, parsed.associated), key
