"""DataMarket.vy: a provider declares the records it trains a job on."""

import pytest

from agora.ledger import Inclusion, JobId, NotFoundError

from .support import Market, reverts

INCLUDED = Inclusion(root=bytes(range(1, 33)), count=420)


def _declare(
    market: Market,
    job_id: JobId,
    *,
    hospital: int = 0,
    inclusion: Inclusion = INCLUDED,
) -> None:
    market.ledger.data_market.declare_inclusion(
        job_id, inclusion, account=market.hospitals[hospital]
    )


def test_a_matched_provider_declares_its_inclusion_once(market: Market) -> None:
    job_id = market.running_job()

    _declare(market, job_id)

    data_market = market.ledger.data_market
    assert data_market.inclusion(job_id, market.hospitals[0].address) == INCLUDED
    with pytest.raises(NotFoundError):
        data_market.inclusion(job_id, market.hospitals[1].address)


def test_a_provider_may_declare_before_the_job_starts(market: Market) -> None:
    job_id = market.post_job()
    market.ledger.data_market.apply(
        job_id, market.register(market.hospitals[0]), account=market.hospitals[0]
    )

    _declare(market, job_id)

    assert (
        market.ledger.data_market.inclusion(job_id, market.hospitals[0].address)
        == INCLUDED
    )


def test_rule_already_declared_a_second_declaration_reverts(market: Market) -> None:
    job_id = market.running_job()
    _declare(market, job_id)

    with reverts("datamarket: inclusion already declared"):
        _declare(market, job_id, inclusion=Inclusion(bytes([9]) * 32, 10))


def test_rule_not_a_provider_an_unmatched_hospital_cannot_declare(
    market: Market,
) -> None:
    job_id = market.running_job(providers=2)

    with reverts("datamarket: caller is not a provider of the job"):
        _declare(market, job_id, hospital=3)
    with reverts("datamarket: caller is not a provider of the job"):
        market.ledger.data_market.declare_inclusion(
            job_id, INCLUDED, account=market.coordinator
        )


def test_rule_rounds_committed_declaring_after_round_one_reverts(
    market: Market,
) -> None:
    job_id = market.running_job()
    market.commit(job_id, rounds=1)

    with reverts("datamarket: rounds already committed"):
        _declare(market, job_id)


@pytest.mark.parametrize(
    ("inclusion", "reason"),
    [
        (Inclusion(bytes(32), 10), "datamarket: empty inclusion root"),
        (Inclusion(bytes([1]) * 32, 0), "datamarket: no records included"),
        (Inclusion(bytes([1]) * 32, 501), "datamarket: more records than offered"),
        (
            Inclusion(bytes([1]) * 32, 99),
            "datamarket: fewer records than the job's minimum",
        ),
    ],
    ids=["empty-root", "no-records", "more-than-offered", "below-job-minimum"],
)
def test_rule_bad_inclusion_reverts(
    market: Market, inclusion: Inclusion, reason: str
) -> None:
    job_id = market.running_job()  # 500 samples offered, the job needs 100

    with reverts(reason):
        _declare(market, job_id, inclusion=inclusion)


def test_rule_job_state_no_declaration_for_a_finished_job(market: Market) -> None:
    job_id = market.running_job(providers=1)
    market.ledger.data_market.abort(job_id, account=market.coordinator)

    with reverts("datamarket: job not open or running"):
        _declare(market, job_id)
    with reverts("datamarket: no such job"):
        _declare(market, JobId(999))
