"""Typed client of ``Consent.vy``: an owner's grants over a scope, revocable.

A grant names its grantee by :func:`grantee_hash` of the grantee's DID, its
scope by a records root (:func:`agora.vault.scope.records_root`) and/or a
:class:`Category` mask, its purpose by a :func:`purpose_code`, and ends at
an absolute ``expiry`` (chain time) or when its owner revokes it.

An owner may also sign a :class:`GrantRequest` off chain (EIP-712,
:func:`sign_grant`) for someone else, usually the grantee, to submit with
many others in one transaction (:meth:`ConsentClient.grant_signed`): one
transaction per patient does not scale (DESIGN.md). A grantee reads every
grant naming it in pages (:meth:`ConsentClient.grants_to`).
"""

from dataclasses import dataclass
from enum import IntFlag
from typing import Any, NewType, TypeAlias

from eth_account import Account as AccountFactory
from eth_account.messages import encode_typed_data
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.exceptions import Web3Exception
from web3.types import EventData

from agora.ledger.clients.base import ContractClient
from agora.ledger.errors import (
    ChainUnavailableError,
    ContractRevertError,
    InvalidArgumentError,
    LedgerError,
    NotFoundError,
)
from agora.ledger.model import Account, TxHash

GrantId = NewType("GrantId", int)
"""A grant's id on ``Consent``; the first is 1, 0 means none."""

NO_RECORDS = bytes(32)
"""The records root of a scope made of categories only."""

MAX_BATCH = 32
"""Signed grants per transaction (``MAX_BATCH`` in ``Consent.vy``)."""

MAX_PAGE = 256
"""Grants per :meth:`ConsentClient.grants_to` read (``MAX_PAGE``)."""

DOMAIN_NAME = "Agora Consent"
DOMAIN_VERSION = "1"
GRANT_TYPES = {
    "Grant": [
        {"name": "granteeHash", "type": "bytes32"},
        {"name": "recordsRoot", "type": "bytes32"},
        {"name": "categories", "type": "uint256"},
        {"name": "purpose", "type": "bytes32"},
        {"name": "expiry", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
    ]
}
"""The EIP-712 type an owner signs (``GRANT_TYPEHASH`` in ``Consent.vy``)."""


class Category(IntFlag):
    """Record categories a scope may name, one bit each, as FHIR resource
    types (``ALL_CATEGORIES`` in ``Consent.vy`` covers exactly these)."""

    CONDITION = 1 << 0
    MEDICATION_REQUEST = 1 << 1
    OBSERVATION = 1 << 2
    IMMUNIZATION = 1 << 3
    ENCOUNTER = 1 << 4
    PROCEDURE = 1 << 5
    ALLERGY_INTOLERANCE = 1 << 6
    DIAGNOSTIC_REPORT = 1 << 7
    CARE_PLAN = 1 << 8
    CARE_TEAM = 1 << 9
    IMAGING_STUDY = 1 << 10
    MEDICATION_ADMINISTRATION = 1 << 11
    DEVICE = 1 << 12
    PATIENT = 1 << 13
    CLAIM = 1 << 14
    EXPLANATION_OF_BENEFIT = 1 << 15
    OTHER = 1 << 16
    """Any resource type without a bit of its own."""

    @classmethod
    def of(cls, resource_type: str) -> "Category":
        """The category of a FHIR resource type (``"MedicationRequest"``)."""
        return _BY_RESOURCE_TYPE.get(resource_type, cls.OTHER)


NO_CATEGORIES = Category(0)
"""The category mask of a scope made of record ids only."""


def _resource_type(member: Category) -> str:
    # MEDICATION_REQUEST -> MedicationRequest
    words = (member.name or "").split("_")
    return "".join(word.capitalize() for word in words)


_BY_RESOURCE_TYPE = {
    _resource_type(member): member
    for member in Category
    if member is not Category.OTHER
}


@dataclass(frozen=True)
class Grant:
    """A grant as the contract records it."""

    grant_id: GrantId
    owner: ChecksumAddress
    grantee_hash: bytes
    records_root: bytes
    """:data:`NO_RECORDS` when the scope is categories only."""
    categories: Category
    purpose: bytes
    expiry: int
    granted_at: int
    revoked_at: int
    """0 while not revoked."""

    @property
    def revoked(self) -> bool:
        """Whether the owner revoked the grant."""
        return self.revoked_at != 0

    def expired(self, now: int) -> bool:
        """Whether the grant has expired at chain time ``now``."""
        return now >= self.expiry


@dataclass(frozen=True)
class Granted:
    """A ``Granted`` event."""

    grant_id: GrantId
    owner: ChecksumAddress
    grantee_hash: bytes
    records_root: bytes
    categories: Category
    purpose: bytes
    expiry: int
    block_number: int
    timestamp: int
    transaction: TxHash


@dataclass(frozen=True)
class Revoked:
    """A ``Revoked`` event."""

    grant_id: GrantId
    owner: ChecksumAddress
    grantee_hash: bytes
    block_number: int
    timestamp: int
    transaction: TxHash


ConsentEvent: TypeAlias = Granted | Revoked
"""Any event of ``Consent``."""


@dataclass(frozen=True)
class GrantRequest:
    """A grant its ``owner`` signs off chain for someone else to submit."""

    owner: ChecksumAddress
    grantee_hash: bytes
    purpose: bytes
    expiry: int
    records_root: bytes = NO_RECORDS
    categories: Category = NO_CATEGORIES
    nonce: int = 0
    """The owner's nonce on ``Consent`` when the grant is submitted: its
    first signed grant carries 0, the next 1, and so on."""


@dataclass(frozen=True)
class SignedGrant:
    """A :class:`GrantRequest` and its owner's 65-byte signature."""

    request: GrantRequest
    signature: bytes


def _grant_typed_data(
    request: GrantRequest, *, chain_id: int, contract: str
) -> dict[str, Any]:
    return {
        "domain_data": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": contract,
        },
        "message_types": GRANT_TYPES,
        "message_data": {
            "granteeHash": request.grantee_hash,
            "recordsRoot": request.records_root,
            "categories": int(request.categories),
            "purpose": request.purpose,
            "expiry": request.expiry,
            "nonce": request.nonce,
        },
    }


