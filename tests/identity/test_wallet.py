"""The encrypted wallet: round trips, every way a file can fail to open,
atomic writes, password changes and presentations a verifier accepts."""

import doctest
import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import agora.identity.wallet
from agora.identity import KeyPair, KeyType, did_key_from_key_pair
from agora.identity.keys import b64url_decode
from agora.identity.sdjwt import (
    Algorithm,
    CredentialIssuer,
    InMemoryKeys,
    InMemoryStatusList,
    InMemoryTrustList,
    PresentationError,
    PresentationRequest,
    PresentationVerifier,
    SigningKey,
    StatusReference,
)
from agora.identity.wallet import (
    DuplicateCredentialError,
    DuplicateKeyError,
    FileRule,
    InvalidCredentialError,
    InvalidKdfParametersError,
    InvalidPasswordError,
    NoHolderKeyError,
    ScryptParameters,
    UnknownCredentialError,
    UnknownKeyError,
    UnsupportedWalletVersionError,
    Wallet,
    WalletError,
    WalletExistsError,
    WalletNotFoundError,
    WalletStorageError,
    WalletTamperedError,
    WrongPasswordError,
)
from agora.identity.wallet.envelope import SealingKey, unseal

PASSWORD = "correct horse battery staple"
CHEAP = ScryptParameters(n=2**4, r=8, p=1)
NOW = 1_800_000_000
ISSUER = "did:web:government.example"
KEY_ID = f"{ISSUER}#key-1"
VCT = "https://agora.example/vct/identity"
STATUS = StatusReference(uri="https://government.example/status/1", index=5)
CLAIMS = {
    "given_name": "Ada",
    "national_id": "X-123-456",
    "age_over_18": True,
}
MAGIC_AND_LENGTH = 12
DIGEST = 32
CHECK = 32


def clock(at: float = NOW) -> Callable[[], float]:
    return lambda: at


ISSUER_KEY = SigningKey.generate(Algorithm.ES256, key_id=KEY_ID)


def issue(holder_jwk: dict[str, str], **claims: Any) -> str:
    issuer = CredentialIssuer(ISSUER, ISSUER_KEY, clock=clock(NOW - 100))
    credential = issuer.issue(
        VCT,
        claims or CLAIMS,
        holder_jwk=holder_jwk,
        valid_for_s=86_400,
        status=STATUS,
    )
    return credential.serialized


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "holder.wallet"


@pytest.fixture
def wallet(path: Path) -> Wallet:
    """A wallet with one Ed25519 DID and one credential bound to it."""
    created = Wallet.create(path, PASSWORD, kdf=CHEAP, clock=clock())
    did = created.new_did()
    created.add_credential(issue(created.public_jwk(did)))
    return created


# File surgery: the layout of agora.identity.wallet.envelope.


def split(data: bytes) -> tuple[dict[str, Any], bytes, bytes]:
    """The header, the password check and the sealed bytes of a file."""
    length = int.from_bytes(data[8:MAGIC_AND_LENGTH], "big")
    header_end = MAGIC_AND_LENGTH + length
    header = json.loads(data[MAGIC_AND_LENGTH:header_end])
    body = data[:-DIGEST]
    return header, body[header_end : header_end + CHECK], body[header_end + CHECK :]


