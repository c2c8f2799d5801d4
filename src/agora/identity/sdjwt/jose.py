"""Compact JWS for SD-JWT: strict parsing, signing and key-typed verification.

The verification algorithm always follows from the verification key's type
(RFC 8037 ``EdDSA`` for Ed25519, RFC 8812 ``ES256K`` for secp256k1, RFC 7518
``ES256`` for P-256), never from the token header: a header naming another
algorithm, ``none`` or an HMAC is refused before any cryptography runs
(RFC 8725 §2.1, §3.1). Signatures are made and checked by the ``jwcrypto``
JWA algorithms; its exceptions are translated here, once.
"""

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import coincurve
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto.common import JWException
from jwcrypto.jwa import JWA

from agora.identity.sdjwt.errors import (
    MalformedPresentationError,
    Rule,
    UnsupportedKeyError,
    VerificationError,
)

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "k"})


MAX_JSON_DEPTH = 64
"""The deepest JSON nesting accepted in a header, payload or disclosure."""


class Algorithm(StrEnum):
    """The JWS algorithms Agora signs and verifies credentials with."""

    EDDSA = "EdDSA"
    ES256 = "ES256"
    ES256K = "ES256K"


_SECP256K1_ORDER = int(
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", 16
)

SIGNATURE_BYTES = 64
"""Signature length of every supported algorithm (r || s, or R || S)."""

# jwcrypto's JWA engines, built once: its JWS object deep-copies a header
# registry on every construction, which cost half of a verification.
_ENGINES = {algorithm: JWA.signing_alg(algorithm.value) for algorithm in Algorithm}


_ALGORITHM_BY_CURVE = {
    ("OKP", "Ed25519"): Algorithm.EDDSA,
    ("EC", "P-256"): Algorithm.ES256,
    ("EC", "secp256k1"): Algorithm.ES256K,
}
_CURVE_BY_ALGORITHM = {alg: curve for curve, alg in _ALGORITHM_BY_CURVE.items()}


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url, refusing padding and foreign characters.

    Raises :class:`MalformedPresentationError` (``malformed_encoding``).
    """
    # RFC 7515 §2 forbids padding; a length of 1 mod 4 is never valid.
    if not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        raise MalformedPresentationError(
            Rule.MALFORMED_ENCODING, "not unpadded base64url"
        )
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise MalformedPresentationError(
            Rule.MALFORMED_ENCODING, "not unpadded base64url"
        ) from exc

    # Non-zero trailing bits would give one value several spellings, and a
    # tampered character that decodes to the same bytes.
    if b64url_encode(decoded) != text:
        raise MalformedPresentationError(
            Rule.MALFORMED_ENCODING, "not canonical base64url"
        )
    return decoded


def _nesting_depth(text: str) -> int:
    # Strings may hold brackets; drop them, then count what remains.
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def load_json(raw: bytes, *, what: str) -> Any:
    """Parse UTF-8 JSON nested at most :data:`MAX_JSON_DEPTH` deep.

    Raises :class:`MalformedPresentationError` (``malformed_encoding``).
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedPresentationError(
            Rule.MALFORMED_ENCODING, f"{what} is not UTF-8"
        ) from exc

    # Deep nesting can overflow the C stack inside json.loads (a crash, not
    # a RecursionError), so it is refused before parsing; the bracket count
    # bounds the depth and keeps the common case free of the scan.
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH and (
        _nesting_depth(text) > MAX_JSON_DEPTH
    ):
        raise MalformedPresentationError(
            Rule.MALFORMED_ENCODING, f"{what} is nested too deeply"
        )
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise MalformedPresentationError(
            Rule.MALFORMED_ENCODING, f"{what} is not JSON"
        ) from exc


def decode_json_object(segment: str, *, what: str) -> dict[str, Any]:
    """Decode a base64url segment holding a UTF-8 JSON object."""
    value = load_json(b64url_decode(segment), what=what)
    if not isinstance(value, dict):
        raise MalformedPresentationError(
            Rule.MALFORMED_ENCODING, f"{what} is not a JSON object"
        )
    return value


