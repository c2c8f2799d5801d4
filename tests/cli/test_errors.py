"""CLI errors that need no training: settings, chain URL, logging hygiene."""

import json
from pathlib import Path

import pytest

from agora.settings import load_settings

from .support import DATA_DIR, agora


def test_empty_chain_url_means_the_embedded_chain(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AGORA_CHAIN_URL", "  ")
    assert load_settings().chain_url is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("127.0.0.1:8545", "http(s) JSON-RPC URL"),
        ("ftp://127.0.0.1/", "http(s) JSON-RPC URL"),
        ("http://127.0.0.1:99999", "invalid port"),
        ("http://127.0.0.1:abc", "invalid port"),
    ],
    ids=["no-scheme", "wrong-scheme", "port-out-of-range", "port-not-a-number"],
)
def test_bad_chain_url_is_a_configuration_error(
    url: str, message: str, tmp_path: Path
) -> None:
    run = agora(
        "demo",
        "health",
        "--quick",
        "--data-dir",
        str(DATA_DIR),
        "--out",
        str(tmp_path),
        env={"AGORA_CHAIN_URL": url},
    )
    assert run.returncode == 3, run.stderr
    assert message in run.stderr
    assert "Traceback" not in run.stderr


def test_verbose_never_prints_the_chain_urls_credentials(tmp_path: Path) -> None:
    # Port 9 (discard) on loopback: nothing answers, so connecting fails fast.
    secret_url = "http://user:s3cret@127.0.0.1:9/rpc?apikey=TOPSECRET"
    run = agora(
        "-v",
        "demo",
        "health",
        "--quick",
        "--data-dir",
        str(DATA_DIR),
        "--out",
        str(tmp_path),
        env={"AGORA_CHAIN_URL": secret_url},
    )
    assert run.returncode == 5  # ExitCode.LEDGER: no node answers
    output = run.stdout + run.stderr
    assert "s3cret" not in output and "TOPSECRET" not in output
    assert "http://127.0.0.1:9" in run.stderr


def test_error_message_is_one_plain_line_even_with_markup_like_paths(
    tmp_path: Path,
) -> None:
    odd = tmp_path / "[bold]nowhere[/]"
    run = agora(
        "demo",
        "health",
        "--quick",
        "--data-dir",
        str(odd),
        "--out",
        str(tmp_path / "out"),
        env={},
    )
    assert run.returncode == 4
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and str(odd) in lines[0]


def test_json_error_object_for_a_configuration_error(tmp_path: Path) -> None:
    run = agora(
        "demo",
        "health",
        "--quick",
        "--json",
        "--out",
        str(tmp_path),
        env={"AGORA_CHAIN_URL": "ftp://x"},
    )
    error = json.loads(run.stderr.strip().splitlines()[-1])
    assert error == {
        "error": "ConfigurationError",
        "message": error["message"],
        "exit_code": 3,
    }
