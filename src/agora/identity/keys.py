"""Signing keys for DIDs and credentials: Ed25519, secp256k1 and P-256.

A :class:`KeyPair` signs; a :class:`PublicKey` verifies, raising
:class:`~agora.identity.errors.InvalidSignatureError` on failure. The JOSE
algorithm of a key follows from its type alone (RFC 8037 ``EdDSA``,
RFC 8812 ``ES256K``, RFC 7518 ``ES256``) and is never read from a token
header, which closes the algorithm-confusion attacks of RFC 8725 §2.1.

ECDSA signatures are in the JWS form of RFC 7518 §3.4: the 32-byte big-endian
``r`` followed by ``s``, not DER. ::

    >>> pair = KeyPair.generate(KeyType.P256)
    >>> signature = pair.sign(b"hello")
    >>> pair.public_key.verify(signature, b"hello")
    >>> pair.public_key.algorithm
    'ES256'
"""

import base64
import hashlib
from enum import StrEnum
from typing import Any, Literal, NewType, Self, TypeAlias

import coincurve
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from eth_typing import ChecksumAddress
from web3 import Web3

from agora.identity.errors import InvalidKeyError, InvalidSignatureError

JoseAlgorithm = NewType("JoseAlgorithm", str)
"""A JWS ``alg`` value: ``EdDSA``, ``ES256K`` or ``ES256``."""

Jwk: TypeAlias = dict[str, str]
"""A JSON Web Key (RFC 7517) as a flat dictionary of strings."""

_Private: TypeAlias = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
_Public: TypeAlias = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey

COORDINATE_SIZE = 32
"""Bytes in a coordinate or scalar of every supported curve."""


class KeyType(StrEnum):
    """Supported key types, valued by their JWK ``crv`` name."""

    ED25519 = "Ed25519"
    SECP256K1 = "secp256k1"
    P256 = "P-256"

    @property
    def algorithm(self) -> JoseAlgorithm:
        """The one JOSE algorithm this key type signs with."""
        return _ALGORITHMS[self]

    @property
    def kty(self) -> Literal["OKP", "EC"]:
        """The JWK key type: ``OKP`` (RFC 8037) or ``EC`` (RFC 7518)."""
        return "OKP" if self is KeyType.ED25519 else "EC"


