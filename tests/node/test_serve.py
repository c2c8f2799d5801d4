"""``agora node serve`` as an operator runs it: a real process on a free
loopback port, called with minted tokens, stopped with SIGTERM; and the
configuration mistakes it refuses with one line and an exit code."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from agora.cli.exit_codes import ExitCode
from agora.cli.main import app
from agora.identity.keys import KeyType
from agora.identity.resolver import DidResolver
from agora.identity.wallet import Wallet
from agora.ledger import Role
from agora.ledger.local import LocalLedger
from agora.node.auth import TokenVerifier
from agora.node.client import NodeClient
from agora.node.db import NodeDatabase, sqlite_url
from agora.node.errors import AuthRule
from agora.settings import Settings

from .conftest import CHEAP, PASSWORD
from .support import Person

AGORA = str(Path(sys.executable).parent / "agora")
READY_TIMEOUT_S = 60.0
OFFER = {
    "title": "Ward 3",
    "modality": "xray/chest-28x28-grey",
    "labels": ["normal", "pneumonia"],
    "samples": 300,
    "schema_cid": "bafkreischema",
}


@dataclass(frozen=True)
class Site:
    """A state folder with a consortium and one hospital node configured."""

    env: dict[str, str]
    hospital: Person
    staff: Person


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    folder = tmp_path_factory.mktemp("site")
    env = {
        "AGORA_STATE_DIR": str(folder / "state"),
        "AGORA_VAULT_DIR": str(folder / "blocks"),
        "AGORA_WALLET_PASSWORD": PASSWORD,
        "AGORA_CHAIN_URL": "",
        "AGORA_DB_URL": "",
    }
    hospital, staff = Person.new(KeyType.SECP256K1), Person.new(KeyType.ED25519)
    settings = Settings(state_dir=folder / "state", chain_url=None)
    LocalLedger.init(settings).close()
    admitted = CliRunner().invoke(
        app,
        ["ledger", "admit", hospital.did, "--name", "st-mary", "--role", "hospital"],
        env=env,
    )
    assert admitted.exit_code == 0, admitted.output

    node = folder / "state" / "nodes" / "st-mary"
    node.mkdir(parents=True)
    Wallet.create(node / "hospital.wallet", PASSWORD, kdf=CHEAP).add_key(hospital.pair)
    (node / "node.toml").write_text(
        f'role = "hospital"\ndid = "{hospital.did}"\n'
        f'wallet = "hospital.wallet"\nstaff = ["{staff.did}"]\n'
    )
    return Site(env=env, hospital=hospital, staff=staff)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running(
    site: Site, db_url: str = ""
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``agora node serve`` in its own process on ``db_url`` (default: the
    node folder's SQLite), ready; stopped on exit."""
    port = _free_port()
    command = [AGORA, "node", "serve", "--role", "hospital", "--name", "st-mary"]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env={**os.environ, **site.env, "AGORA_DB_URL": db_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(process, base_url)
        yield process, base_url
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def _wait_ready(process: subprocess.Popen[str], base_url: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _, stderr = process.communicate()
            pytest.fail(f"the node exited with {process.returncode}: {stderr}")
        try:
            if httpx.get(f"{base_url}/v1/node", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail("the node was not ready in time")


def _stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=20)


def test_a_served_node_answers_minted_tokens_and_stops_on_sigterm(
    site: Site, db_url: str
) -> None:
    # SQLite at its default place, or a fresh PostgreSQL database.
    served_db = "" if db_url.startswith("sqlite") else db_url
    with running(site, served_db) as (process, base_url):
        with NodeClient(base_url, site.staff.pair, site.staff.did) as client:
            assert client.audience == site.hospital.did
            registered = client.post("/v1/offers", json=OFFER)
            assert registered.status_code == 201, registered.text
            listed = client.get("/v1/offers")
            assert listed.status_code == 200
            titles = [offer["title"] for offer in listed.json()["offers"]]
            assert "Ward 3" in titles
            token = client.headers()
            used = httpx.get(f"{base_url}/v1/jobs", headers=token)
            assert used.status_code == 200, used.text
        assert _stop(process) == ExitCode.SUCCESS

    # The spent token id outlives the process: the database keeps it.
    with running(site, served_db) as (process, base_url):
        replayed = httpx.get(f"{base_url}/v1/jobs", headers=token)
        assert replayed.status_code == 401
        assert replayed.json()["error"] == AuthRule.REPLAYED
        assert _stop(process) == ExitCode.SUCCESS


def _serve(site: Site, *args: str, **env: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app,
        ["node", "serve", "--name", "st-mary", *args],
        env={**site.env, **env},
    )
    return result.exit_code, result.output


def test_serve_refuses_a_missing_configuration(site: Site) -> None:
    code, output = _serve(site, "--role", "hospital", "--config", "/nonexistent.toml")
    assert code == ExitCode.CONFIGURATION
    assert "no node configuration at /nonexistent.toml" in output


def test_serve_refuses_a_role_the_configuration_does_not_name(site: Site) -> None:
    code, output = _serve(site, "--role", "patient")
    assert code == ExitCode.CONFIGURATION
    assert "configures a hospital node, not patient" in output


def test_serve_refuses_a_configuration_with_unknown_keys(
    site: Site, tmp_path: Path
) -> None:
    config = tmp_path / "node.toml"
    config.write_text('role = "hospital"\ndid = "did:key:z"\nwallet = "w"\nport = 1\n')
    code, output = _serve(site, "--role", "hospital", "--config", str(config))
    assert code == ExitCode.CONFIGURATION
    assert "port: Extra inputs are not permitted" in output


def test_serve_refuses_a_configuration_that_is_not_toml(
    site: Site, tmp_path: Path
) -> None:
    config = tmp_path / "node.toml"
    config.write_text("role = hospital\n")
    code, output = _serve(site, "--role", "hospital", "--config", str(config))
    assert code == ExitCode.CONFIGURATION
    assert "is not TOML" in output


def test_serve_refuses_a_wrong_wallet_password(site: Site) -> None:
    guess = "not-the-password-42"
    code, output = _serve(site, "--role", "hospital", AGORA_WALLET_PASSWORD=guess)
    assert code == ExitCode.IDENTITY
    assert output.startswith("error: ")
    assert len(output.strip().splitlines()) == 1
    assert guess not in output


def test_serve_refuses_an_unknown_role(site: Site) -> None:
    code, _ = _serve(site, "--role", "lender")
    assert code == ExitCode.USAGE


def test_node_token_prints_a_token_the_node_accepts(site: Site, tmp_path: Path) -> None:
    wallet = Path(site.env["AGORA_STATE_DIR"]) / "nodes/st-mary/hospital.wallet"
    audience = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    options = ["--did", site.hospital.did, "--aud", audience, "--wallet", str(wallet)]
    result = CliRunner().invoke(app, ["node", "token", *options], env=site.env)
    assert result.exit_code == 0, result.output
    verifier = TokenVerifier(
        audience,
        resolver=DidResolver(),
        spent=NodeDatabase.connect(sqlite_url(tmp_path)),
    )
    caller = verifier.verify(f"Bearer {result.output.strip()}")
    assert caller.did == site.hospital.did


def test_ledger_admit_gives_the_hospital_its_role(site: Site) -> None:
    settings = Settings(state_dir=Path(site.env["AGORA_STATE_DIR"]), chain_url=None)
    with LocalLedger.open(settings) as ledger:
        consortium = ledger.deployment.consortium
        assert consortium.has_role(site.hospital.address(), Role.HOSPITAL)
        assert not consortium.has_role(site.hospital.address(), Role.BUYER)


def test_ledger_admit_refuses_a_did_without_an_account(site: Site) -> None:
    # An Ed25519 did:key names no Ethereum account.
    result = CliRunner().invoke(
        app,
        ["ledger", "admit", site.staff.did, "--name", "staff", "--role", "buyer"],
        env=site.env,
    )
    assert result.exit_code == ExitCode.IDENTITY
    assert result.output.startswith("error: a member is the account of a did:ethr")
