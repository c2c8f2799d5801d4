"""DataMarket.vy, during and after training: rounds, payouts, refunds."""

import pytest

from agora.ledger import (
    MAX_PROVIDERS,
    JobState,
    NotFoundError,
    Role,
    RoundCommitment,
    TokenAmount,
    to_basis_points,
    tokens,
)

from .support import AGGREGATE, ROOT, Market, reverts


def test_rounds_are_committed_in_order_and_readable(market: Market) -> None:
    data_market = market.ledger.data_market
    job_id = market.running_job()

    for number in (1, 2):
        data_market.commit_round(
            job_id,
            number,
            updates_root=bytes([number]) * 32,
            aggregate_hash=bytes([10 + number]) * 32,
            account=market.coordinator,
        )

    assert data_market.get_job(job_id).rounds_committed == 2
    assert data_market.round_commitment(job_id, 2) == RoundCommitment(
        updates_root=bytes([2]) * 32, aggregate_hash=bytes([12]) * 32
    )
    with pytest.raises(NotFoundError):
        data_market.round_commitment(job_id, 3)


@pytest.mark.parametrize(
    ("already", "number"),
    [(0, 2), (0, 0), (1, 1), (2, 1), (2, 4)],
    ids=["skip-first", "zero", "repeat", "rewind", "skip-later"],
)
def test_round_out_of_order_is_rejected(
    market: Market, already: int, number: int
) -> None:
    job_id = market.running_job()
    market.commit(job_id, rounds=already)

    with reverts("datamarket: round out of order"):
        market.ledger.data_market.commit_round(
            job_id,
            number,
            updates_root=ROOT,
            aggregate_hash=AGGREGATE,
            account=market.coordinator,
        )


def test_commitment_hashes_must_be_set(market: Market) -> None:
    job_id = market.running_job()
    commit = market.ledger.data_market.commit_round

    with reverts("datamarket: empty aggregate hash"):
        commit(
            job_id,
            1,
            updates_root=ROOT,
            aggregate_hash=bytes(32),
            account=market.coordinator,
        )
    with reverts("datamarket: empty updates root"):
        commit(
            job_id,
            1,
            updates_root=bytes(32),
            aggregate_hash=AGGREGATE,
            account=market.coordinator,
        )


def test_only_the_coordinator_commits(market: Market) -> None:
    job_id = market.running_job()
    with reverts("datamarket: caller is not the coordinator"):
        market.ledger.data_market.commit_round(
            job_id,
            1,
            updates_root=ROOT,
            aggregate_hash=AGGREGATE,
            account=market.hospitals[0],
        )


def test_a_coordinator_of_another_job_cannot_commit(market: Market) -> None:
    other = market.chain.new_account("other-coordinator")
    market.ledger.consortium.add_member(
        other.address, "Other", Role.COORDINATOR, account=market.admin
    )
    job_id = market.running_job()

    with reverts("datamarket: caller is not the coordinator"):
        market.ledger.data_market.commit_round(
            job_id, 1, updates_root=ROOT, aggregate_hash=AGGREGATE, account=other
        )


def test_no_commit_before_the_start(market: Market) -> None:
    job_id = market.post_job()
    with reverts("datamarket: job not running"):
        market.commit(job_id)


