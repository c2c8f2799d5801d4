"""Every example in agora.identity.status_list's docstrings runs."""

import doctest
import importlib

import pytest

MODULES = [
    "agora.identity.status_list",
    "agora.identity.status_list.bitstring",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)

    assert result.attempted > 0
    assert result.failed == 0
