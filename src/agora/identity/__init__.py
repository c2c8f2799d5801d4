"""Decentralized identities and verifiable credentials.

Keys and DIDs are exported here; credential modules add theirs beside them.
"""

from agora.identity.errors import (
    DidResolutionError,
    IdentityError,
    InvalidDidError,
    InvalidKeyError,
    InvalidSignatureError,
)
from agora.identity.keys import JoseAlgorithm, Jwk, KeyPair, KeyType, PublicKey

__all__ = [
    "DidResolutionError",
    "IdentityError",
    "InvalidDidError",
    "InvalidKeyError",
    "InvalidSignatureError",
    "JoseAlgorithm",
    "Jwk",
    "KeyPair",
    "KeyType",
    "PublicKey",
]
