"""One thin, typed client class per contract."""

from agora.ledger.clients.anchor import (
    AnchorClient,
    AnchorId,
    AnchorRecord,
    anchor_kind,
)
from agora.ledger.clients.base import ContractClient
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
    "AnchorClient",
    "AnchorId",
    "AnchorRecord",
    "AttributeChanged",
    "ConsortiumClient",
    "ContractClient",
    "DIDRegistryClient",
    "DataMarketClient",
    "DelegateChanged",
    "DidEvent",
    "FraudListClient",
    "FraudReason",
    "FraudReport",
    "OwnerChanged",
    "Receipt",
    "Service",
    "ServiceMarketClient",
    "TokenClient",
    "anchor_kind",
    "bytes32",
    "credential_type_hash",
    "sign_receipt",
]