def sign_grant(
    request: GrantRequest, owner: Account, *, chain_id: int, contract: str
) -> SignedGrant:
    """The owner's EIP-712 signature of ``request`` for ``contract``."""
    if owner.address != request.owner:
        raise InvalidArgumentError("a grant is signed by its own owner")
    for value, what in (
        (request.grantee_hash, "grantee"),
        (request.records_root, "records root"),
        (request.purpose, "purpose"),
    ):
        if len(value) != 32:
            raise InvalidArgumentError(f"{what} must be 32 bytes")
    signable = encode_typed_data(
        **_grant_typed_data(request, chain_id=chain_id, contract=contract)
    )
    return SignedGrant(request, bytes(owner.sign_message(signable).signature))


def grant_signer(
    signed: SignedGrant, *, chain_id: int, contract: str
) -> ChecksumAddress:
    """Who signed ``signed`` (what the contract will recover)."""
    signable = encode_typed_data(
        **_grant_typed_data(signed.request, chain_id=chain_id, contract=contract)
    )
    signer: ChecksumAddress = AccountFactory.recover_message(
        signable, signature=signed.signature
    )
    return signer


def grantee_hash(did: str) -> bytes:
    """How a grant names its grantee: keccak256 of the DID's UTF-8."""
    if not did.startswith("did:"):
        raise InvalidArgumentError("a grantee is named by a DID")
    return bytes(Web3.keccak(text=did))


def purpose_code(purpose: str) -> bytes:
    """A purpose (``"treatment"``) as the contract's bytes32: its UTF-8,
    right-padded with zeros, so that it reads back as text."""
    data = purpose.encode()
    if not 0 < len(data) <= 32:
        raise InvalidArgumentError("a purpose is 1 to 32 bytes of UTF-8")
    return data.ljust(32, b"\x00")


