"""The demo's applicants, end to end: each rule of the decision shows."""

from pathlib import Path

from agora.lending.applicants import arrange, demo_applicants, process_application
from agora.lending.consortium import LendingConsortium
from agora.settings import Settings

RISKY_FILE = 99


def _score(credit_file: int) -> float:
    """Credit files as the demo picks them: four safe rows, one risky."""
    return 0.8 if credit_file == RISKY_FILE else 0.1


def test_each_applicant_gets_the_decision_their_story_calls_for(
    tmp_path: Path,
) -> None:
    consortium = LendingConsortium.setup(Settings(chain_url=None))
    applicants = demo_applicants(safe_files=[1, 2, 3, 4], risky_file=RISKY_FILE)
    arrange(consortium, applicants)

    outcomes = {
        a.label: process_application(
            consortium, a, tmp_path, platform="platform-a", score=_score
        )
        for a in applicants
    }

    declined_by = {label: o.decision.declined_by for label, o in outcomes.items()}
    assert declined_by == {
        "applicant-1": (),
        "applicant-2": ("multi_lending", "debt_to_income"),
        "applicant-3": ("fraud_list",),
        "applicant-4": ("income",),
        "applicant-5": ("credit_score",),
    }
    stacked = outcomes["applicant-2"]
    assert stacked.multi_lending_platforms == 2
    assert stacked.outstanding_elsewhere == 550_000
    assert outcomes["applicant-3"].on_fraud_list
    for outcome in outcomes.values():
        assert "national_id" not in outcome.disclosed
        assert outcome.to_json()["reasons"]
