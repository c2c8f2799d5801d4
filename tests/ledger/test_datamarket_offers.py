"""DataMarket.vy, before training: datasets, jobs, applications, start."""

import pytest

from agora.ledger import (
    Dataset,
    DatasetId,
    JobId,
    JobState,
    NotFoundError,
    Role,
    label_set_hash,
    modality_hash,
    tokens,
)

from .support import BUYER_FUNDS, LABELS, XRAY, Market, reverts


def test_register_dataset_records_the_offer(market: Market) -> None:
    hospital = market.hospitals[0]

    first = market.register(hospital, samples=321)
    second = market.register(hospital)

    assert (first, second) == (1, 2)
    assert market.ledger.data_market.dataset(first) == Dataset(
        dataset_id=first,
        owner=hospital.address,
        modality=XRAY,
        label_set=LABELS,
        samples=321,
        schema_cid="bafy-schema",
    )
    assert market.ledger.data_market.dataset_count() == 2
    with pytest.raises(NotFoundError):
        market.ledger.data_market.dataset(DatasetId(3))


def test_only_data_providers_register_datasets(market: Market) -> None:
    with reverts("datamarket: caller is not a data provider"):
        market.register(market.buyer)
    with reverts("datamarket: caller is not a data provider"):
        market.register(market.outsider)


def test_a_lending_platform_offers_data_and_applies(market: Market) -> None:
    # The lending application's credit job: platforms are data providers too.
    platform = market.outsider
    market.ledger.consortium.add_member(
        platform.address, "platform", Role.PLATFORM, account=market.admin
    )
    job_id = market.post_job()

    dataset_id = market.register(platform)
    market.ledger.data_market.apply(job_id, dataset_id, account=platform)

    assert market.ledger.data_market.providers(job_id) == [platform.address]


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        ({"samples": 0}, "datamarket: no samples"),
        ({"modality": bytes(32)}, "datamarket: empty modality"),
        ({"label_set": bytes(32)}, "datamarket: empty label set"),
    ],
)
def test_malformed_dataset_is_rejected(
    market: Market, field: dict[str, object], reason: str
) -> None:
    with reverts(reason):
        market.register(market.hospitals[0], **field)


def test_post_job_escrows_the_reward(market: Market) -> None:
    token, data_market = market.ledger.token, market.ledger.data_market
    deadline = market.chain.now() + 600

    job_id = market.post_job(reward=tokens(7), deadline=deadline)

    assert token.balance_of(market.buyer.address) == BUYER_FUNDS - tokens(7)
    assert token.balance_of(data_market.address) == tokens(7)
    job = data_market.get_job(job_id)
    assert (job.job_id, job.buyer, job.coordinator) == (
        1,
        market.buyer.address,
        market.coordinator.address,
    )
    assert (job.reward, job.deadline, job.state) == (tokens(7), deadline, JobState.OPEN)
    assert (job.spec_cid, job.modality, job.label_set) == ("bafy-spec", XRAY, LABELS)
    assert (job.min_samples, job.min_providers, job.max_providers) == (100, 1, 4)
    assert job.rounds_committed == 0
    with pytest.raises(NotFoundError):
        data_market.get_job(JobId(2))


def test_only_buyers_post_jobs(market: Market) -> None:
    with reverts("datamarket: caller is not a buyer"):
        market.post_job(buyer=market.hospitals[0])


def test_coordinator_must_hold_the_role(market: Market) -> None:
    with reverts("datamarket: coordinator lacks role"):
        market.post_job(coordinator=market.hospitals[0])


