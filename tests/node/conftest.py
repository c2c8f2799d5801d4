"""Fixtures of the node tests: one local consortium for the module, a
patient node and a hospital node over it, each on a database per test
(SQLite always, PostgreSQL where one can be had)."""

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agora.identity.keys import KeyType
from agora.identity.wallet import Wallet
from agora.identity.wallet.store import ScryptParameters
from agora.ledger import Category, Role
from agora.ledger.local import LocalLedger
from agora.node.config import NodeConfig, NodeRole
from agora.node.db import NodeDatabase, sqlite_url
from agora.node.runtime import NodeRuntime
from agora.node.server import node_app
from agora.settings import Settings
from agora.vault.blockstore import open_blockstore
from agora.vault.local import OwnerCatalog
from agora.vault.objects import put_encrypted
from agora.vault.scope import RecordId
from agora.vault.sharing import OwnerKeys, SharedRecord

from .postgres import fresh_database, postgres_server, unavailable_reason
from .support import Clock, Person

PASSWORD = "node-tests-password"
CHEAP = ScryptParameters(n=2**4, r=8, p=1)
RECORDS = {
    "Condition/c1": b'{"resourceType":"Condition","id":"c1"}',
    "Observation/o1": b'{"resourceType":"Observation","id":"o1"}',
}


@dataclass(frozen=True)
class Cast:
    """The consortium and everyone in it."""

    settings: Settings
    ledger: LocalLedger
    patient: Person
    hospital: Person
    staff: Person
    member: Person
    outsider: Person
    doctor: Person
    folder: Path


def _wallet(path: Path, person: Person) -> Path:
    Wallet.create(path, PASSWORD, kdf=CHEAP).add_key(person.pair)
    return path


@pytest.fixture(scope="session")
def cast(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cast]:
    folder = tmp_path_factory.mktemp("nodes")
    settings = Settings(
        state_dir=folder / "state",
        vault_dir=folder / "blocks",
        chain_url=None,
        ipfs_api=None,
        db_url=None,
        wallet_password=PASSWORD,
    )
    ledger = LocalLedger.init(settings)
    people = {
        "patient": Person.new(KeyType.SECP256K1),
        "hospital": Person.new(KeyType.SECP256K1),
        "staff": Person.new(KeyType.ED25519),
        "member": Person.new(KeyType.SECP256K1),
        "outsider": Person.new(KeyType.P256),
        "doctor": Person.new(KeyType.ED25519),
    }
    _wallet(folder / "patient.wallet", people["patient"])
    _wallet(folder / "hospital.wallet", people["hospital"])

    # The hospital and a lending platform are consortium members.
    consortium, admin = ledger.deployment.consortium, ledger.admin
    for name, role in (("hospital", Role.HOSPITAL), ("member", Role.PLATFORM)):
        account = ledger.account(people[name].pair.private_bytes(), name)
        consortium.add_member(account.address, name, role, account=admin)

    # Two records in the patient's vault.
    owner = OwnerKeys.derive(
        ledger.account(people["patient"].pair.private_bytes(), "patient")
    )
    store = open_blockstore(settings)
    catalog = OwnerCatalog.open(settings.state_dir, owner.account.address)
    for record_id, body in RECORDS.items():
        cid = put_encrypted(store, io.BytesIO(body), owner.public_key)
        category = Category.of(record_id.partition("/")[0])
        catalog.add_record(SharedRecord(RecordId(record_id), category, cid))

    yield Cast(settings=settings, ledger=ledger, folder=folder, **people)
    ledger.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of each backend."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    server: str = request.getfixturevalue("postgres")
    with fresh_database(server) as url:
        yield url


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_runtime(
    cast: Cast, role: NodeRole, person: Person, url: str, clock: Callable[[], float]
) -> NodeRuntime:
    """A node of ``role`` whose DID is ``person``'s, on the shared chain."""
    config = NodeConfig(
        role=role,
        did=person.did,
        wallet=cast.folder / f"{role}.wallet",
        staff=(cast.staff.did,) if role is NodeRole.HOSPITAL else (),
    )
    return NodeRuntime(
        name=f"{role}-node",
        config=config,
        key=person.pair,
        database=NodeDatabase.connect(url),
        ledger=cast.ledger,
        settings=cast.settings,
        clock=clock,
    )


@pytest.fixture
def patient_node(cast: Cast, db_url: str, clock: Clock) -> Iterator[TestClient]:
    runtime = make_runtime(cast, NodeRole.PATIENT, cast.patient, db_url, clock)
    with TestClient(node_app(runtime), raise_server_exceptions=True) as client:
        yield client
    runtime.database.close()


@pytest.fixture
def hospital_node(cast: Cast, db_url: str, clock: Clock) -> Iterator[TestClient]:
    runtime = make_runtime(cast, NodeRole.HOSPITAL, cast.hospital, db_url, clock)
    with TestClient(node_app(runtime), raise_server_exceptions=True) as client:
        yield client
    runtime.database.close()
