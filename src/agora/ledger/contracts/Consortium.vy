# pragma version ~=0.4.3
"""
@title Consortium
@notice Member organisations of an Agora consortium and their roles.
        The deployer is the admin. Admin transfer is two-step (snekmate
        `ownable_2step`: `transfer_ownership`, then `accept_ownership` by
        the new admin) so that a mistyped address cannot lock the
        consortium. `renounce_ownership` is deliberately not exported:
        a consortium without an admin could never change its members.

        It also keeps the trust list of credential issuers: which member
        may issue which credential type (an SD-JWT VC `vct`, keyed here by
        its keccak256). A listing counts only while its member is active
        and still holds the ISSUER role, so removing a member or its role
        withdraws every listing at once.
"""

from snekmate.auth import ownable
from snekmate.auth import ownable_2step

initializes: ownable
initializes: ownable_2step[ownable := ownable]

exports: (
    ownable.owner,
    ownable_2step.pending_owner,
    ownable_2step.transfer_ownership,
    ownable_2step.accept_ownership,
)


HOSPITAL: public(constant(uint256)) = 1
COORDINATOR: public(constant(uint256)) = 2
BUYER: public(constant(uint256)) = 4
PLATFORM: public(constant(uint256)) = 8
ISSUER: public(constant(uint256)) = 16
PROXY: public(constant(uint256)) = 32
ALL_ROLES: public(constant(uint256)) = 63


struct Member:
    name: String[64]
    roles: uint256
    active: bool


members: public(HashMap[address, Member])

# issuer -> keccak256(vct) -> listed
listed: public(HashMap[address, HashMap[bytes32, bool]])


event MemberAdded:
    account: indexed(address)
    name: String[64]
    roles: uint256


event RolesChanged:
    account: indexed(address)
    roles: uint256


event MemberRemoved:
    account: indexed(address)


event IssuerTrusted:
    issuer: indexed(address)
    vctHash: indexed(bytes32)
    vct: String[256]


event IssuerDistrusted:
    issuer: indexed(address)
    vctHash: indexed(bytes32)
    vct: String[256]


@deploy
def __init__():
    ownable.__init__()
    ownable_2step.__init__()


@internal
@view
def _check_admin():
    assert msg.sender == ownable.owner, "consortium: not admin"


@internal
@pure
def _check_roles(roles: uint256):
    assert roles != 0, "consortium: no roles"
    assert roles & ~ALL_ROLES == 0, "consortium: unknown role"


@external
def addMember(account: address, name: String[64], roles: uint256):
    """
    @notice Admit `account` with `roles`. A removed member may be re-added.
    """
    self._check_admin()
    assert account != empty(address), "consortium: zero address"
    assert len(name) > 0, "consortium: empty name"
    self._check_roles(roles)
    assert not self.members[account].active, "consortium: already member"

    self.members[account] = Member(name=name, roles=roles, active=True)
    log MemberAdded(account=account, name=name, roles=roles)


@external
def setRoles(account: address, roles: uint256):
    """
    @notice Replace the roles of an active member.
    """
    self._check_admin()
    assert self.members[account].active, "consortium: not a member"
    self._check_roles(roles)

    self.members[account].roles = roles
    log RolesChanged(account=account, roles=roles)


@external
def removeMember(account: address):
    """
    @notice Deactivate a member. Its name stays readable for audit.
    """
    self._check_admin()
    assert self.members[account].active, "consortium: not a member"

    self.members[account].roles = 0
    self.members[account].active = False
    log MemberRemoved(account=account)


@external
@view
def isMember(account: address) -> bool:
    return self.members[account].active


@external
@view
def hasRole(account: address, role: uint256) -> bool:
    """
    @notice True when `account` is an active member holding every bit of
            `role`. A zero `role` is never held.
    """
    member: Member = self.members[account]
    return role != 0 and member.active and member.roles & role == role


@external
def trustIssuer(issuer: address, vct: String[256]):
    """
    @notice List `issuer`, an active member with the ISSUER role, as
            trusted to issue credentials of type `vct`.
    """
    self._check_admin()
    assert len(vct) > 0, "consortium: empty credential type"
    member: Member = self.members[issuer]
    assert member.active and member.roles & ISSUER != 0, "consortium: not an issuer"
    key: bytes32 = keccak256(vct)
    assert not self.listed[issuer][key], "consortium: already trusted"

    self.listed[issuer][key] = True
    log IssuerTrusted(issuer=issuer, vctHash=key, vct=vct)


@external
def distrustIssuer(issuer: address, vct: String[256]):
    """
    @notice Take `issuer` off the trust list for `vct`.
    """
    self._check_admin()
    key: bytes32 = keccak256(vct)
    assert self.listed[issuer][key], "consortium: not trusted"

    self.listed[issuer][key] = False
    log IssuerDistrusted(issuer=issuer, vctHash=key, vct=vct)


@external
@view
def mayIssue(issuer: address, vctHash: bytes32) -> bool:
    """
    @notice True when `issuer` is listed for the type hashing to `vctHash`
            and is still an active member with the ISSUER role.
    """
    member: Member = self.members[issuer]
    return self.listed[issuer][vctHash] and member.active and member.roles & ISSUER != 0