_ALGORITHMS = {
    KeyType.ED25519: JoseAlgorithm("EdDSA"),
    KeyType.SECP256K1: JoseAlgorithm("ES256K"),
    KeyType.P256: JoseAlgorithm("ES256"),
}
_CURVES: dict[KeyType, ec.EllipticCurve] = {
    KeyType.SECP256K1: ec.SECP256K1(),
    KeyType.P256: ec.SECP256R1(),
}


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url (RFC 7515 §2), as JWK members use."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Inverse of :func:`b64url_encode`; padding and non-alphabet characters
    are rejected, so one value has exactly one encoding."""
    if "=" in text or not all(c.isalnum() or c in "-_" for c in text):
        raise InvalidKeyError("not unpadded base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise InvalidKeyError("not unpadded base64url") from exc


class PublicKey:
    """A public key of one :class:`KeyType`; it verifies signatures."""

    __slots__ = ("_key", "key_type")

    def __init__(self, key_type: KeyType, key: _Public) -> None:
        self.key_type = key_type
        self._key = key

    @property
    def algorithm(self) -> JoseAlgorithm:
        """The JOSE algorithm, from the key type alone."""
        return self.key_type.algorithm

    @classmethod
    def from_bytes(cls, key_type: KeyType, data: bytes) -> Self:
        """Parse the raw form (Ed25519, 32 bytes) or a SEC 1 point (33-byte
        compressed or 65-byte uncompressed) for the EC types.

        Raises :class:`InvalidKeyError` for a wrong length or a point that
        is not on the curve.
        """
        try:
            if key_type is KeyType.ED25519:
                if len(data) != COORDINATE_SIZE:
                    raise InvalidKeyError("Ed25519 public key must be 32 bytes")
                return cls(key_type, ed25519.Ed25519PublicKey.from_public_bytes(data))
            if len(data) not in (1 + COORDINATE_SIZE, 1 + 2 * COORDINATE_SIZE):
                raise InvalidKeyError(f"{key_type} point must be 33 or 65 bytes")
            point = ec.EllipticCurvePublicKey.from_encoded_point(
                _CURVES[key_type], data
            )
        except (ValueError, UnsupportedAlgorithm) as exc:
            if isinstance(exc, InvalidKeyError):
                raise
            raise InvalidKeyError(f"not a {key_type} public key") from exc
        return cls(key_type, point)

    @property
    def raw(self) -> bytes:
        """The compact form: 32 raw bytes (Ed25519) or the 33-byte
        compressed SEC 1 point (EC), as did:key and multikeys use."""
        if isinstance(self._key, ed25519.Ed25519PublicKey):
            return self._key.public_bytes_raw()
        return self._key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
        )

    @property
    def uncompressed(self) -> bytes:
        """The 65-byte uncompressed SEC 1 point; EC keys only."""
        if isinstance(self._key, ed25519.Ed25519PublicKey):
            raise InvalidKeyError("Ed25519 keys have no uncompressed point")
        return self._key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    def to_jwk(self) -> Jwk:
        """The public JWK: ``OKP`` per RFC 8037 §2, ``EC`` per RFC 7518 §6.2."""
        if self.key_type is KeyType.ED25519:
            return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(self.raw)}
        point = self.uncompressed
        return {
            "kty": "EC",
            "crv": str(self.key_type),
            "x": b64url_encode(point[1 : 1 + COORDINATE_SIZE]),
            "y": b64url_encode(point[1 + COORDINATE_SIZE :]),
        }

    @classmethod
    def from_jwk(cls, jwk: dict[str, Any]) -> Self:
        """Parse a public JWK; a private member ``d`` is ignored here."""
        key_type = _jwk_key_type(jwk)
        x = _jwk_member(jwk, "x")
        if key_type is KeyType.ED25519:
            return cls.from_bytes(key_type, x)
        y = _jwk_member(jwk, "y")
        return cls.from_bytes(key_type, b"\x04" + x + y)

    def verify(self, signature: bytes, message: bytes) -> None:
        """Return if ``signature`` over ``message`` is valid, else raise
        :class:`InvalidSignatureError`."""
        try:
            if isinstance(self._key, ed25519.Ed25519PublicKey):
                self._key.verify(signature, message)
                return
            if len(signature) != 2 * COORDINATE_SIZE:
                raise InvalidSignatureError("ECDSA signature must be 64 bytes")
            r = int.from_bytes(signature[:COORDINATE_SIZE], "big")
            s = int.from_bytes(signature[COORDINATE_SIZE:], "big")
            self._key.verify(
                encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256())
            )
        except InvalidSignature as exc:
            raise InvalidSignatureError("signature does not verify") from exc

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PublicKey):
            return NotImplemented
        return self.key_type is other.key_type and self.raw == other.raw

    def __hash__(self) -> int:
        return hash((self.key_type, self.raw))

    def __repr__(self) -> str:
        return f"PublicKey({self.key_type.value}, {self.raw.hex()})"


class KeyPair:
    """A private key and its public key. The private half never appears in
    ``repr`` or ``str``; :meth:`private_bytes` and :meth:`private_jwk` are
    the only ways out, for an encrypted wallet."""

    __slots__ = ("_private", "key_type", "public_key")

    def __init__(self, key_type: KeyType, private: _Private) -> None:
        self.key_type = key_type
        self._private = private
        self.public_key = PublicKey(key_type, private.public_key())

    @property
    def algorithm(self) -> JoseAlgorithm:
        """The JOSE algorithm, from the key type alone."""
        return self.key_type.algorithm

    @classmethod
    def generate(cls, key_type: KeyType) -> Self:
        """A fresh key pair from the operating system's randomness."""
        if key_type is KeyType.ED25519:
            return cls(key_type, ed25519.Ed25519PrivateKey.generate())
        return cls(key_type, ec.generate_private_key(_CURVES[key_type]))

    @classmethod
    def from_private_bytes(cls, key_type: KeyType, secret: bytes) -> Self:
        """Load a 32-byte secret: the Ed25519 seed (RFC 8032 §5.1.5) or the
        big-endian EC scalar (SEC 1 §2.3.7)."""
        if len(secret) != COORDINATE_SIZE:
            raise InvalidKeyError(f"{key_type} private key must be 32 bytes")
        try:
            if key_type is KeyType.ED25519:
                private: _Private = ed25519.Ed25519PrivateKey.from_private_bytes(secret)
            else:
                scalar = int.from_bytes(secret, "big")
                private = ec.derive_private_key(scalar, _CURVES[key_type])
        except ValueError as exc:
            raise InvalidKeyError(f"not a {key_type} private key") from exc
        return cls(key_type, private)

    @classmethod
    def from_jwk(cls, jwk: dict[str, Any]) -> Self:
        """Load a private JWK; its public members must match ``d``."""
        pair = cls.from_private_bytes(_jwk_key_type(jwk), _jwk_member(jwk, "d"))
        if PublicKey.from_jwk(jwk) != pair.public_key:
            raise InvalidKeyError("JWK public members do not match its private key")
        return pair

    def private_bytes(self) -> bytes:
        """The 32-byte secret that :meth:`from_private_bytes` reads."""
        if isinstance(self._private, ed25519.Ed25519PrivateKey):
            return self._private.private_bytes_raw()
        scalar = self._private.private_numbers().private_value
        return scalar.to_bytes(COORDINATE_SIZE, "big")

    def private_jwk(self) -> Jwk:
        """The public JWK plus the private member ``d``."""
        return {**self.public_key.to_jwk(), "d": b64url_encode(self.private_bytes())}

    def sign(self, message: bytes) -> bytes:
        """Sign ``message``: 64 bytes for every key type (RFC 8032 for
        Ed25519, JWS ``r || s`` with SHA-256 for ECDSA)."""
        if isinstance(self._private, ed25519.Ed25519PrivateKey):
            return self._private.sign(message)
        der = self._private.sign(message, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return r.to_bytes(COORDINATE_SIZE, "big") + s.to_bytes(COORDINATE_SIZE, "big")

    def __repr__(self) -> str:
        return f"KeyPair({self.key_type.value}, public={self.public_key.raw.hex()})"


def _jwk_key_type(jwk: dict[str, Any]) -> KeyType:
    kty, crv = jwk.get("kty"), jwk.get("crv")
    for key_type in KeyType:
        if kty == key_type.kty and crv == key_type.value:
            return key_type
    raise InvalidKeyError(f"unsupported JWK kty={kty!r} crv={crv!r}")


def _jwk_member(jwk: dict[str, Any], name: str) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise InvalidKeyError(f"JWK member {name!r} missing or not a string")
    data = b64url_decode(value)
    if len(data) != COORDINATE_SIZE:
        raise InvalidKeyError(f"JWK member {name!r} must decode to 32 bytes")
    return data


def ethereum_address(public_key: PublicKey) -> ChecksumAddress:
    """The Ethereum address of a secp256k1 key: the last 20 bytes of the
    Keccak-256 of the uncompressed point without its tag (Yellow Paper §7)."""
    if public_key.key_type is not KeyType.SECP256K1:
        raise InvalidKeyError("only secp256k1 keys have Ethereum addresses")
    digest = Web3.keccak(public_key.uncompressed[1:])
    return Web3.to_checksum_address(digest[-20:])


def verify_recoverable(
    signature: bytes, message: bytes, address: ChecksumAddress
) -> PublicKey:
    """Check an ES256K signature against an Ethereum address rather than a
    key, as ``EcdsaSecp256k1RecoveryMethod2020`` methods require.

    ``signature`` is the JWS ``r || s`` (64 bytes; both recovery ids are
    tried) or ``r || s || v`` (65 bytes, ``v`` in 0, 1, 27 or 28, the
    ES256K-R form). Returns the recovered key, or raises
    :class:`InvalidSignatureError`.
    """
    if len(signature) == 2 * COORDINATE_SIZE:
        candidates = [signature + bytes([recovery]) for recovery in (0, 1)]
    elif len(signature) == 2 * COORDINATE_SIZE + 1 and signature[-1] in (0, 1, 27, 28):
        candidates = [signature[:-1] + bytes([signature[-1] % 27])]
    else:
        raise InvalidSignatureError("ES256K signature must be 64 or 65 bytes")

    for candidate in candidates:
        try:
            point = coincurve.PublicKey.from_signature_and_message(
                candidate, message, hasher=_sha256
            )
        except ValueError:
            continue
        key = PublicKey.from_bytes(KeyType.SECP256K1, point.format(compressed=True))
        if ethereum_address(key) == Web3.to_checksum_address(address):
            # Recovery alone accepts any (r, s); verify as well, which also
            # rejects what libsecp256k1's recovery tolerates.
            key.verify(candidate[:-1], message)
            return key
    raise InvalidSignatureError("signature does not recover to the account")


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
