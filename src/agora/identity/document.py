"""W3C DID Core documents and resolution results, as every DID method
in Agora returns them.

The JSON forms follow DID Core 1.0 §5 (document properties) and the DID
Resolution result of §7.1 (``didDocument``, ``didDocumentMetadata``).
"""

from dataclasses import dataclass, field
from typing import Any, Literal, NewType, TypeAlias

from web3 import Web3

from agora.identity.errors import DidResolutionError, InvalidSignatureError
from agora.identity.keys import JoseAlgorithm, PublicKey, verify_recoverable

Did = NewType("Did", str)
"""A DID without path, query or fragment (``did:key:z6Mk…``)."""

Relationship: TypeAlias = Literal["authentication", "assertionMethod"]
"""The verification relationships a signature can be checked under."""

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
RECOVERY_METHOD = "EcdsaSecp256k1RecoveryMethod2020"


@dataclass(frozen=True)
class VerificationMethod:
    """One verification method (DID Core §5.2).

    ``public_key`` is ``None`` for methods identified by an account only
    (``EcdsaSecp256k1RecoveryMethod2020`` with ``blockchainAccountId``),
    which verify by recovering the signer's address.
    """

    id: str
    type: str
    controller: Did
    public_key: PublicKey | None = None
    public_key_multibase: str | None = None
    public_key_base58: str | None = None
    blockchain_account_id: str | None = None

    @property
    def algorithm(self) -> JoseAlgorithm:
        """The one JOSE algorithm this method verifies: its key's, or
        ``ES256K`` for an account-only recovery method."""
        if self.public_key is not None:
            return self.public_key.algorithm
        if self.type == RECOVERY_METHOD and self.blockchain_account_id:
            return JoseAlgorithm("ES256K")
        raise DidResolutionError(f"{self.id} carries no key")

    def verify(self, signature: bytes, message: bytes) -> None:
        """Return if ``signature`` over ``message`` verifies under this
        method, else raise :class:`InvalidSignatureError`. Account-only
        methods compare the recovered signer with ``blockchainAccountId``
        (CAIP-10 ``eip155:<chain>:<address>``)."""
        if self.public_key is not None:
            self.public_key.verify(signature, message)
            return
        if self.type != RECOVERY_METHOD or not self.blockchain_account_id:
            raise InvalidSignatureError(f"{self.id} carries no key")
        address = self.blockchain_account_id.rpartition(":")[2]
        if not Web3.is_address(address):
            raise InvalidSignatureError(f"{self.id} has no valid account id")
        verify_recoverable(signature, message, Web3.to_checksum_address(address))

    def to_json(self) -> dict[str, Any]:
        """The JSON object of this method, key in the form its type names."""
        body: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "controller": self.controller,
        }
        if self.public_key_multibase is not None:
            body["publicKeyMultibase"] = self.public_key_multibase
        elif self.public_key_base58 is not None:
            body["publicKeyBase58"] = self.public_key_base58
        elif self.public_key is not None and self.type == "JsonWebKey2020":
            body["publicKeyJwk"] = self.public_key.to_jwk()
        elif self.public_key is not None:
            body["publicKeyHex"] = self.public_key.raw.hex()
        if self.blockchain_account_id is not None:
            body["blockchainAccountId"] = self.blockchain_account_id
        return body


@dataclass(frozen=True)
class Service:
    """A service endpoint (DID Core §5.4)."""

    id: str
    type: str
    service_endpoint: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "serviceEndpoint": self.service_endpoint,
        }


@dataclass(frozen=True)
class DidDocument:
    """A resolved DID document. Relationships hold verification method ids."""

    id: Did
    contexts: tuple[str, ...] = (DID_CONTEXT,)
    verification_methods: tuple[VerificationMethod, ...] = ()
    authentication: tuple[str, ...] = ()
    assertion_method: tuple[str, ...] = ()
    capability_invocation: tuple[str, ...] = ()
    capability_delegation: tuple[str, ...] = ()
    services: tuple[Service, ...] = ()

    def verification_method(self, method_id: str) -> VerificationMethod:
        """The method with ``method_id`` (absolute, or a ``#fragment``
        relative to this DID); raises :class:`DidResolutionError` if absent."""
        absolute = self.id + method_id if method_id.startswith("#") else method_id
        for method in self.verification_methods:
            if method.id == absolute:
                return method
        raise DidResolutionError(f"{self.id} has no verification method {method_id}")

    def method_for(
        self, method_id: str, relationship: Relationship
    ) -> VerificationMethod:
        """The method ``method_id`` if listed under ``relationship``, else
        :class:`DidResolutionError`."""
        method = self.verification_method(method_id)
        listed = {
            "authentication": self.authentication,
            "assertionMethod": self.assertion_method,
        }[relationship]
        if method.id not in listed:
            raise DidResolutionError(f"{method.id} is not listed under {relationship}")
        return method

    def assertion_key(self, method_id: str) -> PublicKey:
        """The public key of ``method_id`` if it may sign assertions
        (credentials), else :class:`DidResolutionError`."""
        return _key_of(self.method_for(method_id, "assertionMethod"))

    def authentication_key(self, method_id: str) -> PublicKey:
        """The public key of ``method_id`` if it may authenticate (key
        binding), else :class:`DidResolutionError`."""
        return _key_of(self.method_for(method_id, "authentication"))

    def to_json(self) -> dict[str, Any]:
        """The document as DID Core JSON; empty relationships are omitted."""
        body: dict[str, Any] = {"@context": list(self.contexts), "id": self.id}
        if self.verification_methods:
            body["verificationMethod"] = [
                method.to_json() for method in self.verification_methods
            ]
        relationships = {
            "authentication": self.authentication,
            "assertionMethod": self.assertion_method,
            "capabilityInvocation": self.capability_invocation,
            "capabilityDelegation": self.capability_delegation,
        }
        for name, ids in relationships.items():
            if ids:
                body[name] = list(ids)
        if self.services:
            body["service"] = [service.to_json() for service in self.services]
        return body


@dataclass(frozen=True)
class ResolutionResult:
    """A document with its metadata (DID Core §7.1.3).

    ``deactivated`` documents carry no verification methods, so nothing
    can verify under them.
    """

    document: DidDocument
    deactivated: bool = False
    updated_block: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """``didDocument`` and ``didDocumentMetadata`` as DID Resolution."""
        metadata = dict(self.metadata)
        if self.deactivated:
            metadata["deactivated"] = True
        return {"didDocument": self.document.to_json(), "didDocumentMetadata": metadata}


def _key_of(method: VerificationMethod) -> PublicKey:
    if method.public_key is None:
        raise DidResolutionError(f"{method.id} carries no public key")
    return method.public_key
