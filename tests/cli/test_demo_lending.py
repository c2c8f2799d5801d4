"""`agora demo lending`: the quick configuration end to end, and bad input."""

import json
from pathlib import Path

import pytest

from agora.lending.applicants import demo_applicants
from agora.lending.walkthrough import SAMPLE_BORROWER

from .support import DATA_DIR, agora


@pytest.mark.slow
def test_quick_demo_trains_pays_and_decides(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = agora(
        "demo", "lending", "--quick", "--data-dir", str(DATA_DIR), "--out", str(out)
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads((out / "result.json").read_text())

    # The credit model: three rounds already rank defaulters well above
    # chance (the full 20 rounds reach about 0.786), with the baseline of
    # the same run beside it.
    assert result["rounds"] == 3
    assert len(result["round_details"]) == 3
    assert 0.74 < result["test_auc"] < 0.82
    assert 0.74 < result["centralized"]["test_auc"] < 0.82
    assert result["split"]["test_rows"] == 6_000
    # The job re-derived from the chain and its published artifacts.
    assert (result["audit"]["ok"], result["audit"]["mismatches"]) == (True, 0)
    assert result["audit"]["manifest_cid"].startswith("bafkrei")

    # Paid by contribution: everything escrowed is paid out or refunded.
    providers = result["providers"]
    assert [p["name"] for p in providers] == ["platform-a", "platform-b", "platform-c"]
    assert sum(p["samples"] for p in providers) == 21_000
    assert sum(p["weight_bps"] for p in providers) == 10_000
    assert all(p["payout"] > 0 for p in providers)
    assert sum(p["payout"] for p in providers) + result["refund"] == result["escrow"]
    assert result["escrow"] == 1_000 * 10**18
    # Every platform checked its own receipt against each on-chain root.
    assert result["inclusion_proofs_verified"] == 3 * 3
    assert all(
        len(r["updates_root"]) == 66 and len(r["accepted"]) == 3
        for r in result["round_details"]
    )

    # Every applicant decided, with reasons; each story shows its rule.
    applications = {a["applicant"]: a for a in result["applications"]}
    assert set(applications) == {f"applicant-{n}" for n in range(1, 6)}
    for application in applications.values():
        assert set(application) >= {
            "applicant",
            "decision",
            "reasons",
            "multi_lending_platforms",
            "on_fraud_list",
        }
        assert application["reasons"]
    stacked = applications["applicant-2"]
    assert stacked["decision"] == "declined"
    assert stacked["multi_lending_platforms"] == 2
    assert "multi_lending" in stacked["declined_by"]
    listed = applications["applicant-3"]
    assert listed["on_fraud_list"] is True
    assert listed["decision"] == "declined"
    assert "on the consortium fraud list" in listed["reasons"]
    assert applications["applicant-1"]["decision"] == "approved", applications[
        "applicant-1"
    ]["reasons"]
    assert applications["applicant-1"]["multi_lending_platforms"] == 0
    assert not applications["applicant-1"]["on_fraud_list"]
    assert applications["applicant-5"]["declined_by"] == ["credit_score"]
    assert applications["applicant-5"]["default_probability"] > 0.35

    # The model sold per call: platform A scores each applicant through the
    # service as the decisions scored them; the fees reach the platforms by
    # the job's payouts (70 %) and the bureau (30 %, plus rounding dust).
    service = result["service"]
    assert service["caller"] == "platform-a" and service["calls"] == 5
    for score in service["scores"]:
        application = applications[score["applicant"]]
        probability = score["probability_of_default"]
        assert round(probability, 4) == application["default_probability"]
        assert score["decision"] == ("approve" if probability <= 0.35 else "decline")
        assert score["model_cid"] == service["model_cid"]
    assert service["settled"] == 5 * 10**18
    royalties = service["settled"] * 7_000 // 10_000
    paid = sum(p["payout"] for p in providers)
    assert service["platform_royalties"] == {
        p["name"]: royalties * p["payout"] // paid for p in providers
    }
    assert (
        sum(service["platform_royalties"].values()) + service["bureau_income"]
        == service["settled"]
    )

    # The walk-through part: attacks refused, only what was asked disclosed.
    assert len(result["refusals"]) == 4
    assert all(check["refused_as_expected"] for check in result["refusals"])
    identity = "https://agora.example/vct/government-identity/v1"
    assert result["disclosed_to_platform_a"][identity] == {"age_over_18": True}

    # The report shows the model, the payouts and the decisions; nothing
    # withheld (identity numbers, exact incomes) reaches it or the result.
    report = (out / "report.html").read_text()
    for plot in ("roc.png", "auc_per_round.png", "contributions.png"):
        assert plot in report
        assert (out / plot).stat().st_size > 5_000
    assert result["spec_cid"] in report
    assert f"{result['test_auc']:.4f}" in report
    assert service["model_cid"] in report
    applicants = demo_applicants(safe_files=[0, 1, 2, 3], risky_file=4)
    for text in (json.dumps(result), report):
        for person in [SAMPLE_BORROWER, *(a.profile for a in applicants)]:
            assert person.identity.national_id not in text
        average = SAMPLE_BORROWER.statement.average_monthly_income
        assert str(average) not in text
    assert "national_id" in report
    assert "approved" in run.stdout and "declined" in run.stdout


def test_demo_lending_refuses_an_unwritable_out(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")

    result = agora("demo", "lending", "--out", str(blocker / "sub"))

    assert result.returncode == 3
    assert "--out" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing-folder", "does not exist"),
        ("missing-file", "credit_default_taiwan.csv not found"),
        ("other-header", "header must be ID,X1..X23,Y"),
    ],
)
def test_bad_data_dir_is_a_data_error_naming_the_setting(
    tmp_path: Path, setup: str, message: str
) -> None:
    data = tmp_path / "data"
    if setup != "missing-folder":
        data.mkdir()
    if setup == "other-header":
        (data / "credit_default_taiwan.csv").write_text("a,b,c\n1,2,3\n")

    run = agora(
        "demo",
        "lending",
        "--quick",
        "--out",
        str(tmp_path / "out"),
        env={"AGORA_DATA_DIR": str(data)},
    )
    assert run.returncode == 4  # ExitCode.DATA
    assert "Traceback" not in run.stderr
    assert message in run.stderr and "AGORA_DATA_DIR" in run.stderr

    as_json = agora(
        "demo", "lending", "--json", "--data-dir", str(data), "--out", str(tmp_path)
    )
    error = json.loads(as_json.stderr.strip().splitlines()[-1])
    assert error["error"] == "DataError" and error["exit_code"] == 4


def test_out_of_range_option_is_a_usage_error(tmp_path: Path) -> None:
    run = agora("demo", "lending", "--rounds", "0", "--out", str(tmp_path))
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
