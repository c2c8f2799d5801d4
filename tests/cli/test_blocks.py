"""`agora blocks add/get`: Kubo's CIDs, verified reads, clean failures."""

import os
from pathlib import Path

from agora.cli.exit_codes import ExitCode

from .support import agora


def _env(tmp_path: Path) -> dict[str, str]:
    return {"AGORA_VAULT_DIR": str(tmp_path / "blocks"), "AGORA_IPFS_API": ""}


def test_add_prints_the_cids_of_ipfs_add(tmp_path: Path) -> None:
    # `ipfs add` of the 5 bytes "hello" prints the first; `ipfs cid base32`
    # of it the second (tests/vault compares larger files with ipfs_cid).
    file = tmp_path / "hello.txt"
    file.write_bytes(b"hello")

    run = agora("blocks", "add", str(file), env=_env(tmp_path))

    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX",
        "bafybeid3weurg3gvyoi7nisadzolomlvoxoppe2sesktnpvdve3256n5tq",
    ]


def test_get_writes_back_the_same_bytes(tmp_path: Path) -> None:
    file = tmp_path / "scan.bin"
    file.write_bytes(os.urandom(300_000))
    cid_v1 = agora("blocks", "add", str(file), env=_env(tmp_path)).stdout.split()[1]

    run = agora(
        "blocks", "get", cid_v1, "--out", str(tmp_path / "back"), env=_env(tmp_path)
    )

    assert run.returncode == 0, run.stderr
    assert (tmp_path / "back").read_bytes() == file.read_bytes()


def test_get_without_out_prints_the_file(tmp_path: Path) -> None:
    file = tmp_path / "note.txt"
    file.write_text("consent granted\n" * 20_000)
    cid_v0 = agora("blocks", "add", str(file), env=_env(tmp_path)).stdout.split()[0]

    run = agora("blocks", "get", cid_v0, env=_env(tmp_path))

    assert run.returncode == 0, run.stderr
    assert run.stdout == file.read_text()


def test_a_tampered_block_is_a_data_error_and_writes_nothing(tmp_path: Path) -> None:
    file = tmp_path / "scan.bin"
    file.write_bytes(os.urandom(300_000))
    cid = agora("blocks", "add", str(file), env=_env(tmp_path)).stdout.split()[1]
    for block in (tmp_path / "blocks").rglob("bafy*"):
        block.write_bytes(block.read_bytes() + b"!")

    run = agora(
        "blocks", "get", cid, "--out", str(tmp_path / "back"), env=_env(tmp_path)
    )

    assert run.returncode == ExitCode.DATA
    assert run.stderr.startswith("error: block ") and "does not match" in run.stderr
    assert run.stderr.count("\n") == 1
    assert not (tmp_path / "back").exists()


def test_a_missing_file_is_a_data_error(tmp_path: Path) -> None:
    run = agora("blocks", "add", str(tmp_path / "absent"), env=_env(tmp_path))
    assert run.returncode == ExitCode.DATA
    assert "cannot read" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_malformed_cid_is_a_data_error_as_json(tmp_path: Path) -> None:
    run = agora("blocks", "get", "not-a-cid", "--json", env=_env(tmp_path))
    assert run.returncode == ExitCode.DATA
    assert '"error": "InvalidCidError"' in run.stderr


def test_an_unreachable_ipfs_api_is_a_configuration_error(tmp_path: Path) -> None:
    file = tmp_path / "f"
    file.write_bytes(b"x")
    env = {**_env(tmp_path), "AGORA_IPFS_API": "http://127.0.0.1:9"}
    run = agora("blocks", "add", str(file), env=env)
    assert run.returncode == ExitCode.CONFIGURATION
    assert "unreachable" in run.stderr


def test_verbose_never_prints_the_ipfs_apis_credentials(tmp_path: Path) -> None:
    file = tmp_path / "f"
    file.write_bytes(b"x")
    secret_url = "http://user:s3cret@127.0.0.1:9/?token=TOPSECRET"
    env = {**_env(tmp_path), "AGORA_IPFS_API": secret_url}

    run = agora("-v", "blocks", "add", str(file), env=env)

    assert run.returncode == ExitCode.CONFIGURATION
    assert "s3cret" not in run.stderr + run.stdout
    assert "TOPSECRET" not in run.stderr + run.stdout