def algorithm_for_jwk(jwk: Mapping[str, Any]) -> Algorithm:
    """The one algorithm a public JWK verifies with, from ``kty`` and ``crv``.

    Raises :class:`UnsupportedKeyError` for any other key type, and for a JWK
    carrying private members (a verifier is never handed a private key).
    """
    kty, crv = jwk.get("kty"), jwk.get("crv")
    algorithm = None
    if isinstance(kty, str) and isinstance(crv, str):
        algorithm = _ALGORITHM_BY_CURVE.get((kty, crv))
    if algorithm is None:
        raise UnsupportedKeyError(f"unsupported key type {kty!r}/{crv!r}")
    if _PRIVATE_MEMBERS & jwk.keys():
        raise UnsupportedKeyError("a public JWK must not carry private members")
    return algorithm


@dataclass(frozen=True)
class VerificationKey:
    """A public key, parsed once, with the algorithm its type dictates."""

    algorithm: Algorithm
    jwk: Mapping[str, str]
    native: jwcrypto_jwk.JWK = field(repr=False, compare=False)
    secp256k1: coincurve.PublicKey | None = field(
        default=None, repr=False, compare=False
    )

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> "VerificationKey":
        """Parse a public JWK; raises :class:`UnsupportedKeyError`."""
        algorithm = algorithm_for_jwk(jwk)
        public = {name: jwk[name] for name in ("kty", "crv", "x", "y") if name in jwk}
        if not all(isinstance(value, str) for value in public.values()):
            raise UnsupportedKeyError("JWK members must be strings")
        try:
            key = jwcrypto_jwk.JWK(**public)
            # jwcrypto builds the key lazily; build it now so that a point
            # off the curve is refused here and not at the first signature.
            key.get_op_key("verify")
            secp256k1 = None
            if algorithm is Algorithm.ES256K:
                point = (
                    b"\x04" + b64url_decode(public["x"]) + b64url_decode(public["y"])
                )
                secp256k1 = coincurve.PublicKey(point)
        except (JWException, ValueError, TypeError, KeyError) as exc:
            raise UnsupportedKeyError("JWK is not a valid public key") from exc
        return cls(algorithm=algorithm, jwk=public, native=key, secp256k1=secp256k1)


class SigningKey:
    """A private key that signs JWS with the algorithm of its type.

    Generate one for tests and demos, or load a private JWK. Its ``repr``
    never shows key material. ::

        >>> key = SigningKey.generate(Algorithm.ES256, key_id="did:example:1#k")
        >>> key.public_jwk()["crv"]
        'P-256'
    """

    def __init__(self, jwk: Mapping[str, str], *, key_id: str | None = None) -> None:
        self.algorithm = algorithm_for_jwk(
            {name: value for name, value in jwk.items() if name != "d"}
        )
        if "d" not in jwk:
            raise UnsupportedKeyError("a signing JWK needs its private member 'd'")
        try:
            self._key = jwcrypto_jwk.JWK(**dict(jwk))
        except (JWException, ValueError, TypeError) as exc:
            raise UnsupportedKeyError("JWK is not a valid private key") from exc
        self.key_id = key_id

    @classmethod
    def generate(
        cls, algorithm: Algorithm, *, key_id: str | None = None
    ) -> "SigningKey":
        """A fresh key for ``algorithm``, from the operating system's CSPRNG."""
        kty, crv = _CURVE_BY_ALGORITHM[algorithm]
        generated = jwcrypto_jwk.JWK.generate(kty=kty, crv=crv)
        return cls(generated.export_private(as_dict=True), key_id=key_id)

    def public_jwk(self) -> dict[str, str]:
        """The public half as a JWK, fit for ``cnf.jwk`` or a DID document."""
        exported: dict[str, str] = self._key.export_public(as_dict=True)
        return {
            name: exported[name]
            for name in ("kty", "crv", "x", "y")
            if name in exported
        }

    def verification_key(self) -> VerificationKey:
        """The public half, parsed for verification."""
        return VerificationKey.from_jwk(self.public_jwk())

    def sign_compact(
        self, header: Mapping[str, Any], payload: Mapping[str, Any]
    ) -> str:
        """A compact JWS over ``payload``; ``alg`` (and ``kid``) are set here."""
        protected = {**header, "alg": self.algorithm.value}
        if self.key_id is not None:
            protected["kid"] = self.key_id
        signing_input = ".".join(
            b64url_encode(
                json.dumps(part, separators=(",", ":"), ensure_ascii=False).encode()
            )
            for part in (protected, payload)
        )
        signature = _ENGINES[self.algorithm].sign(self._key, signing_input.encode())
        return f"{signing_input}.{b64url_encode(signature)}"

    def __repr__(self) -> str:
        return f"SigningKey(algorithm={self.algorithm.value!r}, key_id={self.key_id!r})"


