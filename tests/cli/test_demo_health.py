"""``agora demo health``: the quick configuration end to end, and bad input."""

import json
from pathlib import Path

import numpy as np
import pytest

from .support import DATA_DIR, agora


@pytest.mark.slow
def test_quick_demo_writes_a_complete_consistent_result(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = agora(
        "demo", "health", "--quick", "--data-dir", str(DATA_DIR), "--out", str(out)
    )
    assert run.returncode == 0, run.stderr[-2000:]

    result = json.loads((out / "result.json").read_text())
    for key in (
        "test_auc",
        "test_acc",
        "centralized",
        "rounds",
        "round_roots",
        "escrow",
        "refund",
        "providers",
    ):
        assert key in result, key
    assert result["rounds"] == 2
    assert len(result["round_roots"]) == 2
    assert all(
        len(root) == 66 and root.startswith("0x") for root in result["round_roots"]
    )
    assert result["centralized"] is None  # no --baseline

    providers = result["providers"]
    assert [p["name"] for p in providers] == [
        "St Mary's Referral Centre",
        "Riverside General",
        "Northgate Clinic",
    ]
    assert sum(p["samples"] for p in providers) == 4708  # every train row offered
    for provider in providers:
        assert set(provider) >= {"name", "samples", "shapley", "weight_bps", "payout"}
    assert sum(p["weight_bps"] for p in providers) == 10_000
    assert sum(p["payout"] for p in providers) + result["refund"] == result["escrow"]
    assert result["escrow"] == 1_000 * 10**18

    # Consent-scoped: each hospital trained only on its consenting patients'
    # rows (about one patient in eight refuses), declared their root on chain,
    # and every accepted update claimed exactly that many examples.
    consent = result["consent"]
    assert consent["purpose"] == "research:pneumonia-model"
    for provider, hospital in zip(providers, consent["hospitals"], strict=True):
        assert provider["included"] + provider["excluded"] == provider["samples"]
        assert 0.05 < provider["excluded"] / provider["samples"] < 0.25
        assert provider["inclusion_root"] == hospital["inclusion_root"]
        assert sum(hospital["excluded_by_rule"].values()) == provider["excluded"]
        assert hospital["included_record_proven"].startswith("ImagingStudy/")
        assert hospital["excluded_record_unprovable"].startswith("ImagingStudy/")
    included = {p["name"]: p["included"] for p in providers}
    for detail in result["round_details"]:
        for update in detail["accepted"]:
            assert update["num_examples"] == included[update["provider"]]
    assert consent["seconds"] < 120

    # Two short rounds already separate the classes well.
    assert result["test_auc"] > 0.85
    assert result["test_acc"] > 0.75

    report = (out / "report.html").read_text()
    for plot in ("roc.png", "auc_per_round.png", "contributions.png"):
        assert plot in report
        assert (out / plot).stat().st_size > 5_000
    assert result["round_roots"][0] in report
    assert providers[0]["inclusion_root"] in report
    # Every hospital checked its own receipt against the on-chain root.
    assert result["inclusion_proofs_verified"] == 2 * 3
    # The job re-derived from the chain and its published artifacts.
    audit = result["audit"]
    assert (audit["ok"], audit["mismatches"]) == (True, 0)
    assert (
        out / "blocks" / audit["manifest_cid"][-2:] / audit["manifest_cid"]
    ).is_file()

    # The model sold per call: the clinic's fees, settled, became royalties
    # in proportion to the job's payouts (70 % of the fees; the buyer 30 %).
    service = result["service"]
    assert service["calls"] == 100
    assert service["settled"] == 100 * service["price_per_call"]
    royalties = service["hospital_royalties"]
    fees_to_hospitals = service["settled"] * 7_000 // 10_000
    assert fees_to_hospitals - 3 <= sum(royalties.values()) <= fees_to_hospitals
    assert royalties == {
        p["name"]: fees_to_hospitals
        * p["payout"]
        // sum(q["payout"] for q in providers)
        for p in providers
    }
    assert service["evaluation"]["rows"] == 624
    assert abs(service["evaluation"]["test_auc"] - result["test_auc"]) < 1e-6
    assert service["model_cid"] in report

    # The patient's records: read by consent, refused once revoked, audited.
    records = result["records"]
    assert {r["resource_type"] for r in records["reads"]} == {
        "Condition",
        "MedicationRequest",
    }
    assert records["refusal"]["error"] == "GrantRevokedError"
    events = [entry["event"] for entry in records["audit"]]
    assert events == ["grant"] + ["access"] * 2 * len(records["reads"]) + ["revocation"]
    assert records["imported"]["merkle_root"] in report
    assert records["seconds"] < 30


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing-folder", "does not exist"),
        ("missing-file", "pneumoniamnist.npz"),
        ("corrupt-file", "pneumoniamnist.npz"),
        ("missing-key", "test_labels"),
    ],
)
def test_bad_data_dir_is_a_clear_error_naming_the_setting(
    tmp_path: Path, setup: str, message: str
) -> None:
    data = tmp_path / "data"
    if setup != "missing-folder":
        data.mkdir()
    if setup == "corrupt-file":
        (data / "pneumoniamnist.npz").write_bytes(b"PK\x03\x04 not really a zip")
    if setup == "missing-key":
        arrays = {}
        for split in ("train", "val", "test"):
            arrays[f"{split}_images"] = np.zeros((2, 28, 28), np.uint8)
            arrays[f"{split}_labels"] = np.array([[0], [1]], np.uint8)
        del arrays["test_labels"]
        np.savez(data / "pneumoniamnist.npz", **arrays)

    run = agora(
        "demo",
        "health",
        "--quick",
        "--out",
        str(tmp_path / "out"),
        env={"AGORA_DATA_DIR": str(data)},
    )
    assert run.returncode == 4  # ExitCode.DATA
    assert "Traceback" not in run.stderr
    assert message in run.stderr
    assert "AGORA_DATA_DIR" in run.stderr

    as_json = agora(
        "demo",
        "health",
        "--quick",
        "--json",
        "--data-dir",
        str(data),
        "--out",
        str(tmp_path / "out"),
    )
    error = json.loads(as_json.stderr.strip().splitlines()[-1])
    assert error["error"] == "DataError" and error["exit_code"] == 4


