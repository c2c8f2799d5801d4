"""Typed client of ``Consortium.vy``: members, roles and the issuer trust list."""

from eth_typing import ChecksumAddress
from web3 import Web3

from agora.ledger.clients.base import ContractClient
from agora.ledger.model import Account, Member, Role, TxHash


class ConsortiumClient(ContractClient):
    """Member organisations and roles. Writes are the admin's alone."""

    artifact_name = "Consortium"

    def add_member(
        self,
        member: ChecksumAddress,
        name: str,
        roles: Role,
        *,
        account: Account,
    ) -> TxHash:
        """Admit ``member`` under ``name`` (at most 64 bytes) with ``roles``."""
        return self._send(
            account, self.contract.functions.addMember(member, name, int(roles))
        )

    def set_roles(
        self, member: ChecksumAddress, roles: Role, *, account: Account
    ) -> TxHash:
        """Replace an active member's roles."""
        return self._send(account, self.contract.functions.setRoles(member, int(roles)))

    def remove_member(self, member: ChecksumAddress, *, account: Account) -> TxHash:
        """Deactivate a member; it loses every role at once."""
        return self._send(account, self.contract.functions.removeMember(member))

    def transfer_admin(self, new_admin: ChecksumAddress, *, account: Account) -> TxHash:
        """Offer the admin role to ``new_admin``; it takes effect on
        :meth:`accept_admin`. Reverts with snekmate's ``"ownable: caller is
        not the owner"`` when ``account`` is not the admin."""
        return self._send(
            account, self.contract.functions.transfer_ownership(new_admin)
        )

    def accept_admin(self, *, account: Account) -> TxHash:
        """Complete a transfer started by :meth:`transfer_admin`."""
        return self._send(account, self.contract.functions.accept_ownership())

    def admin(self) -> ChecksumAddress:
        """The current admin."""
        address: ChecksumAddress = self._call(self.contract.functions.owner())
        return address

    def has_role(self, account: ChecksumAddress, role: Role) -> bool:
        """True when ``account`` is an active member holding all of ``role``."""
        return bool(self._call(self.contract.functions.hasRole(account, int(role))))

    def is_member(self, account: ChecksumAddress) -> bool:
        """True when ``account`` is an active member."""
        return bool(self._call(self.contract.functions.isMember(account)))

    def member(self, account: ChecksumAddress) -> Member:
        """The record of ``account``; inactive and nameless if never admitted."""
        name, roles, active = self._call(self.contract.functions.members(account))
        return Member(account=account, name=name, roles=Role(roles), active=active)

    def trust_issuer(
        self, issuer: ChecksumAddress, vct: str, *, account: Account
    ) -> TxHash:
        """List ``issuer`` (an active ISSUER member) for credential type
        ``vct`` (at most 256 bytes)."""
        return self._send(account, self.contract.functions.trustIssuer(issuer, vct))

    def distrust_issuer(
        self, issuer: ChecksumAddress, vct: str, *, account: Account
    ) -> TxHash:
        """Take ``issuer`` off the trust list for ``vct``."""
        return self._send(account, self.contract.functions.distrustIssuer(issuer, vct))

    def may_issue(self, issuer: ChecksumAddress, vct: str) -> bool:
        """True when ``issuer`` is listed for ``vct`` and still an active
        member with the ISSUER role."""
        return bool(
            self._call(
                self.contract.functions.mayIssue(issuer, credential_type_hash(vct))
            )
        )


def credential_type_hash(vct: str) -> bytes:
    """The trust list's key for a credential type: keccak256 of its UTF-8."""
    return bytes(Web3.keccak(text=vct))
