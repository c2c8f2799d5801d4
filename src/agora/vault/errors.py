"""Errors of the vault layer.

Data problems (a missing, corrupt, tampered or foreign object) are
:class:`~agora.errors.DataError` hybrids, so the CLI reports them with the
data exit code. ``cryptography``, ``umbral_pre`` and ``httpx`` exceptions
are translated into these once, where they are raised, ``from`` the
original. No message quotes a key, a data key, a capsule, a key fragment,
plaintext or a URL's credentials.
"""

from enum import StrEnum
from typing import ClassVar

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


class ConsentRule(StrEnum):
    """The consent check a proxy refused on, as a stable code."""

    UNKNOWN_GRANT = "unknown-grant"
    """No such grant on chain, or this proxy holds no fragment for it."""
    REVOKED = "revoked"
    """The owner revoked the grant."""
    EXPIRED = "expired"
    """The grant's expiry has passed, in chain time."""
    WRONG_REQUESTER = "wrong-requester"
    """The requester is not the grantee, or did not prove to be (the
    signature does not verify under the grantee DID's authentication key)."""
    MISDIRECTED = "misdirected"
    """The request names another proxy as its audience."""
    STALE = "stale"
    """The request was issued outside the proxy's freshness window."""
    REPLAYED = "replayed"
    """The request's nonce was used before."""
    OUT_OF_SCOPE = "out-of-scope"
    """The grant's scope does not cover the record."""
    FOREIGN_LABEL = "foreign-label"
    """The record's label is not signed by the grant's owner."""
    NOT_OWNER = "not-owner"
    """A key fragment delivery not signed by the grant's owner."""


class ConsentRefusedError(VaultError, PermissionError):
    """A proxy refused to act on a grant; ``rule`` names the check.

    Each rule has its own subclass, so callers catch exactly the refusals
    they handle.
    """

    rule: ClassVar[ConsentRule]

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"{self.rule.value}: {detail}")


class UnknownGrantError(ConsentRefusedError):
    """See :attr:`ConsentRule.UNKNOWN_GRANT`."""

    rule = ConsentRule.UNKNOWN_GRANT


class GrantRevokedError(ConsentRefusedError):
    """See :attr:`ConsentRule.REVOKED`."""

    rule = ConsentRule.REVOKED


class GrantExpiredError(ConsentRefusedError):
    """See :attr:`ConsentRule.EXPIRED`."""

    rule = ConsentRule.EXPIRED


class WrongRequesterError(ConsentRefusedError):
    """See :attr:`ConsentRule.WRONG_REQUESTER`."""

    rule = ConsentRule.WRONG_REQUESTER


class MisdirectedRequestError(ConsentRefusedError):
    """See :attr:`ConsentRule.MISDIRECTED`."""

    rule = ConsentRule.MISDIRECTED


class StaleRequestError(ConsentRefusedError):
    """See :attr:`ConsentRule.STALE`."""

    rule = ConsentRule.STALE


class ReplayedRequestError(ConsentRefusedError):
    """See :attr:`ConsentRule.REPLAYED`."""

    rule = ConsentRule.REPLAYED


class OutOfScopeError(ConsentRefusedError):
    """See :attr:`ConsentRule.OUT_OF_SCOPE`."""

    rule = ConsentRule.OUT_OF_SCOPE


class ForeignLabelError(ConsentRefusedError):
    """See :attr:`ConsentRule.FOREIGN_LABEL`."""

    rule = ConsentRule.FOREIGN_LABEL


class NotOwnerError(ConsentRefusedError):
    """See :attr:`ConsentRule.NOT_OWNER`."""

    rule = ConsentRule.NOT_OWNER


class OwnerDidError(VaultError, ValueError):
    """A DID with no owner account: only ``did:ethr`` and secp256k1
    ``did:key`` DIDs name an Ethereum address that can sign grants."""


class AccessLogRule(StrEnum):
    """The check an anchored access-log batch failed, as a stable code."""

    URI = "uri"
    """The anchor's URI does not name a content-addressed batch."""
    FORMAT = "format"
    """The batch is not a well-formed access log."""
    ROOT = "root"
    """The batch's entries do not hash to the anchored Merkle root."""
    WRITER = "writer"
    """The batch names a proxy other than the account that anchored it."""


class AccessLogError(VaultError, DataError):
    """An access-log batch does not match its anchor; ``rule`` names why."""

    def __init__(self, rule: AccessLogRule, detail: str) -> None:
        self.rule = rule
        self.detail = detail
        super().__init__(f"{rule.value}: {detail}")


class ShareFormatError(VaultError, DataError):
    """A share document (what an owner hands a grantee) is malformed."""
