"""DataMarket.vy: each dataset's differential-privacy budget and its spend."""

import pytest

from agora.ledger import (
    MAX_JOB_PRIVACY_COST,
    UNLIMITED_PRIVACY,
    DatasetId,
    JobState,
    MilliEpsilon,
)

from .support import Market, reverts

EPSILON_8 = MilliEpsilon(8_000)


def budgeted(market: Market, budget: int, *, hospital: int = 0) -> DatasetId:
    """A dataset of ``market.hospitals[hospital]`` with ``budget`` set."""
    owner = market.hospitals[hospital]
    dataset_id = market.register(owner)
    market.ledger.data_market.set_privacy_budget(
        dataset_id, MilliEpsilon(budget), account=owner
    )
    return dataset_id


def test_a_new_dataset_has_an_unlimited_budget_and_nothing_spent(
    market: Market,
) -> None:
    dataset = market.ledger.data_market.dataset(market.register(market.hospitals[0]))

    assert dataset.privacy_budget == UNLIMITED_PRIVACY
    assert dataset.privacy_spent == 0
    assert dataset.privacy_remaining == UNLIMITED_PRIVACY


def test_the_owner_records_a_budget(market: Market) -> None:
    dataset_id = budgeted(market, 20_000)

    dataset = market.ledger.data_market.dataset(dataset_id)
    assert (dataset.privacy_budget, dataset.privacy_spent) == (20_000, 0)
    assert dataset.privacy_remaining == 20_000


def test_only_the_owner_sets_the_budget(market: Market) -> None:
    dataset_id = market.register(market.hospitals[0])
    data_market = market.ledger.data_market

    # Rule: the budget is the data owner's promise, nobody else's.
    for stranger in (market.hospitals[1], market.buyer, market.coordinator):
        with reverts("datamarket: caller does not own dataset"):
            data_market.set_privacy_budget(
                dataset_id, MilliEpsilon(1), account=stranger
            )
    # Rule: there must be a dataset to set it on.
    with reverts("datamarket: no such dataset"):
        data_market.set_privacy_budget(
            DatasetId(99), MilliEpsilon(1), account=market.hospitals[0]
        )
    assert data_market.dataset(dataset_id).privacy_budget == UNLIMITED_PRIVACY


def test_a_finite_budget_can_only_be_lowered(market: Market) -> None:
    dataset_id = budgeted(market, 10_000)
    owner, data_market = market.hospitals[0], market.ledger.data_market

    # Rule: a finite budget cannot be raised, nor made unlimited again.
    for higher in (10_001, UNLIMITED_PRIVACY):
        with reverts("datamarket: privacy budget can only be lowered"):
            data_market.set_privacy_budget(
                dataset_id, MilliEpsilon(higher), account=owner
            )

    data_market.set_privacy_budget(dataset_id, MilliEpsilon(9_000), account=owner)
    assert data_market.dataset(dataset_id).privacy_budget == 9_000


def test_a_private_job_spends_epsilon_when_a_provider_applies(market: Market) -> None:
    dataset_id = budgeted(market, 20_000)
    data_market = market.ledger.data_market
    job_id = market.post_job(privacy_cost=EPSILON_8)

    data_market.apply(job_id, dataset_id, account=market.hospitals[0])

    assert data_market.get_job(job_id).privacy_cost == EPSILON_8
    dataset = data_market.dataset(dataset_id)
    assert dataset.privacy_spent == 8_000
    assert dataset.privacy_remaining == 12_000


def test_an_exhausted_budget_refuses_the_next_private_job(market: Market) -> None:
    dataset_id = budgeted(market, 12_000)
    owner, data_market = market.hospitals[0], market.ledger.data_market
    first = market.post_job(privacy_cost=EPSILON_8)
    data_market.apply(first, dataset_id, account=owner)
    second = market.post_job(privacy_cost=EPSILON_8)

    # Rule: the remaining 4.0 cannot cover a job of epsilon 8.0.
    with reverts("datamarket: privacy budget exhausted"):
        data_market.apply(second, dataset_id, account=owner)

    assert data_market.providers(second) == []
    assert data_market.dataset(dataset_id).privacy_spent == 8_000
    # What is left still serves a job that fits exactly.
    third = market.post_job(privacy_cost=MilliEpsilon(4_000))
    data_market.apply(third, dataset_id, account=owner)
    assert data_market.dataset(dataset_id).privacy_remaining == 0