@pytest.mark.parametrize(
    ("terms", "reason"),
    [
        ({"min_providers": 0}, "datamarket: minProviders below 1"),
        (
            {"min_providers": 3, "max_providers": 2},
            "datamarket: minProviders above maxProviders",
        ),
        ({"max_providers": 17}, "datamarket: maxProviders above 16"),
        ({"reward": 0}, "datamarket: zero reward"),
        ({"reward": 2**256 // 10_000 + 1}, "datamarket: reward too large"),
    ],
)
def test_malformed_job_is_rejected(
    market: Market, terms: dict[str, int], reason: str
) -> None:
    with reverts(reason):
        market.post_job(**terms)


def test_job_deadline_must_lie_ahead(market: Market) -> None:
    with reverts("datamarket: deadline passed"):
        market.post_job(deadline=market.chain.now())


def test_escrow_needs_an_allowance(market: Market) -> None:
    market.ledger.token.approve(
        market.ledger.data_market.address, tokens(1), account=market.buyer
    )
    with reverts("erc20: insufficient allowance"):
        market.post_job(reward=tokens(2))


def test_providers_are_kept_in_application_order(market: Market) -> None:
    data_market = market.ledger.data_market
    job_id = market.post_job()
    order = [market.hospitals[2], market.hospitals[0], market.hospitals[1]]
    datasets = [market.register(hospital) for hospital in order]

    for hospital, dataset_id in zip(order, datasets, strict=True):
        data_market.apply(job_id, dataset_id, account=hospital)

    assert data_market.providers(job_id) == [h.address for h in order]
    assert data_market.provider_dataset(job_id, order[1].address) == datasets[1]
    with pytest.raises(NotFoundError):
        data_market.provider_dataset(job_id, market.hospitals[3].address)


def test_only_the_dataset_owner_applies(market: Market) -> None:
    job_id = market.post_job()
    dataset_id = market.register(market.hospitals[0])

    with reverts("datamarket: caller does not own dataset"):
        market.ledger.data_market.apply(job_id, dataset_id, account=market.hospitals[1])
    with reverts("datamarket: caller is not a data provider"):
        market.ledger.data_market.apply(job_id, dataset_id, account=market.buyer)
    with reverts("datamarket: no such dataset"):
        market.ledger.data_market.apply(
            job_id, DatasetId(99), account=market.hospitals[0]
        )
    with reverts("datamarket: no such job"):
        market.ledger.data_market.apply(
            JobId(99), dataset_id, account=market.hospitals[0]
        )


@pytest.mark.parametrize(
    ("dataset", "reason"),
    [
        (
            {"modality": modality_hash("xray/chest-64x64-grey")},
            "datamarket: modality mismatch",
        ),
        (
            {"label_set": label_set_hash(["normal", "pneumonia", "covid"])},
            "datamarket: label set mismatch",
        ),
        ({"samples": 99}, "datamarket: too few samples"),
    ],
)
def test_dataset_must_match_the_job(
    market: Market, dataset: dict[str, object], reason: str
) -> None:
    hospital = market.hospitals[0]
    job_id = market.post_job(min_samples=100)
    dataset_id = market.register(hospital, **dataset)

    with reverts(reason):
        market.ledger.data_market.apply(job_id, dataset_id, account=hospital)


def test_exactly_min_samples_matches(market: Market) -> None:
    hospital = market.hospitals[0]
    job_id = market.post_job(min_samples=100)
    market.ledger.data_market.apply(
        job_id, market.register(hospital, samples=100), account=hospital
    )
    assert market.ledger.data_market.providers(job_id) == [hospital.address]


def test_one_application_per_provider(market: Market) -> None:
    hospital = market.hospitals[0]
    job_id = market.post_job()
    market.ledger.data_market.apply(job_id, market.register(hospital), account=hospital)

    with reverts("datamarket: already applied"):
        market.ledger.data_market.apply(
            job_id, market.register(hospital), account=hospital
        )
    with reverts("datamarket: already applied"):
        market.ledger.data_market.apply(job_id, DatasetId(1), account=hospital)


def test_full_job_takes_no_more_providers(market: Market) -> None:
    job_id = market.post_job(max_providers=2)
    for hospital in market.hospitals[:2]:
        market.ledger.data_market.apply(
            job_id, market.register(hospital), account=hospital
        )

    late = market.hospitals[2]
    with reverts("datamarket: job is full"):
        market.ledger.data_market.apply(job_id, market.register(late), account=late)


def test_applications_close_after_the_deadline(market: Market) -> None:
    on_time, late = market.hospitals[:2]
    deadline = market.chain.now() + 100
    job_id = market.post_job(deadline=deadline)
    on_time_dataset, late_dataset = market.register(on_time), market.register(late)

    # The deadline itself is still in time.
    market.chain.time_travel(deadline)
    market.ledger.data_market.apply(job_id, on_time_dataset, account=on_time)

    with reverts("datamarket: deadline passed"):
        market.ledger.data_market.apply(job_id, late_dataset, account=late)


def test_no_application_after_the_start(market: Market) -> None:
    job_id = market.running_job(providers=1)
    late = market.hospitals[1]
    with reverts("datamarket: job not open"):
        market.ledger.data_market.apply(job_id, market.register(late), account=late)


def test_start_job_needs_the_coordinator_and_enough_providers(
    market: Market,
) -> None:
    data_market = market.ledger.data_market
    job_id = market.post_job(min_providers=2)
    hospital = market.hospitals[0]
    data_market.apply(job_id, market.register(hospital), account=hospital)

    with reverts("datamarket: caller is not the coordinator"):
        data_market.start_job(job_id, account=market.buyer)
    with reverts("datamarket: too few providers"):
        data_market.start_job(job_id, account=market.coordinator)

    second = market.hospitals[1]
    data_market.apply(job_id, market.register(second), account=second)
    data_market.start_job(job_id, account=market.coordinator)

    assert data_market.get_job(job_id).state == JobState.RUNNING
    with reverts("datamarket: job not open"):
        data_market.start_job(job_id, account=market.coordinator)


def test_no_start_after_the_deadline(market: Market) -> None:
    hospital = market.hospitals[0]
    deadline = market.chain.now() + 100
    job_id = market.post_job(deadline=deadline)
    market.ledger.data_market.apply(job_id, market.register(hospital), account=hospital)

    market.chain.time_travel(deadline + 1)

    with reverts("datamarket: deadline passed"):
        market.ledger.data_market.start_job(job_id, account=market.coordinator)