class ConsentClient(ContractClient):
    """Grants, written by their owners, read by anyone (proxies above all)."""

    artifact_name = "Consent"

    def grant(
        self,
        grantee: bytes,
        *,
        records_root: bytes = NO_RECORDS,
        categories: Category | None = None,
        purpose: bytes,
        expiry: int,
        account: Account,
    ) -> GrantId:
        """Grant ``grantee`` (a :func:`grantee_hash`) the scope for
        ``purpose`` until ``expiry``, as the owner ``account``; returns the
        grant's id. The contract refuses an empty scope, an unknown
        category, an empty purpose or an expiry not in the future."""
        for value, what in ((grantee, "grantee"), (records_root, "records root")):
            if len(value) != 32:
                raise InvalidArgumentError(f"{what} must be 32 bytes")
        if len(purpose) != 32:
            raise InvalidArgumentError("purpose must be 32 bytes (purpose_code)")

        function = self.contract.functions.grant(
            grantee, records_root, int(categories or 0), purpose, expiry
        )
        receipt = self._transact(account, function)
        return GrantId(self._event(receipt, "Granted")["args"]["grantId"])

    def grant_signed(
        self, grants: list[SignedGrant], *, account: Account
    ) -> list[GrantId]:
        """Submit owner-signed grants, :data:`MAX_BATCH` per transaction,
        paid by ``account``; returns their ids in order. The contract
        refuses a grant not signed by its owner with the owner's current
        nonce (``consent: bad signature``) and everything :meth:`grant`
        refuses."""
        ids: list[GrantId] = []
        for start in range(0, len(grants), MAX_BATCH):
            batch = [
                (
                    signed.request.owner,
                    signed.request.grantee_hash,
                    signed.request.records_root,
                    int(signed.request.categories),
                    signed.request.purpose,
                    signed.request.expiry,
                    signed.signature,
                )
                for signed in grants[start : start + MAX_BATCH]
            ]
            receipt = self._transact(
                account, self.contract.functions.grantSigned(batch)
            )
            events = self.contract.events["Granted"]().process_receipt(receipt)
            ids += [GrantId(event["args"]["grantId"]) for event in events]
        return ids

    def nonce(self, owner: ChecksumAddress) -> int:
        """The nonce ``owner``'s next signed grant must carry."""
        return int(self._call(self.contract.functions.nonces(owner)))

    def sign(self, request: GrantRequest, owner: Account) -> SignedGrant:
        """:func:`sign_grant` for this contract on this chain."""
        return sign_grant(
            request, owner, chain_id=self.chain.chain_id, contract=self.address
        )

    def grants_to(self, grantee: bytes) -> list[Grant]:
        """Every grant naming ``grantee`` (a :func:`grantee_hash`), in grant
        order, revoked and expired ones included; :data:`MAX_PAGE` per call.
        """
        count = int(self._call(self.contract.functions.granteeGrantCount(grantee)))
        grants: list[Grant] = []
        for offset in range(0, count, MAX_PAGE):
            ids, fields = self._call(
                self.contract.functions.grantsTo(grantee, offset, MAX_PAGE)
            )
            grants += [
                _grant(GrantId(grant_id), row)
                for grant_id, row in zip(ids, fields, strict=True)
            ]
        return grants

    def revoke(self, grant_id: GrantId, *, account: Account) -> TxHash:
        """Revoke ``grant_id``; only its owner may."""
        return self._send(account, self.contract.functions.revoke(grant_id))

    def grant_count(self) -> int:
        """How many grants exist; the newest id."""
        return int(self._call(self.contract.functions.grantCount()))

    def get(self, grant_id: GrantId) -> Grant:
        """The grant ``grant_id``; :class:`NotFoundError` if there is none."""
        # One call, not a count first: proxies ask before every re-encryption.
        if grant_id <= 0:
            raise NotFoundError(f"no grant {grant_id}")
        try:
            fields = self._call(self.contract.functions.getGrant(grant_id))
        except ContractRevertError as exc:
            if exc.reason == "consent: unknown grant":
                raise NotFoundError(f"no grant {grant_id}") from exc
            raise
        return _grant(grant_id, fields)

    def is_active(self, grant_id: GrantId) -> bool:
        """Whether ``grant_id`` exists, is unrevoked and unexpired."""
        return bool(self._call(self.contract.functions.isActive(grant_id)))

    def events_of(self, owner: ChecksumAddress) -> list[ConsentEvent]:
        """Every grant and revocation of ``owner``, in chain order."""
        raw: list[EventData] = []
        try:
            for name in ("Granted", "Revoked"):
                raw += self.contract.events[name].get_logs(
                    from_block=0, argument_filters={"owner": owner}
                )
        except OSError as exc:
            # requests' connection errors derive from OSError.
            raise ChainUnavailableError(f"reading logs failed: {exc}") from exc
        except Web3Exception as exc:
            raise LedgerError(f"reading logs failed: {exc}") from exc
        raw.sort(key=lambda e: (e["blockNumber"], e["transactionIndex"], e["logIndex"]))
        times = {
            n: self.chain.block_timestamp(n) for n in {e["blockNumber"] for e in raw}
        }
        return [_typed(event, times[event["blockNumber"]]) for event in raw]


def _grant(grant_id: GrantId, fields: Any) -> Grant:
    owner, grantee, root, categories, purpose, expiry, granted, revoked = fields
    return Grant(
        grant_id=grant_id,
        owner=Web3.to_checksum_address(owner),
        grantee_hash=bytes(grantee),
        records_root=bytes(root),
        categories=Category(categories),
        purpose=bytes(purpose),
        expiry=expiry,
        granted_at=granted,
        revoked_at=revoked,
    )


def _typed(event: EventData, timestamp: int) -> ConsentEvent:
    args: Any = event["args"]
    block, transaction = int(event["blockNumber"]), event["transactionHash"]
    if event["event"] == "Revoked":
        return Revoked(
            grant_id=GrantId(args["grantId"]),
            owner=args["owner"],
            grantee_hash=bytes(args["granteeHash"]),
            block_number=block,
            timestamp=timestamp,
            transaction=TxHash(transaction.to_0x_hex()),
        )
    return Granted(
        grant_id=GrantId(args["grantId"]),
        owner=args["owner"],
        grantee_hash=bytes(args["granteeHash"]),
        records_root=bytes(args["recordsRoot"]),
        categories=Category(args["categories"]),
        purpose=bytes(args["purpose"]),
        expiry=int(args["expiry"]),
        block_number=block,
        timestamp=timestamp,
        transaction=TxHash(transaction.to_0x_hex()),
    )
