"""``agora vault``: encrypted records, shared by consent, audited on chain.

Keys come from the wallet (``--wallet``, password from
``AGORA_WALLET_PASSWORD`` or the prompt): an owner is a secp256k1 ``did:key``
or a ``did:ethr`` whose key the wallet holds, and its vault keys are derived
from that key (:meth:`~agora.vault.sharing.OwnerKeys.derive`); a grantee is
a ``did:key`` of the wallet (:meth:`~agora.vault.sharing.GranteeKeys.derive`).
Grants, revocations and access logs go to the local consortium
(``agora ledger init``); objects to ``AGORA_VAULT_DIR`` (or Kubo); the
proxies and each owner's catalog to ``AGORA_STATE_DIR/vault``
(:mod:`agora.vault.local`).
"""

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from eth_account import Account as AccountFactory

from agora.cli.common import JsonOption, failing_cleanly
from agora.cli.wallet import WalletOption, echo_json, open_wallet
from agora.errors import AgoraError, DataError
from agora.identity.errors import IdentityError
from agora.identity.keys import ethereum_address
from agora.identity.wallet import Wallet
from agora.ledger import Account, Category, GrantId
from agora.ledger.local import LocalLedger
from agora.settings import Settings, load_settings
from agora.vault.audit import (
    AuditEntry,
    GrantEntry,
    RevocationEntry,
    audit_trail,
    entry_to_json,
)
from agora.vault.blockstore import open_blockstore
from agora.vault.local import OwnerCatalog, local_proxies, owner_key_pair
from agora.vault.objects import get_decrypted, put_encrypted
from agora.vault.reencryption import PublicKey
from agora.vault.scope import RecordId, Scope
from agora.vault.sharing import (
    GranteeKeys,
    OwnerKeys,
    Share,
    SharedRecord,
    read_shared,
    revoke,
    share,
)

vault_app = typer.Typer(
    help="Encrypted records, shared by consent through proxies.",
    no_args_is_help=True,
)

OwnerOption = Annotated[
    str, typer.Option("--owner", help="The owner's DID (secp256k1 did:key, did:ethr).")
]

