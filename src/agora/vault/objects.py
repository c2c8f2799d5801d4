"""Encrypted objects: the safe recipes for putting and getting a blob.

An object is two things in the blockstore:

- its ciphertext, a UnixFS file (:mod:`agora.vault.unixfs`) of sealed
  segments (:mod:`agora.vault.encryption`);
- its envelope, a raw block of canonical JSON naming the ciphertext's CID,
  the object id, the plaintext size, the data key wrapped to the owner with
  Umbral (:mod:`agora.vault.reencryption`) and a commitment to that key.

The envelope's CID is the object's address. It binds everything: whoever
holds it (from the chain, say) gets exactly these bytes or an integrity
error. Plaintext and the data key never leave the owner's process; only
ciphertext, the capsule and the wrapped key are stored.

Example::

    >>> import io, tempfile
    >>> from pathlib import Path
    >>> from agora.vault.blockstore import BlockStore
    >>> from agora.vault.reencryption import SecretKey
    >>> folder = Path(tempfile.mkdtemp())
    >>> store, owner = BlockStore(folder / "blocks"), SecretKey.random()
    >>> cid = put_encrypted(store, io.BytesIO(b"x-ray"), owner.public_key())
    >>> get_decrypted(store, cid, owner, folder / "out")
    5
    >>> (folder / "out").read_bytes()
    b'x-ray'
"""

import base64
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agora.vault.blockstore import RAW, BlockBackend, BlockRef, Cid, parse_block_ref
from agora.vault.encryption import (
    SEGMENT_SIZE,
    DataKey,
    ObjectId,
    new_object_id,
    open_segments,
    seal_segments,
    sealed_size,
)
from agora.vault.errors import (
    EnvelopeError,
    StreamRule,
    TamperedObjectError,
    WrongKeyError,
)
from agora.vault.reencryption import (
    PublicKey,
    SecretKey,
    WrappedKey,
    unwrap_data_key,
    wrap_data_key,
)
from agora.vault.unixfs import FileWriter, read_file

logger = logging.getLogger(__name__)

FORMAT = "agora-vault/v1"


class Envelope(BaseModel):
    """What an encrypted object's address resolves to (wire format, JSON)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["agora-vault/v1"]
    object_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    ciphertext: str
    """CIDv1 of the UnixFS file of sealed segments."""
    size: int = Field(ge=0)
    """Plaintext size in bytes."""
    owner: str = Field(pattern=r"^0[23][0-9a-f]{64}$")
    """The owner's Umbral public key (compressed SEC1, hex): the delegating
    key that key and capsule fragments are checked against."""
    capsule: str = Field(repr=False)
    wrapped_key: str = Field(repr=False)
    key_check: str = Field(repr=False)

    @field_validator("ciphertext")
    @classmethod
    def _ciphertext_is_a_cid(cls, value: str) -> str:
        return parse_block_ref(value).cid  # InvalidCidError is a ValueError

    @field_validator("owner")
    @classmethod
    def _owner_is_a_curve_point(cls, value: str) -> str:
        PublicKey.from_compressed_bytes(bytes.fromhex(value))  # ValueError if not
        return value

    @property
    def id_bytes(self) -> ObjectId:
        """The object id as bound into every segment."""
        return ObjectId(bytes.fromhex(self.object_id))

    @property
    def owner_key(self) -> PublicKey:
        """The owner's public key."""
        return PublicKey.from_compressed_bytes(bytes.fromhex(self.owner))

    @property
    def wrapped(self) -> WrappedKey:
        """The data key wrapped to the owner."""
        return WrappedKey(_unb64(self.capsule), _unb64(self.wrapped_key))

    def canonical_json(self) -> bytes:
        """Sorted keys, no spaces: the same envelope, the same CID."""
        fields = self.model_dump()
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise EnvelopeError("an envelope field is not valid base64") from exc


