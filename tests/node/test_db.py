"""Node state: one conformance suite run against SQLite and PostgreSQL."""

import pytest

from agora.errors import ConfigurationError
from agora.node.db import NodeDatabase, OfferNote, sqlalchemy_url
from agora.node.errors import NodeConfigError, NodeStateError


@pytest.fixture
def database(db_url: str) -> NodeDatabase:
    return NodeDatabase.connect(db_url)


def test_a_token_id_is_spent_once(database: NodeDatabase) -> None:
    assert database.spend("did:key:zA", "jti-0123456789ab", expires_at=200, now=100)
    assert not database.spend("did:key:zA", "jti-0123456789ab", expires_at=200, now=150)


def test_the_same_jti_from_another_issuer_is_another_token(
    database: NodeDatabase,
) -> None:
    assert database.spend("did:key:zA", "jti-0123456789ab", expires_at=200, now=100)
    assert database.spend("did:key:zB", "jti-0123456789ab", expires_at=200, now=100)


def test_spent_ids_are_pruned_after_expiry(database: NodeDatabase) -> None:
    for number in range(5):
        database.spend("did:key:zA", f"jti-{number:012d}", expires_at=200, now=100)
    assert database.spent_count() == 5
    database.spend("did:key:zA", "jti-late-0000000", expires_at=400, now=300)
    assert database.spent_count() == 1


def test_ids_survive_reconnecting(db_url: str) -> None:
    first = NodeDatabase.connect(db_url)
    first.spend("did:key:zA", "jti-0123456789ab", expires_at=200, now=100)
    first.close()
    again = NodeDatabase.connect(db_url)
    assert not again.spend("did:key:zA", "jti-0123456789ab", expires_at=200, now=150)


def test_offer_notes_round_trip(database: NodeDatabase) -> None:
    note = OfferNote(
        dataset_id=7,
        title="Ward 7 — X-rays",
        modality="xray/chest",
        labels=("normal", "pneumonia"),
        registered_by="did:key:zStaff",
        registered_at=1_900_000_000,
    )
    database.add_offer(note)
    assert database.offers() == {7: note}


def test_a_second_note_for_one_dataset_is_a_state_error(
    database: NodeDatabase,
) -> None:
    note = OfferNote(7, "t", "m", ("a",), "did:key:z", 1)
    database.add_offer(note)
    with pytest.raises(NodeStateError):
        database.add_offer(note)


@pytest.mark.parametrize(
    ("rule", "url"),
    [
        ("not_a_url", "not a url"),
        ("unsupported_database", "mysql://user@localhost/agora"),
    ],
)
def test_a_bad_database_url_is_a_configuration_error(rule: str, url: str) -> None:
    with pytest.raises(NodeConfigError) as raised:
        NodeDatabase.connect(url)
    assert isinstance(raised.value, ConfigurationError), rule
    assert "AGORA_DB_URL" in str(raised.value), rule


def test_postgresql_urls_load_psycopg_3() -> None:
    url = sqlalchemy_url("postgresql://agora:secret@db.example/agora")
    assert url.startswith("postgresql+psycopg://")


def test_an_unreachable_database_hides_its_url() -> None:
    url = "postgresql://agora:hunter2-secret@127.0.0.1:1/agora"
    with pytest.raises(NodeStateError) as raised:
        NodeDatabase.connect(url)
    assert "hunter2" not in str(raised.value)
    assert "127.0.0.1" not in str(raised.value)
