"""Loan decisions: each rule can decline, and the reasons say which."""

import pytest

from agora.lending.decision import LendingPolicy, RiskFacts, decide, proven_income

GOOD_CLAIMS = {"age_over_18": True, "income_over_3000": True, "degree": "MSc"}
CLEAN = RiskFacts(
    other_platforms_with_loans=0, outstanding_elsewhere=0, on_fraud_list=False
)


def test_a_clean_applicant_is_approved_with_reasons() -> None:
    decision = decide(GOOD_CLAIMS, CLEAN, default_probability=0.1)

    assert decision.approved
    assert decision.declined_by == ()
    assert "degree: MSc" in decision.reasons
    assert decision.to_json()["decision"] == "approved"


@pytest.mark.parametrize(
    ("claims", "risk", "probability", "declined_by"),
    [
        (GOOD_CLAIMS, RiskFacts(0, 0, True), 0.1, ("fraud_list",)),
        ({**GOOD_CLAIMS, "age_over_18": False}, CLEAN, 0.1, ("age",)),
        ({"age_over_18": True, "income_over_3000": False}, CLEAN, 0.1, ("income",)),
        (GOOD_CLAIMS, RiskFacts(2, 0, False), 0.1, ("multi_lending",)),
        (GOOD_CLAIMS, RiskFacts(1, 36_001, False), 0.1, ("debt_to_income",)),
        (GOOD_CLAIMS, CLEAN, 0.36, ("credit_score",)),
        (
            GOOD_CLAIMS,
            RiskFacts(2, 500_000, True),
            0.9,
            ("fraud_list", "multi_lending", "debt_to_income", "credit_score"),
        ),
    ],
)
def test_each_rule_declines(
    claims: dict[str, object],
    risk: RiskFacts,
    probability: float,
    declined_by: tuple[str, ...],
) -> None:
    decision = decide(claims, risk, default_probability=probability)

    assert not decision.approved
    assert decision.declined_by == declined_by


def test_debt_limit_follows_the_proven_income() -> None:
    claims = {"age_over_18": True, "income_over_1000": True, "income_over_5000": True}
    assert proven_income(claims) == 5000

    within = decide(claims, RiskFacts(1, 60_000, False), default_probability=0.1)
    over = decide(claims, RiskFacts(1, 60_001, False), default_probability=0.1)
    assert within.approved and not over.approved


def test_a_stricter_policy_declines_more() -> None:
    strict = LendingPolicy(max_other_platforms=0, max_default_probability=0.05)

    decision = decide(
        GOOD_CLAIMS, RiskFacts(1, 0, False), default_probability=0.1, policy=strict
    )

    assert decision.declined_by == ("multi_lending", "credit_score")
