"""One thin, typed client class per contract."""

from agora.ledger.clients.anchor import (
    AnchorClient,
    AnchorId,
    AnchorRecord,
    anchor_kind,
)
from agora.ledger.clients.base import ContractClient
from agora.ledger.clients.consent import (
    NO_RECORDS,
    Category,
    ConsentClient,
    ConsentEvent,
    Grant,
    Granted,
    GrantId,
    GrantRequest,
    Revoked,
    SignedGrant,
    grantee_hash,
    purpose_code,
    sign_grant,
)
from agora.ledger.clients.consortium import ConsortiumClient, credential_type_hash
from agora.ledger.clients.datamarket import DataMarketClient
from agora.ledger.clients.didregistry import (
    AttributeChanged,
    DelegateChanged,
    DidEvent,
    DIDRegistryClient,
    OwnerChanged,
    bytes32,
)
from agora.ledger.clients.fraudlist import FraudListClient, FraudReason, FraudReport
from agora.ledger.clients.servicemarket import (
    Receipt,
    Service,
    ServiceMarketClient,
    sign_receipt,
)
from agora.ledger.clients.token import TokenClient

__all__ = [
    "NO_RECORDS",
    "AnchorClient",
    "AnchorId",
    "AnchorRecord",
    "AttributeChanged",
    "Category",
    "ConsentClient",
    "ConsentEvent",
    "ConsortiumClient",
    "ContractClient",
    "DIDRegistryClient",
    "DataMarketClient",
    "DelegateChanged",
    "DidEvent",
    "FraudListClient",
    "FraudReason",
    "FraudReport",
    "Grant",
    "GrantId",
    "GrantRequest",
    "Granted",
    "OwnerChanged",
    "Receipt",
    "Revoked",
    "Service",
    "ServiceMarketClient",
    "SignedGrant",
    "TokenClient",
    "anchor_kind",
    "bytes32",
    "credential_type_hash",
    "grantee_hash",
    "purpose_code",
    "sign_grant",
    "sign_receipt",
]
