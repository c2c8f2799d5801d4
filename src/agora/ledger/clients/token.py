"""Typed client of ``Token.vy``, the ERC-20 of escrow, rewards and fees."""

from eth_typing import ChecksumAddress

from agora.ledger.clients.base import ContractClient
from agora.ledger.model import Account, TokenAmount, TxHash


class TokenClient(ContractClient):
    """The marketplace's ERC-20; amounts in its smallest unit (:func:`tokens`)."""

    artifact_name = "Token"

    def mint(
        self, to: ChecksumAddress, amount: TokenAmount, *, account: Account
    ) -> TxHash:
        """Create ``amount`` for ``to``; ``account`` must be a minter (the owner)."""
        return self._send(account, self.contract.functions.mint(to, amount))

    def approve(
        self, spender: ChecksumAddress, amount: TokenAmount, *, account: Account
    ) -> TxHash:
        """Let ``spender`` (e.g. ``DataMarket`` for escrow) take ``amount``."""
        return self._send(account, self.contract.functions.approve(spender, amount))

    def transfer(
        self, to: ChecksumAddress, amount: TokenAmount, *, account: Account
    ) -> TxHash:
        """Move ``amount`` from ``account`` to ``to``."""
        return self._send(account, self.contract.functions.transfer(to, amount))

    def balance_of(self, account: ChecksumAddress) -> TokenAmount:
        """Tokens held by ``account``."""
        return TokenAmount(self._call(self.contract.functions.balanceOf(account)))

    def allowance(
        self, owner: ChecksumAddress, spender: ChecksumAddress
    ) -> TokenAmount:
        """What ``spender`` may still take from ``owner``."""
        return TokenAmount(
            self._call(self.contract.functions.allowance(owner, spender))
        )

    def total_supply(self) -> TokenAmount:
        """All tokens in existence."""
        return TokenAmount(self._call(self.contract.functions.totalSupply()))