def put_encrypted(store: BlockBackend, source: BinaryIO, owner: PublicKey) -> Cid:
    """Encrypt ``source`` for ``owner`` into ``store``; return the object's CID.

    Reads ``source`` one segment at a time: memory stays flat for any size.
    """
    data_key, object_id = DataKey.generate(), new_object_id()

    # Ciphertext first: its CID goes into the envelope.
    reader = _CountingReader(source)
    writer = FileWriter(store)
    for sealed in seal_segments(data_key, object_id, reader.chunks()):
        writer.write(sealed)
    root = writer.close()
    size = reader.size

    wrapped = wrap_data_key(owner, data_key)
    envelope = Envelope(
        format=FORMAT,
        object_id=object_id.hex(),
        ciphertext=root.cid,
        size=size,
        owner=owner.to_compressed_bytes().hex(),
        capsule=_b64(wrapped.capsule),
        wrapped_key=_b64(wrapped.ciphertext),
        key_check=_b64(data_key.key_check(object_id)),
    )
    block = envelope.canonical_json()
    ref = BlockRef.of(RAW, block)
    store.put_block(ref, block)
    store.pin(ref)
    logger.info("stored object %s (%d bytes, ciphertext %s)", ref.cid, size, root.cid)
    return ref.cid


class _CountingReader:
    """A binary stream read one segment at a time, counting the bytes."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self.size = 0

    def chunks(self) -> Iterator[bytes]:
        while chunk := self._source.read(SEGMENT_SIZE):
            self.size += len(chunk)
            yield chunk


def read_envelope(store: BlockBackend, cid: str) -> Envelope:
    """The verified envelope of object ``cid``."""
    ref = parse_block_ref(cid)
    if ref.codec != RAW:
        raise EnvelopeError(f"{cid} is not an envelope (a raw block)")
    try:
        return Envelope.model_validate_json(store.get_block(ref))
    except ValidationError as exc:
        raise EnvelopeError(f"{ref.cid} is not a {FORMAT} envelope") from exc


def owner_data_key(envelope: Envelope, owner: SecretKey) -> DataKey:
    """The owner's data key for ``envelope``, checked against its commitment."""
    if owner.public_key().to_compressed_bytes().hex() != envelope.owner:
        raise WrongKeyError("this secret key is not the object owner's")
    data_key = unwrap_data_key(owner, envelope.wrapped)
    data_key.verify_key_check(envelope.id_bytes, _unb64(envelope.key_check))
    return data_key


def stream_decrypted(
    store: BlockBackend, envelope: Envelope, data_key: DataKey
) -> Iterator[bytes]:
    """The plaintext of ``envelope``'s object, segment by segment.

    Every segment is verified before it is yielded, but a failure in a
    later segment comes after earlier ones were released: a caller that
    writes them out must discard the output on error, as
    :func:`decrypt_to_file` does.
    """
    data_key.verify_key_check(envelope.id_bytes, _unb64(envelope.key_check))
    expected = sealed_size(envelope.size)
    produced = 0
    for segment in open_segments(
        data_key, envelope.id_bytes, read_file(store, envelope.ciphertext)
    ):
        produced += len(segment)
        yield segment
    if produced != envelope.size:
        raise TamperedObjectError(
            StreamRule.LENGTH,
            f"{produced} bytes decrypted, the envelope declares {envelope.size}"
            f" ({expected} sealed)",
        )


def decrypt_to_file(
    store: BlockBackend, envelope: Envelope, data_key: DataKey, destination: Path
) -> int:
    """Decrypt into ``destination``, which appears only if all of it verified.

    Returns the number of plaintext bytes written.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=destination.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as sink:
            written = 0
            for segment in stream_decrypted(store, envelope, data_key):
                written += sink.write(segment)
        Path(temporary).replace(destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return written


def get_decrypted(
    store: BlockBackend, cid: str, owner: SecretKey, destination: Path
) -> int:
    """The owner's read of object ``cid`` into ``destination``.

    Raises a :class:`~agora.vault.errors.VaultError` (wrong key, tampered or
    missing blocks …) with nothing written at ``destination``.
    """
    envelope = read_envelope(store, cid)
    return decrypt_to_file(
        store, envelope, owner_data_key(envelope, owner), destination
    )
