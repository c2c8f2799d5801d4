"""``agora audit job`` on the local consortium the command line keeps.

The jobs are run by hand on a ``LocalLedger`` (see ``audit_support``), the
ledger is closed, and the command reopens it from its journal, as a user's
next command would.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from audit_support import HandJob, cast, run_by_hand
from typer.testing import CliRunner, Result

from agora.cli.exit_codes import ExitCode
from agora.cli.main import app
from agora.ledger.local import LocalLedger
from agora.market.artifacts import JobManifest, RoundArtifact, fetch_document
from agora.settings import Settings
from agora.vault.blockstore import BlockStore


@dataclass(frozen=True)
class Consortium:
    env: dict[str, str]
    blocks: Path
    clean: HandJob
    underpaid: HandJob
    inflated: HandJob
    hospitals: list[str]


@pytest.fixture(scope="module")
def consortium(tmp_path_factory: pytest.TempPathFactory) -> Consortium:
    folder = tmp_path_factory.mktemp("audit-cli")
    env = {
        "AGORA_STATE_DIR": str(folder / "state"),
        "AGORA_VAULT_DIR": str(folder / "blocks"),
        "AGORA_CHAIN_URL": "",
    }
    settings = Settings(
        state_dir=folder / "state", vault_dir=folder / "blocks", chain_url=None
    )

    def inflate(store: BlockStore, manifest: JobManifest) -> JobManifest:
        recorded = manifest.contributions
        shapley = (recorded.shapley[0] + 1.0, *recorded.shapley[1:])
        contributions = recorded.model_copy(update={"shapley": shapley})
        return manifest.model_copy(update={"contributions": contributions})

    with LocalLedger.init(settings) as ledger:
        market = cast(
            ledger.chain,
            ledger.deployment,
            ledger.admin,
            BlockStore(settings.vault_dir),
        )
        clean = run_by_hand(market)
        underpaid = run_by_hand(market, weights_bps=[0, 0, 10_000])
        inflated = run_by_hand(market, tamper=inflate)
        hospitals = [h.address for h in market.hospitals]
    return Consortium(env, folder / "blocks", clean, underpaid, inflated, hospitals)


def _agora(consortium: Consortium, *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=consortium.env)


def _json(result: Result) -> Any:
    return json.loads(result.stdout)


def test_a_clean_job_exits_zero_with_a_summary(consortium: Consortium) -> None:
    job_id = str(consortium.clean.job_id)
    result = _agora(consortium, "audit", "job", job_id)

    assert result.exit_code == ExitCode.SUCCESS, result.stderr
    assert f"manifest {consortium.clean.manifest_cid}" in result.stdout
    assert "#1 (non-finite)" in result.stdout  # round 2's rejected update
    assert "ok: every root, aggregate, weight and payout matches" in result.stdout

    report = _json(_agora(consortium, "audit", "job", job_id, "--json"))
    assert report["ok"] is True and report["mismatches"] == []
    assert report["manifest_cid"] == consortium.clean.manifest_cid
    assert [p["weight_bps"] for p in report["providers"]] == (
        consortium.clean.contributions.weights_bps
    )


def test_a_payout_off_the_contributions_exits_with_the_audit_code(
    consortium: Consortium,
) -> None:
    job_id = str(consortium.underpaid.job_id)
    result = _agora(consortium, "audit", "job", job_id)

    assert result.exit_code == ExitCode.AUDIT_MISMATCH
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: job {job_id} audit: provider ")
    assert ": payout: chain paid" in line
    assert "(and 2 more)" in line

    as_json = _agora(consortium, "audit", "job", job_id, "--json")
    assert as_json.exit_code == ExitCode.AUDIT_MISMATCH
    named = {m["provider"] for m in _json(as_json)["mismatches"]}
    assert named == set(consortium.hospitals)
    error = json.loads(as_json.stderr)
    assert error["error"] == "AuditMismatchError"
    assert error["exit_code"] == ExitCode.AUDIT_MISMATCH


def test_an_altered_manifest_names_the_provider(consortium: Consortium) -> None:
    result = _agora(consortium, "audit", "job", str(consortium.inflated.job_id))

    assert result.exit_code == ExitCode.AUDIT_MISMATCH
    (line,) = result.stderr.strip().splitlines()
    assert f"provider {consortium.hospitals[0]}: shapley: manifest says" in line


def test_a_missing_artifact_is_a_data_error_naming_round_and_provider(
    consortium: Consortium,
) -> None:
    record = fetch_document(
        BlockStore(consortium.blocks),
        consortium.clean.manifest.rounds[2].record_cid,
        RoundArtifact,
        "record",
    )
    entry = record.accepted[0]
    path = consortium.blocks / entry.update_cid[-2:] / entry.update_cid
    original = path.read_bytes()
    path.unlink()
    try:
        result = _agora(consortium, "audit", "job", str(consortium.clean.job_id))
    finally:
        path.write_bytes(original)

    assert result.exit_code == ExitCode.DATA
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: round 3 update of provider {entry.provider}: ")
    assert "is not in the store" in line


@pytest.mark.parametrize(
    ("rule", "args", "code"),
    [
        ("job-unknown", ["audit", "job", "999"], ExitCode.MARKET),
        ("job-id-positive", ["audit", "job", "0"], ExitCode.USAGE),
        ("job-id-integer", ["audit", "job", "one"], ExitCode.USAGE),
    ],
)
def test_jobs_that_cannot_be_audited_exit_cleanly(
    consortium: Consortium, rule: str, args: list[str], code: ExitCode
) -> None:
    result = _agora(consortium, *args)
    assert result.exit_code == code, rule
    assert "Traceback" not in result.output


def test_without_a_consortium_the_audit_is_a_configuration_error(
    tmp_path: Path,
) -> None:
    result = CliRunner().invoke(
        app,
        ["audit", "job", "1", "--json"],
        env={"AGORA_STATE_DIR": str(tmp_path), "AGORA_VAULT_DIR": str(tmp_path)},
    )
    assert result.exit_code == ExitCode.CONFIGURATION
    assert json.loads(result.stderr)["exit_code"] == result.exit_code
