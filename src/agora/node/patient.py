"""The patient node: the patient's own records, grants and audit trail.

Every route answers the patient alone: a token whose ``iss`` is the node's
DID (the patient's, whose wallet key the node holds). Anyone else, however
well authenticated, gets a 403. Records come from the patient's vault
catalog (:class:`~agora.vault.local.OwnerCatalog`), grants and revocations
go to ``Consent`` through the local proxies, the trail is read back from the
chain (:func:`~agora.vault.audit.audit_trail`).
"""

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field, field_validator

from agora.ledger import Category, GrantId
from agora.ledger.errors import ContractRevertError
from agora.node.app import REFUSALS, CallerOf
from agora.node.auth import Caller
from agora.node.errors import (
    ConflictError,
    ForbiddenError,
    InvalidRequestError,
    UnknownResourceError,
    UpstreamError,
)
from agora.node.runtime import NodeRuntime
from agora.vault.audit import audit_trail, entry_to_json
from agora.vault.blockstore import BlockBackend, open_blockstore
from agora.vault.errors import VaultError
from agora.vault.local import OwnerCatalog, local_proxies
from agora.vault.reencryption import PublicKey
from agora.vault.scope import RecordId, Scope
from agora.vault.sharing import OwnerKeys, revoke, share

MAX_GRANT_S = 365 * 86_400
"""The longest a grant given through the node may last."""


class RecordOut(BaseModel):
    """One record in the patient's vault (metadata only)."""

    record_id: str
    category: str
    """The FHIR resource type's category (``CONDITION`` …)."""
    envelope: str
    """CID of the encrypted object."""


class RecordsOut(BaseModel):
    records: list[RecordOut]


class GrantIn(BaseModel):
    """A grant to give: who, what, why and for how long.

    Example body::

        {"grantee": "did:key:z6Mk…", "grantee_key": "02ab…",
         "categories": ["Condition"], "purpose": "treatment",
         "expires_in_s": 86400}
    """

    model_config = ConfigDict(extra="forbid")

    grantee: str = Field(pattern=r"^did:[a-z0-9]+:[A-Za-z0-9._:%-]+$", max_length=512)
    grantee_key: str = Field(pattern=r"^0[23][0-9a-f]{64}$")
    """The grantee's vault key (``agora vault key``), compressed hex."""
    categories: list[str] = Field(default_factory=list, max_length=17)
    """FHIR resource types (``Condition``) the grant covers."""
    records: list[Annotated[str, Field(min_length=1, max_length=256)]] = Field(
        default_factory=list, max_length=256
    )
    """Record ids the grant covers, besides whole categories."""
    purpose: str = "treatment"
    expires_in_s: int = Field(default=30 * 86_400, ge=60, le=MAX_GRANT_S)

    @field_validator("purpose")
    @classmethod
    def _purpose_fits(cls, value: str) -> str:
        # Consent.vy keeps the purpose as a bytes32 of UTF-8.
        if not 0 < len(value.encode()) <= 32:
            raise ValueError("a purpose is 1 to 32 bytes of UTF-8")
        return value


class GrantOut(BaseModel):
    """A grant given; ``share`` goes to the grantee, who reads with it."""

    grant_id: int
    records: list[str]
    share: dict[str, Any]


class RevokedOut(BaseModel):
    grant_id: int
    revoked: bool


class AuditOut(BaseModel):
    """Grants, accesses and revocations on the patient's records, by time;
    each entry as :func:`agora.vault.audit.entry_to_json` writes it."""

    entries: list[dict[str, Any]]


def _category_mask(names: list[str]) -> Category:
    mask = Category(0)
    for name in names:
        category = Category.of(name)
        if category is Category.OTHER and name != "Other":
            raise InvalidRequestError(f"categories: {name!r} is not a FHIR category")
        mask |= category
    return mask


