"""The artifact build: compiled once, rebuilt only when an input changes."""

import json
import shutil
from pathlib import Path

import pytest

from agora.errors import ConfigurationError
from agora.ledger import (
    Artifacts,
    BuildError,
    build_contracts,
    connect,
    rebuild_contracts,
)
from agora.ledger.build import CONTRACTS_DIR, default_sources
from agora.settings import Settings


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A private copy of the smallest product contract, free to edit."""
    copy = tmp_path / "src" / "Consortium.vy"
    copy.parent.mkdir()
    shutil.copy(CONTRACTS_DIR / "Consortium.vy", copy)
    return copy


@pytest.fixture
def isolated(tmp_path: Path) -> Settings:
    return Settings(chain_url=None, cache_dir=tmp_path / "cache")


def test_product_artifacts_are_complete(artifacts: Artifacts) -> None:
    assert sorted(artifacts) == [
        "Anchor",
        "Consent",
        "Consortium",
        "DIDRegistry",
        "DataMarket",
        "FraudList",
        "ServiceMarket",
        "Token",
    ]
    assert [p.stem for p in default_sources()] == sorted(artifacts)
    for artifact in artifacts.values():
        assert artifact.bytecode.startswith("0x")
        assert len(artifact.bytecode) > 100
        assert any(entry["type"] == "function" for entry in artifact.abi)


def test_second_build_reads_the_cache(artifacts: Artifacts, settings: Settings) -> None:
    again = build_contracts(settings)

    assert again.compiled is False
    assert again.path == artifacts.path
    assert again.contracts == artifacts.contracts
    assert artifacts.path.parent == settings.cache_dir / "contracts"


def test_changed_source_is_recompiled(source: Path, isolated: Settings) -> None:
    first = build_contracts(isolated, sources=[source])
    assert first.compiled is True
    assert build_contracts(isolated, sources=[source]).compiled is False

    source.write_text(source.read_text() + "\n# a comment changes the key\n")
    changed = build_contracts(isolated, sources=[source])

    assert changed.compiled is True
    assert changed.path != first.path
    assert build_contracts(isolated, sources=[source]).compiled is False


def test_rebuild_compiles_regardless(source: Path, isolated: Settings) -> None:
    first = build_contracts(isolated, sources=[source])
    forced = rebuild_contracts(isolated, sources=[source])

    assert forced.compiled is True
    assert forced.path == first.path
    assert forced.contracts == first.contracts


def test_evm_version_is_part_of_the_key(source: Path, isolated: Settings) -> None:
    cancun = build_contracts(isolated, sources=[source])
    shanghai = build_contracts(
        isolated.model_copy(update={"evm_version": "shanghai"}), sources=[source]
    )

    assert shanghai.compiled is True
    assert shanghai.path != cancun.path
    assert json.loads(shanghai.path.read_text())["evm_version"] == "shanghai"


def test_corrupt_cache_entry_is_rebuilt(source: Path, isolated: Settings) -> None:
    first = build_contracts(isolated, sources=[source])
    first.path.write_text("{not json")

    again = build_contracts(isolated, sources=[source])

    assert again.compiled is True
    assert again.contracts == first.contracts


def test_unknown_evm_version_names_the_setting(isolated: Settings) -> None:
    with pytest.raises(ConfigurationError, match="AGORA_EVM_VERSION"):
        build_contracts(isolated.model_copy(update={"evm_version": "byzantium"}))


def test_compile_error_names_the_file(tmp_path: Path, isolated: Settings) -> None:
    broken = tmp_path / "Broken.vy"
    broken.write_text("# pragma version ~=0.4.3\n@external\ndef f() -> uint256:\n")

    with pytest.raises(BuildError, match=r"Broken\.vy"):
        build_contracts(isolated, sources=[broken])


def test_default_settings_build_is_usable(artifacts: Artifacts) -> None:
    chain = connect(Settings(chain_url=None))
    deployer = chain.new_account("deployer", ether=1)
    contract = chain.deploy(deployer, artifacts["Consortium"])
    assert contract.functions.owner().call() == deployer.address


@pytest.mark.parametrize(
    "damage",
    ["bytecode", "abi", "dropped-contract"],
)
def test_tampered_artifact_is_rebuilt_not_deployed(
    source: Path, isolated: Settings, damage: str
) -> None:
    first = build_contracts(isolated, sources=[source])
    document = json.loads(first.path.read_text())
    entry = document["contracts"]["Consortium"]
    if damage == "bytecode":
        entry["bytecode"] = "0xdeadbeef"
    elif damage == "abi":
        entry["abi"] = "oops"
    else:
        document["contracts"] = {}
    first.path.write_text(json.dumps(document))

    again = build_contracts(isolated, sources=[source])

    assert again.compiled is True
    assert again.contracts == first.contracts


def test_cache_dir_that_is_a_file_names_the_setting(
    source: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    with pytest.raises(ConfigurationError, match="AGORA_CACHE_DIR"):
        build_contracts(Settings(chain_url=None, cache_dir=blocker), sources=[source])
