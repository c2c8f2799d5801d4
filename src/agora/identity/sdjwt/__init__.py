"""SD-JWT Verifiable Credentials (RFC 9901, IETF SD-JWT VC draft).

An issuer signs a credential whose every claim is selectively disclosable;
the holder reveals only what a verifier asks for, bound to the verifier's
nonce and audience by a Key Binding JWT; the verifier checks everything and
gets the claims back or an error naming the rule that failed.

The public API is exactly what this module exports. ::

    >>> issuer_key = SigningKey.generate(Algorithm.ES256, key_id="did:web:bank#1")
    >>> holder_key = SigningKey.generate(Algorithm.EDDSA)
    >>> issuer = CredentialIssuer("did:web:bank", issuer_key, clock=lambda: 1.8e9)
    >>> status = StatusReference(uri="https://bank.example/status/1", index=7)
    >>> credential = issuer.issue(
    ...     "https://agora.example/vct/bank-statement",
    ...     {"income_over_3000": True, "current_balance": 12_000},
    ...     holder_jwk=holder_key.public_jwk(),
    ...     valid_for_s=86_400,
    ...     status=status,
    ... )

The holder reveals one claim to a lender, bound to the lender's nonce:

    >>> held = HeldCredential.parse_unverified(credential.serialized)
    >>> presentation = held.present(
    ...     ["income_over_3000"],
    ...     holder_key=holder_key,
    ...     nonce="n-42",
    ...     audience="did:web:lender",
    ...     clock=lambda: 1.8e9 + 60,
    ... )

The lender checks it against its request:

    >>> keys = InMemoryKeys()
    >>> keys.add("did:web:bank", issuer_key.public_jwk(), key_id="did:web:bank#1")
    >>> verifier = PresentationVerifier(
    ...     keys=keys,
    ...     trust=InMemoryTrustList(
    ...         {"did:web:bank": ["https://agora.example/vct/bank-statement"]}
    ...     ),
    ...     status=InMemoryStatusList([status.uri]),
    ...     clock=lambda: 1.8e9 + 61,
    ... )
    >>> request = PresentationRequest(
    ...     nonce="n-42",
    ...     audience="did:web:lender",
    ...     required_claims=frozenset({"income_over_3000"}),
    ... )
    >>> verifier.verify(presentation, request).claims
    {'income_over_3000': True}
"""

from agora.identity.sdjwt.disclosures import CombinedSdJwt, Disclosure
from agora.identity.sdjwt.errors import (
    IssuanceError,
    MalformedPresentationError,
    PresentationError,
    Rule,
    SdJwtError,
    UnsupportedKeyError,
    VerificationError,
)
from agora.identity.sdjwt.holder import HeldCredential
from agora.identity.sdjwt.issuer import (
    CredentialIssuer,
    IssuedCredential,
    StatusReference,
)
from agora.identity.sdjwt.jose import (
    Algorithm,
    SigningKey,
    VerificationKey,
    algorithm_for_jwk,
)
from agora.identity.sdjwt.memory import (
    InMemoryKeys,
    InMemoryStatusList,
    InMemoryTrustList,
)
from agora.identity.sdjwt.nonces import NonceStore
from agora.identity.sdjwt.verifier import (
    CredentialStatus,
    KeyResolver,
    PresentationRequest,
    PresentationVerifier,
    StatusChecker,
    TrustPolicy,
    VerifiedPresentation,
    verify_presentation,
)

__all__ = [
    "Algorithm",
    "CombinedSdJwt",
    "CredentialIssuer",
    "CredentialStatus",
    "Disclosure",
    "HeldCredential",
    "InMemoryKeys",
    "InMemoryStatusList",
    "InMemoryTrustList",
    "IssuanceError",
    "IssuedCredential",
    "KeyResolver",
    "MalformedPresentationError",
    "NonceStore",
    "PresentationError",
    "PresentationRequest",
    "PresentationVerifier",
    "Rule",
    "SdJwtError",
    "SigningKey",
    "StatusChecker",
    "StatusReference",
    "TrustPolicy",
    "UnsupportedKeyError",
    "VerificationError",
    "VerificationKey",
    "VerifiedPresentation",
    "algorithm_for_jwk",
    "verify_presentation",
]
