"""`agora demo lending`: the loan application walk-through, as a user runs it."""

import json
from pathlib import Path

from agora.lending.walkthrough import SAMPLE_BORROWER

from .support import agora


def test_demo_lending_writes_its_result_and_report(tmp_path: Path) -> None:
    result = agora("demo", "lending", "--out", str(tmp_path))

    assert result.returncode == 0, result.stderr
    written = json.loads((tmp_path / "result.json").read_text())
    assert all(check["refused_as_expected"] for check in written["refusals"])
    assert len(written["refusals"]) == 4
    identity = "https://agora.example/vct/government-identity/v1"
    assert written["disclosed_to_platform_a"][identity] == {"age_over_18": True}
    # Nothing withheld reaches the result or the report.
    report = (tmp_path / "report.html").read_text()
    for text in (json.dumps(written), report):
        assert SAMPLE_BORROWER.identity.national_id not in text
        average = SAMPLE_BORROWER.statement.average_monthly_income
        assert str(average) not in text
    assert "national_id" in report


def test_demo_lending_refuses_an_unwritable_out(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")

    result = agora("demo", "lending", "--out", str(blocker / "sub"))

    assert result.returncode == 3
    assert "Traceback" not in result.stderr
