"""Decentralized identities and verifiable credentials.

Keys and DIDs are exported here; credential modules add theirs beside them.
"""

from agora.identity.did_ethr import EthrResolver, ethr_did, parse_ethr_did
from agora.identity.did_key import (
    DocumentStyle,
    did_key_from_key_pair,
    did_key_from_public_key,
    multikey,
    public_key_from_did_key,
    public_key_from_multikey,
    resolve_did_key,
)
from agora.identity.document import (
    Did,
    DidDocument,
    Relationship,
    ResolutionResult,
    Service,
    VerificationMethod,
)
from agora.identity.errors import (
    DidResolutionError,
    IdentityError,
    InvalidDidError,
    InvalidKeyError,
    InvalidSignatureError,
)
from agora.identity.keys import (
    JoseAlgorithm,
    Jwk,
    KeyPair,
    KeyType,
    PublicKey,
    ethereum_address,
    verify_recoverable,
)
from agora.identity.resolver import DidResolver

__all__ = [
    "Did",
    "DidDocument",
    "DidResolutionError",
    "DidResolver",
    "DocumentStyle",
    "EthrResolver",
    "IdentityError",
    "InvalidDidError",
    "InvalidKeyError",
    "InvalidSignatureError",
    "JoseAlgorithm",
    "Jwk",
    "KeyPair",
    "KeyType",
    "PublicKey",
    "Relationship",
    "ResolutionResult",
    "Service",
    "VerificationMethod",
    "did_key_from_key_pair",
    "did_key_from_public_key",
    "ethereum_address",
    "ethr_did",
    "multikey",
    "parse_ethr_did",
    "public_key_from_did_key",
    "public_key_from_multikey",
    "resolve_did_key",
    "verify_recoverable",
]