def rebuild(header: bytes | dict[str, Any], check: bytes, sealed: bytes) -> bytes:
    """A file with a correct digest, as a deliberate attacker would write."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    body = b"AGORAWLT" + len(raw).to_bytes(4, "big") + raw + check + sealed
    return body + hashlib.sha256(body).digest()


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 1]) + data[index + 1 :]


# Round trip


def test_round_trip_keeps_keys_and_credentials(wallet: Wallet, path: Path) -> None:
    wallet.new_did(KeyType.P256)
    wallet.new_did(KeyType.SECP256K1)

    reopened = Wallet.open(path, PASSWORD)

    assert reopened.dids() == wallet.dids()
    assert reopened.credentials() == wallet.credentials()
    for did in wallet.dids():
        assert reopened.key_pair(did).public_key == wallet.key_pair(did).public_key
        assert did_key_from_key_pair(reopened.key_pair(did)) == did


def test_listing_is_metadata_without_claim_values(wallet: Wallet) -> None:
    (summary,) = wallet.credentials()

    assert summary.issuer == ISSUER
    assert summary.vct == VCT
    assert summary.issued_at == NOW - 100
    assert summary.expires_at == NOW - 100 + 86_400
    assert summary.not_before is None
    assert summary.added_at == NOW
    assert summary.claim_names == ("age_over_18", "given_name", "national_id")
    assert "X-123-456" not in repr(summary)


def test_show_unverified_returns_every_claim(wallet: Wallet) -> None:
    (summary,) = wallet.credentials()

    claims = wallet.show_unverified(summary.id)

    assert {name: claims[name] for name in CLAIMS} == CLAIMS
    assert claims["iss"] == ISSUER


def test_file_holds_no_plaintext(wallet: Wallet, path: Path) -> None:
    data = path.read_bytes()
    private = wallet.key_pair(wallet.dids()[0]).private_jwk()["d"]

    for secret in (private, "X-123-456", "national_id", ISSUER, PASSWORD):
        assert secret.encode() not in data


def test_every_write_uses_a_fresh_nonce(wallet: Wallet, path: Path) -> None:
    before, _, _ = split(path.read_bytes())
    wallet.new_did()
    after, _, _ = split(path.read_bytes())

    assert before["cipher"]["nonce"] != after["cipher"]["nonce"]
    assert before["kdf"]["salt"] == after["kdf"]["salt"]


def test_header_records_the_parameters(path: Path) -> None:
    Wallet.create(path, PASSWORD, kdf=ScryptParameters(n=2**5, r=4, p=2))

    header, _, _ = split(path.read_bytes())

    assert header["version"] == 1
    assert header["kdf"] | {"salt": None} == {
        "name": "scrypt",
        "n": 32,
        "r": 4,
        "p": 2,
        "salt": None,
    }
    assert header["cipher"]["name"] == "AES-256-GCM"


def test_production_defaults_are_owasp_scrypt() -> None:
    assert ScryptParameters() == ScryptParameters(n=2**17, r=8, p=1)


@pytest.mark.parametrize(
    ("n", "r", "p"),
    [
        pytest.param(1, 8, 1, id="n-at-least-2"),
        pytest.param(3, 8, 1, id="n-power-of-two"),
        pytest.param(2**4, 0, 1, id="r-positive"),
        pytest.param(2**4, 8, 0, id="p-positive"),
        pytest.param(2**22, 8, 1, id="memory-bound"),
    ],
)
def test_scrypt_parameters_out_of_bounds(n: int, r: int, p: int) -> None:
    with pytest.raises(InvalidKdfParametersError):
        ScryptParameters(n=n, r=r, p=p)


# Creating and opening


def test_create_refuses_an_existing_file(path: Path) -> None:
    path.write_bytes(b"something else")

    with pytest.raises(WalletExistsError):
        Wallet.create(path, PASSWORD, kdf=CHEAP)
    assert path.read_bytes() == b"something else"


def test_create_refuses_an_empty_password(path: Path) -> None:
    with pytest.raises(InvalidPasswordError):
        Wallet.create(path, "", kdf=CHEAP)
    assert not path.exists()


def test_open_a_missing_file(path: Path) -> None:
    with pytest.raises(WalletNotFoundError):
        Wallet.open(path, PASSWORD)


def test_wrong_password(wallet: Wallet, path: Path) -> None:
    with pytest.raises(WrongPasswordError) as raised:
        Wallet.open(path, "correct horse battery stapler")
    assert "stapler" not in str(raised.value)


def test_password_is_normalized_to_nfc(path: Path) -> None:
    Wallet.create(path, "caf\u00e9", kdf=CHEAP)

    assert Wallet.open(path, "cafe\u0301").dids() == ()


# A damaged file fails on the digest, whatever part was hit.


@pytest.mark.parametrize(
    ("damage", "rule"),
    [
        pytest.param(lambda d: b"", FileRule.TRUNCATED, id="truncated-empty"),
        pytest.param(lambda d: d[:10], FileRule.TRUNCATED, id="truncated-prefix"),
        pytest.param(lambda d: d[:60], FileRule.TRUNCATED, id="truncated-header"),
        pytest.param(lambda d: d[:-1], FileRule.CHECKSUM, id="truncated-digest"),
        pytest.param(lambda d: d[:-40], FileRule.CHECKSUM, id="truncated-ciphertext"),
        pytest.param(lambda d: b"X" + d[1:], FileRule.MAGIC, id="magic"),
        pytest.param(lambda d: flip(d, 30), FileRule.CHECKSUM, id="header-byte"),
        pytest.param(lambda d: flip(d, -40), FileRule.CHECKSUM, id="ciphertext-byte"),
        pytest.param(lambda d: flip(d, -1), FileRule.CHECKSUM, id="digest-byte"),
        pytest.param(lambda d: d + b"\0", FileRule.CHECKSUM, id="appended-byte"),
        pytest.param(
            lambda d: d[:8] + (10**6).to_bytes(4, "big") + d[12:],
            FileRule.HEADER,
            id="header-length",
        ),
    ],
)
def test_damaged_file(
    wallet: Wallet, path: Path, damage: Callable[[bytes], bytes], rule: FileRule
) -> None:
    path.write_bytes(damage(path.read_bytes()))

    with pytest.raises(WalletTamperedError) as raised:
        Wallet.open(path, PASSWORD)
    assert raised.value.rule is rule


# A deliberate attacker recomputes the digest; authentication still fails.


def _with_header(change: Callable[[dict[str, Any]], None]) -> Callable[..., bytes]:
    def tamper(header: dict[str, Any], check: bytes, sealed: bytes) -> bytes:
        change(header)
        return rebuild(header, check, sealed)

    return tamper


def _new_nonce(header: dict[str, Any]) -> None:
    header["cipher"]["nonce"] = "AAAAAAAAAAAAAAAA"


def _huge_n(header: dict[str, Any]) -> None:
    header["kdf"]["n"] = 2**30


def _string_n(header: dict[str, Any]) -> None:
    header["kdf"]["n"] = "16"


def _other_cipher(header: dict[str, Any]) -> None:
    header["cipher"]["name"] = "AES-128-GCM"


def _other_kdf(header: dict[str, Any]) -> None:
    header["kdf"]["name"] = "pbkdf2"


def _short_nonce(header: dict[str, Any]) -> None:
    header["cipher"]["nonce"] = "AAAA"


def _bad_salt(header: dict[str, Any]) -> None:
    header["kdf"]["salt"] = "not base64url!"


def _extra_member(header: dict[str, Any]) -> None:
    header["comment"] = "harmless?"


@pytest.mark.parametrize(
    ("tamper", "rule"),
    [
        pytest.param(
            lambda h, c, s: rebuild(h, c, flip(s, 0)),
            FileRule.AUTHENTICATION,
            id="ciphertext-byte",
        ),
        pytest.param(
            lambda h, c, s: rebuild(h, c, flip(s, len(s) - 1)),
            FileRule.AUTHENTICATION,
            id="tag-byte",
        ),
        pytest.param(
            lambda h, c, s: rebuild(h, c, s[:-1]),
            FileRule.AUTHENTICATION,
            id="ciphertext-shortened",
        ),
        pytest.param(
            _with_header(_new_nonce), FileRule.AUTHENTICATION, id="header-nonce"
        ),
        pytest.param(
            _with_header(_extra_member),
            FileRule.AUTHENTICATION,
            id="header-bound-as-associated-data",
        ),
        pytest.param(
            lambda h, c, s: rebuild(json.dumps(h, indent=1).encode(), c, s),
            FileRule.AUTHENTICATION,
            id="header-respelled",
        ),
        pytest.param(
            lambda h, c, s: rebuild(b"{not json", c, s),
            FileRule.HEADER,
            id="header-not-json",
        ),
        pytest.param(
            lambda h, c, s: rebuild(b"[1]", c, s), FileRule.HEADER, id="header-array"
        ),
        pytest.param(_with_header(_other_cipher), FileRule.HEADER, id="cipher-name"),
        pytest.param(_with_header(_other_kdf), FileRule.HEADER, id="kdf-name"),
        pytest.param(_with_header(_short_nonce), FileRule.HEADER, id="nonce-length"),
        pytest.param(_with_header(_bad_salt), FileRule.HEADER, id="salt-encoding"),
        pytest.param(
            _with_header(_huge_n), FileRule.KDF_PARAMETERS, id="kdf-memory-bomb"
        ),
        pytest.param(_with_header(_string_n), FileRule.KDF_PARAMETERS, id="kdf-type"),
    ],
)
def test_tampered_file(
    wallet: Wallet, path: Path, tamper: Callable[..., bytes], rule: FileRule
) -> None:
    path.write_bytes(tamper(*split(path.read_bytes())))

    with pytest.raises(WalletTamperedError) as raised:
        Wallet.open(path, PASSWORD)
    assert raised.value.rule is rule


def test_tampered_salt_reads_as_a_wrong_password(wallet: Wallet, path: Path) -> None:
    # Without the right salt no key can be derived to tell the two apart;
    # the module docstring of agora.identity.wallet.envelope says so.
    header, check, sealed = split(path.read_bytes())
    header["kdf"]["salt"] = "AAAAAAAAAAAAAAAAAAAAAA"
    path.write_bytes(rebuild(header, check, sealed))

    with pytest.raises(WrongPasswordError):
        Wallet.open(path, PASSWORD)


def test_tampered_password_check_reads_as_a_wrong_password(
    wallet: Wallet, path: Path
) -> None:
    header, check, sealed = split(path.read_bytes())
    path.write_bytes(rebuild(header, flip(check, 0), sealed))

    with pytest.raises(WrongPasswordError):
        Wallet.open(path, PASSWORD)


def test_unknown_version_is_refused(wallet: Wallet, path: Path) -> None:
    header, check, sealed = split(path.read_bytes())
    header["version"] = 2
    path.write_bytes(rebuild(header, check, sealed))

    with pytest.raises(UnsupportedWalletVersionError):
        Wallet.open(path, PASSWORD)


# Authentic contents that break the wallet's own rules


def _reseal(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Rewrite the contents under the right key, as a broken writer might."""
    header, _, _ = split(path.read_bytes())
    salt = b64url_decode(header["kdf"]["salt"])
    key = SealingKey(PASSWORD.encode(), CHEAP, salt)
    plaintext, _ = unseal(path.read_bytes(), PASSWORD)
    contents = json.loads(plaintext)
    change(contents)
    path.write_bytes(key.seal(json.dumps(contents).encode()))


