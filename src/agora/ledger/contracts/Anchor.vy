# pragma version ~=0.4.3
"""
@title Anchor
@notice Merkle roots of batches (record attestations, credential status
        lists, audit logs), so that one transaction anchors any number of
        items (DESIGN.md, "Ledger"). Only active consortium members write.
        Each anchor is kept under an id that starts at 1; the latest anchor
        per (writer, kind) is readable directly, and each `Anchored` event
        names the anchor it supersedes so that a writer's history for a
        kind can be walked backwards without scanning the chain.
        Every misuse reverts with a reason prefixed "anchor: ".
"""


interface IConsortium:
    def isMember(account: address) -> bool: view


MAX_URI: public(constant(uint256)) = 256


struct Record:
    root: bytes32
    kind: bytes32
    writer: address
    uri: String[MAX_URI]
    timestamp: uint256
    blockNumber: uint256
    previous: uint256


event Anchored:
    id: indexed(uint256)
    writer: indexed(address)
    kind: indexed(bytes32)
    root: bytes32
    uri: String[MAX_URI]
    previous: uint256


consortium: public(immutable(IConsortium))
anchorCount: public(uint256)
latestId: public(HashMap[address, HashMap[bytes32, uint256]])
_records: HashMap[uint256, Record]


@deploy
def __init__(consortium_: IConsortium):
    consortium = consortium_


@external
def anchor(root: bytes32, kind: bytes32, uri: String[MAX_URI]) -> uint256:
    """
    @notice Anchor `root` under `kind` for the sender; returns its id.
    @dev A zero root or kind is refused: zero is what an unset slot reads.
    """
    assert staticcall consortium.isMember(msg.sender), "anchor: not a member"
    assert root != empty(bytes32), "anchor: empty root"
    assert kind != empty(bytes32), "anchor: empty kind"

    anchorId: uint256 = self.anchorCount + 1
    self.anchorCount = anchorId
    previous: uint256 = self.latestId[msg.sender][kind]
    self._records[anchorId] = Record(
        root=root,
        kind=kind,
        writer=msg.sender,
        uri=uri,
        timestamp=block.timestamp,
        blockNumber=block.number,
        previous=previous,
    )
    self.latestId[msg.sender][kind] = anchorId
    log Anchored(
        id=anchorId, writer=msg.sender, kind=kind, root=root, uri=uri, previous=previous
    )
    return anchorId


@external
@view
def getAnchor(anchorId: uint256) -> Record:
    assert anchorId != 0 and anchorId <= self.anchorCount, "anchor: unknown anchor"
    return self._records[anchorId]


@external
@view
def latest(writer: address, kind: bytes32) -> Record:
    """
    @notice `writer`'s most recent anchor of `kind`; reverts if none.
    """
    anchorId: uint256 = self.latestId[writer][kind]
    assert anchorId != 0, "anchor: no anchor"
    return self._records[anchorId]
