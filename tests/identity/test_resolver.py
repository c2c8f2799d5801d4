"""DidResolver: method dispatch and signature checks by verification method."""

import pytest

from agora.identity.did_key import did_key_from_key_pair
from agora.identity.errors import (
    DidResolutionError,
    InvalidDidError,
    InvalidSignatureError,
)
from agora.identity.keys import KeyPair, KeyType
from agora.identity.resolver import DidResolver


def _kid(pair: KeyPair) -> str:
    did = did_key_from_key_pair(pair)
    return did + "#" + did.removeprefix("did:key:")


@pytest.mark.parametrize("key_type", list(KeyType))
def test_did_key_signatures_verify(key_type: KeyType) -> None:
    pair = KeyPair.generate(key_type)
    signature = pair.sign(b"claims")

    for relationship in ("authentication", "assertionMethod"):
        method = DidResolver().verify(
            _kid(pair), signature, b"claims", relationship=relationship
        )
        assert method.algorithm == key_type.algorithm
        assert method.public_key == pair.public_key


def test_wrong_signer_is_rejected() -> None:
    pair, other = KeyPair.generate(KeyType.P256), KeyPair.generate(KeyType.P256)

    with pytest.raises(InvalidSignatureError):
        DidResolver().verify(
            _kid(pair), other.sign(b"x"), b"x", relationship="assertionMethod"
        )


@pytest.mark.parametrize(
    ("error", "method_id"),
    [
        (InvalidDidError, "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"),
        (InvalidDidError, "did:web:example.com#key-1"),
        (InvalidDidError, "urn:example#key-1"),
        (DidResolutionError, "did:ethr:0x1:0x" + "ab" * 20 + "#controller"),
        (
            DidResolutionError,
            "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp#other",
        ),
    ],
)
def test_unusable_method_ids_are_rejected(
    error: type[Exception], method_id: str
) -> None:
    with pytest.raises(error):
        DidResolver().verify(method_id, bytes(64), b"x", relationship="assertionMethod")
