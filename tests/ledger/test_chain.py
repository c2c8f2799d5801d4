"""Chain: connecting, accounts, time, and how failures are translated."""

import pytest
from pydantic import SecretStr

from agora.errors import AgoraError, ConfigurationError
from agora.ledger import (
    Chain,
    ChainUnavailableError,
    ContractRevertError,
    InvalidArgumentError,
    LedgerError,
    Role,
    TransactionError,
    connect,
)
from agora.settings import Settings

from .support import Market, reverts


def test_unreachable_node_names_the_setting() -> None:
    # Port 9 (discard) on the loopback: refused at once, nothing listens.
    settings = Settings(chain_url="http://user:secret@127.0.0.1:9/?key=hush")

    with pytest.raises(ChainUnavailableError) as info:
        connect(settings)

    message = str(info.value)
    assert "AGORA_CHAIN_URL" in message
    assert "127.0.0.1" in message
    assert "secret" not in message
    assert "hush" not in message
    assert isinstance(info.value, LedgerError | AgoraError)
    assert isinstance(info.value, ConnectionError)


def test_non_http_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="AGORA_CHAIN_URL"):
        connect(Settings(chain_url="ws://127.0.0.1:8546"))


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGORA_CHAIN_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AGORA_FAUCET_KEY", "0x" + "11" * 32)

    settings = Settings()

    assert settings.chain_url == "http://127.0.0.1:9"
    assert settings.faucet_key == SecretStr("0x" + "11" * 32)
    with pytest.raises(ChainUnavailableError):
        connect()


def test_new_accounts_are_funded_and_named(market: Market) -> None:
    chain = market.chain
    account = chain.new_account("carol", ether=3)

    assert chain.ether_balance(account.address) == 3 * 10**18
    assert chain.name_of(account.address) == "carol"
    assert chain.name_of(chain.faucet.address) == "faucet"


def test_account_from_a_given_key(market: Market) -> None:
    key = bytes.fromhex("22" * 32)
    first = market.chain.new_account("fixed", ether=0, private_key=key)
    assert first.key == key


def test_revert_reason_from_a_call(market: Market) -> None:
    function = market.ledger.consortium.contract.functions.addMember(
        market.outsider.address, "X", 1
    )
    with pytest.raises(ContractRevertError) as info:
        market.chain.call(function)
    assert info.value.reason == "consortium: not admin"
    assert str(info.value) == "reverted: consortium: not admin"


def test_revert_reason_when_gas_is_estimated(market: Market) -> None:
    # The JSON-RPC path: no fixed gas limit, so the estimate meets the revert
    # before anything is sent.
    estimating = Chain(market.chain.w3, market.chain.faucet, gas_limit=None)
    outsider = market.outsider
    nonce = market.chain.w3.eth.get_transaction_count(outsider.address)
    function = market.ledger.consortium.contract.functions.addMember(
        outsider.address, "X", 1
    )

    with reverts("consortium: not admin"):
        estimating.transact(outsider, function)

    assert market.chain.w3.eth.get_transaction_count(outsider.address) == nonce
    estimating.transact(
        market.admin,
        market.ledger.consortium.contract.functions.addMember(
            outsider.address, "X", int(Role.PROXY)
        ),
    )
    assert market.ledger.consortium.has_role(outsider.address, Role.PROXY)


def test_revert_read_from_the_receipt_costs_the_nonce(market: Market) -> None:
    # The embedded path sends without estimating: the revert is mined.
    outsider = market.outsider
    nonce = market.chain.w3.eth.get_transaction_count(outsider.address)

    with reverts("consortium: not admin"):
        market.ledger.consortium.add_member(
            outsider.address, "X", Role.BUYER, account=outsider
        )

    assert market.chain.w3.eth.get_transaction_count(outsider.address) == nonce + 1


def test_out_of_gas_is_a_revert_without_contract_reason(market: Market) -> None:
    starved = Chain(market.chain.w3, market.chain.faucet, gas_limit=30_000)
    function = market.ledger.consortium.contract.functions.addMember(
        market.outsider.address, "X", 1
    )
    with pytest.raises(ContractRevertError) as info:
        starved.transact(market.admin, function)
    assert info.value.reason is not None
    assert "out of gas" in info.value.reason.lower()


def test_an_account_without_ether_cannot_send(market: Market) -> None:
    broke = market.chain.new_account("broke", ether=0)
    with pytest.raises(TransactionError):
        market.ledger.token.approve(
            market.ledger.data_market.address,
            market.ledger.token.total_supply(),
            account=broke,
        )


def test_time_moves_forward_only(market: Market) -> None:
    chain = market.chain
    now = chain.now()

    chain.time_travel(now + 1000)
    chain.new_account("tick", ether=1)

    assert chain.now() == now + 1000
    with pytest.raises(InvalidArgumentError):
        chain.time_travel(now)


def test_snapshot_and_revert(market: Market) -> None:
    chain = market.chain
    account = chain.new_account("ephemeral", ether=1)
    snapshot = chain.snapshot()
    chain.new_account("doomed", ether=2)
    market.ledger.token.transfer(account.address, 5, account=market.buyer)

    chain.revert(snapshot)

    assert market.ledger.token.balance_of(account.address) == 0
    assert chain.ether_balance(account.address) == 10**18
