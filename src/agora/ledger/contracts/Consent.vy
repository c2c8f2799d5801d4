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
        not scale). For the same reason an owner may sign a grant off
        chain (EIP-712) and anyone, usually the grantee, may submit many
        such grants in one transaction (`grantSigned`); the owner is then
        the signer, and a per-owner nonce stops a revoked grant from being
        replayed. Grants are indexed by grantee, so a grantee reads all of
        its grants in a few calls (`grantsTo`) instead of scanning events.
        Every misuse reverts with a reason prefixed "consent: ".
"""

from snekmate.utils import ecdsa
from snekmate.utils import eip712_domain_separator as eip712

initializes: eip712

exports: eip712.eip712Domain


# Bit i is the i-th category of agora.ledger.clients.consent.Category.
ALL_CATEGORIES: public(constant(uint256)) = 2**17 - 1

# Grants per `grantSigned` transaction and per `grantsTo` page; a signed
# grant costs about 195k gas (measured: 6.27M for a batch of 32), so a full
# batch fits the embedded chain's 8M gas limit per transaction.
MAX_BATCH: public(constant(uint256)) = 32
MAX_PAGE: public(constant(uint256)) = 256

GRANT_TYPEHASH: public(constant(bytes32)) = keccak256(
    "Grant(bytes32 granteeHash,bytes32 recordsRoot,uint256 categories,bytes32 purpose,uint256 expiry,uint256 nonce)"
)


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


struct SignedGrant:
    owner: address
    granteeHash: bytes32
    recordsRoot: bytes32
    categories: uint256
    purpose: bytes32
    expiry: uint256
    signature: Bytes[65]


grantCount: public(uint256)
_grants: HashMap[uint256, Grant]

# granteeHash -> position -> grantId, and how many grants name the grantee.
_byGrantee: HashMap[bytes32, HashMap[uint256, uint256]]
granteeGrantCount: public(HashMap[bytes32, uint256])

# The nonce an owner's next signed grant must carry.
nonces: public(HashMap[address, uint256])


@deploy
def __init__():
    eip712.__init__("Agora Consent", "1")


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
    return self._grant(msg.sender, granteeHash, recordsRoot, categories, purpose, expiry)


@external
def grantSigned(requests: DynArray[SignedGrant, MAX_BATCH]) -> DynArray[uint256, MAX_BATCH]:
    """
    @notice Record grants their owners signed (EIP-712 `Grant`, with the
            owner's current nonce); returns their ids in request order.
            Any sender may submit them; each must be signed by its owner.
    """
    ids: DynArray[uint256, MAX_BATCH] = []
    for request: SignedGrant in requests:
        nonce: uint256 = self.nonces[request.owner]
        struct_hash: bytes32 = keccak256(
            abi_encode(
                GRANT_TYPEHASH,
                request.granteeHash,
                request.recordsRoot,
                request.categories,
                request.purpose,
                request.expiry,
                nonce,
            )
        )
        signer: address = ecdsa._recover_sig(
            eip712._hash_typed_data_v4(struct_hash), request.signature
        )
        assert signer == request.owner and signer != empty(address), "consent: bad signature"
        self.nonces[request.owner] = nonce + 1
        ids.append(
            self._grant(
                request.owner,
                request.granteeHash,
                request.recordsRoot,
                request.categories,
                request.purpose,
                request.expiry,
            )
        )
    return ids


@internal
def _grant(
    owner: address,
    granteeHash: bytes32,
    recordsRoot: bytes32,
    categories: uint256,
    purpose: bytes32,
    expiry: uint256,
) -> uint256:
    assert granteeHash != empty(bytes32), "consent: empty grantee"
    assert recordsRoot != empty(bytes32) or categories != 0, "consent: empty scope"
    assert categories & ~ALL_CATEGORIES == 0, "consent: unknown category"
    assert purpose != empty(bytes32), "consent: empty purpose"
    assert expiry > block.timestamp, "consent: expiry not in the future"

    grantId: uint256 = self.grantCount + 1
    self.grantCount = grantId
    self._grants[grantId] = Grant(
        owner=owner,
        granteeHash=granteeHash,
        recordsRoot=recordsRoot,
        categories=categories,
        purpose=purpose,
        expiry=expiry,
        grantedAt=block.timestamp,
        revokedAt=0,
    )
    position: uint256 = self.granteeGrantCount[granteeHash]
    self._byGrantee[granteeHash][position] = grantId
    self.granteeGrantCount[granteeHash] = position + 1
    log Granted(
        grantId=grantId,
        owner=owner,
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
def grantsTo(
    granteeHash: bytes32, offset: uint256, limit: uint256
) -> (DynArray[uint256, MAX_PAGE], DynArray[Grant, MAX_PAGE]):
    """
    @notice The ids and records of the grants naming `granteeHash`, from
            its `offset`-th grant (in grant order), at most `limit` (up to
            MAX_PAGE) of them; revoked and expired ones included.
    """
    ids: DynArray[uint256, MAX_PAGE] = []
    found: DynArray[Grant, MAX_PAGE] = []
    end: uint256 = min(offset + min(limit, MAX_PAGE), self.granteeGrantCount[granteeHash])
    for position: uint256 in range(offset, end, bound=MAX_PAGE):
        grantId: uint256 = self._byGrantee[granteeHash][position]
        ids.append(grantId)
        found.append(self._grants[grantId])
    return ids, found


@external
@view
def domainSeparator() -> bytes32:
    return eip712._domain_separator_v4()


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
