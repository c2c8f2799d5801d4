"""Every example in agora.ledger's docstrings runs, and does what it says."""

import doctest
import importlib
import pkgutil

import pytest

import agora.ledger
from agora.settings import Settings

SUBMODULES = pkgutil.walk_packages(agora.ledger.__path__, "agora.ledger.")
MODULES = ["agora.ledger", *sorted(info.name for info in SUBMODULES)]

# Examples that must not vanish unnoticed: module -> number of examples.
EXAMPLES = {
    "agora.ledger": 17,
    "agora.ledger.build": 2,
    "agora.ledger.chain": 4,
    "agora.ledger.hashing": 3,
    "agora.ledger.clients.servicemarket": 5,
}


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(
    name: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The examples build with default settings; point those at the test
    # cache so nothing is compiled twice or written to the home folder.
    monkeypatch.setenv("AGORA_CACHE_DIR", str(settings.cache_dir))
    monkeypatch.delenv("AGORA_CHAIN_URL", raising=False)
    module = importlib.import_module(name)

    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)

    assert result.failed == 0
    assert result.attempted == EXAMPLES.get(name, 0)
