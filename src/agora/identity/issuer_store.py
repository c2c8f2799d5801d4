"""Issuers and published documents kept between command-line runs.

An issuer run from the command line keeps, under the state folder:

- ``issuers/<name>.wallet``: its account key and its signing key, in an
  encrypted :class:`~agora.identity.wallet.Wallet`;
- ``issuers/<name>.json``: its DID, status list state and, per credential
  it issued, the type and status index, so it can revoke or suspend it.
  No claim values, no keys.

Status lists are published as files in ``documents/`` (:class:`FolderDocumentHost`),
which a node would serve over HTTP.
"""

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agora.identity.consortium import (
    CredentialRecord,
    IssuerOrganisation,
    enroll_issuer,
    latest_assertion_key,
)
from agora.identity.did_ethr import EthrResolver
from agora.identity.errors import IdentityError
from agora.identity.keys import KeyPair, KeyType, ethereum_address
from agora.identity.resolver import DidResolver
from agora.identity.sdjwt import SigningKey
from agora.identity.status_list import StatusListIssuer
from agora.identity.wallet import ScryptParameters, Wallet
from agora.ledger.local import LocalLedger

logger = logging.getLogger(__name__)


class IssuerStoreError(IdentityError, LookupError):
    """An issuer is unknown, exists already, or its files are damaged."""


class FolderDocumentHost:
    """Published documents as files, one per URL (named by its SHA-256)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, url: str) -> Path:
        return self.folder / hashlib.sha256(url.encode()).hexdigest()

    def publish(self, documents: Mapping[str, bytes]) -> None:
        """Write each document, replacing an older version atomically."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for url, body in documents.items():
            path = self._path(url)
            partial = path.with_suffix(".partial")
            partial.write_bytes(body)
            partial.replace(path)

    def fetch(self, url: str) -> bytes:
        """The document at ``url``; raises :class:`FileNotFoundError`."""
        return self._path(url).read_bytes()


@dataclass
class StoredIssuer:
    """An issuer organisation and the files it is kept in."""

    name: str
    organisation: IssuerOrganisation
    records: dict[str, CredentialRecord]
    state_path: Path

    def save(self) -> None:
        """Write the public state (status lists, issued records) back."""
        state = {
            "name": self.name,
            "did": self.organisation.did,
            "key_id": self.organisation.key_id,
            "status_list": self.organisation.status_list.export_state(),
            "issued": {
                credential: {"vct": r.vct, "status_index": r.status_index}
                for credential, r in self.records.items()
            },
        }
        partial = self.state_path.with_suffix(".partial")
        partial.write_text(json.dumps(state, indent=2) + "\n")
        partial.replace(self.state_path)

    def record(self, credential_id: str) -> CredentialRecord:
        """What was kept about one issued credential."""
        try:
            return self.records[credential_id]
        except KeyError:
            raise IssuerStoreError(
                f"{self.name} issued no credential {credential_id}"
            ) from None


def documents_host(state_dir: Path) -> FolderDocumentHost:
    """The local folder standing in for issuers' web servers."""
    return FolderDocumentHost(state_dir / "documents")


def create_issuer(
    ledger: LocalLedger,
    state_dir: Path,
    name: str,
    credential_types: list[str],
    *,
    password: str,
    kdf: ScryptParameters | None = None,
) -> StoredIssuer:
    """Enroll a new issuer ``name`` (the local admin lists it for
    ``credential_types``), publish its key and status list, keep it."""
    folder = state_dir / "issuers"
    folder.mkdir(parents=True, exist_ok=True)
    state_path = folder / f"{name}.json"
    if state_path.exists():
        raise IssuerStoreError(f"an issuer named {name} exists already")

    wallet = Wallet.create(folder / f"{name}.wallet", password, kdf=kdf)
    account_key = KeyPair.generate(KeyType.SECP256K1)
    signing_key = KeyPair.generate(KeyType.ED25519)
    wallet.add_key(account_key)
    wallet.add_key(signing_key)
    account = ledger.account(account_key.private_bytes(), name)
    enroll_issuer(
        ledger.deployment.consortium,
        account,
        name,
        credential_types,
        admin=ledger.admin,
    )
    organisation = IssuerOrganisation.setup(
        ledger.deployment,
        account,
        status_uri=f"https://{name}.issuers.agora.example/status/1",
        host=documents_host(state_dir),
        key=signing_key,
    )
    stored = StoredIssuer(name, organisation, {}, state_path)
    stored.save()
    logger.info("issuer %s created as %s", name, organisation.did)
    return stored


def open_issuer(
    ledger: LocalLedger, state_dir: Path, name: str, *, password: str
) -> StoredIssuer:
    """Reopen issuer ``name``; its signing key must still be the DID's
    latest published assertion key."""
    folder = state_dir / "issuers"
    state_path = folder / f"{name}.json"
    try:
        state: dict[str, Any] = json.loads(state_path.read_text())
    except FileNotFoundError:
        raise IssuerStoreError(f"no issuer named {name}") from None
    except ValueError as exc:
        raise IssuerStoreError(f"{state_path} is damaged") from exc
    wallet = Wallet.open(folder / f"{name}.wallet", password)

    pairs = {pair.key_type: pair for pair in map(wallet.key_pair, wallet.dids())}
    account_pair = pairs.get(KeyType.SECP256K1)
    signing_pair = pairs.get(KeyType.ED25519)
    if account_pair is None or signing_pair is None:
        raise IssuerStoreError(f"{name}'s wallet lacks its account or signing key")
    account = ledger.account(account_pair.private_bytes(), name)
    if ethereum_address(account_pair.public_key) != account.address:
        raise IssuerStoreError(f"{name}'s wallet does not match its account")

    registry = ledger.deployment.did_registry
    method = latest_assertion_key(
        DidResolver(ethr=EthrResolver(registry)), state["did"]
    )
    if method.public_key != signing_pair.public_key:
        raise IssuerStoreError(f"{name}'s signing key is no longer published")
    signing_key = SigningKey(signing_pair.private_jwk(), key_id=method.id)
    status_list = StatusListIssuer.restore(state["status_list"], key=signing_key)
    organisation = IssuerOrganisation(
        ledger.deployment,
        account,
        signing_key,
        status_list,
        documents_host(state_dir),
    )
    records = {
        credential: CredentialRecord(vct=r["vct"], status_index=int(r["status_index"]))
        for credential, r in state.get("issued", {}).items()
    }
    return StoredIssuer(name, organisation, records, state_path)


def issuer_names(state_dir: Path) -> list[str]:
    """Names of the issuers kept in ``state_dir``."""
    return sorted(path.stem for path in (state_dir / "issuers").glob("*.json"))
