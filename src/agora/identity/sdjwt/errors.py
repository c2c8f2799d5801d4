"""Errors raised by :mod:`agora.identity.sdjwt`.

Every failed check of a presentation raises a :class:`VerificationError`
whose ``rule`` is a :class:`Rule`: a stable code that the CLI prints and the
tests assert, so that callers never parse a message. ``jwcrypto`` exceptions
are translated into these once, in :mod:`agora.identity.sdjwt.jose`.
"""

from enum import StrEnum

from agora.errors import AgoraError


class Rule(StrEnum):
    """The check a presentation failed, as a stable machine-readable code."""

    # Encoding (RFC 9901 §4, RFC 7515 §7.1)
    MALFORMED_ENCODING = "malformed_encoding"
    HEADER_TYPE = "header_type"

    # Issuer-signed JWT
    CRITICAL_HEADER = "critical_header"
    ALGORITHM = "algorithm"
    ISSUER_KEY = "issuer_key"
    ISSUER_SIGNATURE = "issuer_signature"
    REGISTERED_CLAIMS = "registered_claims"
    ISSUER_TRUST = "issuer_trust"
    CREDENTIAL_TYPE = "credential_type"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"

    # Status (SD-JWT VC §3.2.2.2, Token Status List)
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    STATUS_UNAVAILABLE = "status_unavailable"

    # Disclosures (RFC 9901 §7.1)
    DIGEST_ALGORITHM = "digest_algorithm"
    DISCLOSURE_FORMAT = "disclosure_format"
    DISCLOSURE_RESERVED_NAME = "disclosure_reserved_name"
    DISCLOSURE_DUPLICATE = "disclosure_duplicate"
    DISCLOSURE_UNREFERENCED = "disclosure_unreferenced"
    CLAIM_COLLISION = "claim_collision"

    # Key binding (RFC 9901 §7.3)
    HOLDER_KEY = "holder_key"
    KEY_BINDING_MISSING = "key_binding_missing"
    KEY_BINDING_SIGNATURE = "key_binding_signature"
    SD_HASH = "sd_hash"
    NONCE = "nonce"
    REPLAYED_NONCE = "replayed_nonce"
    AUDIENCE = "audience"
    FRESHNESS = "freshness"

    # The verifier's request
    REQUIRED_CLAIM = "required_claim"


class SdJwtError(AgoraError):
    """Root of every error the SD-JWT package raises."""


class UnsupportedKeyError(SdJwtError, ValueError):
    """A JWK is not an Ed25519, secp256k1 or P-256 key, or is malformed."""


class IssuanceError(SdJwtError, ValueError):
    """Claims cannot be issued as given (e.g. a reserved claim name)."""


class PresentationError(SdJwtError, ValueError):
    """A holder cannot build the requested presentation."""


class VerificationError(SdJwtError):
    """A presentation failed a check; ``rule`` names which.

    The message never quotes a disclosure, claim value or key: it names the
    rule and, at most, a claim name.
    """

    def __init__(self, rule: Rule, detail: str) -> None:
        self.rule = rule
        self.detail = detail
        super().__init__(f"{rule.value}: {detail}")


class MalformedPresentationError(VerificationError, ValueError):
    """The presentation is not well-formed SD-JWT, JWS, base64url or JSON."""
