"""``did:key``: a DID that is its own public key (W3C CCG did:key method).

The method-specific id is the multibase base58btc (``z``) encoding of the
unsigned-varint multicodec prefix of the key type followed by the public key
(did:key §3.1.1, "Encode Public Key Algorithm"): ``ed25519-pub`` 0xed with
the 32 raw bytes, ``secp256k1-pub`` 0xe7 and ``p256-pub`` 0x1200 with the
33-byte compressed SEC 1 point. Encoding and decoding round-trip byte for
byte; anything else raises :class:`~agora.identity.errors.InvalidDidError`
naming the rule it breaks. ::

    >>> did = did_key_from_public_key(
    ...     KeyPair.from_private_bytes(KeyType.ED25519, bytes(32)).public_key)
    >>> did
    'did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp'
    >>> public_key_from_did_key(did).key_type
    <KeyType.ED25519: 'Ed25519'>
"""

from enum import StrEnum

from multiformats import multibase, varint

from agora.identity.document import (
    DID_CONTEXT,
    Did,
    DidDocument,
    ResolutionResult,
    VerificationMethod,
)
from agora.identity.errors import InvalidDidError, InvalidKeyError
from agora.identity.keys import KeyPair, KeyType, PublicKey

PREFIX = "did:key:"
BASE58BTC = "z"
BASE58_ALPHABET = frozenset(
    "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
)

# Multicodec table codes (multiformats/multicodec table.csv, "key" tag).
MULTICODECS = {
    KeyType.ED25519: 0xED,
    KeyType.SECP256K1: 0xE7,
    KeyType.P256: 0x1200,
}
_KEY_TYPES = {code: key_type for key_type, code in MULTICODECS.items()}
_KEY_LENGTHS = {KeyType.ED25519: 32, KeyType.SECP256K1: 33, KeyType.P256: 33}

MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
JWS_2020_CONTEXT = "https://w3id.org/security/suites/jws-2020/v1"


class DocumentStyle(StrEnum):
    """How the verification method carries its key (did:key §3.1.2)."""

    MULTIKEY = "Multikey"
    JSON_WEB_KEY_2020 = "JsonWebKey2020"


def multikey(public_key: PublicKey) -> str:
    """The multibase multicodec form of ``public_key`` (``z6Mk…``), which is
    both the did:key id and a Multikey's ``publicKeyMultibase``."""
    prefixed = varint.encode(MULTICODECS[public_key.key_type]) + public_key.raw
    encoded: str = multibase.encode(prefixed, "base58btc")
    return encoded


def did_key_from_public_key(public_key: PublicKey) -> Did:
    """The did:key of ``public_key``."""
    return Did(PREFIX + multikey(public_key))


def did_key_from_key_pair(pair: KeyPair) -> Did:
    """The did:key of ``pair``'s public half."""
    return did_key_from_public_key(pair.public_key)


def public_key_from_multikey(value: str) -> PublicKey:
    """Parse a ``z…`` multikey; raises :class:`InvalidDidError`."""
    # Step 1: multibase. Only base58btc is defined for did:key (§3.1.1).
    if not value.startswith(BASE58BTC):
        raise InvalidDidError("multibase", "did:key ids are base58btc ('z')")
    if len(value) == 1 or not set(value[1:]) <= BASE58_ALPHABET:
        raise InvalidDidError("encoding", "not a base58btc string")
    data = bytes(multibase.decode(value))

    # Step 2: the varint multicodec prefix names the key type.
    try:
        code, prefix_length, _ = varint.decode_raw(data)
    except ValueError as exc:
        raise InvalidDidError("multicodec", "no varint multicodec prefix") from exc
    key_type = _KEY_TYPES.get(code)
    if key_type is None:
        raise InvalidDidError("multicodec", f"unsupported multicodec 0x{code:x}")

    # Step 3: exact length (which also rejects trailing bytes and the
    # uncompressed EC form) and a valid point.
    key_bytes = data[prefix_length:]
    expected = _KEY_LENGTHS[key_type]
    if len(key_bytes) != expected:
        raise InvalidDidError(
            "key-length",
            f"{key_type} key must be {expected} bytes, not {len(key_bytes)}",
        )
    try:
        public_key = PublicKey.from_bytes(key_type, key_bytes)
    except InvalidKeyError as exc:
        raise InvalidDidError("point", f"not a valid {key_type} public key") from exc

    # Step 4: one key, one id. Non-minimal varints would decode to the same
    # key under a different string.
    if multikey(public_key) != value:
        raise InvalidDidError("canonical", "not the canonical encoding of its key")
    return public_key


def public_key_from_did_key(did: str) -> PublicKey:
    """The public key a did:key names; raises :class:`InvalidDidError`."""
    if not did.startswith("did:"):
        raise InvalidDidError("syntax", "a DID starts with 'did:'")
    if not did.startswith(PREFIX):
        raise InvalidDidError("method", "not a did:key")
    return public_key_from_multikey(did.removeprefix(PREFIX))


def resolve_did_key(
    did: str, *, style: DocumentStyle = DocumentStyle.MULTIKEY
) -> ResolutionResult:
    """Expand ``did`` into its DID document (did:key §3.1.2, "Document
    Creation Algorithm").

    The single verification method ``did#<multikey>`` serves authentication,
    assertion, capability invocation and capability delegation.
    """
    public_key = public_key_from_did_key(did)
    method_id = f"{did}#{did.removeprefix(PREFIX)}"
    if style is DocumentStyle.MULTIKEY:
        context = MULTIKEY_CONTEXT
        method = VerificationMethod(
            id=method_id,
            type=style.value,
            controller=Did(did),
            public_key=public_key,
            public_key_multibase=did.removeprefix(PREFIX),
        )
    else:
        context = JWS_2020_CONTEXT
        method = VerificationMethod(
            id=method_id, type=style.value, controller=Did(did), public_key=public_key
        )
    document = DidDocument(
        id=Did(did),
        contexts=(DID_CONTEXT, context),
        verification_methods=(method,),
        authentication=(method_id,),
        assertion_method=(method_id,),
        capability_invocation=(method_id,),
        capability_delegation=(method_id,),
    )
    return ResolutionResult(document=document)
