"""``agora market``: AI services listed on the local consortium's chain.

- ``agora market call SERVICE --url URL --did DID --input FILE`` calls a
  service's runtime as the consumer ``DID`` (a ``did:ethr`` whose key the
  wallet holds, with a deposit in ``ServiceMarket``): the request is signed,
  the previous answer's receipt signature goes with it, and the new receipt
  is signed and kept in ``AGORA_STATE_DIR/market/receipts/`` (path
  printed), ready to hand to the provider. It reads the consortium's
  addresses without opening the chain, so it runs beside a service that
  holds the embedded one. A refusal by the service exits 6 with the
  service's status and message.
- ``agora market services`` lists every service ``ServiceMarket`` holds:
  id, provider, model CID, price per call, the provider's share and the job
  whose data providers earn the rest, and whether it is still listed.
- ``agora market settle RECEIPT`` settles a consumer's signed receipt
  (``agora-receipt/v1``, :mod:`agora.market.services.receipts`) as the
  service's provider, whose ``did:ethr`` key the wallet holds; the contract
  pays the provider and the royalties. A receipt settled already, signed by
  someone else, or for more than the deposit holds is refused by the
  contract, and the reason is printed (exit 5).

Exit codes as for every command (:mod:`agora.cli.exit_codes`): 4 for an
input or receipt file that cannot be read, 5 for a refusal on chain, 6 for
an unknown service or a call the service refused or could not take, 8 for
a wallet without the needed key.
"""

import json
import secrets
import sys
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from eth_account import Account as AccountFactory
from eth_typing import ChecksumAddress

from agora.cli.common import failing_cleanly
from agora.cli.wallet import WalletOption, echo_json, open_wallet, read_text_input
from agora.errors import DataError
from agora.identity.did_ethr import parse_ethr_did
from agora.identity.errors import IdentityError
from agora.identity.keys import KeyType, ethereum_address
from agora.identity.wallet import Wallet
from agora.ledger import Account, Receipt, Service, sign_receipt
from agora.ledger.local import LocalLedger
from agora.market.errors import MarketError
from agora.market.services import sign_call
from agora.market.services.receipts import SignedReceipt
from agora.settings import Settings, load_settings

CALL_TIMEOUT_S = 60.0

market_app = typer.Typer(help="AI services: list, call, settle.", no_args_is_help=True)

OutputJson = Annotated[
    bool, typer.Option("--json", help="Output, and errors, as JSON.")
]


def _service_json(service: Service) -> dict[str, Any]:
    return {
        "service": service.service_id,
        "provider": service.provider,
        "model_cid": service.model_cid,
        "price_per_call": str(service.price_per_call),
        "provider_share_bps": service.provider_share_bps,
        "job": service.job_id,
        "active": service.active,
    }


@market_app.command("services")
def services(
    all_services: Annotated[
        bool, typer.Option("--all", help="Delisted services too.")
    ] = False,
    as_json: OutputJson = False,
) -> None:
    """The services listed on chain (price in the Token's smallest unit)."""
    with failing_cleanly(as_json=as_json):
        with LocalLedger.open(load_settings()) as ledger:
            listed = ledger.deployment.service_market.services()
        shown = [s for s in listed if all_services or s.active]
        if as_json:
            echo_json([_service_json(service) for service in shown])
            return
        if not shown:
            typer.echo("no services listed")
            return
        for service in shown:
            state = "" if service.active else "  (delisted)"
            typer.echo(
                f"{service.service_id:>4}  {service.model_cid}  "
                f"price {service.price_per_call}  "
                f"provider {service.provider} ({service.provider_share_bps} bps)  "
                f"job {service.job_id}{state}"
            )


def _wallet_key(wallet: Wallet, address: ChecksumAddress) -> bytes | None:
    """The wallet's secp256k1 private key of ``address``, if it holds one."""
    for did in wallet.dids():
        pair = wallet.key_pair(did)
        if (
            pair.key_type is KeyType.SECP256K1
            and ethereum_address(pair.public_key) == address
        ):
            return pair.private_bytes()
    return None


def _provider_account(ledger: LocalLedger, wallet: Wallet, service: Service) -> Account:
    """The provider's account, from the wallet's secp256k1 keys."""
    key = _wallet_key(wallet, service.provider)
    if key is None:
        raise IdentityError(
            f"the wallet holds no key of service {service.service_id}'s provider "
            f"{service.provider}"
        )
    return ledger.account(key, "provider")


def receipt_path(settings: Settings, service: int, consumer: ChecksumAddress) -> Path:
    """Where ``agora market call`` keeps a consumer's newest signed receipt."""
    return settings.state_dir / "market" / "receipts" / f"{service}-{consumer}.json"


