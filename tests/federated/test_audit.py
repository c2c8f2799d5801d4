"""The audited round: rejection, aggregation, commitment, proofs."""

import hashlib

import numpy as np
import pytest

from agora.federated.arrays import aggregate_digest, update_digest
from agora.federated.audit import Provider, RoundAuditor, Submission
from agora.federated.contributions import (
    measure_contributions,
    shapley_from_utilities,
)
from agora.federated.errors import ContributionError
from agora.federated.merkle import merkle_root, verify_inclusion
from agora.federated.robust import RobustRule

PROVIDERS = [Provider(i, f"hospital-{i}", f"0x{i + 1:040x}") for i in range(3)]
GLOBAL = {"w": np.zeros(4, dtype=np.float32)}


class Ledger:
    """Records commitments the way the chain would (a real, in-memory sink)."""

    def __init__(self) -> None:
        self.commits: list[tuple[int, bytes, bytes]] = []

    def __call__(self, server_round: int, root: bytes, aggregate: bytes) -> str:
        self.commits.append((server_round, root, aggregate))
        return "0x" + hashlib.sha256(root + aggregate).hexdigest()


def _auditor(ledger: Ledger) -> RoundAuditor:
    return RoundAuditor(
        job_id=7, providers=PROVIDERS, committer=ledger, max_update_norm=10.0
    )


def _sub(index: int, value: float, count: object = 10) -> Submission:
    return Submission(index, {"w": np.full(4, value, dtype=np.float32)}, count)


def test_clean_round_averages_by_examples_and_commits_the_root() -> None:
    ledger = Ledger()
    auditor = _auditor(ledger)
    model, record = auditor.audit_round(
        1, GLOBAL, [_sub(2, 3.0, 30), _sub(0, 1.0, 10), _sub(1, 2.0, 20)]
    )

    np.testing.assert_allclose(model["w"], (10 * 1 + 20 * 2 + 30 * 3) / 60)
    assert [u.provider.index for u in record.accepted] == [0, 1, 2]
    expected_leaves = [
        update_digest(
            {"w": np.full(4, v, np.float32)}, job_id=7, server_round=1, provider=p
        )
        for v, p in [
            (1.0, PROVIDERS[0].address),
            (2.0, PROVIDERS[1].address),
            (3.0, PROVIDERS[2].address),
        ]
    ]
    assert ledger.commits == [
        (
            1,
            merkle_root(expected_leaves),
            aggregate_digest(model, job_id=7, server_round=1),
        )
    ]


def test_each_provider_verifies_its_inclusion_against_the_committed_root() -> None:
    ledger = Ledger()
    _, record = _auditor(ledger).audit_round(
        1, GLOBAL, [_sub(0, 1.0), _sub(1, 2.0), _sub(2, 3.0)]
    )
    committed_root = ledger.commits[0][1]
    for provider in PROVIDERS:
        leaf, proof = record.proof_for(provider.index)
        verify_inclusion(leaf, proof, committed_root)


@pytest.mark.parametrize(
    ("bad", "rule"),
    [
        (_sub(1, float("nan")), "non-finite"),
        (Submission(1, {"w": np.zeros(5, np.float32)}, 10), "shape-mismatch"),
        (_sub(1, 1e5), "norm-bound"),
        (_sub(1, 1.0, 0), "num-examples"),
    ],
    ids=["nan", "wrong-shape", "oversize", "zero-examples"],
)
def test_invalid_update_is_rejected_and_the_round_goes_on(
    bad: Submission, rule: str
) -> None:
    ledger = Ledger()
    model, record = _auditor(ledger).audit_round(
        1, GLOBAL, [_sub(0, 1.0), bad, _sub(2, 3.0)]
    )

    assert [(r.provider.index, r.rule) for r in record.rejected] == [(1, rule)]
    assert [u.provider.index for u in record.accepted] == [0, 2]
    np.testing.assert_allclose(model["w"], 2.0)
    assert np.isfinite(model["w"]).all()
    with pytest.raises(LookupError):
        record.proof_for(1)


def test_round_with_every_update_rejected_keeps_the_previous_model() -> None:
    ledger = Ledger()
    previous = {"w": np.array([1.0, 2.0, 3.0, 4.0], np.float32)}
    model, record = _auditor(ledger).audit_round(
        4, previous, [_sub(0, float("nan")), _sub(1, 1.0, 0), _sub(2, float("inf"))]
    )

    assert model is previous
    assert record.kept_previous_model and not record.accepted
    assert ledger.commits == [
        (4, merkle_root([]), aggregate_digest(previous, job_id=7, server_round=4))
    ]


def test_missing_unknown_and_repeated_providers_are_recorded_not_counted() -> None:
    ledger = Ledger()
    _, record = _auditor(ledger).audit_round(
        1, GLOBAL, [_sub(0, 1.0), _sub(0, 50.0), _sub(9, 1.0)]
    )
    assert [u.provider.index for u in record.accepted] == [0]
    assert [p.index for p in record.missing] == [1, 2]


def test_contributions_rank_the_useful_provider_first() -> None:
    # Utility: closeness of the model to a target only provider 0 moves to.
    target = np.full(4, 1.0, np.float32)
    ledger = Ledger()
    auditor = _auditor(ledger)
    model = GLOBAL
    for server_round in (1, 2):
        model, _ = auditor.audit_round(
            server_round,
            model,
            [
                Submission(0, {"w": target.copy()}, 10),
                Submission(1, {"w": model["w"].copy()}, 10),
                Submission(2, {"w": model["w"] - 1.0}, 10),
            ],
        )

    result = measure_contributions(
        PROVIDERS,
        auditor.history,
        lambda arrays: -float(np.abs(arrays["w"] - target).sum()),
    )
    assert result.shapley[0] > result.shapley[1] > result.shapley[2]
    assert result.weights_bps[2] == 0
    assert sum(result.weights_bps) == 10_000
    # Two rounds of 2^3 coalitions, some sharing a model: at most 16 evaluations.
    assert 0 < result.evaluations <= 16