def _unknown_member(contents: dict[str, Any]) -> None:
    contents["extra"] = 1


def _key_under_another_did(contents: dict[str, Any]) -> None:
    other = KeyPair.generate(KeyType.ED25519)
    contents["keys"][0]["did"] = did_key_from_key_pair(other)


def _key_not_loading(contents: dict[str, Any]) -> None:
    contents["keys"][0]["jwk"]["d"] = "AAAA"


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(_unknown_member, id="contents-schema"),
        pytest.param(_key_under_another_did, id="key-matches-its-did"),
        pytest.param(_key_not_loading, id="key-loads"),
    ],
)
def test_authentic_but_malformed_contents(
    wallet: Wallet, path: Path, change: Callable[[dict[str, Any]], None]
) -> None:
    _reseal(path, change)

    with pytest.raises(WalletTamperedError) as raised:
        Wallet.open(path, PASSWORD)
    assert raised.value.rule is FileRule.CONTENTS


# Atomic writes


def test_failed_write_leaves_the_old_file_and_wallet(
    wallet: Wallet, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = path.read_bytes()
    (summary,) = wallet.credentials()

    def refuse(self: Path, target: Path) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(Path, "replace", refuse)
    with pytest.raises(WalletStorageError):
        wallet.delete_credential(summary.id)
    with pytest.raises(WalletStorageError):
        wallet.new_did()
    monkeypatch.undo()

    assert path.read_bytes() == before
    assert list(path.parent.iterdir()) == [path]
    assert wallet.credentials() == (summary,)
    assert len(wallet.dids()) == 1
    assert Wallet.open(path, PASSWORD).credentials() == (summary,)


def test_failed_password_change_keeps_the_old_password(
    wallet: Wallet, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Path, target: Path) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(Path, "replace", refuse)
    with pytest.raises(WalletStorageError):
        wallet.change_password(PASSWORD, "new password")
    monkeypatch.undo()

    wallet.new_did()
    assert len(Wallet.open(path, PASSWORD).dids()) == 2


# Password changes


def test_change_password(wallet: Wallet, path: Path) -> None:
    old_header, _, _ = split(path.read_bytes())

    wallet.change_password(PASSWORD, "a new password", kdf=ScryptParameters(n=2**5))
    new_header, _, _ = split(path.read_bytes())

    with pytest.raises(WrongPasswordError):
        Wallet.open(path, PASSWORD)
    reopened = Wallet.open(path, "a new password")
    assert reopened.credentials() == wallet.credentials()
    assert new_header["kdf"]["salt"] != old_header["kdf"]["salt"]
    assert new_header["kdf"]["n"] == 2**5

    wallet.new_did()
    assert len(Wallet.open(path, "a new password").dids()) == 2


def test_change_password_needs_the_current_one(wallet: Wallet, path: Path) -> None:
    with pytest.raises(WrongPasswordError):
        wallet.change_password("guess", "a new password")
    assert Wallet.open(path, PASSWORD).dids() == wallet.dids()


def test_change_password_refuses_an_empty_one(wallet: Wallet) -> None:
    with pytest.raises(InvalidPasswordError):
        wallet.change_password(PASSWORD, "")


# Keys and credentials


def test_duplicate_key_is_refused(wallet: Wallet) -> None:
    pair = KeyPair.generate(KeyType.P256)
    wallet.add_key(pair)

    with pytest.raises(DuplicateKeyError):
        wallet.add_key(pair)


def test_unknown_key(wallet: Wallet) -> None:
    with pytest.raises(UnknownKeyError):
        wallet.key_pair("did:key:z6MkNotHere")


def test_duplicate_credential_is_refused(path: Path) -> None:
    wallet = Wallet.create(path, PASSWORD, kdf=CHEAP)
    credential = issue(wallet.public_jwk(wallet.new_did()))
    wallet.add_credential(credential)

    with pytest.raises(DuplicateCredentialError):
        wallet.add_credential(credential)
    assert len(wallet.credentials()) == 1


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("no-tildes", id="no-separators"),
        pytest.param("a.b.c~", id="jwt-not-base64url-json"),
    ],
)
def test_malformed_credential_is_refused(wallet: Wallet, text: str) -> None:
    with pytest.raises(InvalidCredentialError):
        wallet.add_credential(text)
    assert len(wallet.credentials()) == 1


