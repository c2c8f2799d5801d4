"""A loan decision from everything a platform may know, with its reasons.

The inputs are what the platform verified or computed, never raw personal
data: the claims the applicant disclosed (``age_over_18``, the degree,
``income_over_<t>``), the joint risk check (other platforms lending, debt
outstanding elsewhere, the fraud list) and the credit model's predicted
probability of default. Every rule that applies adds a reason, whether it
passes or fails, so a declined applicant is told all that went against them
and an approved one what carried the decision. ::

    >>> decision = decide(
    ...     {"age_over_18": True, "income_over_3000": True, "degree": "BSc"},
    ...     RiskFacts(other_platforms_with_loans=0, outstanding_elsewhere=0,
    ...               on_fraud_list=False),
    ...     default_probability=0.12,
    ... )
    >>> decision.approved, decision.reasons[-1]
    (True, 'predicted default probability 0.12, within 0.35')
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_INCOME_CLAIM = re.compile(r"income_over_(\d+)")


@dataclass(frozen=True)
class RiskFacts:
    """The part of a joint risk check a decision uses."""

    other_platforms_with_loans: int | None
    outstanding_elsewhere: int
    on_fraud_list: bool


@dataclass(frozen=True)
class LendingPolicy:
    """A platform's thresholds."""

    max_other_platforms: int = 1
    """Active loans elsewhere tolerated; more is loan stacking."""
    max_debt_to_income_months: int = 12
    """Debt elsewhere may be at most this many months of proven income."""
    max_default_probability: float = 0.35
    """The credit model's predicted default probability, at most."""


@dataclass(frozen=True)
class Decision:
    """Approve or decline, and why."""

    approved: bool
    reasons: tuple[str, ...]
    declined_by: tuple[str, ...]
    """The rules that failed (empty when approved)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "decision": "approved" if self.approved else "declined",
            "reasons": list(self.reasons),
            "declined_by": list(self.declined_by),
        }


def proven_income(claims: Mapping[str, Any]) -> int:
    """The highest ``income_over_<t>`` threshold the applicant proved true
    (0 if none): a lower bound on the monthly income, all the platform knows."""
    proven = [
        int(match.group(1))
        for name, value in claims.items()
        if (match := _INCOME_CLAIM.fullmatch(name)) and value is True
    ]
    return max(proven, default=0)


def decide(
    claims: Mapping[str, Any],
    risk: RiskFacts,
    *,
    default_probability: float,
    policy: LendingPolicy | None = None,
) -> Decision:
    """Apply ``policy`` (the default one when None); see the module."""
    policy = policy or LendingPolicy()
    reasons: list[str] = []
    failed: list[str] = []

    def rule(name: str, passed: bool, text: str) -> None:
        reasons.append(text)
        if not passed:
            failed.append(name)

    # Fraud first: it overrides everything else.
    rule(
        "fraud_list",
        not risk.on_fraud_list,
        "on the consortium fraud list"
        if risk.on_fraud_list
        else "not on the fraud list",
    )

    # What the credentials proved.
    adult = claims.get("age_over_18") is True
    rule(
        "age", adult, "adult (age_over_18)" if adult else "not proven to be 18 or over"
    )
    income = proven_income(claims)
    rule(
        "income",
        income > 0,
        f"monthly income proven over {income}" if income else "no income proven",
    )
    if "degree" in claims:
        reasons.append(f"degree: {claims['degree']}")

    # Multi-lending and debt elsewhere.
    count = risk.other_platforms_with_loans
    if count is not None:
        rule(
            "multi_lending",
            count <= policy.max_other_platforms,
            f"active loans at {count} other platform(s), "
            f"{'within' if count <= policy.max_other_platforms else 'over'} "
            f"the limit of {policy.max_other_platforms}",
        )
    debt_limit = income * policy.max_debt_to_income_months
    rule(
        "debt_to_income",
        risk.outstanding_elsewhere <= debt_limit,
        f"outstanding elsewhere {risk.outstanding_elsewhere}, "
        f"{'within' if risk.outstanding_elsewhere <= debt_limit else 'over'} "
        f"{policy.max_debt_to_income_months} months of proven income ({debt_limit})",
    )

    # The credit model.
    within = default_probability <= policy.max_default_probability
    rule(
        "credit_score",
        within,
        f"predicted default probability {default_probability:.2f}, "
        f"{'within' if within else 'over'} {policy.max_default_probability:.2f}",
    )
    return Decision(
        approved=not failed, reasons=tuple(reasons), declined_by=tuple(failed)
    )
