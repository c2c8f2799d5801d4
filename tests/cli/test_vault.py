"""``agora vault``, run as users would: a patient, a doctor and a nurse in
separate processes sharing one local consortium, blockstore and state."""

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agora.cli.exit_codes import ExitCode

from .support import agora

CONDITION = b'{"resourceType":"Condition","id":"c1"}'
OBSERVATION = b'{"resourceType":"Observation","id":"o1"}'


@dataclass(frozen=True)
class Run:
    """One finished ``agora`` process."""

    code: int
    stdout: str
    stderr: str

    @classmethod
    def of(cls, completed: subprocess.CompletedProcess[str]) -> "Run":
        return cls(completed.returncode, completed.stdout.strip(), completed.stderr)

    def error(self) -> dict[str, Any]:
        """The ``--json`` error object, the only line on stderr."""
        (line,) = self.stderr.strip().splitlines()
        parsed: dict[str, Any] = json.loads(line)
        return parsed

    def error_line(self) -> str:
        """The plain error, the only line on stderr."""
        (line,) = self.stderr.strip().splitlines()
        return line


@dataclass(frozen=True)
class Vault:
    """The state folder, and who is who in it."""

    folder: Path
    env: dict[str, str]
    patient: str
    doctor: str
    doctor_key: str
    nurse: str

    def run(self, *args: str) -> Run:
        return Run.of(agora(*args, env=self.env))

    def as_(self, who: str, *args: str) -> Run:
        return self.run(*args, "--wallet", str(self.folder / f"{who}.wallet"))

    def share(self, *args: str, out: str = "share.json") -> int:
        """The patient shares with the doctor; returns the grant id."""
        run = self.as_(
            "patient",
            "vault",
            "share",
            "--owner",
            self.patient,
            "--grantee",
            self.doctor,
            "--grantee-key",
            self.doctor_key,
            "--out",
            str(self.folder / out),
            *args,
        )
        assert run.code == 0, run.stderr
        return int(run.stdout)

    def read(
        self,
        record: str,
        *extra: str,
        share: str = "share.json",
        who: str = "doctor",
        grantee: str | None = None,
        out: str = "read.json",
    ) -> Run:
        """``who`` reads ``record`` with a share, as ``grantee``."""
        return self.as_(
            who,
            "vault",
            "get",
            record,
            "--share",
            str(self.folder / share),
            "--grantee",
            grantee or self.doctor,
            "--out",
            str(self.folder / out),
            *extra,
        )

    def audit(self) -> list[dict[str, Any]]:
        run = self.as_("patient", "vault", "audit", "--owner", self.patient, "--json")
        assert run.code == 0, run.stderr
        trail: list[dict[str, Any]] = json.loads(run.stdout)
        return trail


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Vault:
    """A consortium; a patient (secp256k1 did:key) with two records in the
    vault; a doctor and a nurse (Ed25519 did:key), each with a wallet."""
    folder = tmp_path_factory.mktemp("vault")
    env = {
        "AGORA_STATE_DIR": str(folder / "state"),
        "AGORA_VAULT_DIR": str(folder / "blocks"),
        "AGORA_WALLET_PASSWORD": "pw-for-tests",
    }
    assert agora("ledger", "init", env=env).returncode == 0

    def new_did(who: str, *args: str) -> str:
        wallet = str(folder / f"{who}.wallet")
        assert agora("wallet", "create", "--wallet", wallet, env=env).returncode == 0
        created = agora("did", "create", "--wallet", wallet, *args, env=env)
        assert created.returncode == 0, created.stderr
        return created.stdout.strip()

    patient = new_did("patient", "--key-type", "secp256k1")
    doctor = new_did("doctor")
    nurse = new_did("nurse")
    key = agora(
        "vault", "key", doctor, "--wallet", str(folder / "doctor.wallet"), env=env
    )
    assert key.returncode == 0, key.stderr
    vault = Vault(folder, env, patient, doctor, key.stdout.strip(), nurse)

    for name, data, record in (
        ("c1.json", CONDITION, "Condition/c1"),
        ("o1.json", OBSERVATION, "Observation/o1"),
    ):
        (folder / name).write_bytes(data)
        put = vault.as_(
            "patient",
            "vault",
            "put",
            str(folder / name),
            "--record",
            record,
            "--owner",
            patient,
        )
        assert put.code == 0, put.stderr
        assert put.stdout.startswith("bafkrei")  # the envelope: a raw block
    return vault


