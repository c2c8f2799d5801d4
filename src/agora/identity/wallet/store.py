"""The holder's wallet: key pairs and SD-JWT VCs in one encrypted file.

Every change is written at once, atomically (a temporary file in the same
folder, flushed and renamed over the old one), and takes effect in memory
only after the write succeeded, so a failed write leaves both the file and
the open wallet as they were.
"""

import contextlib
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agora.identity.did_key import did_key_from_key_pair
from agora.identity.document import Did
from agora.identity.errors import InvalidKeyError
from agora.identity.keys import Jwk, KeyPair, KeyType, PublicKey
from agora.identity.sdjwt import HeldCredential, SigningKey, VerificationError
from agora.identity.sdjwt.errors import PresentationError
from agora.identity.sdjwt.payload import reconstruct_claims
from agora.identity.wallet.envelope import ScryptParameters, SealingKey, unseal
from agora.identity.wallet.errors import (
    DuplicateCredentialError,
    DuplicateKeyError,
    FileRule,
    InvalidCredentialError,
    NoHolderKeyError,
    UnknownCredentialError,
    UnknownKeyError,
    WalletExistsError,
    WalletNotFoundError,
    WalletStorageError,
    WalletTamperedError,
    WrongPasswordError,
)

logger = logging.getLogger(__name__)

Clock = Callable[[], float]


class _KeyEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    did: str
    jwk: dict[str, str] = Field(repr=False)
    added_at: int


class _CredentialEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    sd_jwt: str = Field(repr=False)
    issuer: str
    vct: str
    issued_at: int | None
    not_before: int | None
    expires_at: int | None
    added_at: int
    claim_names: tuple[str, ...]


class _Contents(BaseModel):
    """The decrypted wallet, as stored (a wire payload, hence Pydantic)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    keys: tuple[_KeyEntry, ...] = ()
    credentials: tuple[_CredentialEntry, ...] = ()


@dataclass(frozen=True)
class CredentialSummary:
    """What the wallet lists about a credential: metadata, no claim values."""

    id: str
    issuer: str
    vct: str
    issued_at: int | None
    not_before: int | None
    expires_at: int | None
    added_at: int
    claim_names: tuple[str, ...]

    @classmethod
    def _of(cls, entry: _CredentialEntry) -> "CredentialSummary":
        return cls(**entry.model_dump(exclude={"sd_jwt"}))


def credential_id(sd_jwt: str) -> str:
    """A credential's wallet id: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(sd_jwt.encode("ascii")).hexdigest()[:16]


def _optional_int(payload: dict[str, Any], name: str) -> int | None:
    value = payload.get(name)
    if value is None:
        return None
    if type(value) is not int:
        raise InvalidCredentialError(f"credential claim {name!r} is not an integer")
    return value


def _write_atomically(path: Path, data: bytes, *, replace: bool) -> None:
    """Write ``data`` to ``path`` through a flushed temporary file.

    ``replace=False`` links instead of renaming, which fails if ``path``
    appeared meanwhile, so ``create`` never overwrites a wallet.
    """
    descriptor, name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if replace:
            temporary.replace(path)
        else:
            path.hardlink_to(temporary)
    except FileExistsError as exc:
        raise WalletExistsError(f"a file already exists at {path}") from exc
    except OSError as exc:
        raise WalletStorageError(f"could not write the wallet at {path}") from exc
    finally:
        temporary.unlink(missing_ok=True)

    # The rename is durable once the folder entry is (POSIX fsync(2)).
    with contextlib.suppress(OSError):
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def _check_keys(contents: _Contents) -> None:
    """Every stored key loads and is the key of the DID it is stored under."""
    for entry in contents.keys:
        try:
            matches = did_key_from_key_pair(KeyPair.from_jwk(entry.jwk)) == entry.did
        except InvalidKeyError as exc:
            raise WalletTamperedError(
                FileRule.CONTENTS, "a stored key does not load"
            ) from exc
        if not matches:
            raise WalletTamperedError(
                FileRule.CONTENTS, "a stored key is not its DID's key"
            )


