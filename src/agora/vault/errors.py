"""Errors of the vault layer."""

from agora.errors import AgoraError


class VaultError(AgoraError):
    """Root of the vault layer's errors."""


class InvalidCidError(VaultError, ValueError):
    """A string is not a CID this store can address."""


class BlockNotFoundError(VaultError, LookupError):
    """No block with this CID is stored."""


class BlockIntegrityError(VaultError):
    """A stored block's bytes do not hash to its CID (tampered or corrupt)."""