def test_delete_credential(wallet: Wallet, path: Path) -> None:
    (summary,) = wallet.credentials()

    wallet.delete_credential(summary.id)

    assert wallet.credentials() == ()
    assert Wallet.open(path, PASSWORD).credentials() == ()
    with pytest.raises(UnknownCredentialError):
        wallet.delete_credential(summary.id)
    with pytest.raises(UnknownCredentialError):
        wallet.show_unverified(summary.id)


# Presenting


def _verifier(at: float) -> PresentationVerifier:
    keys = InMemoryKeys()
    keys.add(ISSUER, ISSUER_KEY.public_jwk(), key_id=KEY_ID)
    return PresentationVerifier(
        keys=keys,
        trust=InMemoryTrustList({ISSUER: [VCT]}),
        status=InMemoryStatusList([STATUS.uri]),
        clock=clock(at),
    )


@pytest.mark.parametrize("key_type", list(KeyType))
def test_presentation_is_accepted_by_the_verifier(
    path: Path, key_type: KeyType
) -> None:
    wallet = Wallet.create(path, PASSWORD, kdf=CHEAP, clock=clock(NOW + 10))
    did = wallet.new_did(key_type)
    summary = wallet.add_credential(issue(wallet.public_jwk(did)))

    presentation = Wallet.open(path, PASSWORD, clock=clock(NOW + 10)).present(
        summary.id, ["age_over_18"], nonce="nonce-1", audience="did:web:lender"
    )
    request = PresentationRequest(
        nonce="nonce-1",
        audience="did:web:lender",
        required_claims=frozenset({"age_over_18"}),
    )

    verified = _verifier(NOW + 11).verify(presentation, request)
    assert verified.claims == {"age_over_18": True}
    assert "X-123-456" not in presentation


