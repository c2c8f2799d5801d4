"""``agora market``: AI services listed on the local consortium's chain.

- ``agora market services`` lists every service ``ServiceMarket`` holds:
  id, provider, model CID, price per call, the provider's share and the job
  whose data providers earn the rest, and whether it is still listed.
- ``agora market settle RECEIPT`` settles a consumer's signed receipt
  (``agora-receipt/v1``, :mod:`agora.market.services.receipts`) as the
  service's provider, whose ``did:ethr`` key the wallet holds; the contract
  pays the provider and the royalties. A receipt settled already, signed by
  someone else, or for more than the deposit holds is refused by the
  contract, and the reason is printed (exit 5).

Exit codes as for every command (:mod:`agora.cli.exit_codes`): 4 for a
receipt file that cannot be read, 5 for a refusal on chain, 6 for an
unknown service, 8 for a wallet without the provider's key.
"""

import json
from typing import Annotated, Any

import typer

from agora.cli.common import failing_cleanly
from agora.cli.wallet import WalletOption, echo_json, open_wallet, read_text_input
from agora.errors import DataError
from agora.identity.errors import IdentityError
from agora.identity.keys import KeyType, ethereum_address
from agora.identity.wallet import Wallet
from agora.ledger import Account, Service
from agora.ledger.local import LocalLedger
from agora.market.errors import MarketError
from agora.market.services.receipts import SignedReceipt
from agora.settings import load_settings

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


def _provider_account(ledger: LocalLedger, wallet: Wallet, service: Service) -> Account:
    """The provider's account, from the wallet's secp256k1 keys."""
    for did in wallet.dids():
        pair = wallet.key_pair(did)
        if (
            pair.key_type is KeyType.SECP256K1
            and ethereum_address(pair.public_key) == service.provider
        ):
            return ledger.account(pair.private_bytes(), "provider")
    raise IdentityError(
        f"the wallet holds no key of service {service.service_id}'s provider "
        f"{service.provider}"
    )


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
