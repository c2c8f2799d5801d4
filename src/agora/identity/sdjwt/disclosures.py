"""Disclosures and their digests (RFC 9901 §4.2).

A disclosure is the base64url encoding of the JSON array ``[salt, name,
value]`` (an object property) or ``[salt, value]`` (an array element). Its
digest is the base64url SHA-256 of that ASCII encoding, exactly as
transmitted, which is why :class:`Disclosure` keeps the encoded form: two
JSON spellings of the same array have different digests. ::

    >>> disclosure = Disclosure.parse(
    ...     "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0"
    ... )
    >>> disclosure.name, disclosure.value
    ('family_name', 'Möbius')
    >>> disclosure.digest
    'X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0'
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from agora.identity.sdjwt.errors import MalformedPresentationError, Rule
from agora.identity.sdjwt.jose import b64url_decode, b64url_encode, load_json

DIGEST_ALGORITHM = "sha-256"
"""The ``_sd_alg`` Agora issues with and the only one it accepts (RFC 9901 §4.1.1)."""

SD_CLAIM = "_sd"
SD_ALG_CLAIM = "_sd_alg"
ARRAY_ELEMENT_KEY = "..."
RESERVED_NAMES = frozenset({SD_CLAIM, ARRAY_ELEMENT_KEY})
"""Claim names a disclosure may never carry (RFC 9901 §7.1 step 3.2.2)."""


def digest(encoded: str) -> str:
    """The base64url SHA-256 digest of a disclosure or SD-JWT, as ASCII."""
    return b64url_encode(hashlib.sha256(encoded.encode("ascii")).digest())


@dataclass(frozen=True)
class Disclosure:
    """One salted claim, kept in the exact encoding its digest covers."""

    encoded: str
    salt: str
    name: str | None
    value: Any

    @property
    def digest(self) -> str:
        """The digest the issuer put in ``_sd`` or ``{"...": …}``."""
        return digest(self.encoded)

    @classmethod
    def create(cls, salt: bytes, name: str | None, value: Any) -> "Disclosure":
        """Encode a new disclosure; ``name`` is ``None`` for an array element."""
        salt_text = b64url_encode(salt)
        array = [salt_text, value] if name is None else [salt_text, name, value]
        encoded = b64url_encode(
            json.dumps(array, ensure_ascii=False, separators=(",", ":")).encode()
        )
        return cls(encoded=encoded, salt=salt_text, name=name, value=value)

    @classmethod
    def parse(cls, encoded: str) -> "Disclosure":
        """Decode one disclosure and check its shape.

        Raises :class:`MalformedPresentationError` with ``malformed_encoding``
        (not base64url JSON), ``disclosure_format`` (not a 2- or 3-element
        array with string salt and name) or ``disclosure_reserved_name``.
        """
        array = load_json(b64url_decode(encoded), what="disclosure")

        if not isinstance(array, list) or len(array) not in (2, 3):
            raise MalformedPresentationError(
                Rule.DISCLOSURE_FORMAT, "disclosure is not a 2- or 3-element array"
            )
        if not isinstance(array[0], str):
            raise MalformedPresentationError(
                Rule.DISCLOSURE_FORMAT, "disclosure salt is not a string"
            )
        if len(array) == 2:
            return cls(encoded=encoded, salt=array[0], name=None, value=array[1])

        name = array[1]
        if not isinstance(name, str):
            raise MalformedPresentationError(
                Rule.DISCLOSURE_FORMAT, "disclosure claim name is not a string"
            )
        if name in RESERVED_NAMES:
            raise MalformedPresentationError(
                Rule.DISCLOSURE_RESERVED_NAME, f"disclosure names {name!r}"
            )
        return cls(encoded=encoded, salt=array[0], name=name, value=array[2])


SEPARATOR = "~"


@dataclass(frozen=True)
class CombinedSdJwt:
    """``<issuer JWT>~<disclosure>~…~<KB-JWT or empty>`` split into parts.

    Nothing here is verified; the verifier and the holder start from this.
    """

    issuer_jwt: str
    disclosures: tuple[str, ...]
    key_binding_jwt: str

    @classmethod
    def split_unverified(cls, serialized: str) -> "CombinedSdJwt":
        """Split the compact serialization of RFC 9901 §4.

        Raises :class:`MalformedPresentationError` (``malformed_encoding``)
        when the tildes are missing or a disclosure slot is empty.
        """
        if not serialized.isascii():
            raise MalformedPresentationError(
                Rule.MALFORMED_ENCODING, "SD-JWT is not ASCII"
            )
        parts = serialized.split(SEPARATOR)
        if len(parts) < 2 or not parts[0]:
            raise MalformedPresentationError(
                Rule.MALFORMED_ENCODING, "SD-JWT lacks its '~' separators"
            )
        disclosures = tuple(parts[1:-1])
        if not all(disclosures):
            raise MalformedPresentationError(
                Rule.MALFORMED_ENCODING, "SD-JWT has an empty disclosure"
            )
        return cls(
            issuer_jwt=parts[0], disclosures=disclosures, key_binding_jwt=parts[-1]
        )

    @property
    def without_key_binding(self) -> str:
        """The SD-JWT up to and including the last ``~``: what ``sd_hash`` covers."""
        return SEPARATOR.join((self.issuer_jwt, *self.disclosures, ""))
