"""ServiceMarket.vy: per-call receipts settled in batches, royalties by the
training job's payouts, no replayed or inflated receipts, notice to leave."""

import pytest
from eth_account import Account as Keys

from agora.ledger import (
    JobId,
    Receipt,
    Role,
    TokenAmount,
    sign_receipt,
    tokens,
)

from .support import Market, reverts

PRICE = tokens(2)
SHARE_BPS = 3000
DEPOSIT = tokens(100)


def _finalized_job(market: Market) -> JobId:
    """Two hospitals paid 75/25 for the model."""
    job_id = market.running_job(providers=2)
    market.commit(job_id)
    market.ledger.data_market.finalize(job_id, [7500, 2500], account=market.coordinator)
    return job_id


def _listed(market: Market) -> int:
    return market.ledger.service_market.list_service(
        "bafy-model", PRICE, SHARE_BPS, _finalized_job(market), account=market.buyer
    )


def _consumer(market: Market) -> Keys:
    consumer = market.chain.new_account("clinic")
    token, services = market.ledger.token, market.ledger.service_market
    token.mint(consumer.address, DEPOSIT, account=market.admin)
    token.approve(services.address, DEPOSIT, account=consumer)
    services.deposit(DEPOSIT, account=consumer)
    return consumer


def _receipt(
    market: Market, service: int, consumer: Keys, calls: int
) -> tuple[Receipt, bytes]:
    services = market.ledger.service_market
    receipt = Receipt(
        service, consumer.address, calls, services.nonce_of(consumer.address)
    )
    return receipt, services.sign(receipt, consumer)


def test_settlement_pays_the_provider_and_the_data_providers(market: Market) -> None:
    services = market.ledger.service_market
    service = _listed(market)
    consumer = _consumer(market)

    services.settle(*_receipt(market, service, consumer, 10), account=market.buyer)

    fee = 10 * PRICE
    royalties = fee * (10_000 - SHARE_BPS) // 10_000
    first, second = market.hospitals[0].address, market.hospitals[1].address
    assert services.earned(first) == royalties * 3 // 4
    assert services.earned(second) == royalties // 4
    assert (
        services.earned(market.buyer.address)
        == fee - royalties * 3 // 4 - royalties // 4
    )
    assert services.deposit_of(consumer.address) == DEPOSIT - fee

    before = market.ledger.token.balance_of(first)
    services.claim(account=market.hospitals[0])
    assert market.ledger.token.balance_of(first) == before + royalties * 3 // 4


def test_a_later_receipt_settles_only_the_new_calls(market: Market) -> None:
    services = market.ledger.service_market
    service = _listed(market)
    consumer = _consumer(market)
    services.settle(*_receipt(market, service, consumer, 3), account=market.buyer)

    services.settle(*_receipt(market, service, consumer, 5), account=market.buyer)

    assert services.deposit_of(consumer.address) == DEPOSIT - 5 * PRICE
    assert services.settled_calls(service, consumer.address, 0) == 5


def test_a_replayed_receipt_settles_nothing(market: Market) -> None:
    services = market.ledger.service_market
    service = _listed(market)
    consumer = _consumer(market)
    receipt, signature = _receipt(market, service, consumer, 4)
    services.settle(receipt, signature, account=market.buyer)

    with reverts("services: nothing to settle"):
        services.settle(receipt, signature, account=market.buyer)


def test_an_inflated_receipt_is_refused(market: Market) -> None:
    services = market.ledger.service_market
    service = _listed(market)
    consumer = _consumer(market)
    receipt, signature = _receipt(market, service, consumer, 4)
    inflated = Receipt(receipt.service, receipt.consumer, 40, receipt.nonce)

    with reverts("services: bad signature"):
        services.settle(inflated, signature, account=market.buyer)


def test_a_receipt_signed_by_someone_else_is_refused(market: Market) -> None:
    services = market.ledger.service_market
    service = _listed(market)
    consumer = _consumer(market)
    receipt = Receipt(service, consumer.address, 4, 0)
    forged = sign_receipt(
        Receipt(service, market.outsider.address, 4, 0),
        market.outsider,
        chain_id=market.chain.chain_id,
        contract=services.address,
    )

    with reverts("services: bad signature"):
        services.settle(receipt, forged, account=market.outsider)


def test_an_exhausted_deposit_is_refused(market: Market) -> None:
    services = market.ledger.service_market
    service = _listed(market)
    consumer = _consumer(market)
    calls = DEPOSIT // PRICE + 1

    with reverts("services: deposit exhausted"):
        services.settle(
            *_receipt(market, service, consumer, calls), account=market.buyer
        )


def test_withdrawal_waits_for_notice_and_voids_old_receipts(market: Market) -> None:
    services = market.ledger.service_market
    service = _listed(market)
    consumer = _consumer(market)
    late_receipt = _receipt(market, service, consumer, 2)
    services.request_withdrawal(account=consumer)

    with reverts("services: notice period running"):
        services.withdraw(account=consumer)
    # Within the notice, the provider still settles what was used.
    services.settle(*_receipt(market, service, consumer, 1), account=market.buyer)
    market.chain.time_travel(market.chain.now() + 86_400 + 1)
    before = market.ledger.token.balance_of(consumer.address)
    services.withdraw(account=consumer)

    assert market.ledger.token.balance_of(consumer.address) == before + DEPOSIT - PRICE
    with reverts("services: stale nonce"):
        services.settle(*late_receipt, account=market.buyer)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("not-a-buyer", "services: not a buyer"),
        ("not-the-job's-buyer", "services: not the job's buyer"),
        ("job-running", "services: job not finalized"),
        ("zero-price", "services: zero price"),
        ("share-over", "services: share over 10000"),
        ("empty-cid", "services: empty model CID"),
    ],
)
def test_listing_rules(market: Market, case: str, reason: str) -> None:
    job_id = _finalized_job(market)
    account, cid, price, share = market.buyer, "bafy-model", PRICE, SHARE_BPS
    if case == "not-a-buyer":
        account = market.hospitals[0]
    elif case == "not-the-job's-buyer":
        other = market.chain.new_account("other-buyer")
        market.ledger.consortium.add_member(
            other.address, "Other", Role.BUYER, account=market.admin
        )
        account = other
    elif case == "job-running":
        job_id = market.running_job(providers=1)
    elif case == "zero-price":
        price = TokenAmount(0)
    elif case == "share-over":
        share = 10_001
    else:
        cid = ""

    with reverts(reason):
        market.ledger.service_market.list_service(
            cid, price, share, job_id, account=account
        )


def test_settling_an_unknown_service_is_refused(market: Market) -> None:
    consumer = _consumer(market)
    with reverts("services: unknown service"):
        market.ledger.service_market.settle(
            *_receipt(market, 99, consumer, 1), account=market.buyer
        )
