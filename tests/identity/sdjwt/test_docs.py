"""Every example in the SD-JWT docstrings runs."""

import doctest
import importlib

import pytest

MODULES = [
    "agora.identity.sdjwt",
    "agora.identity.sdjwt.disclosures",
    "agora.identity.sdjwt.issuer",
    "agora.identity.sdjwt.jose",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)

    assert result.attempted > 0
    assert result.failed == 0
