"""``agora health import``: summary, JSON, issues listed, bad files refused."""

import json
from pathlib import Path

from .support import DATA_DIR, agora

PATIENT_BUNDLES = 16


def _patient_bundle() -> Path:
    # An adult Bundle: the covid-juvenile file names embed the Patient id, and
    # the tests check that the id read from the record is never printed.
    return sorted((DATA_DIR / "fhir" / "adult").glob("*.json"))[0]


def test_imports_the_data_dirs_bundles_as_json(tmp_path: Path) -> None:
    out = tmp_path / "records"
    run = agora(
        "health", "import", "--data-dir", str(DATA_DIR), "--out", str(out), "--json"
    )

    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert len(summary["patients"]) == PATIENT_BUNDLES
    assert summary["issues"] == []
    assert summary["directory"] == {"Organization": 17, "Practitioner": 17}
    assert summary["records"] == sum(summary["per_type"].values())
    assert set(summary["per_hospital"]) == {"hospital-a", "hospital-b", "hospital-c"}
    assert all(len(p["merkle_root"]) == 64 for p in summary["patients"])
    owners = {path.name for path in out.iterdir()}
    assert owners == {p["did"].replace(":", "_") for p in summary["patients"]}


def test_bad_resources_are_listed_and_not_fatal(tmp_path: Path) -> None:
    bundle = json.loads(_patient_bundle().read_text())
    patient = bundle["entry"][0]["resource"]
    patient["birthDate"] = "yesterday"
    source = tmp_path / "broken.json"
    source.write_text(json.dumps(bundle))

    run = agora("health", "import", str(source), "--out", str(tmp_path / "out"))

    assert run.returncode == 0, run.stderr
    assert "imported 1 patients" in run.stdout
    assert "issues: 1" in run.stdout
    assert "invalid-resource" in run.stdout
    assert "entry 0" in run.stdout
    assert "field birthDate" in run.stdout
    assert patient["id"] not in run.stdout


def test_an_unreadable_file_is_exit_code_4_with_one_line(tmp_path: Path) -> None:
    source = tmp_path / "bundle.json"
    source.write_text("{ not json")

    run = agora("health", "import", str(source), "--out", str(tmp_path / "out"))
    as_json = agora("health", "import", str(source), "--json")

    assert run.returncode == 4
    assert run.stderr.strip().count("\n") == 0
    assert "not-json" in run.stderr
    assert "Traceback" not in run.stderr
    assert as_json.returncode == 4
    error = json.loads(as_json.stderr)
    assert error["error"] == "UnreadableBundleError"
    assert error["exit_code"] == 4
    assert not (tmp_path / "out").exists()


def test_a_missing_folder_is_exit_code_4(tmp_path: Path) -> None:
    run = agora("health", "import", str(tmp_path / "nowhere"))
    assert run.returncode == 4
    assert "no such folder" in run.stderr


def test_dids_come_from_a_file_and_a_missing_one_is_exit_code_4(
    tmp_path: Path,
) -> None:
    source = _patient_bundle()
    patient_id = json.loads(source.read_text())["entry"][0]["resource"]["id"]
    dids = tmp_path / "dids.json"
    dids.write_text(json.dumps({patient_id: "did:example:alice"}))
    none = tmp_path / "none.json"
    none.write_text("{}")
    out = str(tmp_path / "out")

    given = agora(
        "health", "import", str(source), "--dids", str(dids), "--out", out, "--json"
    )
    missing = agora("health", "import", str(source), "--dids", str(none), "--out", out)

    assert given.returncode == 0, given.stderr
    assert json.loads(given.stdout)["patients"][0]["did"] == "did:example:alice"
    assert missing.returncode == 4
    assert "no-did" in missing.stderr
    assert patient_id not in missing.stderr
