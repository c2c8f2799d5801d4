"""The vault the command line keeps between runs, in ``AGORA_STATE_DIR/vault``.

- ``proxies/proxy-N/``: the three re-encryption proxies of the local
  consortium, each with its own ``key.json`` (consortium account and Umbral
  key, readable by its owner only) and ``fragments/`` (a
  :class:`FolderFragmentStore`). They are made, funded and admitted as
  ``PROXY`` members by the consortium admin on first use, and run inside
  the ``agora`` process that needs them: each is its own object with its
  own key and storage, as it would be in its own process.
- ``owners/<address>.json``: an owner's catalog (an :class:`OwnerCatalog`):
  the records put in the vault (id, category, envelope CID) and the
  grantees of the grants shared, so that the audit trail names them.
  Neither holds a secret; the keys come from the owner's wallet.

A proxy's memory of spent request nonces lives only as long as the
process: a request replayed to a later ``agora`` run within the freshness
window (:data:`~agora.vault.proxy.FRESHNESS_S`) is not recognised.
"""

import json
import logging
import os
from pathlib import Path
from typing import Any

from eth_account import Account as AccountFactory
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agora.errors import ConfigurationError, DataError
from agora.identity.did_ethr import EthrResolver
from agora.identity.errors import IdentityError
from agora.identity.keys import KeyPair, KeyType, ethereum_address
from agora.identity.resolver import DidResolver
from agora.identity.wallet import Wallet
from agora.ledger import Category, GrantId, Role
from agora.ledger.local import LocalLedger
from agora.vault.blockstore import BlockBackend, Cid, parse_block_ref
from agora.vault.errors import InvalidCidError, VaultError
from agora.vault.proxy import HeldFragment, ProxyService
from agora.vault.reencryption import Parties, PublicKey, SecretKey, verify_kfrag
from agora.vault.scope import RecordId
from agora.vault.sharing import DEFAULT_POLICY, SharedRecord, owner_address

logger = logging.getLogger(__name__)


class LocalVaultError(VaultError, ConfigurationError):
    """A file of the command line's vault state is missing or damaged."""


class UnknownRecordError(VaultError, DataError, LookupError):
    """No record of that id in the owner's catalog (nor is it a CID)."""


def vault_folder(state_dir: Path) -> Path:
    """Where the command line's vault state lives."""
    return state_dir / "vault"


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise LocalVaultError(f"{path} is unreadable: {exc}") from exc


class FolderFragmentStore:
    """A proxy's kfrags as files, ``<grant id>.json``, readable by the
    proxy's owner only. Each kfrag is verified again when read, so an
    altered file is refused (:class:`~agora.vault.errors.KeyFragmentError`),
    never used."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, grant_id: GrantId) -> Path:
        return self.folder / f"{int(grant_id)}.json"

    def put(self, grant_id: GrantId, held: HeldFragment) -> None:
        """See :meth:`~agora.vault.proxy.FragmentStore.put`."""
        document = {
            "kfrag": bytes(held.kfrag).hex(),
            "signer": held.parties.signer.to_compressed_bytes().hex(),
            "owner": held.parties.owner.to_compressed_bytes().hex(),
            "grantee": held.parties.grantee.to_compressed_bytes().hex(),
        }
        _write_private(self._path(grant_id), json.dumps(document))

    def get(self, grant_id: GrantId) -> HeldFragment | None:
        """See :meth:`~agora.vault.proxy.FragmentStore.get`."""
        path = self._path(grant_id)
        if not path.exists():
            return None
        document = _read_json(path)
        try:
            signer, owner, grantee = (
                PublicKey.from_compressed_bytes(bytes.fromhex(document[name]))
                for name in ("signer", "owner", "grantee")
            )
            parties = Parties(signer, owner, grantee)
            kfrag = bytes.fromhex(document["kfrag"])
        except (KeyError, TypeError, ValueError) as exc:
            raise LocalVaultError(f"{path} is not a stored fragment") from exc
        return HeldFragment(verify_kfrag(kfrag, parties=parties), parties)

    def discard(self, grant_id: GrantId) -> None:
        """See :meth:`~agora.vault.proxy.FragmentStore.discard`."""
        self._path(grant_id).unlink(missing_ok=True)


def owner_key_pair(wallet: Wallet, did: str) -> KeyPair:
    """The wallet's key of the account that owns ``did``'s grants (a
    secp256k1 ``did:key``, or the controller of a ``did:ethr``)."""
    address = owner_address(did)
    for held in wallet.dids():
        pair = wallet.key_pair(held)
        if (
            pair.key_type is KeyType.SECP256K1
            and ethereum_address(pair.public_key) == address
        ):
            return pair
    raise IdentityError(f"the wallet holds no key of {did}")


def local_proxies(
    ledger: LocalLedger, store: BlockBackend, state_dir: Path
) -> list[ProxyService]:
    """The command line's proxies, made and admitted on first use."""
    resolver = DidResolver(ethr=EthrResolver(ledger.deployment.did_registry))
    consortium = ledger.deployment.consortium
    proxies = []
    for number in range(1, DEFAULT_POLICY.shares + 1):
        name = f"proxy-{number}"
        folder = vault_folder(state_dir) / "proxies" / name
        account_key, umbral = _proxy_keys(folder / "key.json")
        account = ledger.account(account_key, name)

        # A consortium set up again (`agora ledger init --force`) has
        # forgotten them: admit them again.
        if not consortium.is_member(account.address):
            consortium.add_member(
                account.address, name, Role.PROXY, account=ledger.admin
            )
            logger.info("admitted %s as %s", name, account.address)
        proxies.append(
            ProxyService(
                account=account,
                ledger=ledger.deployment,
                store=store,
                resolver=resolver,
                secret_key=umbral,
                fragments=FolderFragmentStore(folder / "fragments"),
            )
        )
    return proxies


