"""Deploy the marketplace contracts, wired together, or attach to them."""

import logging
from dataclasses import dataclass
from typing import Self

from eth_typing import ChecksumAddress

from agora.ledger.build import Artifacts, build_contracts
from agora.ledger.chain import Chain
from agora.ledger.clients import (
    AnchorClient,
    ConsentClient,
    ConsortiumClient,
    DataMarketClient,
    DIDRegistryClient,
    FraudListClient,
    ServiceMarketClient,
    TokenClient,
)
from agora.ledger.model import Account

logger = logging.getLogger(__name__)

ERC20_NAME = "Agora Token"
ERC20_SYMBOL = "AGORA"


@dataclass(frozen=True)
class Deployment:
    """The deployed contracts, each behind its typed client."""

    consortium: ConsortiumClient
    token: TokenClient
    data_market: DataMarketClient
    did_registry: DIDRegistryClient
    anchor: AnchorClient
    fraud_list: FraudListClient
    service_market: ServiceMarketClient
    consent: ConsentClient

    @property
    def addresses(self) -> dict[str, ChecksumAddress]:
        """Contract addresses by artifact name, for configuration files."""
        return {
            client.artifact_name: client.address
            for client in (
                self.consortium,
                self.token,
                self.data_market,
                self.did_registry,
                self.anchor,
                self.fraud_list,
                self.service_market,
                self.consent,
            )
        }

    @classmethod
    def attach(
        cls,
        chain: Chain,
        addresses: dict[str, ChecksumAddress],
        *,
        artifacts: Artifacts | None = None,
    ) -> Self:
        """Clients for contracts deployed earlier (``addresses`` as produced
        by :attr:`addresses`), e.g. by another organisation's node."""
        artifacts = artifacts or build_contracts()
        return cls(
            consortium=ConsortiumClient.at(
                chain, artifacts["Consortium"], addresses["Consortium"]
            ),
            token=TokenClient.at(chain, artifacts["Token"], addresses["Token"]),
            data_market=DataMarketClient.at(
                chain, artifacts["DataMarket"], addresses["DataMarket"]
            ),
            did_registry=DIDRegistryClient.at(
                chain, artifacts["DIDRegistry"], addresses["DIDRegistry"]
            ),
            anchor=AnchorClient.at(chain, artifacts["Anchor"], addresses["Anchor"]),
            fraud_list=FraudListClient.at(
                chain, artifacts["FraudList"], addresses["FraudList"]
            ),
            service_market=ServiceMarketClient.at(
                chain, artifacts["ServiceMarket"], addresses["ServiceMarket"]
            ),
            consent=ConsentClient.at(chain, artifacts["Consent"], addresses["Consent"]),
        )


def deploy(
    chain: Chain, admin: Account, *, artifacts: Artifacts | None = None
) -> Deployment:
    """Deploy ``Consortium``, ``Token``, ``DataMarket``, ``DIDRegistry``,
    ``Anchor``, ``FraudList``, ``ServiceMarket`` and ``Consent`` from
    ``admin``.

    ``admin`` becomes the consortium's admin and the token's owner (the one
    minter). ``artifacts`` defaults to :func:`build_contracts` with the
    process settings.
    """
    artifacts = artifacts or build_contracts()

    consortium = chain.deploy(admin, artifacts["Consortium"])
    token = chain.deploy(admin, artifacts["Token"], ERC20_NAME, ERC20_SYMBOL)
    market = chain.deploy(
        admin, artifacts["DataMarket"], consortium.address, token.address
    )
    registry = chain.deploy(admin, artifacts["DIDRegistry"])
    anchor = chain.deploy(admin, artifacts["Anchor"], consortium.address)
    fraud_list = chain.deploy(admin, artifacts["FraudList"], consortium.address)
    services = chain.deploy(
        admin,
        artifacts["ServiceMarket"],
        consortium.address,
        token.address,
        market.address,
    )
    consent = chain.deploy(admin, artifacts["Consent"])
    logger.info("marketplace deployed by %s", chain.name_of(admin.address))
    return Deployment(
        consortium=ConsortiumClient(chain, consortium),
        token=TokenClient(chain, token),
        data_market=DataMarketClient(chain, market),
        did_registry=DIDRegistryClient(chain, registry),
        anchor=AnchorClient(chain, anchor),
        fraud_list=FraudListClient(chain, fraud_list),
        service_market=ServiceMarketClient(chain, services),
        consent=ConsentClient(chain, consent),
    )