def test_finalize_pays_by_weight_and_refunds_the_dust(market: Market) -> None:
    token, data_market = market.ledger.token, market.ledger.data_market
    reward = TokenAmount(10**18 + 7)  # odd on purpose: 3 shares leave dust
    buyer_before = token.balance_of(market.buyer.address)
    job_id = market.running_job(providers=3, reward=reward)
    market.commit(job_id, rounds=2)
    providers = data_market.providers(job_id)

    data_market.finalize(job_id, [3333, 3333, 3334], account=market.coordinator)

    expected = [reward * 3333 // 10_000] * 2 + [reward * 3334 // 10_000]
    dust = reward - sum(expected)
    assert dust > 0
    assert [token.balance_of(p) for p in providers] == expected
    assert [data_market.payout(job_id, p) for p in providers] == expected
    assert data_market.refunded(job_id) == dust
    assert token.balance_of(market.buyer.address) == buyer_before - reward + dust
    assert token.balance_of(data_market.address) == 0
    assert sum(expected) + dust == reward
    assert data_market.get_job(job_id).state == JobState.FINALIZED


def test_finalize_events_account_for_the_whole_escrow(market: Market) -> None:
    data_market = market.ledger.data_market
    reward = TokenAmount(999_999)
    job_id = market.running_job(providers=2, reward=reward)
    market.commit(job_id)

    receipt = market.chain.transact(
        market.coordinator, data_market.contract.functions.finalize(job_id, [1, 9999])
    )

    paid = [e["args"]["amount"] for e in data_market.events(receipt, "ProviderPaid")]
    (refund,) = data_market.events(receipt, "Refunded")
    (final,) = data_market.events(receipt, "JobFinalized")
    assert paid == [99, 999_899]
    assert refund["args"]["amount"] == 1
    assert refund["args"]["buyer"] == market.buyer.address
    assert (final["args"]["paid"], final["args"]["refunded"]) == (999_998, 1)


def test_a_zero_weight_provider_gets_nothing(market: Market) -> None:
    token = market.ledger.token
    job_id = market.running_job(providers=2)
    market.commit(job_id)
    first, second = market.ledger.data_market.providers(job_id)

    market.ledger.data_market.finalize(job_id, [0, 10_000], account=market.coordinator)

    assert token.balance_of(first) == 0
    assert token.balance_of(second) == tokens(100)
    assert market.ledger.data_market.refunded(job_id) == 0


def test_sixteen_providers_are_paid(market: Market) -> None:
    token, data_market = market.ledger.token, market.ledger.data_market
    reward = TokenAmount(10**18 + 12_345)
    job_id = market.post_job(reward=reward, max_providers=MAX_PROVIDERS)
    for index in range(MAX_PROVIDERS):
        hospital = market.chain.new_account(f"hospital-x{index}", ether=1)
        market.ledger.consortium.add_member(
            hospital.address, f"H{index}", Role.HOSPITAL, account=market.admin
        )
        data_market.apply(job_id, market.register(hospital), account=hospital)
    data_market.start_job(job_id, account=market.coordinator)
    market.commit(job_id)
    weights = to_basis_points([float(i + 1) for i in range(MAX_PROVIDERS)])

    data_market.finalize(job_id, weights, account=market.coordinator)

    paid = [token.balance_of(p) for p in data_market.providers(job_id)]
    assert paid == [reward * w // 10_000 for w in weights]
    assert sum(paid) + data_market.refunded(job_id) == reward
    assert token.balance_of(data_market.address) == 0


@pytest.mark.parametrize(
    ("weights", "reason"),
    [
        ([5000, 4999], "datamarket: weights must sum to 10000"),
        ([5000, 5001], "datamarket: weights must sum to 10000"),
        ([10_000], "datamarket: weights length mismatch"),
        ([5000, 2500, 2500], "datamarket: weights length mismatch"),
        ([], "datamarket: weights length mismatch"),
        ([20_000, 0], "datamarket: weight above 10000"),
        ([2**255, 2**255], "datamarket: weight above 10000"),
    ],
    ids=["9999", "10001", "too-few", "too-many", "none", "big", "overflowing"],
)
def test_malformed_weights_are_rejected(
    market: Market, weights: list[int], reason: str
) -> None:
    job_id = market.running_job(providers=2)
    market.commit(job_id)

    with reverts(reason):
        market.ledger.data_market.finalize(job_id, weights, account=market.coordinator)


def test_finalize_rules(market: Market) -> None:
    data_market = market.ledger.data_market
    job_id = market.running_job(providers=1)

    with reverts("datamarket: no rounds committed"):
        data_market.finalize(job_id, [10_000], account=market.coordinator)
    market.commit(job_id)
    with reverts("datamarket: caller is not the coordinator"):
        data_market.finalize(job_id, [10_000], account=market.buyer)

    data_market.finalize(job_id, [10_000], account=market.coordinator)

    with reverts("datamarket: job not running"):
        data_market.finalize(job_id, [10_000], account=market.coordinator)
    with reverts("datamarket: job not running"):
        market.commit(job_id)


def test_no_finalize_before_the_start(market: Market) -> None:
    job_id = market.post_job()
    with reverts("datamarket: job not running"):
        market.ledger.data_market.finalize(job_id, [], account=market.coordinator)


def test_cancel_refunds_an_unstarted_job_after_its_deadline(market: Market) -> None:
    token, data_market = market.ledger.token, market.ledger.data_market
    buyer_before = token.balance_of(market.buyer.address)
    deadline = market.chain.now() + 100
    job_id = market.post_job(reward=TokenAmount(12_345), deadline=deadline)
    hospital = market.hospitals[0]
    data_market.apply(job_id, market.register(hospital), account=hospital)

    with reverts("datamarket: deadline not reached"):
        data_market.cancel(job_id, account=market.buyer)
    market.chain.time_travel(deadline)
    with reverts("datamarket: deadline not reached"):
        data_market.cancel(job_id, account=market.buyer)
    with reverts("datamarket: caller is not the buyer"):
        data_market.cancel(job_id, account=market.coordinator)

    data_market.cancel(job_id, account=market.buyer)

    assert token.balance_of(market.buyer.address) == buyer_before
    assert token.balance_of(data_market.address) == 0
    assert token.balance_of(hospital.address) == 0
    assert data_market.refunded(job_id) == 12_345
    assert data_market.get_job(job_id).state == JobState.CANCELLED
    with reverts("datamarket: job not open"):
        data_market.cancel(job_id, account=market.buyer)
    with reverts("datamarket: job not open"):
        data_market.start_job(job_id, account=market.coordinator)


def test_a_started_job_cannot_be_cancelled(market: Market) -> None:
    deadline = market.chain.now() + 100
    job_id = market.post_job(deadline=deadline)
    hospital = market.hospitals[0]
    market.ledger.data_market.apply(job_id, market.register(hospital), account=hospital)
    market.ledger.data_market.start_job(job_id, account=market.coordinator)
    market.chain.time_travel(deadline + 1)

    with reverts("datamarket: job not open"):
        market.ledger.data_market.cancel(job_id, account=market.buyer)


def test_escrows_of_concurrent_jobs_stay_apart(market: Market) -> None:
    token, data_market = market.ledger.token, market.ledger.data_market
    deadline = market.chain.now() + 100
    cancelled = market.post_job(reward=TokenAmount(500), deadline=deadline)
    finished = market.running_job(providers=1, reward=TokenAmount(301))
    market.commit(finished)

    data_market.finalize(finished, [10_000], account=market.coordinator)
    assert token.balance_of(data_market.address) == 500
    market.chain.time_travel(deadline + 1)
    data_market.cancel(cancelled, account=market.buyer)

    assert token.balance_of(data_market.address) == 0


def test_abort_refunds_a_running_job_in_full(market: Market) -> None:
    token, data_market = market.ledger.token, market.ledger.data_market
    buyer_before = token.balance_of(market.buyer.address)
    job_id = market.running_job(providers=2, reward=TokenAmount(777))
    market.commit(job_id)

    with reverts("datamarket: caller is not the coordinator"):
        data_market.abort(job_id, account=market.buyer)
    data_market.abort(job_id, account=market.coordinator)

    assert token.balance_of(market.buyer.address) == buyer_before
    assert token.balance_of(data_market.address) == 0
    assert data_market.refunded(job_id) == 777
    assert data_market.get_job(job_id).state == JobState.CANCELLED
    for rule in (
        lambda: data_market.abort(job_id, account=market.coordinator),
        lambda: data_market.finalize(
            job_id, [5_000, 5_000], account=market.coordinator
        ),
    ):
        with reverts("datamarket: job not running"):
            rule()


def test_only_a_running_job_can_be_aborted(market: Market) -> None:
    job_id = market.post_job(deadline=market.chain.now() + 100)
    with reverts("datamarket: job not running"):
        market.ledger.data_market.abort(job_id, account=market.coordinator)


MANIFEST = "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"


def test_the_coordinator_publishes_a_manifest_that_finalisation_freezes(
    market: Market,
) -> None:
    data_market = market.ledger.data_market
    job_id = market.running_job(providers=1)
    market.commit(job_id)
    assert data_market.manifest_cid(job_id) is None

    data_market.publish_manifest(job_id, MANIFEST, account=market.coordinator)
    data_market.finalize(job_id, [10_000], account=market.coordinator)

    assert data_market.manifest_cid(job_id) == MANIFEST
    # Finalised: the manifest the providers were paid against stays.
    with reverts("datamarket: job not running"):
        data_market.publish_manifest(
            job_id, "bafkrei-other", account=market.coordinator
        )
    assert data_market.manifest_cid(job_id) == MANIFEST


def test_manifest_rules(market: Market) -> None:
    data_market = market.ledger.data_market
    job_id = market.running_job(providers=1)

    # Only the job's coordinator may say which manifest it ran by.
    for outsider in (market.buyer, market.outsider, market.hospitals[0]):
        with reverts("datamarket: caller is not the coordinator"):
            data_market.publish_manifest(job_id, MANIFEST, account=outsider)
    # An empty CID points nowhere.
    with reverts("datamarket: empty manifest cid"):
        data_market.publish_manifest(job_id, "", account=market.coordinator)
    # Once recorded, it cannot be swapped, even before finalisation.
    data_market.publish_manifest(job_id, MANIFEST, account=market.coordinator)
    with reverts("datamarket: manifest already published"):
        data_market.publish_manifest(
            job_id, "bafkrei-other", account=market.coordinator
        )
    # No such job.
    with reverts("datamarket: no such job"):
        data_market.publish_manifest(
            market.ledger.data_market.job_count() + 1,
            MANIFEST,
            account=market.coordinator,
        )


def test_no_manifest_before_the_start_or_after_an_abort(market: Market) -> None:
    data_market = market.ledger.data_market
    job_id = market.post_job(deadline=market.chain.now() + 100)
    with reverts("datamarket: job not running"):
        data_market.publish_manifest(job_id, MANIFEST, account=market.coordinator)

    aborted = market.running_job(providers=1)
    data_market.abort(aborted, account=market.coordinator)
    with reverts("datamarket: job not running"):
        data_market.publish_manifest(aborted, MANIFEST, account=market.coordinator)
    assert data_market.manifest_cid(aborted) is None
