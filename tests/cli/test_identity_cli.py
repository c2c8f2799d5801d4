"""`agora ledger init`, `agora did`, `agora wallet` and `agora vc`, run as a
user would: separate processes sharing one state folder."""

import json
from pathlib import Path

import pytest

from .support import agora

IDENTITY = {
    "given_name": "Mei-Ling",
    "family_name": "Chen",
    "birth_date": "1994-07-21",
    "national_id": "A234567890",
    "address": {
        "street": "12 Roosevelt Rd",
        "locality": "Taipei",
        "postal_code": "106",
        "country": "TW",
    },
}
LENDER = "did:web:lender.example"


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A state folder with a consortium and a government issuer."""
    folder = tmp_path_factory.mktemp("state")
    env = {"AGORA_STATE_DIR": str(folder), "AGORA_WALLET_PASSWORD": "pw-for-tests"}
    assert agora("ledger", "init", env=env).returncode == 0
    created = agora(
        "vc", "issuer", "create", "government", "--type", "identity", env=env
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("did:ethr:")
    assert agora("wallet", "create", env=env).returncode == 0
    return env


def _run(env: dict[str, str], *args: str) -> str:
    result = agora(*args, env=env)
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout.strip()


def _issue(env: dict[str, str], tmp_path: Path) -> tuple[str, str]:
    """A holder DID and the id of an identity credential issued to it."""
    holder = _run(env, "did", "create")
    claims = tmp_path / "claims.json"
    claims.write_text(json.dumps(IDENTITY))
    credential = tmp_path / "credential.sd-jwt"
    identifier = _run(
        env,
        "vc",
        "issue",
        "--issuer",
        "government",
        "--type",
        "identity",
        "--holder",
        holder,
        "--claims",
        str(claims),
        "--out",
        str(credential),
    )
    assert _run(env, "wallet", "add", str(credential)) == identifier
    return holder, identifier


def _present(env: dict[str, str], identifier: str, tmp_path: Path) -> tuple[str, Path]:
    request = json.loads(
        _run(env, "vc", "request", "--aud", LENDER, "--require", "age_over_18")
    )
    presentation = tmp_path / "presentation.txt"
    _run(
        env,
        "wallet",
        "present",
        identifier,
        "--claims",
        "age_over_18",
        "--nonce",
        request["nonce"],
        "--aud",
        LENDER,
        "--out",
        str(presentation),
    )
    return request["nonce"], presentation


def _verify(
    env: dict[str, str], nonce: str, presentation: Path
) -> tuple[int, dict[str, object]]:
    result = agora(
        "vc",
        "verify",
        str(presentation),
        "--nonce",
        nonce,
        "--aud",
        LENDER,
        "--require",
        "age_over_18",
        env=env,
    )
    return result.returncode, json.loads(result.stdout)


def test_issue_present_verify_then_replay_and_revoke(
    state: dict[str, str], tmp_path: Path
) -> None:
    _, identifier = _issue(state, tmp_path)
    nonce, presentation = _present(state, identifier, tmp_path)

    code, verified = _verify(state, nonce, presentation)
    assert code == 0
    assert verified["claims"] == {"age_over_18": True}
    assert "national_id" not in presentation.read_text()

    # The same presentation again: its nonce is spent.
    assert _verify(state, nonce, presentation) == (
        9,
        {"error": "replayed_nonce", "detail": "nonce was already used"},
    )

    # Revoked by the issuer: a fresh presentation fails on status.
    _run(state, "vc", "revoke", identifier, "--issuer", "government")
    nonce, presentation = _present(state, identifier, tmp_path)
    code, refused = _verify(state, nonce, presentation)
    assert (code, refused["error"]) == (9, "revoked")


def test_suspension_is_lifted(state: dict[str, str], tmp_path: Path) -> None:
    _, identifier = _issue(state, tmp_path)
    _run(state, "vc", "suspend", identifier, "--issuer", "government")
    nonce, presentation = _present(state, identifier, tmp_path)
    assert _verify(state, nonce, presentation)[1]["error"] == "suspended"

    _run(state, "vc", "unsuspend", identifier, "--issuer", "government")
    nonce, presentation = _present(state, identifier, tmp_path)
    assert _verify(state, nonce, presentation)[0] == 0


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("made-up nonce", "nonce"),
        ("wrong audience", "audience"),
        ("not a presentation", "malformed_encoding"),
        ("missing file", "unreadable_input"),
    ],
)
def test_verify_names_the_rule_broken(
    state: dict[str, str], tmp_path: Path, case: str, expected: str
) -> None:
    _, identifier = _issue(state, tmp_path)
    nonce, presentation = _present(state, identifier, tmp_path)
    aud, source = LENDER, str(presentation)
    if case == "made-up nonce":
        nonce = "chosen-by-the-holder"
    elif case == "wrong audience":
        aud = "did:web:other-lender.example"
    elif case == "not a presentation":
        presentation.write_text("hello~world")
    else:
        source = str(tmp_path / "absent")

    result = agora(
        "vc",
        "verify",
        source,
        "--nonce",
        nonce,
        "--aud",
        aud,
        "--require",
        "age_over_18",
        env=state,
    )
    assert result.returncode in (4, 9)
    assert json.loads(result.stdout)["error"] == expected


def test_did_ethr_rotates_then_deactivates(state: dict[str, str]) -> None:
    did = _run(state, "did", "create", "--method", "ethr")
    document = json.loads(_run(state, "did", "resolve", did))
    controller = document["didDocument"]["verificationMethod"][0]

    _run(state, "did", "rotate", did)
    rotated = json.loads(_run(state, "did", "resolve", did))
    assert rotated["didDocument"]["verificationMethod"][0] != controller

    refused = agora("did", "deactivate", did, env=state)
    assert refused.returncode == 8
    _run(state, "did", "deactivate", did, "--yes")
    gone = json.loads(_run(state, "did", "resolve", did))
    assert gone["didDocumentMetadata"]["deactivated"] is True
    assert "verificationMethod" not in gone["didDocument"]

    again = agora("did", "rotate", did, env=state)
    assert again.returncode == 8
    assert "deactivated" in again.stderr


def test_did_key_resolves_offline_and_cannot_rotate(state: dict[str, str]) -> None:
    did = _run(state, "did", "create", "--key-type", "p256")
    assert json.loads(_run(state, "did", "resolve", did))["didDocument"]["id"] == did

    refused = agora("did", "rotate", did, env=state)
    assert refused.returncode == 8
    assert "did:key" in refused.stderr


def test_wrong_wallet_password_is_refused(state: dict[str, str]) -> None:
    result = agora("wallet", "list", env={**state, "AGORA_WALLET_PASSWORD": "nope"})

    assert result.returncode == 8
    assert "password" in result.stderr.lower()
    assert "Traceback" not in result.stderr


def test_invalid_claims_name_the_field_not_the_value(
    state: dict[str, str], tmp_path: Path
) -> None:
    holder = _run(state, "did", "create")
    claims = tmp_path / "claims.json"
    claims.write_text(json.dumps({**IDENTITY, "national_id": "lower-case-123"}))

    result = agora(
        "vc",
        "issue",
        "--issuer",
        "government",
        "--type",
        "identity",
        "--holder",
        holder,
        "--claims",
        str(claims),
        env=state,
    )
    assert result.returncode == 8
    assert "national_id" in result.stderr
    assert "lower-case-123" not in result.stderr


def test_wallet_show_and_list(state: dict[str, str], tmp_path: Path) -> None:
    _, identifier = _issue(state, tmp_path)

    listed = json.loads(_run(state, "wallet", "list", "--json"))
    assert identifier in [c["id"] for c in listed["credentials"]]
    shown = json.loads(_run(state, "wallet", "show", identifier))
    assert shown["age_over_18"] is True
    _run(state, "wallet", "delete", identifier)
    assert agora("wallet", "show", identifier, env=state).returncode == 8


def test_commands_before_ledger_init_say_so(tmp_path: Path) -> None:
    env = {"AGORA_STATE_DIR": str(tmp_path), "AGORA_WALLET_PASSWORD": "pw"}
    result = agora("did", "create", "--method", "ethr", env=env)

    assert result.returncode in (3, 8)