@dataclass(frozen=True)
class CompactJws:
    """A compact JWS split and decoded, but not yet verified."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes = field(repr=False)
    signature: bytes = field(repr=False)

    @classmethod
    def parse(cls, serialized: str, *, what: str) -> "CompactJws":
        """Split ``header.payload.signature`` and decode both JSON objects.

        Raises :class:`MalformedPresentationError` (``malformed_encoding``).
        """
        segments = serialized.split(".")
        if len(segments) != 3:
            raise MalformedPresentationError(
                Rule.MALFORMED_ENCODING, f"{what} is not a compact JWS"
            )
        header = decode_json_object(segments[0], what=f"{what} header")
        payload = decode_json_object(segments[1], what=f"{what} payload")
        return cls(
            header=header,
            payload=payload,
            # RFC 7515 §5.2: the signature covers the segments as transmitted.
            signing_input=f"{segments[0]}.{segments[1]}".encode("ascii"),
            signature=b64url_decode(segments[2]),
        )

    def verify(
        self, key: VerificationKey, *, algorithm_rule: Rule, signature_rule: Rule
    ) -> None:
        """Check the signature under ``key`` with the key's own algorithm.

        Raises :class:`VerificationError` with ``algorithm_rule`` when the
        header names another algorithm, ``signature_rule`` when it fails.
        """
        # RFC 7515 §4.1.11: no extension is understood here, so none may be
        # critical (this also refuses the unencoded payloads of RFC 7797).
        if "crit" in self.header or "b64" in self.header:
            raise VerificationError(
                Rule.CRITICAL_HEADER, "critical header extensions are not supported"
            )

        # RFC 8725 §3.1: the key decides the algorithm; the header must agree.
        if self.header.get("alg") != key.algorithm.value:
            raise VerificationError(
                algorithm_rule,
                f"header alg is not {key.algorithm.value}, the key's algorithm",
            )

        # RFC 7518 §3.4 and RFC 8037 §3.1: exactly 64 bytes for all three.
        # jwcrypto would accept zero-padded r and s, a second spelling.
        if len(self.signature) != SIGNATURE_BYTES:
            raise VerificationError(signature_rule, "signature has the wrong length")
        if key.secp256k1 is not None:
            if not _verify_secp256k1(key.secp256k1, self.signing_input, self.signature):
                raise VerificationError(signature_rule, "signature does not verify")
            return
        try:
            _ENGINES[key.algorithm].verify(
                key.native, self.signing_input, self.signature
            )
        except (InvalidSignature, JWException, ValueError) as exc:
            raise VerificationError(
                signature_rule, "signature does not verify"
            ) from exc


def _verify_secp256k1(
    point: coincurve.PublicKey, signing_input: bytes, signature: bytes
) -> bool:
    # libsecp256k1 (via coincurve) verifies ES256K about 9x faster than
    # OpenSSL. It accepts only low-S signatures (BIP 146), while RFC 8812
    # allows either s, as OpenSSL does; folding s keeps the two in step.
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if not (0 < r < _SECP256K1_ORDER and 0 < s < _SECP256K1_ORDER):
        return False
    der = encode_dss_signature(r, min(s, _SECP256K1_ORDER - s))
    try:
        return bool(point.verify(der, signing_input))  # SHA-256 by default
    except ValueError:
        return False
