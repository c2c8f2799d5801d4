"""Content-addressed blocks under IPFS-compatible CIDs, verified on read.

The embedded deployment keeps blocks in a folder (DESIGN.md: "content-addressed
folder on disk"); the grown-up one uses a Kubo node (:mod:`agora.vault.kubo`).
Both take the same blocks under the same CIDs, so a CID written on chain
resolves the same way in both.

Two codecs are stored: ``raw`` (a single block of bytes: specs, envelopes,
as ``ipfs add --raw-leaves --cid-version 1`` writes a one-block file) and
``dag-pb`` (UnixFS file nodes, :mod:`agora.vault.unixfs`). Every CID uses a
SHA2-256 multihash. A block is stored under its CIDv1 in base32, whatever
form it was named by, and every read re-hashes the bytes: a block is
returned only if it still matches its address.
"""

import base64
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NewType, Protocol

from multiformats import CID, multihash

from agora.vault.errors import BlockIntegrityError, BlockNotFoundError, InvalidCidError

if TYPE_CHECKING:
    from agora.settings import Settings

Cid = NewType("Cid", str)
"""A CIDv1 in its base32 string form (``bafkrei…`` raw, ``bafybei…`` dag-pb)."""

RAW = 0x55
DAG_PB = 0x70
_CODEC_NAMES = {RAW: "raw", DAG_PB: "dag-pb"}
_SHA2_256 = 0x12
_DIGEST_BYTES = 32
# Multihash prefix of a SHA2-256 digest: function code, digest length.
_MULTIHASH_PREFIX = bytes((_SHA2_256, _DIGEST_BYTES))


@dataclass(frozen=True, slots=True)
class BlockRef:
    """A parsed CID: the block's codec and the SHA2-256 digest of its bytes."""

    codec: int
    digest: bytes

    @classmethod
    def of(cls, codec: int, block: bytes) -> "BlockRef":
        """The reference of ``block`` stored with ``codec``."""
        return cls(codec, hashlib.sha256(block).digest())

    @classmethod
    def from_bytes(cls, data: bytes) -> "BlockRef":
        """Parse a binary CID, as dag-pb links hold them (v0 or v1)."""
        if len(data) == 34 and data[:2] == _MULTIHASH_PREFIX:
            return cls(DAG_PB, data[2:])
        is_v1 = len(data) == 36 and data[0] == 1 and data[2:4] == _MULTIHASH_PREFIX
        if is_v1 and data[1] in _CODEC_NAMES:
            return cls(data[1], data[4:])
        raise InvalidCidError(f"unsupported binary CID {data[:8].hex()}…")

    @property
    def cid(self) -> Cid:
        """The CIDv1 in base32 (multibase prefix ``b``, RFC 4648 lower case)."""
        text = base64.b32encode(self.to_bytes(version=1)).decode("ascii")
        return Cid("b" + text.lower().rstrip("="))

    @property
    def cid_v0(self) -> str:
        """The CIDv0 (``Qm…``), defined for dag-pb blocks only."""
        if self.codec != DAG_PB:
            raise InvalidCidError(f"a {_CODEC_NAMES[self.codec]} block has no CIDv0")
        return str(CID("base58btc", 0, "dag-pb", _MULTIHASH_PREFIX + self.digest))

    def to_bytes(self, *, version: int) -> bytes:
        """The binary CID; version 0 is the bare multihash (dag-pb only)."""
        if version == 0 and self.codec == DAG_PB:
            return _MULTIHASH_PREFIX + self.digest
        return bytes((1, self.codec)) + _MULTIHASH_PREFIX + self.digest


def cid_of(data: bytes) -> Cid:
    """The CIDv1 (raw, sha2-256) of ``data``.

    Example::

        >>> cid_of(b"hello")
        'bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq'
    """
    return BlockRef.of(RAW, data).cid


