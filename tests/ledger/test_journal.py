"""A persistent embedded chain: replayed from its journal, exactly."""

import json
from pathlib import Path

import pytest

from agora.ledger import (
    ContractRevertError,
    Deployment,
    InvalidArgumentError,
    Role,
    build_contracts,
    bytes32,
    connect,
    deploy,
)
from agora.ledger.journal import JournalError
from agora.settings import Settings

SETTINGS = Settings(chain_url=None)


def test_a_reopened_chain_has_the_same_state(tmp_path: Path) -> None:
    journal = tmp_path / "chain.journal"
    chain = connect(SETTINGS, journal=journal)
    admin = chain.new_account("admin")
    ledger = deploy(chain, admin, artifacts=build_contracts(SETTINGS))
    member = chain.new_account("bank")
    ledger.consortium.add_member(member.address, "Bank", Role.ISSUER, account=admin)
    ledger.did_registry.set_attribute(
        member.address,
        bytes32("did/svc/Hub"),
        b"https://hub",
        validity=3600,
        account=member,
    )
    with pytest.raises(ContractRevertError):
        ledger.consortium.add_member(member.address, "Bank", Role.ISSUER, account=admin)
    changed = ledger.did_registry.changed(member.address)
    latest = chain.w3.eth.get_block("latest")
    chain.close()

    again = connect(SETTINGS, journal=journal)
    reopened = Deployment.attach(again, ledger.addresses)
    assert reopened.consortium.has_role(member.address, Role.ISSUER)
    assert reopened.did_registry.changed(member.address) == changed
    assert again.w3.eth.get_block("latest")["timestamp"] == latest["timestamp"]
    assert again.w3.eth.get_block("latest")["stateRoot"] == latest["stateRoot"]
    again.close()


def test_one_process_at_a_time(tmp_path: Path) -> None:
    journal = tmp_path / "chain.journal"
    chain = connect(SETTINGS, journal=journal)

    with pytest.raises(JournalError, match="in use"):
        connect(SETTINGS, journal=journal)
    chain.close()
    connect(SETTINGS, journal=journal).close()


def test_an_edited_journal_does_not_replay(tmp_path: Path) -> None:
    journal = tmp_path / "chain.journal"
    chain = connect(SETTINGS, journal=journal)
    chain.new_account("alice")
    chain.close()
    lines = journal.read_text().splitlines()
    entry = json.loads(lines[1])
    entry["status"] = 0
    journal.write_text("\n".join([lines[0], json.dumps(entry)]) + "\n")

    with pytest.raises(JournalError, match="does not replay at transaction 1"):
        connect(SETTINGS, journal=journal)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json\n", "not a chain journal"),
        ('{"format": 99, "genesis": 1}\n', "format 99"),
        ('{"format": 1, "genesis": 1}\n{"t": 1}\n{"t": 2}\n', "line 2 is corrupt"),
    ],
)
def test_a_malformed_journal_is_refused(
    tmp_path: Path, content: str, message: str
) -> None:
    journal = tmp_path / "chain.journal"
    journal.write_text(content)

    with pytest.raises(JournalError, match=message):
        connect(SETTINGS, journal=journal)


def test_a_torn_last_entry_is_dropped(tmp_path: Path) -> None:
    journal = tmp_path / "chain.journal"
    chain = connect(SETTINGS, journal=journal)
    alice = chain.new_account("alice")
    chain.close()
    with journal.open("a") as handle:
        handle.write('{"t": 17')

    again = connect(SETTINGS, journal=journal)
    assert again.ether_balance(alice.address) == 10 * 10**18
    again.new_account("bob")
    again.close()
    assert len(journal.read_text().splitlines()) == 3


def test_test_only_calls_are_refused_on_a_persistent_chain(tmp_path: Path) -> None:
    chain = connect(SETTINGS, journal=tmp_path / "chain.journal")

    with pytest.raises(InvalidArgumentError):
        chain.snapshot()
    with pytest.raises(InvalidArgumentError):
        chain.time_travel(chain.now() + 100)
    chain.close()