class Wallet:
    """Holder key pairs and SD-JWT VCs, encrypted at rest under a password.

    Open one with :meth:`create` or :meth:`open`; every change is saved
    before the method returns. ``clock`` (epoch seconds) stamps added
    entries and Key Binding JWTs. Neither ``repr`` nor any error shows a
    key, a credential or the password.
    """

    def __init__(
        self, path: Path, key: SealingKey, contents: _Contents, clock: Clock
    ) -> None:
        self._path = path
        self._key = key
        self._contents = contents
        self._clock = clock

    # Opening

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        password: str,
        *,
        kdf: ScryptParameters | None = None,
        clock: Clock = time.time,
    ) -> "Wallet":
        """A new, empty wallet at ``path``; refuses to overwrite a file.

        ``kdf`` defaults to :class:`ScryptParameters`' OWASP setting.
        """
        target = Path(path)
        if target.exists():
            raise WalletExistsError(f"a file already exists at {target}")
        key = SealingKey.fresh(password, kdf or ScryptParameters())
        wallet = cls(target, key, _Contents(), clock)
        _write_atomically(target, wallet._sealed(wallet._contents), replace=False)
        logger.info("created wallet %s", target)
        return wallet

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], password: str, *, clock: Clock = time.time
    ) -> "Wallet":
        """Decrypt the wallet at ``path``.

        Raises :class:`WrongPasswordError`, :class:`WalletTamperedError`
        (its ``rule`` names the failed check), :class:`WalletNotFoundError`
        or :class:`UnsupportedWalletVersionError`; never returns a partial
        or empty wallet in their place.
        """
        target = Path(path)
        try:
            data = target.read_bytes()
        except FileNotFoundError as exc:
            raise WalletNotFoundError(f"no wallet at {target}") from exc
        except OSError as exc:
            raise WalletStorageError(f"could not read the wallet at {target}") from exc

        plaintext, key = unseal(data, password)
        try:
            contents = _Contents.model_validate_json(plaintext)
        except ValidationError as exc:
            # Authentic yet malformed: written by a broken or foreign writer.
            raise WalletTamperedError(
                FileRule.CONTENTS, "decrypted contents are malformed"
            ) from exc
        _check_keys(contents)
        return cls(target, key, contents, clock)

    @property
    def path(self) -> Path:
        """Where the wallet file lives."""
        return self._path

    # Saving

    def _sealed(self, contents: _Contents) -> bytes:
        return self._key.seal(contents.model_dump_json().encode("utf-8"))

    def _commit(self, contents: _Contents) -> None:
        _write_atomically(self._path, self._sealed(contents), replace=True)
        self._contents = contents

    def change_password(
        self, current: str, new: str, *, kdf: ScryptParameters | None = None
    ) -> None:
        """Re-encrypt under ``new`` with a fresh salt (and ``kdf``, to raise
        the cost; the current parameters by default).

        Raises :class:`WrongPasswordError` when ``current`` is wrong.
        """
        if not self._key.confirms(current):
            raise WrongPasswordError("the current password is wrong")
        new_key = SealingKey.fresh(new, kdf or self._key.kdf)
        plaintext = self._contents.model_dump_json().encode("utf-8")
        _write_atomically(self._path, new_key.seal(plaintext), replace=True)
        self._key = new_key
        logger.info("changed the password of wallet %s", self._path)

    # Keys

    def add_key(self, pair: KeyPair) -> Did:
        """Store ``pair`` under its did:key and return the DID."""
        did = did_key_from_key_pair(pair)
        if any(entry.did == did for entry in self._contents.keys):
            raise DuplicateKeyError(f"{did} is already in the wallet")
        entry = _KeyEntry(did=did, jwk=pair.private_jwk(), added_at=self._now())
        self._commit(
            self._contents.model_copy(update={"keys": (*self._contents.keys, entry)})
        )
        return did

    def new_did(self, key_type: KeyType = KeyType.ED25519) -> Did:
        """Generate a key pair of ``key_type``, store it, return its did:key."""
        return self.add_key(KeyPair.generate(key_type))

    def dids(self) -> tuple[Did, ...]:
        """The DIDs whose keys the wallet holds, oldest first."""
        return tuple(Did(entry.did) for entry in self._contents.keys)

    def key_pair(self, did: str) -> KeyPair:
        """The key pair of ``did``; raises :class:`UnknownKeyError`."""
        for entry in self._contents.keys:
            if entry.did == did:
                return KeyPair.from_jwk(entry.jwk)
        raise UnknownKeyError(f"no key for {did} in the wallet")

    def public_jwk(self, did: str) -> Jwk:
        """The public JWK of ``did``, for an issuer's ``cnf`` claim."""
        return self.key_pair(did).public_key.to_jwk()

    # Credentials

    def add_credential(self, sd_jwt: str) -> CredentialSummary:
        """Store an issued SD-JWT VC (``<JWT>~<disclosure>~…~``).

        The issuer's signature is not checked here; verifiers check it.
        Raises :class:`InvalidCredentialError` or
        :class:`DuplicateCredentialError`.
        """
        try:
            held = HeldCredential.parse_unverified(sd_jwt)
        except PresentationError as exc:
            raise InvalidCredentialError("not a well-formed SD-JWT") from exc
        identifier = credential_id(sd_jwt)
        if any(entry.id == identifier for entry in self._contents.credentials):
            raise DuplicateCredentialError(f"credential {identifier} is already held")

        issuer, vct = held.payload.get("iss"), held.payload.get("vct")
        if not isinstance(issuer, str) or not isinstance(vct, str):
            raise InvalidCredentialError("credential lacks string 'iss' and 'vct'")
        entry = _CredentialEntry(
            id=identifier,
            sd_jwt=sd_jwt,
            issuer=issuer,
            vct=vct,
            issued_at=_optional_int(held.payload, "iat"),
            not_before=_optional_int(held.payload, "nbf"),
            expires_at=_optional_int(held.payload, "exp"),
            added_at=self._now(),
            claim_names=tuple(sorted(held.claim_names)),
        )
        credentials = (*self._contents.credentials, entry)
        self._commit(self._contents.model_copy(update={"credentials": credentials}))
        logger.info("added credential %s of type %s", identifier, vct)
        return CredentialSummary._of(entry)

    def credentials(self) -> tuple[CredentialSummary, ...]:
        """Metadata of every credential, oldest first; no claim values."""
        return tuple(CredentialSummary._of(e) for e in self._contents.credentials)

    def _entry(self, identifier: str) -> _CredentialEntry:
        for entry in self._contents.credentials:
            if entry.id == identifier:
                return entry
        raise UnknownCredentialError(f"no credential {identifier} in the wallet")

    def show_unverified(self, identifier: str) -> dict[str, Any]:
        """All claims of one credential, as its own disclosures state them.

        Unverified: the issuer's signature, validity and status are not
        checked. For the holder's eyes; a verifier must never rely on it.
        """
        held = HeldCredential.parse_unverified(self._entry(identifier).sd_jwt)
        try:
            return reconstruct_claims(held.payload, held.disclosures)
        except VerificationError as exc:
            raise InvalidCredentialError(
                f"credential disclosures are inconsistent ({exc.rule})"
            ) from exc

    def present(
        self, identifier: str, claims: Iterable[str], *, nonce: str, audience: str
    ) -> str:
        """A presentation of ``claims`` from one credential, key-bound with
        the wallet key its ``cnf`` names to ``nonce`` and ``audience``.

        Raises :class:`UnknownCredentialError`, :class:`NoHolderKeyError`,
        or :class:`~agora.identity.sdjwt.PresentationError` for a claim the
        credential lacks.
        """
        held = HeldCredential.parse_unverified(self._entry(identifier).sd_jwt)
        holder = self._holder_key(held.payload)
        return held.present(
            claims,
            holder_key=SigningKey(holder.private_jwk()),
            nonce=nonce,
            audience=audience,
            clock=self._clock,
        )

    def _holder_key(self, payload: dict[str, Any]) -> KeyPair:
        confirmation = payload.get("cnf")
        jwk = confirmation.get("jwk") if isinstance(confirmation, dict) else None
        try:
            wanted = PublicKey.from_jwk(jwk) if isinstance(jwk, dict) else None
        except InvalidKeyError:
            wanted = None
        for entry in self._contents.keys:
            pair = KeyPair.from_jwk(entry.jwk)
            if wanted is not None and pair.public_key == wanted:
                return pair
        raise NoHolderKeyError("no wallet key matches the credential's cnf key")

    def delete_credential(self, identifier: str) -> None:
        """Remove one credential; raises :class:`UnknownCredentialError`."""
        entry = self._entry(identifier)
        remaining = tuple(e for e in self._contents.credentials if e is not entry)
        self._commit(self._contents.model_copy(update={"credentials": remaining}))
        logger.info("deleted credential %s", identifier)

    def _now(self) -> int:
        return int(self._clock())

    def __repr__(self) -> str:
        return (
            f"Wallet({str(self._path)!r}, keys={len(self._contents.keys)}, "
            f"credentials={len(self._contents.credentials)})"
        )
