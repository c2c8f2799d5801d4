"""Errors of the vault layer.

Data problems (a missing, corrupt, tampered or foreign object) are
:class:`~agora.errors.DataError` hybrids, so the CLI reports them with the
data exit code. ``httpx`` exceptions are translated into these once, at
the Kubo adapter, ``from`` the original; no message quotes a URL's
credentials.
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


class MalformedDagError(VaultError, DataError):
    """A verified block is not part of a UnixFS file; ``rule`` names why."""

    def __init__(self, rule: DagRule, detail: str) -> None:
        self.rule = rule
        self.detail = detail
        super().__init__(f"{rule.value}: {detail}")


class BackendError(VaultError, ConfigurationError):
    """The configured block backend (``AGORA_IPFS_API``) did not answer as
    a Kubo RPC API should; the message names the endpoint's host only."""
