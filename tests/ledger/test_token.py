"""Token.vy: snekmate's ERC-20 with 18 decimals; only the owner mints."""

from agora.ledger import tokens

from .support import BUYER_FUNDS, Market, reverts


def test_metadata(market: Market) -> None:
    functions = market.ledger.token.contract.functions
    assert functions.name().call() == "Agora Token"
    assert functions.symbol().call() == "AGORA"
    assert functions.decimals().call() == 18
    assert functions.owner().call() == market.admin.address


def test_owner_mints_and_nobody_else(market: Market) -> None:
    token = market.ledger.token
    supply = token.total_supply()

    token.mint(market.outsider.address, tokens(5), account=market.admin)

    assert token.balance_of(market.outsider.address) == tokens(5)
    assert token.total_supply() == supply + tokens(5)
    with reverts("erc20: access is denied"):
        token.mint(market.outsider.address, tokens(5), account=market.outsider)


def test_transfer_and_allowance(market: Market) -> None:
    token = market.ledger.token
    buyer, outsider = market.buyer.address, market.outsider.address

    token.transfer(outsider, tokens(3), account=market.buyer)

    assert token.balance_of(outsider) == tokens(3)
    assert token.balance_of(buyer) == BUYER_FUNDS - tokens(3)
    assert token.allowance(buyer, market.ledger.data_market.address) == BUYER_FUNDS
    with reverts("erc20: transfer amount exceeds balance"):
        token.transfer(buyer, tokens(4), account=market.outsider)