def test_the_owner_reads_back_by_record_id_and_by_cid(vault: Vault) -> None:
    out = vault.folder / "own.json"
    by_id = vault.as_(
        "patient",
        "vault",
        "get",
        "Observation/o1",
        "--owner",
        vault.patient,
        "--out",
        str(out),
    )
    assert by_id.code == 0, by_id.stderr
    assert out.read_bytes() == OBSERVATION

    # Only ciphertext is stored: the plaintext is in no block.
    blocks = list((vault.folder / "blocks").rglob("baf*"))
    assert blocks
    assert all(OBSERVATION not in block.read_bytes() for block in blocks)


def test_share_read_revoke_refuse_and_audit(vault: Vault) -> None:
    grant = vault.share("--category", "Condition", "--expires-in", "30d")

    # The doctor reads the condition through the proxies.
    read = vault.read("Condition/c1")
    assert read.code == 0, read.stderr
    assert (vault.folder / "read.json").read_bytes() == CONDITION

    # Revoked: the next read is refused with the rule, in text and JSON.
    revoked = vault.as_(
        "patient", "vault", "revoke", str(grant), "--owner", vault.patient
    )
    assert revoked.code == 0, revoked.stderr
    again = vault.read("Condition/c1", out="again.json")
    assert again.code == ExitCode.CONSENT
    assert again.error_line() == f"error: revoked: grant {grant} was revoked"
    assert not (vault.folder / "again.json").exists()
    as_json = vault.read("Condition/c1", "--json", out="again.json")
    assert as_json.error() == {
        "error": "GrantRevokedError",
        "message": f"revoked: grant {grant} was revoked",
        "exit_code": ExitCode.CONSENT,
    }

    # The trail from chain: the grant, two proxies' accesses, the revocation.
    trail = [entry for entry in vault.audit() if entry["grant_id"] == grant]
    assert [entry["event"] for entry in trail] == [
        "grant",
        "access",
        "access",
        "revocation",
    ]
    assert trail[0]["grantee"] == vault.doctor
    assert trail[0]["categories"] == ["CONDITION"]
    assert {e["record_id"] for e in trail[1:3]} == {"Condition/c1"}
    assert {e["requester"] for e in trail[1:3]} == {vault.doctor}
    assert len({e["proxy"] for e in trail[1:3]}) == 2


def test_a_record_outside_the_grant_is_refused(vault: Vault) -> None:
    vault.share("--category", "Condition", out="conditions.json")

    run = vault.read("Observation/o1", share="conditions.json")

    assert run.code == ExitCode.CONSENT
    assert run.error_line().startswith("error: out-of-scope:")


def test_a_share_used_by_someone_else_is_refused(vault: Vault) -> None:
    vault.share("--record", "Condition/c1", out="for-doctor.json")

    # The nurse presents the doctor's share as herself, then as the doctor.
    as_herself = vault.read(
        "Condition/c1",
        "--json",
        share="for-doctor.json",
        who="nurse",
        grantee=vault.nurse,
    )
    assert as_herself.code == ExitCode.CONSENT
    assert as_herself.error()["error"] == "WrongRequesterError"
    as_doctor = vault.read("Condition/c1", share="for-doctor.json", who="nurse")
    assert as_doctor.code == ExitCode.IDENTITY  # her wallet has no key of his
    assert "no key for" in as_doctor.error_line()


def test_an_expired_grant_is_refused(vault: Vault) -> None:
    grant = vault.share(
        "--category", "Condition", "--expires-in", "2s", out="brief.json"
    )
    time.sleep(3)
    # Chain time moves with blocks: the next transaction dates a block
    # past the expiry.
    vault.share("--category", "Condition", out="later.json")

    run = vault.read("Condition/c1", share="brief.json")

    assert run.code == ExitCode.CONSENT
    assert run.error_line() == f"error: expired: grant {grant} has expired"


