"""Errors of the vault layer.

Data problems (a missing, corrupt, tampered or foreign object) are
:class:`~agora.errors.DataError` hybrids, so the CLI reports them with the
data exit code. ``cryptography``, ``umbral_pre`` and ``httpx`` exceptions
are translated into these once, where they are raised, ``from`` the
original. No message quotes a key, a data key, a capsule, a key fragment,
plaintext or a URL's credentials.
"""

from enum import StrEnum

from agora.errors import AgoraError, ConfigurationError, DataError


class VaultError(AgoraError):
    """Root of the vault layer's errors."""


class InvalidCidError(VaultError, DataError):
    """A string is not a CID this store can address."""


class BlockNotFoundError(VaultError, DataError, LookupError):
    """No block with this CID is stored."""


class BlockIntegrityError(VaultError, DataError):
    """A stored block's bytes do not hash to its CID (tampered or corrupt)."""


class DagRule(StrEnum):
    """The UnixFS/dag-pb check a block failed, as a stable code."""

    PROTOBUF = "protobuf"
    """The bytes are not a well-formed dag-pb or UnixFS protobuf message."""
    NODE_TYPE = "node-type"
    """The node is not a UnixFS file (a directory, symlink, HAMT shard …)."""
    CODEC = "codec"
    """A link points to a block of a codec other than dag-pb or raw."""
    FILE_SIZE = "file-size"
    """The bytes under a node do not add up to the size it declares."""
    DEPTH = "depth"
    """The tree is deeper than any file Agora reads (174**16 chunks)."""


class MalformedDagError(VaultError, DataError):
    """A verified block is not part of a UnixFS file; ``rule`` names why."""

    def __init__(self, rule: DagRule, detail: str) -> None:
        self.rule = rule
        self.detail = detail
        super().__init__(f"{rule.value}: {detail}")


class BackendError(VaultError, ConfigurationError):
    """The configured block backend (``AGORA_IPFS_API``) did not answer as
    a Kubo RPC API should; the message names the endpoint's host only."""


class StreamRule(StrEnum):
    """The check an encrypted object failed, as a stable code."""

    AUTHENTICATION = "authentication"
    """A chunk does not authenticate at its position in this object:
    altered, moved from elsewhere in it, or from another object."""
    TRUNCATED = "truncated"
    """The object ends before the chunk sealed as its last one."""
    EXTENDED = "extended"
    """Bytes follow the chunk sealed as the object's last one."""
    LENGTH = "length"
    """The object's size or a chunk's size is impossible for the format."""


class TamperedObjectError(VaultError, DataError):
    """An encrypted object failed a check; ``rule`` names which.

    Raised before the failing chunk's plaintext is released. Earlier chunks
    of a streamed read have been released already: a caller writing them to
    a file must discard it on this error (the safe recipes do).
    """

    def __init__(self, rule: StreamRule, detail: str) -> None:
        self.rule = rule
        self.detail = detail
        super().__init__(f"{rule.value}: {detail}")


class EnvelopeError(VaultError, DataError):
    """An object's envelope (its metadata block) is malformed or of an
    unsupported version."""


class WrongKeyError(VaultError, DataError):
    """The key given does not open this object (not the owner's, or a data
    key that does not match the envelope's key commitment)."""


class KeyFragmentError(VaultError, DataError):
    """A key fragment or re-encrypted capsule fragment failed verification
    (forged, for another capsule, or for other keys)."""


class TooFewFragmentsError(VaultError, DataError):
    """Fewer verified capsule fragments than the sharing threshold, or ones
    that do not combine into the data key."""


class InvalidSharingPolicyError(VaultError, ValueError):
    """An m-of-n policy out of bounds (``1 <= m <= n <= 255``)."""
