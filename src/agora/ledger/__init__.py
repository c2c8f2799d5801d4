"""The consortium ledger: Vyper contracts and their typed web3.py clients.

What other packages use is exactly what this module exports. A training
job from posting to payment::

    >>> from agora.ledger import (
    ...     Role, connect, deploy, label_set_hash, modality_hash, tokens)
    >>> chain = connect()
    >>> admin, hospital, buyer, coordinator = (
    ...     chain.new_account(name) for name in
    ...     ("admin", "hospital", "buyer", "coordinator"))
    >>> ledger = deploy(chain, admin)
    >>> for account, role in ((hospital, Role.HOSPITAL), (buyer, Role.BUYER),
    ...                       (coordinator, Role.COORDINATOR)):
    ...     _ = ledger.consortium.add_member(
    ...         account.address, chain.name_of(account.address), role,
    ...         account=admin)

    >>> xray = modality_hash("xray/chest-28x28-grey")
    >>> labels = label_set_hash(["normal", "pneumonia"])
    >>> dataset = ledger.data_market.register_dataset(
    ...     modality=xray, label_set=labels, samples=500,
    ...     schema_cid="bafy-schema", account=hospital)

    >>> _ = ledger.token.mint(buyer.address, tokens(100), account=admin)
    >>> _ = ledger.token.approve(ledger.data_market.address, tokens(100), account=buyer)
    >>> job = ledger.data_market.post_job(
    ...     spec_cid="bafy-spec", modality=xray, label_set=labels,
    ...     min_samples=100, reward=tokens(100), min_providers=1,
    ...     max_providers=4, deadline=chain.now() + 3600,
    ...     coordinator=coordinator.address, account=buyer)
    >>> _ = ledger.data_market.apply(job, dataset, account=hospital)
    >>> _ = ledger.data_market.start_job(job, account=coordinator)
    >>> _ = ledger.data_market.commit_round(
    ...     job, 1, updates_root=bytes(range(32)), aggregate_hash=bytes(32 * [7]),
    ...     account=coordinator)
    >>> _ = ledger.data_market.finalize(job, [10_000], account=coordinator)
    >>> ledger.token.balance_of(hospital.address) == tokens(100)
    True
    >>> ledger.data_market.get_job(job).state
    <JobState.FINALIZED: 3>
"""

from agora.ledger.build import (
    Artifacts,
    ContractArtifact,
    build_contracts,
    rebuild_contracts,
)
from agora.ledger.chain import Chain, connect
from agora.ledger.clients import (
    NO_RECORDS,
    AnchorClient,
    AnchorId,
    AnchorRecord,
    AttributeChanged,
    Category,
    ConsentClient,
    ConsentEvent,
    ConsortiumClient,
    ContractClient,
    DataMarketClient,
    DelegateChanged,
    DidEvent,
    DIDRegistryClient,
    FraudListClient,
    FraudReason,
    FraudReport,
    Grant,
    Granted,
    GrantId,
    GrantRequest,
    OwnerChanged,
    Receipt,
    Revoked,
    Service,
    ServiceMarketClient,
    SignedGrant,
    TokenClient,
    anchor_kind,
    bytes32,
    credential_type_hash,
    grantee_hash,
    purpose_code,
    sign_grant,
    sign_receipt,
)
from agora.ledger.deploy import Deployment, deploy
from agora.ledger.errors import (
    BuildError,
    ChainUnavailableError,
    ContractRevertError,
    InvalidArgumentError,
    LedgerError,
    NotFoundError,
    TransactionError,
)
from agora.ledger.hashing import label_set_hash, modality_hash, to_basis_points
from agora.ledger.model import (
    BPS,
    MAX_JOB_PRIVACY_COST,
    MAX_PROVIDERS,
    NO_PRIVACY_COST,
    UNLIMITED_PRIVACY,
    Account,
    Dataset,
    DatasetId,
    Inclusion,
    Job,
    JobId,
    JobState,
    Member,
    MilliEpsilon,
    Role,
    RoundCommitment,
    TokenAmount,
    TxHash,
    tokens,
)

__all__ = [
    "BPS",
    "MAX_JOB_PRIVACY_COST",
    "MAX_PROVIDERS",
    "NO_PRIVACY_COST",
    "NO_RECORDS",
    "UNLIMITED_PRIVACY",
    "Account",
    "AnchorClient",
    "AnchorId",
    "AnchorRecord",
    "Artifacts",
    "AttributeChanged",
    "BuildError",
    "Category",
    "Chain",
    "ChainUnavailableError",
    "ConsentClient",
    "ConsentEvent",
    "ConsortiumClient",
    "ContractArtifact",
    "ContractClient",
    "ContractRevertError",
    "DIDRegistryClient",
    "DataMarketClient",
    "Dataset",
    "DatasetId",
    "DelegateChanged",
    "Deployment",
    "DidEvent",
    "FraudListClient",
    "FraudReason",
    "FraudReport",
    "Grant",
    "GrantId",
    "GrantRequest",
    "Granted",
    "Inclusion",
    "InvalidArgumentError",
    "Job",
    "JobId",
    "JobState",
    "LedgerError",
    "Member",
    "MilliEpsilon",
    "NotFoundError",
    "OwnerChanged",
    "Receipt",
    "Revoked",
    "Role",
    "RoundCommitment",
    "Service",
    "ServiceMarketClient",
    "SignedGrant",
    "TokenAmount",
    "TokenClient",
    "TransactionError",
    "TxHash",
    "anchor_kind",
    "build_contracts",
    "bytes32",
    "connect",
    "credential_type_hash",
    "deploy",
    "grantee_hash",
    "label_set_hash",
    "modality_hash",
    "purpose_code",
    "rebuild_contracts",
    "sign_grant",
    "sign_receipt",
    "to_basis_points",
    "tokens",
]
