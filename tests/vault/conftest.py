"""Fixtures of the consent tests: deployed once, chain rolled back per test."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from agora.identity.keys import KeyType
from agora.ledger import Role, build_contracts, connect, deploy
from agora.settings import Settings
from agora.vault.blockstore import BlockStore
from agora.vault.proxy import ProxyService
from agora.vault.sharing import GranteeKeys, OwnerKeys

from .consent_support import Cast, Clock, World, encrypt_records


@pytest.fixture(scope="session")
def cast(tmp_path_factory: pytest.TempPathFactory) -> Cast:
    settings = Settings(chain_url=None)
    chain = connect(settings)
    admin = chain.new_account("admin")
    ledger = deploy(chain, admin, artifacts=build_contracts(settings))

    proxies = tuple(chain.new_account(f"proxy-{i}") for i in range(3))
    for account in proxies:
        ledger.consortium.add_member(
            account.address, chain.name_of(account.address), Role.PROXY, account=admin
        )

    store = BlockStore(Path(tmp_path_factory.mktemp("vault")))
    patient = OwnerKeys.generate(chain.new_account("patient"))
    return Cast(
        chain=chain,
        ledger=ledger,
        store=store,
        patient=patient,
        doctor=GranteeKeys.generate(),
        nurse=GranteeKeys.generate(KeyType.P256),
        proxy_accounts=proxies,
        records=encrypt_records(store, patient),
    )


@pytest.fixture
def world(cast: Cast) -> Iterator[World]:
    """Fresh proxies on the session's chain; the chain is rolled back after."""
    snapshot = cast.chain.snapshot()
    clock = Clock()
    proxies = [
        ProxyService(account=account, ledger=cast.ledger, store=cast.store, clock=clock)
        for account in cast.proxy_accounts
    ]
    yield World(cast, proxies, clock)
    cast.chain.revert(snapshot)
