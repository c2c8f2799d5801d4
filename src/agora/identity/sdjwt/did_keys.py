"""Issuer keys from DID documents: the DID resolver behind :class:`KeyResolver`.

The ``kid`` of an SD-JWT VC issued by a DID is a DID URL (``<iss>#<id>``);
its key must be listed under ``assertionMethod`` in the issuer's current DID
document (DID Core §5.3.2), and a deactivated DID has no keys at all.
"""

from collections.abc import Mapping
from typing import Any

from agora.identity.errors import IdentityError
from agora.identity.resolver import DidResolver


class IssuerKeyNotFoundError(LookupError):
    """The issuer's DID document holds no usable key for this ``kid``."""


class DidIssuerKeys:
    """A :class:`~agora.identity.sdjwt.verifier.KeyResolver` over DIDs."""

    def __init__(self, resolver: DidResolver) -> None:
        self.resolver = resolver

    def resolve_issuer_key(self, issuer: str, key_id: str | None) -> Mapping[str, Any]:
        """The public JWK of ``key_id``; raises :class:`IssuerKeyNotFoundError`.

        Resolution failures (malformed, unknown, deactivated DID; a method
        not under ``assertionMethod``) become a ``LookupError`` here, so the
        verifier reports them as its issuer-key rule instead of crashing.
        """
        if key_id is None or not key_id.startswith(f"{issuer}#"):
            raise IssuerKeyNotFoundError("kid must be a DID URL of the issuer")
        try:
            method = self.resolver.verification_method(
                key_id, relationship="assertionMethod"
            )
        except (IdentityError, LookupError) as exc:
            raise IssuerKeyNotFoundError(f"no assertion key {key_id}") from exc
        if method.public_key is None:
            # did:ethr owner methods name an account, not a key: JWS needs a key.
            raise IssuerKeyNotFoundError(f"{key_id} carries no public key")
        return method.public_key.to_jwk()
