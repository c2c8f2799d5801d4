# pragma version ~=0.4.3
"""
@title Consent
@notice A data owner's grants: a grantee may use a scope of the owner's
        records for a purpose until an expiry; the owner revokes at will.
        The owner is the sender of `grant` (a patient's account: the
        address of their did:ethr, or of their secp256k1 did:key). The
        grantee is kept as the keccak256 of its DID string, so the chain
        names no doctor; proxies compare it with the DID that signed a
        request. A scope is a Merkle root over a set of record ids (RFC
        6962 tree of the sorted ids), a bitmask of record categories, or
        both: a record is covered if either admits it. Proxies read
        `getGrant` before every re-encryption; accesses are batched into
        `Anchor`, not written here (DESIGN.md: per-record transactions do
        not scale). Every misuse reverts with a reason prefixed
        "consent: ".
"""


# Bit i is the i-th category of agora.ledger.clients.consent.Category.
ALL_CATEGORIES: public(constant(uint256)) = 2**17 - 1


struct Grant:
    owner: address
    granteeHash: bytes32
    recordsRoot: bytes32
    categories: uint256
    purpose: bytes32
    expiry: uint256
    grantedAt: uint256
    revokedAt: uint256


event Granted:
    grantId: indexed(uint256)
    owner: indexed(address)
    granteeHash: indexed(bytes32)
    recordsRoot: bytes32
    categories: uint256
    purpose: bytes32
    expiry: uint256


event Revoked:
    grantId: indexed(uint256)
    owner: indexed(address)
    granteeHash: indexed(bytes32)


grantCount: public(uint256)
_grants: HashMap[uint256, Grant]


@external
def grant(
    granteeHash: bytes32,
    recordsRoot: bytes32,
    categories: uint256,
    purpose: bytes32,
    expiry: uint256,
) -> uint256:
    """
    @notice Grant the DID hashing to `granteeHash` the records under
            `recordsRoot` and of `categories` for `purpose` until `expiry`
            (a Unix time in the future); returns the grant's id.
    @dev A zero root means no record set, zero categories no category; one
         of the two must be given.
    """
    assert granteeHash != empty(bytes32), "consent: empty grantee"
    assert recordsRoot != empty(bytes32) or categories != 0, "consent: empty scope"
    assert categories & ~ALL_CATEGORIES == 0, "consent: unknown category"
    assert purpose != empty(bytes32), "consent: empty purpose"
    assert expiry > block.timestamp, "consent: expiry not in the future"

    grantId: uint256 = self.grantCount + 1
    self.grantCount = grantId
    self._grants[grantId] = Grant(
        owner=msg.sender,
        granteeHash=granteeHash,
        recordsRoot=recordsRoot,
        categories=categories,
        purpose=purpose,
        expiry=expiry,
        grantedAt=block.timestamp,
        revokedAt=0,
    )
    log Granted(
        grantId=grantId,
        owner=msg.sender,
        granteeHash=granteeHash,
        recordsRoot=recordsRoot,
        categories=categories,
        purpose=purpose,
        expiry=expiry,
    )
    return grantId


@external
def revoke(grantId: uint256):
    """
    @notice End grant `grantId` now; its owner's call alone. An expired
            grant may still be revoked, a revoked one not again.
    """
    assert grantId != 0 and grantId <= self.grantCount, "consent: unknown grant"
    assert self._grants[grantId].owner == msg.sender, "consent: not the owner"
    assert self._grants[grantId].revokedAt == 0, "consent: already revoked"

    self._grants[grantId].revokedAt = block.timestamp
    log Revoked(
        grantId=grantId,
        owner=msg.sender,
        granteeHash=self._grants[grantId].granteeHash,
    )


@external
@view
def getGrant(grantId: uint256) -> Grant:
    assert grantId != 0 and grantId <= self.grantCount, "consent: unknown grant"
    return self._grants[grantId]


@external
@view
def isActive(grantId: uint256) -> bool:
    """
    @notice True while `grantId` exists, is not revoked and has not expired.
    """
    if grantId == 0 or grantId > self.grantCount:
        return False
    record: Grant = self._grants[grantId]
    return record.revokedAt == 0 and block.timestamp < record.expiry