def parse_block_ref(text: str) -> BlockRef:
    """Parse a CIDv0 or CIDv1 string of a raw or dag-pb SHA2-256 block.

    Example::

        >>> ref = parse_block_ref("QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX")
        >>> ref.cid
        'bafybeid3weurg3gvyoi7nisadzolomlvoxoppe2sesktnpvdve3256n5tq'
    """
    try:
        cid = CID.decode(text)
    except (ValueError, KeyError) as exc:
        raise InvalidCidError(f"not a CID: {text[:80]!r}") from exc
    if cid.codec.name not in ("raw", "dag-pb"):
        raise InvalidCidError(f"codec {cid.codec.name} is not raw or dag-pb")
    if cid.hashfun.name != "sha2-256":
        raise InvalidCidError(f"expected a sha2-256 multihash, got {cid.hashfun.name}")
    codec = RAW if cid.codec.name == "raw" else DAG_PB
    return BlockRef(codec, bytes(multihash.unwrap(cid.digest)))


def parse_cid(text: str) -> tuple[Cid, bytes]:
    """Check ``text`` is a supported CID; return its CIDv1 form and digest."""
    ref = parse_block_ref(text)
    return ref.cid, ref.digest


class BlockBackend(Protocol):
    """Where blocks live: a folder, or a Kubo node."""

    def put_block(self, ref: BlockRef, *parts: bytes | memoryview) -> None:
        """Store the block made of ``parts``, whose reference the caller
        computed as ``ref`` (parts spare copying a chunk into its node)."""

    def get_block(self, ref: BlockRef) -> bytes:
        """The block addressed by ``ref``, verified against it."""

    def has_block(self, ref: BlockRef) -> bool:
        """Whether the block is stored (not verified)."""

    def pin(self, ref: BlockRef) -> None:
        """Keep the DAG under ``ref`` from garbage collection."""


class BlockStore:
    """Blocks in ``root``, one file per CID, written atomically.

    Example::

        >>> import tempfile
        >>> store = BlockStore(Path(tempfile.mkdtemp()))
        >>> store.get(store.put(b"spec"))
        b'spec'
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._folders: set[Path] = set()

    def put(self, data: bytes) -> Cid:
        """Store ``data`` as a raw block; return its CID (twice is harmless)."""
        ref = BlockRef.of(RAW, data)
        self.put_block(ref, data)
        return ref.cid

    def get(self, cid: str) -> bytes:
        """Return the block addressed by ``cid``, verified against it."""
        return self.get_block(parse_block_ref(cid))

    def __contains__(self, cid: str) -> bool:
        return self.has_block(parse_block_ref(cid))

    def put_block(self, ref: BlockRef, *parts: bytes | memoryview) -> None:
        """Store the block made of ``parts`` under ``ref`` unless it is there."""
        cid = ref.cid
        folder = self.root / cid[-2:]
        path = folder / cid
        if path.exists():
            return
        if folder not in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)

        # Write to a temporary file and rename, so a crash never leaves
        # a partial block under a valid address.
        handle, name = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        temporary = Path(name)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.writelines(parts)
            temporary.replace(path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def get_block(self, ref: BlockRef) -> bytes:
        """The block addressed by ``ref``, re-hashed against its digest."""
        cid = ref.cid
        try:
            data = self._path(cid).read_bytes()
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise BlockNotFoundError(f"no block {cid} in {self.root}") from exc
        if hashlib.sha256(data).digest() != ref.digest:
            raise BlockIntegrityError(f"block {cid} does not match its CID")
        return data

    def has_block(self, ref: BlockRef) -> bool:
        """Whether a file for ``ref`` exists (its bytes are checked on read)."""
        return self._path(ref.cid).is_file()

    def pin(self, ref: BlockRef) -> None:
        """Nothing to do: a folder never collects garbage."""

    def _path(self, cid: Cid) -> Path:
        return self.root / cid[-2:] / cid


def open_blockstore(settings: "Settings") -> BlockBackend:
    """The backend the settings choose: Kubo if ``ipfs_api`` is set, else
    the folder ``vault_dir``."""
    if settings.ipfs_api is not None:
        from agora.vault.kubo import KuboBlockStore

        return KuboBlockStore(settings.ipfs_api)
    return BlockStore(settings.vault_dir)