def test_a_tampered_object_is_refused_to_owner_and_grantee(vault: Vault) -> None:
    (vault.folder / "c2.json").write_bytes(CONDITION.replace(b"c1", b"c2"))
    put = vault.as_(
        "patient",
        "vault",
        "put",
        str(vault.folder / "c2.json"),
        "--record",
        "Condition/c2",
        "--owner",
        vault.patient,
    )
    assert put.code == 0, put.stderr
    vault.share("--record", "Condition/c2", out="c2.json")

    # Flip the ciphertext's block (the envelope names it).
    blocks = vault.folder / "blocks"
    envelope = json.loads((blocks / put.stdout[-2:] / put.stdout).read_bytes())
    cid = envelope["ciphertext"]
    block = blocks / cid[-2:] / cid
    data = bytearray(block.read_bytes())
    data[-1] ^= 1
    block.write_bytes(bytes(data))

    owner = vault.as_(
        "patient",
        "vault",
        "get",
        "Condition/c2",
        "--owner",
        vault.patient,
        "--out",
        str(vault.folder / "c2-owner.json"),
    )
    grantee = vault.read("Condition/c2", share="c2.json", out="c2-doctor.json")

    for run in (owner, grantee):
        assert run.code == ExitCode.DATA
        assert "does not match" in run.error_line()
    assert not (vault.folder / "c2-owner.json").exists()
    assert not (vault.folder / "c2-doctor.json").exists()


@pytest.mark.parametrize(
    ("rule", "args", "code", "message"),
    [
        ("duration-unparsable", ["--expires-in", "soon"], ExitCode.USAGE, "duration"),
        ("duration-zero", ["--expires-in", "0d"], ExitCode.USAGE, "duration"),
        ("unknown-category", ["--category", "Conditon"], ExitCode.USAGE, "Conditon"),
        ("empty-scope", [], ExitCode.USAGE, "at least one"),
        ("bad-grantee-key", ["--grantee-key", "00"], ExitCode.USAGE, "vault key"),
        ("purpose-too-long", ["--purpose", "x" * 33], ExitCode.LEDGER, "purpose"),
    ],
)
def test_bad_share_options(
    vault: Vault, rule: str, args: list[str], code: int, message: str
) -> None:
    scope = (
        []
        if rule in {"unknown-category", "empty-scope"}
        else ["--category", "Condition"]
    )
    run = vault.as_(
        "patient",
        "vault",
        "share",
        "--owner",
        vault.patient,
        "--grantee",
        vault.doctor,
        "--grantee-key",
        vault.doctor_key,
        "--out",
        str(vault.folder / "bad.json"),
        *scope,
        *args,
    )
    assert run.code == code, run.stderr
    assert message in run.stderr
    assert "Traceback" not in run.stderr


