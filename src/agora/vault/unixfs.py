"""Files as UnixFS DAGs, the way ``ipfs add`` lays them out by default.

Kubo's defaults (``ipfs add`` without options, CIDv0): fixed 256 KiB chunks
(``size-262144``), each a dag-pb leaf holding a UnixFS ``File``; a balanced
tree of at most 174 links per node (``helpers.DefaultLinksPerBlock``);
a one-chunk file is its own leaf. The same bytes give the same CID, in its
CIDv0 form (``Qm…``) and its CIDv1 base32 form (``bafybei…``, what
``ipfs cid base32`` prints; not ``ipfs add --cid-version 1``, which also
switches to raw leaves and so hashes different bytes).

Writing streams: memory holds one chunk plus at most 174 links per tree
level, whatever the file size. Reading verifies every block against its CID
before any of its bytes are released.

Example::

    >>> import tempfile
    >>> from pathlib import Path
    >>> from agora.vault.blockstore import BlockStore
    >>> store = BlockStore(Path(tempfile.mkdtemp()))
    >>> writer = FileWriter(store)
    >>> writer.write(b"hello")
    >>> root = writer.close()
    >>> root.cid_v0
    'QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX'
    >>> b"".join(read_file(store, root.cid))
    b'hello'
"""

import hashlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass

from agora.vault.blockstore import (
    DAG_PB,
    RAW,
    BlockBackend,
    BlockRef,
    Cid,
    parse_block_ref,
)
from agora.vault.dagpb import Link, decode_node, encode_branch, leaf_parts
from agora.vault.errors import DagRule, InvalidCidError, MalformedDagError

CHUNK_SIZE = 256 * 1024
"""Kubo's default chunker, ``size-262144``."""

MAX_LINKS = 174
"""Links per node of Kubo's balanced layout (``DefaultLinksPerBlock``)."""

MAX_DEPTH = 16
"""Deepest tree read: 174**16 chunks is beyond any real file, and a crafted
chain of single-link nodes must not exhaust Python's recursion limit."""


@dataclass(frozen=True, slots=True)
class FileRoot:
    """The root of a stored file: its reference and its size in bytes."""

    ref: BlockRef
    size: int

    @property
    def cid(self) -> Cid:
        """The CIDv1 in base32, as ``ipfs cid base32`` prints it."""
        return self.ref.cid

    @property
    def cid_v0(self) -> str:
        """The CIDv0, as ``ipfs add`` prints it."""
        return self.ref.cid_v0


@dataclass(frozen=True, slots=True)
class _Child:
    link: Link
    filesize: int


class FileWriter:
    """Chunk a byte stream into a balanced UnixFS DAG stored in ``store``.

    Call :meth:`write` any number of times, then :meth:`close` once.
    """

    def __init__(self, store: BlockBackend) -> None:
        self._store = store
        self._pending = bytearray()
        self._levels: list[list[_Child]] = [[]]
        self._size = 0
        self._closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append ``data`` to the file."""
        if self._closed:
            raise ValueError("write to a closed FileWriter")
        view = memoryview(data)
        self._size += len(view)

        # Top up a partial chunk first; whole chunks then go straight
        # from the caller's buffer into leaves without another copy.
        if self._pending:
            taken = min(CHUNK_SIZE - len(self._pending), len(view))
            self._pending += view[:taken]
            view = view[taken:]
            if len(self._pending) < CHUNK_SIZE:
                return
            self._add_leaf(bytes(self._pending))
            self._pending.clear()
        while len(view) >= CHUNK_SIZE:
            self._add_leaf(view[:CHUNK_SIZE])
            view = view[CHUNK_SIZE:]
        self._pending += view

    def close(self) -> FileRoot:
        """Store the last chunk and the inner nodes; return the root."""
        if self._closed:
            raise ValueError("FileWriter closed twice")
        self._closed = True
        if self._pending or self._size == 0:
            self._add_leaf(bytes(self._pending))
            self._pending.clear()

        # Wrap every level that still holds links, bottom up, until one
        # node is left on top: the rightmost subtree keeps the full depth,
        # as Kubo's balanced builder gives it.
        level = 0
        while True:
            children = self._levels[level]
            if level == len(self._levels) - 1 and len(children) == 1:
                root = children[0]
                self._store.pin(BlockRef.from_bytes(root.link.cid))
                return FileRoot(BlockRef.from_bytes(root.link.cid), root.filesize)
            if children:
                self._add_branch(level)
            level += 1

    def _add_leaf(self, chunk: bytes | memoryview) -> None:
        head, tail = leaf_parts(chunk)
        digest = hashlib.sha256(head)
        digest.update(chunk)
        digest.update(tail)
        ref = BlockRef(DAG_PB, digest.digest())
        self._store.put_block(ref, head, chunk, tail)
        block_size = len(head) + len(chunk) + len(tail)
        self._push(0, _Child(Link(ref.to_bytes(version=0), block_size), len(chunk)))

    def _add_branch(self, level: int) -> None:
        children = self._levels[level]
        self._levels[level] = []
        block = encode_branch(
            [child.link for child in children], [child.filesize for child in children]
        )
        ref = BlockRef(DAG_PB, hashlib.sha256(block).digest())
        self._store.put_block(ref, block)

        # Tsize is the size of the whole subtree's blocks (dag-pb spec).
        tsize = len(block) + sum(child.link.tsize for child in children)
        filesize = sum(child.filesize for child in children)
        self._push(level + 1, _Child(Link(ref.to_bytes(version=0), tsize), filesize))

    def _push(self, level: int, child: _Child) -> None:
        if level == len(self._levels):
            self._levels.append([])
        self._levels[level].append(child)
        if len(self._levels[level]) == MAX_LINKS:
            self._add_branch(level)


def read_file(store: BlockBackend, cid: str) -> Iterator[bytes | memoryview]:
    """The bytes of the UnixFS file ``cid``, in order, block by block.

    Each block is verified against its CID before its bytes are yielded;
    a node whose children do not add up to its declared size raises
    :class:`MalformedDagError` (rule ``file-size``).
    """
    yield from _walk(store, parse_block_ref(cid), depth=0)


def _walk(
    store: BlockBackend, ref: BlockRef, *, depth: int
) -> Generator[bytes | memoryview, None, int]:
    if depth > MAX_DEPTH:
        raise MalformedDagError(DagRule.DEPTH, f"{ref.cid} is {depth} links deep")
    block = store.get_block(ref)
    if ref.codec == RAW:
        yield block
        return len(block)

    node = decode_node(block)
    total = len(node.unixfs.data)
    if total:
        yield node.unixfs.data
    for link in node.links:
        try:
            child = BlockRef.from_bytes(link.cid)
        except InvalidCidError as exc:
            raise MalformedDagError(DagRule.CODEC, f"in {ref.cid}: {exc}") from exc
        total += yield from _walk(store, child, depth=depth + 1)

    declared = node.unixfs.filesize
    if declared is not None and declared != total:
        raise MalformedDagError(
            DagRule.FILE_SIZE, f"{ref.cid} declares {declared} bytes, holds {total}"
        )
    return total
