"""Every example in agora.identity's key and DID docstrings runs."""

import doctest
import importlib

import pytest

MODULES = [
    "agora.identity.keys",
    "agora.identity.did_key",
    "agora.identity.resolver",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)

    assert result.attempted > 0
    assert result.failed == 0