def _proxy_keys(path: Path) -> tuple[bytes, SecretKey]:
    """A proxy's account key and Umbral key, made on first use."""
    if not path.exists():
        account_key = KeyPair.generate(KeyType.SECP256K1).private_bytes()
        umbral = SecretKey.random()
        document = {"account": account_key.hex(), "umbral": umbral.to_be_bytes().hex()}
        _write_private(path, json.dumps(document))
        return account_key, umbral
    document = _read_json(path)
    try:
        account_key = bytes.fromhex(document["account"])
        umbral = SecretKey.from_be_bytes(bytes.fromhex(document["umbral"]))
        AccountFactory.from_key(account_key)
    except (KeyError, TypeError, ValueError) as exc:
        raise LocalVaultError(f"{path} does not hold a proxy's keys") from exc
    return account_key, umbral


class _CatalogRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    category: int = Field(ge=1)
    envelope: str


class _CatalogDocument(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    records: dict[str, _CatalogRecord] = {}
    grants: dict[int, str] = {}
    """Grant id to the grantee's DID."""


class OwnerCatalog:
    """What an owner's node knows of its vault: records and grantees."""

    def __init__(self, path: Path, document: _CatalogDocument) -> None:
        self.path = path
        self._document = document

    @classmethod
    def open(cls, state_dir: Path, owner: str) -> "OwnerCatalog":
        """The catalog of the owner account ``owner`` (empty at first)."""
        path = vault_folder(state_dir) / "owners" / f"{owner}.json"
        if not path.exists():
            return cls(path, _CatalogDocument())
        try:
            document = _CatalogDocument.model_validate(_read_json(path))
        except ValidationError as exc:
            raise LocalVaultError(f"{path} is not an owner's catalog") from exc
        return cls(path, document)

    def _save(self, document: _CatalogDocument) -> None:
        _write_private(self.path, document.model_dump_json(indent=2) + "\n")
        self._document = document

    def add_record(self, record: SharedRecord) -> None:
        """Keep ``record``, replacing an earlier one of the same id."""
        entry = _CatalogRecord(category=int(record.category), envelope=record.envelope)
        records = {**self._document.records, record.record_id: entry}
        self._save(self._document.model_copy(update={"records": records}))

    def add_grant(self, grant_id: GrantId, grantee: str) -> None:
        """Remember who ``grant_id`` was for."""
        grants = {**self._document.grants, int(grant_id): grantee}
        self._save(self._document.model_copy(update={"grants": grants}))

    def records(self) -> list[SharedRecord]:
        """Every record, by id."""
        return [
            SharedRecord(
                RecordId(record_id), Category(entry.category), Cid(entry.envelope)
            )
            for record_id, entry in sorted(self._document.records.items())
        ]

    def envelope(self, reference: str) -> Cid:
        """The envelope CID of record ``reference``, or ``reference`` itself
        (taken for a CID) if no record has that id."""
        entry = self._document.records.get(reference)
        if entry is not None:
            return Cid(entry.envelope)
        try:
            return parse_block_ref(reference).cid
        except InvalidCidError:
            raise UnknownRecordError(
                f"no record {reference} in the owner's catalog"
            ) from None

    def grantees(self) -> list[str]:
        """The DIDs of every grantee shared with."""
        return sorted(set(self._document.grants.values()))