_DURATION = re.compile(r"(\d+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def _duration(text: str) -> int:
    """``30d``, ``12h``, ``45m``, ``90s`` in seconds; a usage error if not."""
    match = _DURATION.fullmatch(text.strip())
    seconds = int(match[1]) * _UNIT_SECONDS[match[2]] if match else 0
    if seconds <= 0:
        raise typer.BadParameter(
            "a positive duration such as 30d, 12h, 45m or 90s",
            param_hint="--expires-in",
        )
    return seconds


def _categories(names: list[str]) -> Category:
    """FHIR resource types (``Condition``) as a category mask."""
    mask = Category(0)
    for name in names:
        category = Category.of(name)
        if category is Category.OTHER and name != "Other":
            raise typer.BadParameter(
                f"{name!r} is not a category; one of " + ", ".join(_category_names()),
                param_hint="--category",
            )
        mask |= category
    return mask


def _category_names() -> list[str]:
    return [
        "".join(word.capitalize() for word in (member.name or "").split("_"))
        for member in Category
    ]


def _grantee_key(text: str) -> PublicKey:
    try:
        return PublicKey.from_compressed_bytes(bytes.fromhex(text))
    except ValueError:
        raise typer.BadParameter(
            "the grantee's vault key, as `agora vault key` prints it",
            param_hint="--grantee-key",
        ) from None


def _owner_keys(wallet: Wallet, did: str, ledger: LocalLedger | None) -> OwnerKeys:
    """The owner's keys; its account funded for gas when ``ledger`` is given."""
    secret = owner_key_pair(wallet, did).private_bytes()
    account: Account = (
        AccountFactory.from_key(secret)
        if ledger is None
        else ledger.account(secret, "vault-owner")
    )
    return OwnerKeys.derive(account)


def _grantee_keys(wallet: Wallet, did: str) -> GranteeKeys:
    if not did.startswith("did:key:"):
        raise IdentityError("a grantee reads with a did:key of its wallet")
    return GranteeKeys.derive(wallet.key_pair(did))


@vault_app.command("key")
def key(
    did: Annotated[str, typer.Argument(help="A did:key of the wallet.")],
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """The vault key DID receives shares under: give it to the owner."""
    with failing_cleanly(as_json=as_json):
        grantee = _grantee_keys(open_wallet(load_settings(), wallet), did)
        typer.echo(grantee.public_key.to_compressed_bytes().hex())


@vault_app.command("put")
def put(
    file: Annotated[Path, typer.Argument(help="The file to encrypt and store.")],
    owner: OwnerOption,
    record: Annotated[
        str | None, typer.Option(help="Record id [default: the file's name].")
    ] = None,
    category: Annotated[
        str | None,
        typer.Option(help="FHIR resource type [default: the record id's Type/]."),
    ] = None,
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """Encrypt FILE to the owner and store it; print the object's CID."""
    record_id = record or file.name
    if category is None:
        kind = Category.of(record_id.partition("/")[0])
    else:
        kind = _categories([category])
    with failing_cleanly(as_json=as_json):
        settings = load_settings()
        keys = _owner_keys(open_wallet(settings, wallet), owner, None)
        store = open_blockstore(settings)
        try:
            with file.open("rb") as source:
                cid = put_encrypted(store, source, keys.public_key)
        except OSError as exc:
            raise DataError(f"cannot read {file}: {exc.strerror}") from exc
        catalog = OwnerCatalog.open(settings.state_dir, keys.account.address)
        catalog.add_record(SharedRecord(RecordId(record_id), kind, cid))
        typer.echo(cid)


@vault_app.command("get")
def get(
    reference: Annotated[
        str, typer.Argument(help="Record id (or, for the owner, an object CID).")
    ],
    out: Annotated[Path, typer.Option(help="Write here, once all of it verified.")],
    owner: Annotated[
        str | None, typer.Option(help="Read as the owner, with this DID's key.")
    ] = None,
    share_file: Annotated[
        Path | None,
        typer.Option("--share", help="Read as a grantee, with this share."),
    ] = None,
    grantee: Annotated[
        str | None, typer.Option(help="The grantee's did:key (with --share).")
    ] = None,
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """Decrypt a record: the owner's own, or one shared with a grantee
    (re-encrypted by 2 of the 3 proxies, each checking the grant on chain)."""
    # Exactly one way to read: the owner's, or a grantee's with a share.
    as_owner = owner is not None and share_file is None and grantee is None
    if as_owner == (share_file is not None and grantee is not None):
        raise typer.BadParameter(
            "give --owner, or --share with --grantee", param_hint="--owner/--share"
        )
    with failing_cleanly(as_json=as_json):
        settings = load_settings()
        opened = open_wallet(settings, wallet)
        try:
            if owner is not None:
                keys = _owner_keys(opened, owner, None)
                catalog = OwnerCatalog.open(settings.state_dir, keys.account.address)
                envelope = catalog.envelope(reference)
                size = get_decrypted(
                    open_blockstore(settings), envelope, keys.umbral, out
                )
            else:
                keys_of_grantee = _grantee_keys(opened, grantee or "")
                shared = _read_share(share_file or Path())
                size = _read_as_grantee(
                    settings, keys_of_grantee, shared, reference, out
                )
        except AgoraError:
            raise  # a consent refusal is a PermissionError, hence an OSError
        except OSError as exc:
            raise DataError(f"cannot write {out}: {exc.strerror}") from exc
        typer.echo(f"{size} bytes written to {out}")


def _read_share(path: Path) -> Share:
    try:
        document = json.loads(path.read_text())
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise DataError(f"{path} is not JSON") from exc
    return Share.from_json(document)


def _read_as_grantee(
    settings: Settings, keys: GranteeKeys, shared: Share, record_id: str, out: Path
) -> int:
    store = open_blockstore(settings)
    with LocalLedger.open(settings) as ledger:
        proxies = local_proxies(ledger, store, settings.state_dir)
        try:
            return read_shared(
                store,
                shared,
                record_id,
                keys,
                proxies={p.address: p for p in proxies},
                destination=out,
            )
        finally:
            # Served accesses are anchored even if the read failed later.
            for proxy in proxies:
                proxy.anchor_access_log()


@vault_app.command("share")
def share_command(
    owner: OwnerOption,
    grantee: Annotated[str, typer.Option(help="The grantee's DID.")],
    grantee_key: Annotated[
        str, typer.Option(help="The grantee's vault key (`agora vault key`).")
    ],
    out: Annotated[Path, typer.Option(help="Where the share for the grantee goes.")],
    category: Annotated[
        list[str] | None,
        typer.Option(help="A FHIR resource type to share (repeatable)."),
    ] = None,
    record: Annotated[
        list[str] | None, typer.Option(help="A record id to share (repeatable).")
    ] = None,
    purpose: Annotated[str, typer.Option(help="Why (1 to 32 bytes).")] = "treatment",
    expires_in: Annotated[
        str, typer.Option(help="How long: 30d, 12h, 45m, 90s.")
    ] = "30d",
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """Grant a DID read access to records by category and/or id, until an
    expiry; the key fragments go to 2-of-3 proxies. Prints the grant id."""
    seconds = _duration(expires_in)
    categories = _categories(category or [])
    receiver = _grantee_key(grantee_key)
    if not categories and not record:
        raise typer.BadParameter(
            "share at least one --category or --record", param_hint="--category"
        )
    with failing_cleanly(as_json=as_json):
        settings = load_settings()
        opened = open_wallet(settings, wallet)
        store = open_blockstore(settings)
        with LocalLedger.open(settings) as ledger:
            keys = _owner_keys(opened, owner, ledger)
            catalog = OwnerCatalog.open(settings.state_dir, keys.account.address)
            proxies = local_proxies(ledger, store, settings.state_dir)
            # The chain's clock may lag the wall clock between blocks; the
            # expiry must be ahead of both.
            now = max(ledger.chain.now(), int(time.time()))
            shared = share(
                ledger.deployment,
                keys,
                grantee=grantee,
                grantee_key=receiver,
                scope=Scope(frozenset(map(RecordId, record or [])), categories),
                purpose=purpose,
                expiry=now + seconds,
                proxies=proxies,
                records=catalog.records(),
            )
            catalog.add_grant(shared.grant_id, grantee)
        _write_share(out, shared)
        if as_json:
            echo_json({"grant_id": shared.grant_id, "records": sorted(shared.labels)})
        else:
            typer.echo(shared.grant_id)


def _write_share(path: Path, shared: Share) -> None:
    try:
        path.write_text(json.dumps(shared.to_json(), indent=2) + "\n")
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror}") from exc


@vault_app.command("revoke")
def revoke_command(
    grant: Annotated[int, typer.Argument(min=1, help="The grant id.")],
    owner: OwnerOption,
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """End a grant on chain; the proxies refuse it from now on and drop
    their fragments."""
    with failing_cleanly(as_json=as_json):
        settings = load_settings()
        opened = open_wallet(settings, wallet)
        store = open_blockstore(settings)
        with LocalLedger.open(settings) as ledger:
            keys = _owner_keys(opened, owner, ledger)
            proxies = local_proxies(ledger, store, settings.state_dir)
            revoke(ledger.deployment, keys, GrantId(grant), proxies=proxies)
        typer.echo(f"grant {grant} revoked")


@vault_app.command("audit")
def audit(
    owner: OwnerOption,
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every grant, access and revocation on the owner's records, read back
    from the chain (access logs checked against their anchored roots)."""
    with failing_cleanly(as_json=as_json):
        settings = load_settings()
        pair = owner_key_pair(open_wallet(settings, wallet), owner)
        address = ethereum_address(pair.public_key)
        catalog = OwnerCatalog.open(settings.state_dir, address)
        store = open_blockstore(settings)
        with LocalLedger.open(settings) as ledger:
            trail = audit_trail(
                ledger.deployment, store, address, known_dids=catalog.grantees()
            )
        if as_json:
            echo_json([entry_to_json(entry) for entry in trail])
            return
        for entry in trail:
            typer.echo(_audit_line(entry))


def _audit_line(entry: AuditEntry) -> str:
    when = datetime.fromtimestamp(entry.timestamp, UTC).isoformat()
    if isinstance(entry, GrantEntry):
        until = datetime.fromtimestamp(entry.expiry, UTC).isoformat()
        what = "+".join(member.name or "" for member in entry.categories)
        return (
            f"{when}  grant {entry.grant_id} to {entry.grantee}: {what or 'records'}"
            f" for {entry.purpose} until {until}"
        )
    if isinstance(entry, RevocationEntry):
        return f"{when}  revoke {entry.grant_id} of {entry.grantee}"
    return (
        f"{when}  access {entry.grant_id} by {entry.requester}: {entry.record_id}"
        f" via {entry.proxy} (anchor {entry.anchor_id})"
    )