def test_a_budget_is_never_set_below_what_is_spent(market: Market) -> None:
    dataset_id = budgeted(market, 20_000)
    owner, data_market = market.hospitals[0], market.ledger.data_market
    job_id = market.post_job(privacy_cost=EPSILON_8)
    data_market.apply(job_id, dataset_id, account=owner)

    with reverts("datamarket: privacy budget below spent"):
        data_market.set_privacy_budget(dataset_id, MilliEpsilon(7_999), account=owner)
    data_market.set_privacy_budget(dataset_id, EPSILON_8, account=owner)
    assert data_market.dataset(dataset_id).privacy_remaining == 0


def test_a_job_without_privacy_is_refused_by_a_finite_budget(market: Market) -> None:
    data_market = market.ledger.data_market
    job_id = market.post_job()

    # Rule: a non-private job spends an unbounded epsilon.
    with reverts("datamarket: dataset needs a private job"):
        data_market.apply(
            job_id, budgeted(market, 1_000_000), account=market.hospitals[0]
        )
    # An unlimited dataset still takes it, and records no spend.
    unlimited = market.register(market.hospitals[1])
    data_market.apply(job_id, unlimited, account=market.hospitals[1])
    assert data_market.dataset(unlimited).privacy_spent == 0


def test_a_zero_budget_closes_the_dataset_to_every_job(market: Market) -> None:
    dataset_id = budgeted(market, 0)
    owner, data_market = market.hospitals[0], market.ledger.data_market

    with reverts("datamarket: privacy budget exhausted"):
        data_market.apply(
            market.post_job(privacy_cost=MilliEpsilon(1)), dataset_id, account=owner
        )
    with reverts("datamarket: dataset needs a private job"):
        data_market.apply(market.post_job(), dataset_id, account=owner)


def test_an_unlimited_dataset_records_what_private_jobs_spend(market: Market) -> None:
    dataset_id = market.register(market.hospitals[0])
    data_market = market.ledger.data_market

    for _ in range(2):
        job_id = market.post_job(privacy_cost=MAX_JOB_PRIVACY_COST)
        data_market.apply(job_id, dataset_id, account=market.hospitals[0])

    dataset = data_market.dataset(dataset_id)
    assert dataset.privacy_spent == 2 * MAX_JOB_PRIVACY_COST
    assert dataset.privacy_remaining == UNLIMITED_PRIVACY


@pytest.mark.parametrize(
    "cost", [MAX_JOB_PRIVACY_COST + 1, UNLIMITED_PRIVACY], ids=["just-over", "max"]
)
def test_a_job_cost_past_the_bound_is_refused(market: Market, cost: int) -> None:
    # Rule: bounded costs keep an unlimited dataset's spend from overflowing.
    with reverts("datamarket: privacy cost too large"):
        market.post_job(privacy_cost=MilliEpsilon(cost))


def test_cancelling_an_unstarted_job_gives_the_epsilon_back(market: Market) -> None:
    dataset_id = budgeted(market, 10_000)
    owner, data_market = market.hospitals[0], market.ledger.data_market
    deadline = market.chain.now() + 100
    job_id = market.post_job(privacy_cost=EPSILON_8, deadline=deadline)
    data_market.apply(job_id, dataset_id, account=owner)
    market.chain.time_travel(deadline + 1)

    data_market.cancel(job_id, account=market.buyer)

    assert data_market.dataset(dataset_id).privacy_spent == 0


def test_an_aborted_job_keeps_its_spend(market: Market) -> None:
    # Training started, so the data was used: the epsilon stays spent.
    data_market = market.ledger.data_market
    datasets = [budgeted(market, 10_000, hospital=i) for i in range(2)]
    job_id = market.post_job(privacy_cost=EPSILON_8)
    for index, dataset_id in enumerate(datasets):
        data_market.apply(job_id, dataset_id, account=market.hospitals[index])
    data_market.start_job(job_id, account=market.coordinator)

    data_market.abort(job_id, account=market.coordinator)

    assert data_market.get_job(job_id).state == JobState.CANCELLED
    for dataset_id in datasets:
        assert data_market.dataset(dataset_id).privacy_spent == 8_000