def test_out_of_range_option_is_a_usage_error(tmp_path: Path) -> None:
    run = agora("demo", "health", "--rounds", "0", "--out", str(tmp_path))
    assert run.returncode == 2
    assert "Traceback" not in run.stderr


def test_out_path_that_is_a_file_is_a_configuration_error(tmp_path: Path) -> None:
    blocker = tmp_path / "taken"
    blocker.write_text("not a folder")
    run = agora(
        "demo",
        "health",
        "--quick",
        "--data-dir",
        str(DATA_DIR),
        "--out",
        str(blocker / "out"),
    )
    assert run.returncode == 3  # ExitCode.CONFIGURATION
    assert "--out" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.slow
def test_quick_private_demo_reports_the_privacy_spent(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = agora(
        "demo",
        "health",
        "--quick",
        "--dp-epsilon",
        "8",
        "--data-dir",
        str(DATA_DIR),
        "--out",
        str(out),
    )
    assert run.returncode == 0, run.stderr[-2000:]

    result = json.loads((out / "result.json").read_text())
    privacy = result["privacy"]
    assert (privacy["epsilon"], privacy["delta"]) == (8.0, 1e-5)
    names = [p["name"] for p in result["providers"]]
    assert list(privacy["spent"]) == names
    for name in names:
        # Each hospital within the spec's epsilon, calibrated close to it;
        # its on-chain budget (two jobs' worth) charged one job.
        assert 7.8 < privacy["spent"][name] <= 8.0
        assert (privacy["budget"][name], privacy["budget_left"][name]) == (16, 8)
    # The smallest hospital samples the largest share per step: most noise.
    noise = privacy["noise_multiplier"]
    assert noise["Northgate Clinic"] > noise["St Mary's Referral Centre"]
    # The plain job ran beside it; the cost is their difference.
    assert privacy["plain"]["test_auc"] > 0.85
    assert privacy["auc_cost"] == pytest.approx(
        privacy["plain"]["test_auc"] - result["test_auc"]
    )
    # Three noisy rounds on the consented rows may land anywhere near
    # chance (the noise comes from the OS, so runs differ): the private
    # model's quality is measured by benchmarks/fl_dp.py, not here.
    assert 0.0 <= result["test_auc"] <= 1.0
    assert "Differential privacy" in (out / "report.html").read_text()


@pytest.mark.parametrize(
    ("epsilon", "message"),
    [("-1", "greater than 0"), ("0", "greater than 0"), ("5000", "less than or")],
    ids=["negative-epsilon", "zero-epsilon", "epsilon-past-the-chain-bound"],
)
def test_bad_dp_epsilon_is_a_market_error_before_any_work(
    tmp_path: Path, epsilon: str, message: str
) -> None:
    run = agora(
        "demo",
        "health",
        "--quick",
        "--dp-epsilon",
        epsilon,
        "--data-dir",
        str(DATA_DIR),
        "--out",
        str(tmp_path / "out"),
    )
    assert run.returncode == 6  # ExitCode.MARKET
    assert "Traceback" not in run.stderr
    assert "privacy.epsilon" in run.stderr and message in run.stderr
    assert not (tmp_path / "out").exists()  # refused before any work