def test_bad_inputs_get_a_clean_error_and_their_code(vault: Vault) -> None:
    (vault.folder / "garbage.json").write_text("{not json")
    (vault.folder / "foreign.json").write_text('{"format": "something else"}')
    cases = {
        "no-mode": (
            vault.as_("patient", "vault", "get", "x", "--out", "y"),
            ExitCode.USAGE,
            "give --owner",
        ),
        "ed25519-owner": (
            vault.as_(
                "doctor",
                "vault",
                "put",
                str(vault.folder / "c1.json"),
                "--owner",
                vault.doctor,
            ),
            ExitCode.IDENTITY,
            "secp256k1 did:key",
        ),
        "owner-not-in-wallet": (
            vault.as_(
                "doctor",
                "vault",
                "audit",
                "--owner",
                vault.patient,
            ),
            ExitCode.IDENTITY,
            "holds no key",
        ),
        "missing-file": (
            vault.as_(
                "patient",
                "vault",
                "put",
                str(vault.folder / "absent"),
                "--owner",
                vault.patient,
            ),
            ExitCode.DATA,
            "cannot read",
        ),
        "unknown-record": (
            vault.as_(
                "patient",
                "vault",
                "get",
                "Condition/none",
                "--owner",
                vault.patient,
                "--out",
                str(vault.folder / "none"),
            ),
            ExitCode.DATA,
            "no record Condition/none",
        ),
        "out-under-a-file": (
            vault.as_(
                "patient",
                "vault",
                "get",
                "Condition/c1",
                "--owner",
                vault.patient,
                "--out",
                str(vault.folder / "garbage.json" / "out"),
            ),
            ExitCode.DATA,
            "cannot write",
        ),
        "share-not-json": (
            vault.read("Condition/c1", share="garbage.json"),
            ExitCode.DATA,
            "is not JSON",
        ),
        "share-malformed": (
            vault.read("Condition/c1", share="foreign.json"),
            ExitCode.DATA,
            "agora-consent-share/v1",
        ),
        "grantee-not-did-key": (
            vault.read("Condition/c1", grantee="did:web:clinic.example"),
            ExitCode.IDENTITY,
            "did:key",
        ),
        "revoke-unknown-grant": (
            vault.as_("patient", "vault", "revoke", "999", "--owner", vault.patient),
            ExitCode.LEDGER,
            "unknown grant",
        ),
    }
    for rule, (run, code, message) in cases.items():
        assert run.code == code, (rule, run.stderr)
        assert message in run.stderr, (rule, run.stderr)
        assert "Traceback" not in run.stderr, rule
        if code != ExitCode.USAGE:  # usage errors come with the usage text
            assert run.error_line().startswith("error: "), rule


def test_without_a_consortium_sharing_is_a_configuration_error(
    vault: Vault, tmp_path: Path
) -> None:
    env = {**vault.env, "AGORA_STATE_DIR": str(tmp_path / "empty")}
    run = Run.of(
        agora(
            "vault",
            "share",
            "--owner",
            vault.patient,
            "--grantee",
            vault.doctor,
            "--grantee-key",
            vault.doctor_key,
            "--category",
            "Condition",
            "--out",
            str(tmp_path / "s.json"),
            "--wallet",
            str(vault.folder / "patient.wallet"),
            env=env,
        )
    )
    assert run.code == ExitCode.CONFIGURATION
    assert "agora ledger init" in run.error_line()


def test_audit_patient_joins_each_access_with_its_grant(vault: Vault) -> None:
    grant = vault.share("--category", "Observation", "--expires-in", "1d")
    read = vault.read("Observation/o1", share="share.json", out="o1-read.json")
    assert read.code == 0, read.stderr
    revoked = vault.as_(
        "patient", "vault", "revoke", str(grant), "--owner", vault.patient
    )
    assert revoked.code == 0, revoked.stderr

    # No wallet: the trail is public on chain and in the anchored logs.
    run = vault.run("audit", "patient", vault.patient, "--json")
    assert run.code == 0, run.stderr
    joined = [a for a in json.loads(run.stdout) if a["grant_id"] == grant]
    assert len(joined) == 2  # one access logged by each of two proxies
    for access in joined:
        assert access["record_id"] == "Observation/o1"
        assert access["requester"] == vault.doctor
        assert access["grant"]["grantee"] == vault.doctor
        assert access["grant"]["categories"] == ["OBSERVATION"]
        # Served before the revocation, which the join shows beside it.
        assert access["within_grant"] is True
        assert access["revoked_at"] >= access["timestamp"]

    text = vault.run("audit", "patient", vault.patient)
    assert text.code == 0, text.stderr
    lines = [line for line in text.stdout.splitlines() if f"grant {grant} " in line]
    assert len(lines) == 2
    assert all(f"read by {vault.doctor}" in line for line in lines)
    assert all("revoked" in line and "OUTSIDE" not in line for line in lines)


def test_audit_patient_refuses_a_did_that_owns_no_grants(vault: Vault) -> None:
    """Rule: grants are owned by a did:ethr or secp256k1 did:key account."""
    run = vault.run("audit", "patient", vault.doctor)  # an Ed25519 did:key
    assert run.code == ExitCode.IDENTITY
    assert run.error_line().startswith("error: grants are owned by the account")
