"""``agora did``: create, resolve, rotate and deactivate DIDs.

``did:key`` DIDs live in the wallet alone. ``did:ethr`` DIDs are accounts of
the local consortium's chain (``agora ledger init``): the wallet keeps the
controlling secp256k1 key, ``DIDRegistry`` keeps the rest.
"""

from enum import StrEnum
from typing import Annotated

import typer
from web3 import Web3

from agora.cli.common import JsonOption, failing_cleanly
from agora.cli.wallet import WalletOption, echo_json, open_wallet
from agora.identity.did_ethr import ZERO_ADDRESS, EthrResolver, ethr_did, parse_ethr_did
from agora.identity.errors import IdentityError
from agora.identity.keys import KeyPair, KeyType, ethereum_address
from agora.identity.resolver import DidResolver
from agora.identity.wallet import Wallet
from agora.ledger import Account
from agora.ledger.local import LocalLedger
from agora.settings import load_settings

did_app = typer.Typer(help="Decentralized identifiers.", no_args_is_help=True)


class Method(StrEnum):
    KEY = "key"
    ETHR = "ethr"


class KeyChoice(StrEnum):
    ED25519 = "ed25519"
    SECP256K1 = "secp256k1"
    P256 = "p256"

    @property
    def key_type(self) -> KeyType:
        return {
            KeyChoice.ED25519: KeyType.ED25519,
            KeyChoice.SECP256K1: KeyType.SECP256K1,
            KeyChoice.P256: KeyType.P256,
        }[self]


DidArgument = Annotated[str, typer.Argument(help="The DID.")]


@did_app.command("create")
def create(
    method: Annotated[Method, typer.Option(help="DID method.")] = Method.KEY,
    key_type: Annotated[
        KeyChoice, typer.Option(help="Key type (did:ethr is always secp256k1).")
    ] = KeyChoice.ED25519,
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """A new DID whose key is kept in the wallet."""
    with failing_cleanly(as_json=as_json):
        settings = load_settings()
        opened = open_wallet(settings, wallet)
        if method is Method.KEY:
            typer.echo(opened.new_did(key_type.key_type))
            return
        pair = KeyPair.generate(KeyType.SECP256K1)
        with LocalLedger.open(settings) as ledger:
            ledger.account(pair.private_bytes(), "did-owner")
            opened.add_key(pair)
            typer.echo(
                ethr_did(ledger.chain.chain_id, ethereum_address(pair.public_key))
            )


@did_app.command("resolve")
def resolve(did: DidArgument, as_json: JsonOption = False) -> None:
    """The DID document and its metadata, as JSON."""
    with failing_cleanly(as_json=as_json):
        if not did.startswith("did:ethr:"):
            echo_json(DidResolver().resolve(did).to_json())
            return
        with LocalLedger.open(load_settings()) as ledger:
            resolver = DidResolver(ethr=EthrResolver(ledger.deployment.did_registry))
            echo_json(resolver.resolve(did).to_json())


def _owner_account(ledger: LocalLedger, wallet: Wallet, did: str) -> Account:
    """The account controlling ``did`` now, from the wallet's keys."""
    _, identity = parse_ethr_did(did)
    owner = ledger.deployment.did_registry.identity_owner(identity)
    if owner == ZERO_ADDRESS:
        raise IdentityError(f"{did} is deactivated")
    for held in wallet.dids():
        pair = wallet.key_pair(held)
        if (
            pair.key_type is KeyType.SECP256K1
            and ethereum_address(pair.public_key) == owner
        ):
            return ledger.account(pair.private_bytes(), "did-owner")
    raise IdentityError(f"the wallet holds no key controlling {did}")


def _registry_did(did: str) -> None:
    if not did.startswith("did:ethr:"):
        raise IdentityError(
            "only did:ethr has a registry to change; a did:key is its key, "
            "so create a new DID instead"
        )
    parse_ethr_did(did)


@did_app.command("rotate")
def rotate(
    did: DidArgument, wallet: WalletOption = None, as_json: JsonOption = False
) -> None:
    """Hand control of a did:ethr to a new key (ERC-1056 owner change)."""
    with failing_cleanly(as_json=as_json):
        _registry_did(did)
        settings = load_settings()
        opened = open_wallet(settings, wallet)
        with LocalLedger.open(settings) as ledger:
            current = _owner_account(ledger, opened, did)
            pair = KeyPair.generate(KeyType.SECP256K1)
            opened.add_key(pair)
            new_owner = ethereum_address(pair.public_key)
            _, identity = parse_ethr_did(did)
            ledger.deployment.did_registry.change_owner(
                identity, new_owner, account=current
            )
            typer.echo(f"{did} is now controlled by {new_owner}")


@did_app.command("deactivate")
def deactivate(
    did: DidArgument,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: deactivation cannot be undone.")
    ] = False,
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """Deactivate a did:ethr for good: its document loses every key."""
    with failing_cleanly(as_json=as_json):
        _registry_did(did)
        if not yes:
            raise IdentityError("deactivation cannot be undone: pass --yes")
        settings = load_settings()
        opened = open_wallet(settings, wallet)
        with LocalLedger.open(settings) as ledger:
            owner = _owner_account(ledger, opened, did)
            _, identity = parse_ethr_did(did)
            ledger.deployment.did_registry.change_owner(
                identity, Web3.to_checksum_address(ZERO_ADDRESS), account=owner
            )
            typer.echo(f"{did} is deactivated")
