"""dag-pb nodes carrying UnixFS file data, encoded as Kubo encodes them.

Two protobuf messages, written and read by hand (both are tiny):

- ``PBNode`` of the dag-pb codec (IPLD spec "DAG-PB", ``specs/codecs/dag-pb``):
  ``Links`` (field 2, repeated ``PBLink {Hash 1, Name 2, Tsize 3}``) and
  ``Data`` (field 1). The canonical form puts every link before the data.
- UnixFS ``Data`` (``specs/unixfs``): ``Type`` 1, ``Data`` 2, ``filesize``
  3, ``blocksizes`` 4 (proto2, so repeated integers are not packed).

Kubo writes every link with its ``Name`` (empty for file chunks) and its
``Tsize``; the same bytes give the same CID, so these choices are part of
the compatibility contract and tested against ``ipfs_cid``.

Example::

    >>> leaf = encode_leaf(b"hello")
    >>> leaf.hex()
    '0a0b080212056865...'
    >>> bytes(decode_node(leaf).unixfs.data)
    b'hello'
"""

from collections.abc import Sequence
from dataclasses import dataclass

from agora.vault.errors import DagRule, MalformedDagError

FILE = 2
"""UnixFS ``DataType.File``."""
RAW = 0
"""UnixFS ``DataType.Raw`` (old-style leaves; read, never written)."""

# Wire types (protobuf encoding guide): 0 varint, 2 length-delimited.
_VARINT = 0
_BYTES = 2


@dataclass(frozen=True, slots=True)
class Link:
    """A ``PBLink``: a child's CID bytes and its cumulative size."""

    cid: bytes
    tsize: int
    name: bytes = b""


@dataclass(frozen=True, slots=True)
class UnixFsData:
    """The UnixFS fields Agora reads from a file node."""

    kind: int
    data: bytes | memoryview
    filesize: int | None
    blocksizes: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Node:
    """A decoded dag-pb node with its UnixFS payload."""

    links: tuple[Link, ...]
    unixfs: UnixFsData


def varint(value: int) -> bytes:
    """``value`` as a protobuf/multiformats unsigned LEB128 varint."""
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(number: int, length: int) -> bytes:
    """The key and length that precede a length-delimited field."""
    return varint(number << 3 | _BYTES) + varint(length)


def leaf_parts(chunk: bytes | memoryview) -> tuple[bytes, bytes]:
    """The bytes before and after ``chunk`` in its leaf node.

    Kept apart so that a caller can hash and write a 256 KiB chunk without
    copying it into a new buffer first.
    """
    size = len(chunk)
    if size == 0:
        # Kubo leaves out an empty Data field: the empty file is 0a04 0802 1800.
        return _field(1, 4) + b"\x08\x02\x18\x00", b""

    # UnixFS {Type: File, Data: chunk, filesize: size} inside PBNode.Data.
    unixfs_head = b"\x08\x02" + _field(2, size)
    unixfs_tail = b"\x18" + varint(size)
    unixfs_length = len(unixfs_head) + size + len(unixfs_tail)
    return _field(1, unixfs_length) + unixfs_head, unixfs_tail


def encode_leaf(chunk: bytes | memoryview) -> bytes:
    """A file leaf: no links, UnixFS ``File`` holding ``chunk``."""
    head, tail = leaf_parts(chunk)
    return b"".join((head, chunk, tail))


def encode_branch(links: Sequence[Link], blocksizes: Sequence[int]) -> bytes:
    """An inner file node over ``links``, whose file sizes are ``blocksizes``."""
    parts: list[bytes] = []
    for link in links:
        body = (
            _field(1, len(link.cid))
            + link.cid
            + _field(2, len(link.name))
            + link.name
            + b"\x18"
            + varint(link.tsize)
        )
        parts.append(_field(2, len(body)) + body)

    unixfs = b"\x08\x02\x18" + varint(sum(blocksizes))
    unixfs += b"".join(b"\x20" + varint(size) for size in blocksizes)
    parts.append(_field(1, len(unixfs)) + unixfs)
    return b"".join(parts)


def decode_node(block: bytes) -> Node:
    """Decode a dag-pb block holding UnixFS file data.

    Raises :class:`MalformedDagError` for anything else.
    """
    view = memoryview(block)
    links: list[Link] = []
    payload: memoryview | None = None
    for number, value in _fields(view):
        if number == 2 and isinstance(value, memoryview):
            links.append(_decode_link(value))
        elif number == 1 and isinstance(value, memoryview):
            payload = value
        else:
            raise MalformedDagError(
                DagRule.PROTOBUF, f"unexpected PBNode field {number}"
            )
    if payload is None:
        raise MalformedDagError(DagRule.NODE_TYPE, "dag-pb node without UnixFS data")
    return Node(tuple(links), _decode_unixfs(payload))


def _decode_link(view: memoryview) -> Link:
    cid, name, tsize = b"", b"", 0
    for number, value in _fields(view):
        if number == 1 and isinstance(value, memoryview):
            cid = bytes(value)
        elif number == 2 and isinstance(value, memoryview):
            name = bytes(value)
        elif number == 3 and isinstance(value, int):
            tsize = value
        else:
            raise MalformedDagError(
                DagRule.PROTOBUF, f"unexpected PBLink field {number}"
            )
    if not cid:
        raise MalformedDagError(DagRule.PROTOBUF, "link without a hash")
    return Link(cid, tsize, name)


def _decode_unixfs(view: memoryview) -> UnixFsData:
    kind: int | None = None
    data: memoryview = view[:0]
    filesize: int | None = None
    blocksizes: list[int] = []
    for number, value in _fields(view):
        if number == 1 and isinstance(value, int):
            kind = value
        elif number == 2 and isinstance(value, memoryview):
            data = value
        elif number == 3 and isinstance(value, int):
            filesize = value
        elif number == 4 and isinstance(value, int):
            blocksizes.append(value)
        elif number in (5, 6, 7, 8):
            # hashType, fanout, mode, mtime: not used by files Agora reads.
            continue
        else:
            raise MalformedDagError(
                DagRule.PROTOBUF, f"unexpected UnixFS field {number}"
            )
    if kind not in (FILE, RAW):
        raise MalformedDagError(DagRule.NODE_TYPE, f"UnixFS type {kind} is not a file")
    return UnixFsData(kind, data, filesize, tuple(blocksizes))


def _fields(view: memoryview) -> list[tuple[int, int | memoryview]]:
    """Split a protobuf message into (field number, value) pairs."""
    fields: list[tuple[int, int | memoryview]] = []
    position = 0
    while position < len(view):
        key, position = _read_varint(view, position)
        number, wire_type = key >> 3, key & 7
        if wire_type == _VARINT:
            value, position = _read_varint(view, position)
            fields.append((number, value))
        elif wire_type == _BYTES:
            length, position = _read_varint(view, position)
            if position + length > len(view):
                raise MalformedDagError(DagRule.PROTOBUF, "field runs past the block")
            fields.append((number, view[position : position + length]))
            position += length
        else:
            raise MalformedDagError(DagRule.PROTOBUF, f"wire type {wire_type}")
    return fields


def _protobuf_error(detail: str) -> MalformedDagError:
    return MalformedDagError(DagRule.PROTOBUF, detail)


def _read_varint(view: memoryview, position: int) -> tuple[int, int]:
    value, shift = 0, 0
    while position < len(view) and shift < 64:
        byte = view[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
    raise MalformedDagError(DagRule.PROTOBUF, "truncated or overlong varint")
