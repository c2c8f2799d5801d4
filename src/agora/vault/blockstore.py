"""A content-addressed folder of blocks, addressed by IPFS-compatible CIDs.

This is the embedded deployment's blockstore (DESIGN.md: "content-addressed
folder on disk"; IPFS in the grown-up one). Blocks are stored under their
CIDv1 (``raw`` codec, SHA2-256 multihash, base32), the form
``ipfs add --raw-leaves --cid-version 1`` gives a single-block file, so a CID
written on chain resolves the same way in both. Every read re-hashes the
bytes: a block is returned only if it still matches its address.
"""

import hashlib
import os
import tempfile
from pathlib import Path
from typing import NewType

from multiformats import CID, multihash

from agora.vault.errors import BlockIntegrityError, BlockNotFoundError, InvalidCidError

Cid = NewType("Cid", str)
"""A CIDv1 in its base32 string form (``bafkrei…``)."""

_RAW_CODEC = "raw"
_HASH = "sha2-256"


def cid_of(data: bytes) -> Cid:
    """The CIDv1 (raw, sha2-256) of ``data``.

    Example::

        >>> cid_of(b"hello")
        'bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq'
    """
    return Cid(str(CID("base32", 1, _RAW_CODEC, multihash.digest(data, _HASH))))


def parse_cid(text: str) -> tuple[Cid, bytes]:
    """Check ``text`` is a raw sha2-256 CIDv1; return it and its digest."""
    try:
        cid = CID.decode(text)
    except (ValueError, KeyError) as exc:
        raise InvalidCidError(f"not a CID: {text[:80]!r}") from exc
    if cid.version != 1 or cid.codec.name != _RAW_CODEC:
        raise InvalidCidError(f"expected a CIDv1 with the raw codec: {text[:80]!r}")
    code, digest = cid.hashfun.name, multihash.unwrap(cid.digest)
    if code != _HASH:
        raise InvalidCidError(f"expected a sha2-256 multihash, got {code}")
    return Cid(str(cid.set(base="base32"))), bytes(digest)


class BlockStore:
    """Blocks in ``root``, one file per CID, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes) -> Cid:
        """Store ``data``; return its CID (storing twice is harmless)."""
        cid = cid_of(data)
        path = self._path(cid)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write to a temporary file and rename, so a crash never leaves
            # a partial block under a valid address.
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            Path(temporary).replace(path)
        return cid

    def get(self, cid: str) -> bytes:
        """Return the block addressed by ``cid``, verified against it."""
        canonical, digest = parse_cid(cid)
        path = self._path(canonical)
        if not path.is_file():
            raise BlockNotFoundError(f"no block {canonical} in {self.root}")
        data = path.read_bytes()
        if hashlib.sha256(data).digest() != digest:
            raise BlockIntegrityError(f"block {canonical} does not match its CID")
        return data

    def __contains__(self, cid: str) -> bool:
        return self._path(parse_cid(cid)[0]).is_file()

    def _path(self, cid: Cid) -> Path:
        return self.root / cid[-2:] / cid
