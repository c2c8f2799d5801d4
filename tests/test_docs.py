"""Every example in Agora's docstrings runs (the ledger's have their own
suite, tests/ledger/test_docs.py, which points them at a test cache)."""

import doctest
import importlib
import pkgutil

import pytest

import agora

MODULES = [
    "agora",
    *sorted(
        info.name
        for info in pkgutil.walk_packages(agora.__path__, "agora.")
        if not info.name.startswith("agora.ledger")
    ),
]

# Packages whose examples must not vanish unnoticed.
DOCUMENTED = {
    "agora.federated.merkle",
    "agora.federated.privacy",
    "agora.federated.shapley",
    "agora.vault.blockstore",
    "agora.vault.dagpb",
    "agora.vault.encryption",
    "agora.vault.objects",
    "agora.vault.reencryption",
    "agora.vault.scope",
    "agora.vault.unixfs",
    "agora.settings",
    "agora.health.fhir.batches",
    "agora.health.fhir.hospitals",
    "agora.health.fhir.index",
    "agora.health.fhir.patients",
    "agora.health.fhir.resources",
    "agora.health.fhir.sink",
    "agora.identity.keys",
    "agora.identity.did_key",
    "agora.identity.resolver",
    "agora.identity.sdjwt",
    "agora.identity.sdjwt.disclosures",
    "agora.identity.sdjwt.issuer",
    "agora.identity.sdjwt.jose",
    "agora.identity.status_list",
    "agora.identity.status_list.bitstring",
    "agora.identity.credentials",
    "agora.node.auth",
    "agora.node.client",
    "agora.lending.credit.data",
    "agora.lending.credit.features",
    "agora.lending.credit.model",
    "agora.lending.decision",
    "agora.privacy.keyed_hash",
    "agora.privacy.secret_sharing",
}


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)

    assert result.failed == 0
    if name in DOCUMENTED:
        assert result.attempted > 0