def _read_body(source: Path) -> bytes:
    try:
        return sys.stdin.buffer.read() if str(source) == "-" else source.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read the input from {source}: {exc}") from exc


def _refusal(response: httpx.Response) -> MarketError:
    try:
        payload = response.json()
        message = f"{payload['error']}: {payload['message']}"
    except (ValueError, KeyError, TypeError):
        message = response.text[:200]
    return MarketError(
        f"the service refused the call (HTTP {response.status_code}) {message}"
    )


@market_app.command("call")
def call(
    service: Annotated[int, typer.Argument(min=1, help="Service id on chain.")],
    url: Annotated[str, typer.Option(help="The service's base URL.")],
    did: Annotated[str, typer.Option(help="The consumer's did:ethr.")],
    input_file: Annotated[
        Path, typer.Option("--input", help="The call's body: a file, or -.")
    ],
    content_type: Annotated[
        str, typer.Option(help="Content-Type of the body.")
    ] = "application/json",
    wallet: WalletOption = None,
    as_json: OutputJson = False,
) -> None:
    """Call a service as DID, signing the request and the new receipt."""
    with failing_cleanly(as_json=as_json):
        settings = load_settings()
        chain_id, addresses = LocalLedger.addresses(settings)
        did_chain, consumer = parse_ethr_did(did)
        if did_chain != chain_id:
            raise IdentityError(f"{did} is a DID of another chain than {chain_id}")
        body = _read_body(input_file)
        key = _wallet_key(open_wallet(settings, wallet), consumer)
        if key is None:
            raise IdentityError(f"the wallet holds no key of {did}")
        controller: Account = AccountFactory.from_key(key)

        # The request, signed; with it the signature of the last receipt.
        signed = sign_call(service, did, controller, body, nonce=secrets.token_hex(16))
        headers = {**signed.headers(), "Content-Type": content_type}
        kept = receipt_path(settings, service, consumer)
        if kept.exists():
            last = SignedReceipt.from_json(json.loads(kept.read_text()))
            headers["X-Agora-Receipt-Signature"] = "0x" + last.signature.hex()
        try:
            response = httpx.post(
                url.rstrip("/") + "/v1/call",
                content=body,
                headers=headers,
                timeout=CALL_TIMEOUT_S,
            )
        except httpx.HTTPError as exc:
            raise MarketError(f"cannot reach the service: {exc}") from exc
        if response.status_code != 200:
            raise _refusal(response)

        # The new receipt, checked to be ours, signed and kept.
        answer = response.json()
        receipt = Receipt(**answer["receipt"])
        if (receipt.service, receipt.consumer) != (service, consumer):
            raise MarketError("the service returned a receipt for another call")
        signature = sign_receipt(
            receipt,
            controller,
            chain_id=chain_id,
            contract=addresses["ServiceMarket"],
        )
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_text(json.dumps(SignedReceipt(receipt, signature).to_json()))
        if as_json:
            echo_json({**answer, "receipt_file": str(kept)})
        else:
            echo_json(answer["answer"])
            typer.echo(f"receipt for {receipt.calls} calls signed: {kept}", err=True)


@market_app.command("settle")
def settle(
    receipt_file: Annotated[
        str,
        typer.Argument(
            metavar="RECEIPT", help="Signed receipt file (agora-receipt/v1), or -."
        ),
    ],
    wallet: WalletOption = None,
    as_json: OutputJson = False,
) -> None:
    """Settle a consumer's signed receipt as the service's provider."""
    with failing_cleanly(as_json=as_json):
        text = read_text_input(receipt_file, "receipt")
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise DataError(f"the receipt is not JSON: {exc}") from None
        signed = SignedReceipt.from_json(document)
        receipt = signed.receipt

        settings = load_settings()
        opened = open_wallet(settings, wallet)
        with LocalLedger.open(settings) as ledger:
            market = ledger.deployment.service_market
            if not 1 <= receipt.service <= market.service_count():
                raise MarketError(f"there is no service {receipt.service}")
            service = market.service(receipt.service)
            provider = _provider_account(ledger, opened, service)
            before = market.settled_calls(
                receipt.service, receipt.consumer, receipt.nonce
            )
            transaction = market.settle(receipt, signed.signature, account=provider)
            result = {
                "service": receipt.service,
                "consumer": receipt.consumer,
                "calls_settled": receipt.calls - before,
                "amount": str((receipt.calls - before) * service.price_per_call),
                "deposit_left": str(market.deposit_of(receipt.consumer)),
                "provider_earned": str(market.earned(service.provider)),
                "transaction": transaction,
            }
        if as_json:
            echo_json(result)
        else:
            typer.echo(
                f"settled {result['calls_settled']} calls of service "
                f"{receipt.service} for {result['amount']}; the consumer's deposit "
                f"holds {result['deposit_left']}"
            )