def test_present_without_the_holder_key(wallet: Wallet) -> None:
    other = SigningKey.generate(Algorithm.EDDSA)
    summary = wallet.add_credential(issue(other.public_jwk(), age_over_18=True))

    with pytest.raises(NoHolderKeyError):
        wallet.present(summary.id, ["age_over_18"], nonce="n", audience="a")


def test_present_a_claim_the_credential_lacks(wallet: Wallet) -> None:
    (summary,) = wallet.credentials()

    with pytest.raises(PresentationError):
        wallet.present(summary.id, ["income_over_3000"], nonce="n", audience="a")


# Secrets stay out of repr, errors and logs


def test_secrets_stay_out_of_repr_and_logs(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wallet = Wallet.create(path, PASSWORD, kdf=CHEAP)
    did = wallet.new_did()
    credential = issue(wallet.public_jwk(did))
    wallet.add_credential(credential)
    with pytest.raises(WrongPasswordError) as raised:
        Wallet.open(path, "not " + PASSWORD)

    private = wallet.key_pair(did).private_jwk()["d"]
    for text in (repr(wallet), str(wallet), caplog.text, str(raised.value)):
        for secret in (PASSWORD, private, credential, "X-123-456"):
            assert secret not in text


def test_file_is_private_to_its_owner(wallet: Wallet, path: Path) -> None:
    assert path.stat().st_mode & 0o777 == 0o600


def test_every_wallet_error_is_a_wallet_error(wallet: Wallet, path: Path) -> None:
    with pytest.raises(WalletError):
        Wallet.open(path, "wrong")


def test_docstring_examples() -> None:
    result = doctest.testmod(agora.identity.wallet, optionflags=doctest.ELLIPSIS)

    assert result.attempted > 0
    assert result.failed == 0