def test_update_that_differs_from_its_receipt_is_rejected() -> None:
    ledger = Ledger()
    honest = _sub(0, 1.0)
    receipt = update_digest(
        honest.arrays, job_id=7, server_round=1, provider=PROVIDERS[0].address
    )
    altered = Submission(
        1, {"w": np.full(4, 2.0, np.float32)}, 10, provider_digest=receipt
    )
    signed = Submission(0, honest.arrays, 10, provider_digest=receipt)

    _, record = _auditor(ledger).audit_round(1, GLOBAL, [signed, altered])

    assert [u.provider.index for u in record.accepted] == [0]
    assert record.accepted[0].provider_digest == record.accepted[0].digest
    assert [(r.provider.index, r.rule) for r in record.rejected] == [
        (1, "digest-mismatch")
    ]


def test_reply_for_another_round_is_rejected_as_wrong_round() -> None:
    ledger = Ledger()
    stale = Submission(1, {"w": np.full(4, 2.0, np.float32)}, 10, server_round=2)
    current = Submission(0, {"w": np.full(4, 1.0, np.float32)}, 10, server_round=3)

    model, record = _auditor(ledger).audit_round(3, GLOBAL, [current, stale])

    assert [(r.provider.index, r.rule) for r in record.rejected] == [(1, "wrong-round")]
    assert record.rejected[0].detail == "reply is for round 2, not 3"
    assert [u.provider.index for u in record.accepted] == [0]
    assert [p.index for p in record.missing] == [2]
    np.testing.assert_allclose(model["w"], 1.0)


def test_robust_rule_aggregates_commits_and_records_what_it_applied() -> None:
    ledger = Ledger()
    auditor = RoundAuditor(
        job_id=7,
        providers=PROVIDERS,
        committer=ledger,
        max_update_norm=10.0,
        aggregation=RobustRule.TRIMMED_MEAN,
        byzantine=1,
    )
    # Provider 2 pulls hard (within the norm bound) and claims many examples;
    # FedAvg would follow it, the trimmed mean drops it per coordinate.
    model, record = auditor.audit_round(
        1, GLOBAL, [_sub(0, 1.0, 10), _sub(1, 1.2, 10), _sub(2, -4.0, 100)]
    )

    np.testing.assert_allclose(model["w"], 1.0)
    assert record.aggregation == "trimmed-mean(trim=1)"
    assert ledger.commits[0][2] == aggregate_digest(model, job_id=7, server_round=1)
    assert record.aggregate_hash == ledger.commits[0][2]

    # With one update rejected, two are left: nothing can be trimmed.
    model, record = auditor.audit_round(
        2, model, [_sub(0, 1.0), _sub(1, 3.0), _sub(2, float("nan"))]
    )
    assert record.aggregation == "trimmed-mean(trim=0)"
    np.testing.assert_allclose(model["w"], 2.0)
    assert auditor.history[1].rule is RobustRule.TRIMMED_MEAN


def test_contributions_under_a_robust_rule_use_that_rule() -> None:
    # The median of the full round ignores provider 2's pull, but the
    # coalitions it decides show it: it must earn nothing.
    target = np.full(4, 1.0, np.float32)
    auditor = RoundAuditor(
        job_id=7,
        providers=PROVIDERS,
        committer=Ledger(),
        max_update_norm=10.0,
        aggregation=RobustRule.MEDIAN,
    )
    auditor.audit_round(1, GLOBAL, [_sub(0, 1.0), _sub(1, 0.9), _sub(2, -3.0)])
    result = measure_contributions(
        PROVIDERS,
        auditor.history,
        lambda arrays: -float(np.abs(arrays["w"] - target).sum()),
    )
    assert result.shapley[2] < 0 < result.shapley[1] < result.shapley[0]
    assert result.weights_bps[2] == 0


def test_recorded_utilities_give_back_the_measured_contributions() -> None:
    """An auditor without the validation data recomputes the Shapley values
    and weights from the utilities the coordinator recorded, exactly."""
    auditor = _auditor(Ledger())
    target = np.array([1.0, 1.0, 0.0, 0.0], dtype=np.float32)
    model = GLOBAL
    for server_round, sizes in ((1, (10, 20, 30)), (2, (10, 20))):
        submissions = [
            Submission(i, {"w": target * (i + 1) / 3}, size)
            for i, size in enumerate(sizes)
        ]
        model, _ = auditor.audit_round(server_round, model, submissions)

    def utility(arrays: dict[str, np.ndarray]) -> float:
        return -float(np.sum((arrays["w"] - target) ** 2))

    measured = measure_contributions(PROVIDERS, auditor.history, utility)
    accepted = [frozenset(past.updates) for past in auditor.history]
    derived = shapley_from_utilities(PROVIDERS, accepted, measured.utilities)
    assert derived.shapley == measured.shapley
    assert derived.weights_bps == measured.weights_bps

    # A coalition whose utility was never recorded cannot be made up.
    holed = [dict(measured.utilities[0]), measured.utilities[1]]
    del holed[0][frozenset({0, 2})]
    with pytest.raises(ContributionError, match=r"round 1: .*\[0, 2\]"):
        shapley_from_utilities(PROVIDERS, accepted, holed)
