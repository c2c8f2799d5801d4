"""Re-entrancy: a token that calls back into DataMarket while being paid.

Vyper compiles ``@nonreentrant`` into a bare ``assert`` on a transient-
storage lock (Cancun), so a re-entrant call reverts with *empty* revert
data. That is how these tests tell the lock apart from the function's own
checks, which would have answered ``"datamarket: caller is not ..."``.
"""

from dataclasses import dataclass
from pathlib import Path

import pytest
from web3.contract import Contract

from agora.ledger import (
    Artifacts,
    DataMarketClient,
    JobId,
    JobState,
    TokenAmount,
    build_contracts,
)
from agora.settings import Settings

from .support import LABELS, XRAY, Market, reverts

FINALIZE, CANCEL = 1, 2
REWARD = TokenAmount(10_001)
NOT_COORDINATOR = "datamarket: caller is not the coordinator"


@dataclass(frozen=True)
class Rigged:
    """A DataMarket whose escrow token is the evil one."""

    market: Market
    data_market: DataMarketClient
    evil: Contract
    job_id: JobId
    deadline: int


def _error_data(reason: str) -> bytes:
    # Error(string) as the EVM returns it: selector, offset, length, text.
    text = reason.encode()
    padded = text + bytes(-len(text) % 32)
    return (
        bytes.fromhex("08c379a0")
        + (32).to_bytes(32, "big")
        + len(text).to_bytes(32, "big")
        + padded
    )


@pytest.fixture(scope="module")
def evil_artifacts(settings: Settings, evil_source: Path) -> Artifacts:
    return build_contracts(settings, sources=[evil_source])


@pytest.fixture
def rigged(market: Market, evil_artifacts: Artifacts, artifacts: Artifacts) -> Rigged:
    chain = market.chain
    evil = chain.deploy(market.admin, evil_artifacts["EvilToken"])
    contract = chain.deploy(
        market.admin,
        artifacts["DataMarket"],
        market.ledger.consortium.address,
        evil.address,
    )
    data_market = DataMarketClient(chain, contract)

    buyer = market.buyer
    chain.transact(buyer, evil.functions.mint(buyer.address, REWARD))
    chain.transact(buyer, evil.functions.approve(data_market.address, REWARD))
    deadline = chain.now() + 100
    job_id = data_market.post_job(
        spec_cid="bafy-spec",
        modality=XRAY,
        label_set=LABELS,
        min_samples=1,
        reward=REWARD,
        min_providers=1,
        max_providers=1,
        deadline=deadline,
        coordinator=market.coordinator.address,
        account=buyer,
    )
    return Rigged(market, data_market, evil, job_id, deadline)


def _run_job(rigged: Rigged) -> None:
    market, data_market = rigged.market, rigged.data_market
    hospital = market.hospitals[0]
    dataset_id = data_market.register_dataset(
        modality=XRAY, label_set=LABELS, samples=10, schema_cid="", account=hospital
    )
    data_market.apply(rigged.job_id, dataset_id, account=hospital)
    data_market.start_job(rigged.job_id, account=market.coordinator)
    data_market.commit_round(
        rigged.job_id,
        1,
        updates_root=bytes([1]) * 32,
        aggregate_hash=bytes([2]) * 32,
        account=market.coordinator,
    )


def _arm(rigged: Rigged, mode: int, *, swallow: bool) -> None:
    function = rigged.evil.functions.arm(
        mode, rigged.data_market.address, rigged.job_id, [10_000], swallow
    )
    rigged.market.chain.transact(rigged.market.admin, function)


def _balance(rigged: Rigged, address: str) -> int:
    return int(rigged.evil.functions.balanceOf(address).call())


def test_reentering_finalize_reverts_the_whole_payout(rigged: Rigged) -> None:
    _run_job(rigged)
    _arm(rigged, FINALIZE, swallow=False)

    with reverts(None):
        rigged.data_market.finalize(
            rigged.job_id, [10_000], account=rigged.market.coordinator
        )

    # Nothing happened: still running, escrow intact, the attacker unarmed
    # only in the reverted world.
    assert rigged.data_market.get_job(rigged.job_id).state == JobState.RUNNING
    assert _balance(rigged, rigged.data_market.address) == REWARD
    assert rigged.evil.functions.attack().call() == FINALIZE


def test_reentrant_finalize_is_stopped_by_the_lock(rigged: Rigged) -> None:
    _run_job(rigged)
    _arm(rigged, FINALIZE, swallow=True)
    provider = rigged.market.hospitals[0].address

    rigged.data_market.finalize(
        rigged.job_id, [10_000], account=rigged.market.coordinator
    )

    evil = rigged.evil.functions
    assert evil.attempts().call() == 1
    assert evil.lastSucceeded().call() is False
    assert evil.lastRevertData().call() == b""
    assert _balance(rigged, provider) == REWARD
    assert _balance(rigged, rigged.data_market.address) == 0
    assert rigged.data_market.get_job(rigged.job_id).state == JobState.FINALIZED


def test_the_same_call_outside_a_payout_meets_the_role_check(rigged: Rigged) -> None:
    _run_job(rigged)
    _arm(rigged, FINALIZE, swallow=True)

    rigged.market.chain.transact(
        rigged.market.admin, rigged.evil.functions.callDirectly(FINALIZE)
    )

    assert rigged.evil.functions.lastRevertData().call() == _error_data(NOT_COORDINATOR)


def test_reentering_cancel_reverts_the_refund(rigged: Rigged) -> None:
    buyer = rigged.market.buyer
    rigged.market.chain.time_travel(rigged.deadline + 1)
    _arm(rigged, CANCEL, swallow=False)

    with reverts(None):
        rigged.data_market.cancel(rigged.job_id, account=buyer)

    assert rigged.data_market.get_job(rigged.job_id).state == JobState.OPEN
    assert _balance(rigged, rigged.data_market.address) == REWARD


def test_reentrant_cancel_is_stopped_by_the_lock(rigged: Rigged) -> None:
    buyer = rigged.market.buyer
    rigged.market.chain.time_travel(rigged.deadline + 1)
    _arm(rigged, CANCEL, swallow=True)

    rigged.data_market.cancel(rigged.job_id, account=buyer)

    assert rigged.evil.functions.lastRevertData().call() == b""
    assert _balance(rigged, buyer.address) == REWARD
    assert rigged.data_market.refunded(rigged.job_id) == REWARD

    rigged.market.chain.transact(
        rigged.market.admin, rigged.evil.functions.callDirectly(CANCEL)
    )
    assert rigged.evil.functions.lastRevertData().call() == _error_data(
        "datamarket: caller is not the buyer"
    )
