# pragma version ~=0.4.3
"""
@title FraudList
@notice The consortium's shared anti-fraud list. Lending platforms report a
        subject under a keyed hash of its identifier (HMAC-SHA256 under a key
        the consortium's platforms share): identity numbers are guessable, so
        neither the number nor a plain hash of it is ever written here. Each
        report carries a reason code and the CID of the evidence, which stays
        off chain with the reporter. A reporter can withdraw its own report;
        a subject is listed while any report on it stands.
        Every misuse reverts with a reason prefixed "fraud: ".
"""


interface IConsortium:
    def hasRole(account: address, role: uint256) -> bool: view


PLATFORM: constant(uint256) = 8
MAX_REASON: public(constant(uint8)) = 5
MAX_CID: public(constant(uint256)) = 128


struct Report:
    reporter: address
    reason: uint8
    evidenceCid: String[MAX_CID]
    timestamp: uint256
    active: bool


event Reported:
    subject: indexed(bytes32)
    reporter: indexed(address)
    reason: uint8
    evidenceCid: String[MAX_CID]


event Withdrawn:
    subject: indexed(bytes32)
    reporter: indexed(address)


consortium: public(immutable(IConsortium))
activeReports: public(HashMap[bytes32, uint256])
_reports: HashMap[bytes32, HashMap[address, Report]]


@deploy
def __init__(consortium_: IConsortium):
    consortium = consortium_


@external
def report(subject: bytes32, reason: uint8, evidenceCid: String[MAX_CID]):
    """
    @notice Report `subject` for `reason` (1 identity fraud, 2 forged
            documents, 3 loan stacking, 4 intentional default, 5 synthetic
            identity), with the CID of the evidence.
    """
    assert staticcall consortium.hasRole(msg.sender, PLATFORM), "fraud: not a platform"
    assert subject != empty(bytes32), "fraud: empty subject"
    assert reason >= 1 and reason <= MAX_REASON, "fraud: unknown reason"
    assert len(evidenceCid) > 0, "fraud: no evidence"
    assert not self._reports[subject][msg.sender].active, "fraud: already reported"

    self._reports[subject][msg.sender] = Report(
        reporter=msg.sender,
        reason=reason,
        evidenceCid=evidenceCid,
        timestamp=block.timestamp,
        active=True,
    )
    self.activeReports[subject] += 1
    log Reported(
        subject=subject, reporter=msg.sender, reason=reason, evidenceCid=evidenceCid
    )


@external
def withdraw(subject: bytes32):
    """
    @notice Withdraw the sender's own report on `subject`.
    """
    assert self._reports[subject][msg.sender].active, "fraud: no report to withdraw"

    self._reports[subject][msg.sender].active = False
    self.activeReports[subject] -= 1
    log Withdrawn(subject=subject, reporter=msg.sender)


@external
@view
def isListed(subject: bytes32) -> bool:
    return self.activeReports[subject] > 0


@external
@view
def reportOf(subject: bytes32, reporter: address) -> Report:
    return self._reports[subject][reporter]