def patient_routes(runtime: NodeRuntime, authenticated: CallerOf) -> APIRouter:
    """The routes of a patient node."""
    router = APIRouter(prefix="/v1", tags=["patient"], responses=REFUSALS)

    def patient(caller: Annotated[Caller, Depends(authenticated)]) -> Caller:
        if caller.did != runtime.did:
            raise ForbiddenError("only the patient may use the patient's node")
        return caller

    def owner() -> OwnerKeys:
        return OwnerKeys.derive(runtime.account())

    def catalog() -> OwnerCatalog:
        return OwnerCatalog.open(runtime.settings.state_dir, owner().account.address)

    def store() -> BlockBackend:
        return open_blockstore(runtime.settings)

    @router.get("/records", response_model=RecordsOut)
    def records(caller: Annotated[Caller, Depends(patient)]) -> RecordsOut:
        """The patient's records, from the vault's index (no content)."""
        del caller
        return RecordsOut(
            records=[
                RecordOut(
                    record_id=record.record_id,
                    category=record.category.name or str(int(record.category)),
                    envelope=record.envelope,
                )
                for record in catalog().records()
            ]
        )

    @router.post("/grants", response_model=GrantOut, status_code=201)
    def give_grant(
        grant: GrantIn, caller: Annotated[Caller, Depends(patient)]
    ) -> GrantOut:
        """Grant a DID read access to records by category and/or id; the key
        fragments go to the consortium's proxies. Returns the grant id and
        the share the grantee reads with."""
        del caller
        categories = _category_mask(grant.categories)
        if not categories and not grant.records:
            raise InvalidRequestError("grant at least one category or record")
        try:
            receiver = PublicKey.from_compressed_bytes(bytes.fromhex(grant.grantee_key))
        except ValueError:
            raise InvalidRequestError("grantee_key is not a vault key") from None

        keys = owner()
        with runtime.lock:
            owned, ledger = catalog(), runtime.ledger
            # The chain's clock may lag the wall clock between blocks; the
            # expiry must be ahead of both.
            now = max(ledger.chain.now(), int(time.time()))
            try:
                shared = share(
                    ledger.deployment,
                    keys,
                    grantee=grant.grantee,
                    grantee_key=receiver,
                    scope=Scope(frozenset(map(RecordId, grant.records)), categories),
                    purpose=grant.purpose,
                    expiry=now + grant.expires_in_s,
                    proxies=local_proxies(ledger, store(), runtime.settings.state_dir),
                    records=owned.records(),
                )
            except VaultError as exc:
                raise UpstreamError(f"the proxies refused the grant: {exc}") from exc
            # The catalog is a file rewritten whole: one writer at a time.
            owned.add_grant(shared.grant_id, grant.grantee)
        return GrantOut(
            grant_id=shared.grant_id,
            records=sorted(shared.labels),
            share=shared.to_json(),
        )

    @router.delete("/grants/{grant_id}", response_model=RevokedOut)
    def revoke_grant(
        grant_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
        caller: Annotated[Caller, Depends(patient)],
    ) -> RevokedOut:
        """End a grant now; the proxies refuse it from then on."""
        del caller
        keys = owner()
        with runtime.lock:
            ledger = runtime.ledger
            proxies = local_proxies(ledger, store(), runtime.settings.state_dir)
            try:
                revoke(ledger.deployment, keys, GrantId(grant_id), proxies=proxies)
            except ContractRevertError as exc:
                if "already revoked" in (exc.reason or ""):
                    raise ConflictError(
                        f"grant {grant_id} is revoked already"
                    ) from None
                # Unknown, or another owner's: the same answer for both.
                raise UnknownResourceError(
                    f"the patient has no grant {grant_id}"
                ) from None
        return RevokedOut(grant_id=grant_id, revoked=True)

    @router.get("/audit", response_model=AuditOut)
    def audit(caller: Annotated[Caller, Depends(patient)]) -> AuditOut:
        """Every grant, access and revocation on the patient's records, read
        back from the chain (access logs checked against their anchors)."""
        del caller
        keys, owned = owner(), catalog()
        with runtime.lock:
            try:
                trail = audit_trail(
                    runtime.ledger.deployment,
                    store(),
                    keys.account.address,
                    known_dids=owned.grantees(),
                )
            except VaultError as exc:
                raise UpstreamError(f"the audit trail is incomplete: {exc}") from exc
        return AuditOut(entries=[entry_to_json(entry) for entry in trail])

    return router
