"""Fixtures: contracts compiled once, deployed once, state reset per test.

Every test starts from the same deployed marketplace and rolls the embedded
chain back to a snapshot afterwards, which is far cheaper than deploying
afresh.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from agora.ledger import Artifacts, Role, build_contracts, connect, deploy
from agora.settings import Settings

from .support import BUYER_FUNDS, Market


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Embedded chain, artifacts cached in a temporary folder."""
    return Settings(chain_url=None, cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def artifacts(settings: Settings) -> Artifacts:
    return build_contracts(settings)


@pytest.fixture(scope="session")
def evil_source() -> Path:
    return Path(__file__).with_name("EvilToken.vy")


@pytest.fixture(scope="session")
def deployed(artifacts: Artifacts, settings: Settings) -> Market:
    chain = connect(settings)
    admin = chain.new_account("admin")
    ledger = deploy(chain, admin, artifacts=artifacts)

    hospitals = [chain.new_account(f"hospital-{i}") for i in range(4)]
    buyer = chain.new_account("buyer")
    coordinator = chain.new_account("coordinator")
    outsider = chain.new_account("outsider")
    members = [(h, Role.HOSPITAL) for h in hospitals]
    members += [(buyer, Role.BUYER), (coordinator, Role.COORDINATOR)]
    for account, role in members:
        ledger.consortium.add_member(
            account.address, chain.name_of(account.address), role, account=admin
        )

    ledger.token.mint(buyer.address, BUYER_FUNDS, account=admin)
    ledger.token.approve(ledger.data_market.address, BUYER_FUNDS, account=buyer)
    return Market(
        chain=chain,
        ledger=ledger,
        admin=admin,
        hospitals=hospitals,
        buyer=buyer,
        coordinator=coordinator,
        outsider=outsider,
    )


@pytest.fixture
def market(deployed: Market) -> Iterator[Market]:
    """The deployed marketplace; whatever a test does is undone after it."""
    snapshot = deployed.chain.snapshot()
    yield deployed
    deployed.chain.revert(snapshot)
