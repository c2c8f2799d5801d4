"""SD-JWT VCs whose issuer is a DID: keys come from the DID document."""

import pytest

from agora.identity.did_key import did_key_from_key_pair, resolve_did_key
from agora.identity.keys import KeyPair, KeyType
from agora.identity.resolver import DidResolver
from agora.identity.sdjwt import (
    Algorithm,
    CredentialIssuer,
    HeldCredential,
    InMemoryStatusList,
    InMemoryTrustList,
    PresentationRequest,
    SigningKey,
    StatusReference,
    verify_presentation,
)
from agora.identity.sdjwt.did_keys import DidIssuerKeys, IssuerKeyNotFoundError
from agora.identity.sdjwt.errors import VerificationError

NOW = 1_800_000_000
VCT = "https://agora.example/vct/degree"
STATUS_URI = "https://issuer.example/status/1"


def _issue_and_present(
    issuer_pair: KeyPair, issuer_did: str, key_id: str
) -> tuple[str, PresentationRequest]:
    holder = SigningKey.generate(Algorithm.EDDSA)
    issuer = CredentialIssuer(
        issuer_did,
        SigningKey(issuer_pair.private_jwk(), key_id=key_id),
        clock=lambda: NOW,
    )
    credential = issuer.issue(
        VCT,
        {"institution": "Riverside University", "degree": "MSc"},
        holder_jwk=holder.public_jwk(),
        valid_for_s=3600,
        status=StatusReference(uri=STATUS_URI, index=5),
    )
    presentation = HeldCredential.parse_unverified(credential.serialized).present(
        ["degree"],
        holder_key=holder,
        nonce="n-1",
        audience="lender-a",
        clock=lambda: NOW,
    )
    request = PresentationRequest(
        nonce="n-1", audience="lender-a", required_claims=frozenset({"degree"})
    )
    return presentation, request


@pytest.mark.parametrize("key_type", list(KeyType))
def test_did_key_issuer_verifies_through_its_did_document(key_type: KeyType) -> None:
    pair = KeyPair.generate(key_type)
    did = did_key_from_key_pair(pair)
    key_id = resolve_did_key(did).document.assertion_method[0]
    presentation, request = _issue_and_present(pair, did, key_id)

    verified = verify_presentation(
        presentation,
        request,
        keys=DidIssuerKeys(DidResolver()),
        trust=InMemoryTrustList({did: [VCT]}),
        status=InMemoryStatusList([STATUS_URI]),
        clock=lambda: NOW,
    )
    assert verified.claims == {"degree": "MSc"}
    assert verified.issuer == did


def test_signature_by_another_key_than_the_did_names_is_rejected() -> None:
    named = KeyPair.generate(KeyType.ED25519)
    did = did_key_from_key_pair(named)
    key_id = resolve_did_key(did).document.assertion_method[0]
    impostor = KeyPair.generate(KeyType.ED25519)
    presentation, request = _issue_and_present(impostor, did, key_id)

    with pytest.raises(VerificationError) as caught:
        verify_presentation(
            presentation,
            request,
            keys=DidIssuerKeys(DidResolver()),
            trust=InMemoryTrustList({did: [VCT]}),
            status=InMemoryStatusList([STATUS_URI]),
            clock=lambda: NOW,
        )
    assert caught.value.rule.value == "issuer_signature"


@pytest.mark.parametrize(
    ("issuer", "key_id"),
    [
        ("did:key:z6Mkfoo", None),
        ("did:key:z6Mkfoo", "did:key:zOther#key"),
        ("did:key:not-a-key", "did:key:not-a-key#not-a-key"),
        ("did:web:example.com", "did:web:example.com#key-1"),
    ],
    ids=["no-kid", "kid-of-another-did", "malformed-did", "unsupported-method"],
)
def test_unresolvable_issuer_key_is_a_lookup_error(
    issuer: str, key_id: str | None
) -> None:
    with pytest.raises(IssuerKeyNotFoundError):
        DidIssuerKeys(DidResolver()).resolve_issuer_key(issuer, key_id)
