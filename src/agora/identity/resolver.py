"""One resolver for every DID method Agora reads, and signature checks
against a DID's verification methods.

A verifier holds a :class:`DidResolver` and asks it to check a signature
under a verification method id (a JWS ``kid``) for a relationship::

    >>> from agora.identity.did_key import did_key_from_key_pair
    >>> from agora.identity.keys import KeyPair, KeyType
    >>> pair = KeyPair.generate(KeyType.ED25519)
    >>> did = did_key_from_key_pair(pair)
    >>> kid = did + "#" + did.removeprefix("did:key:")
    >>> method = DidResolver().verify(
    ...     kid, pair.sign(b"claims"), b"claims", relationship="assertionMethod")
    >>> method.algorithm
    'EdDSA'
"""

from agora.identity.did_ethr import EthrResolver
from agora.identity.did_key import resolve_did_key
from agora.identity.document import Relationship, ResolutionResult, VerificationMethod
from agora.identity.errors import DidResolutionError, InvalidDidError


class DidResolver:
    """Resolve ``did:key`` always and ``did:ethr`` when given the registry's
    :class:`EthrResolver` (which caches its results)."""

    def __init__(self, *, ethr: EthrResolver | None = None) -> None:
        self.ethr = ethr

    def resolve(self, did: str) -> ResolutionResult:
        """The document of ``did``; :class:`InvalidDidError` for a malformed
        or unsupported DID, :class:`DidResolutionError` when it cannot be
        read."""
        if did.startswith("did:key:"):
            return resolve_did_key(did)
        if did.startswith("did:ethr:"):
            if self.ethr is None:
                raise DidResolutionError("no DIDRegistry configured for did:ethr")
            return self.ethr.resolve(did)
        if not did.startswith("did:"):
            raise InvalidDidError("syntax", "a DID starts with 'did:'")
        raise InvalidDidError("method", "unsupported DID method")

    def verification_method(
        self, method_id: str, *, relationship: Relationship
    ) -> VerificationMethod:
        """The method ``method_id`` (``<did>#<fragment>``) if its DID is
        active and lists it under ``relationship``."""
        did, _, fragment = method_id.partition("#")
        if not fragment:
            raise InvalidDidError("fragment", "a method id is <did>#<fragment>")
        result = self.resolve(did)
        if result.deactivated:
            raise DidResolutionError(f"{did} is deactivated")
        return result.document.method_for(method_id, relationship)

    def verify(
        self,
        method_id: str,
        signature: bytes,
        message: bytes,
        *,
        relationship: Relationship,
    ) -> VerificationMethod:
        """Check ``signature`` over ``message`` under ``method_id`` and
        return the method; raises :class:`InvalidSignatureError`,
        :class:`DidResolutionError` or :class:`InvalidDidError`."""
        method = self.verification_method(method_id, relationship=relationship)
        method.verify(signature, message)
        return method
