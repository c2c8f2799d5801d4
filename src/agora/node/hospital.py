"""The hospital node: dataset offers, jobs joined, earnings.

The hospital's staff (DIDs listed in the node's configuration) may do
everything here; any consortium member may read the offers, which are
public on ``DataMarket`` anyway. Everyone else gets a 403. The node acts on
chain with the account of its own DID's key, which the consortium admin
must have admitted with the ``HOSPITAL`` role.
"""

import time
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from agora.errors import AgoraError
from agora.ledger import DatasetId, JobId, JobState
from agora.ledger.errors import ContractRevertError
from agora.ledger.hashing import label_set_hash, modality_hash
from agora.node.app import REFUSALS, CallerOf
from agora.node.auth import Caller
from agora.node.db import OfferNote
from agora.node.errors import ConflictError, ForbiddenError
from agora.node.runtime import NodeRuntime
from agora.vault.sharing import owner_address

Label = Annotated[str, Field(min_length=1, max_length=64)]


class OfferIn(BaseModel):
    """A dataset to offer: its metadata only; the data stays here.

    Example body::

        {"title": "Chest X-rays 2025", "modality": "xray/chest-28x28-grey",
         "labels": ["normal", "pneumonia"], "samples": 1200,
         "schema_cid": "bafkrei…"}
    """

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    modality: str = Field(min_length=1, max_length=64)
    labels: list[Label] = Field(min_length=1, max_length=64)
    samples: int = Field(ge=1, le=2**63 - 1)
    schema_cid: str = Field(pattern=r"^[A-Za-z0-9]{1,128}$")
    """CID of the dataset's schema document (``DataMarket`` keeps it)."""


class OfferOut(BaseModel):
    """One offer on ``DataMarket``; ``title``, ``modality`` and ``labels``
    are known only for offers this node registered (else ``null``)."""

    dataset_id: int
    samples: int
    schema_cid: str
    modality_hash: str
    title: str | None
    modality: str | None
    labels: list[str] | None


class OffersOut(BaseModel):
    offers: list[OfferOut]


class JobOut(BaseModel):
    """A job the hospital joined with one of its datasets."""

    job_id: int
    state: str
    """``OPEN``, ``RUNNING``, ``FINALIZED`` or ``CANCELLED``."""
    dataset_id: int
    rounds_committed: int
    reward: str
    """The job's escrowed reward, smallest Token unit."""
    payout: str
    """What this hospital was paid, smallest Token unit (0 until final)."""


class JobsOut(BaseModel):
    jobs: list[JobOut]


class EarningsOut(BaseModel):
    """Payouts by job and in all, and the Token balance of the account."""

    account: str
    total_payouts: str
    by_job: dict[str, str]
    token_balance: str


def hospital_routes(runtime: NodeRuntime, authenticated: CallerOf) -> APIRouter:
    """The routes of a hospital node."""
    router = APIRouter(prefix="/v1", tags=["hospital"], responses=REFUSALS)
    staff = frozenset(runtime.config.staff)

    def staff_member(caller: Annotated[Caller, Depends(authenticated)]) -> Caller:
        if caller.did not in staff:
            raise ForbiddenError("only the hospital's staff may do this")
        return caller

    def member_or_staff(caller: Annotated[Caller, Depends(authenticated)]) -> Caller:
        if caller.did in staff:
            return caller
        try:
            address = owner_address(caller.did)
        except AgoraError:
            address = None  # an Ed25519 did:key names no account
        with runtime.lock:
            admitted = address is not None and (
                runtime.ledger.deployment.consortium.is_member(address)
            )
        if not admitted:
            raise ForbiddenError("only consortium members may read the offers")
        return caller

    @router.get("/offers", response_model=OffersOut)
    def offers(caller: Annotated[Caller, Depends(member_or_staff)]) -> OffersOut:
        """The hospital's dataset offers on ``DataMarket``."""
        del caller
        notes = runtime.database.offers()
        account = runtime.account()
        market = runtime.ledger.deployment.data_market
        listed = []
        with runtime.lock:
            for number in range(1, market.dataset_count() + 1):
                dataset = market.dataset(DatasetId(number))
                if dataset.owner != account.address:
                    continue
                note = notes.get(number)
                listed.append(
                    OfferOut(
                        dataset_id=number,
                        samples=dataset.samples,
                        schema_cid=dataset.schema_cid,
                        modality_hash="0x" + dataset.modality.hex(),
                        title=note.title if note else None,
                        modality=note.modality if note else None,
                        labels=list(note.labels) if note else None,
                    )
                )
        return OffersOut(offers=listed)

    @router.post("/offers", response_model=OfferOut, status_code=201)
    def register_offer(
        offer: OfferIn, caller: Annotated[Caller, Depends(staff_member)]
    ) -> OfferOut:
        """Offer a dataset's metadata on ``DataMarket`` (staff only)."""
        account = runtime.account()
        with runtime.lock:
            try:
                dataset_id = runtime.ledger.deployment.data_market.register_dataset(
                    modality=modality_hash(offer.modality),
                    label_set=label_set_hash(offer.labels),
                    samples=offer.samples,
                    schema_cid=offer.schema_cid,
                    account=account,
                )
            except ContractRevertError as exc:
                raise ConflictError(
                    "DataMarket refused the offer: the node's account must be a "
                    f"consortium hospital ({exc.reason})"
                ) from None
        note = OfferNote(
            dataset_id=int(dataset_id),
            title=offer.title,
            modality=offer.modality,
            labels=tuple(offer.labels),
            registered_by=caller.did,
            registered_at=int(time.time()),
        )
        runtime.database.add_offer(note)
        return OfferOut(
            dataset_id=note.dataset_id,
            samples=offer.samples,
            schema_cid=offer.schema_cid,
            modality_hash="0x" + modality_hash(offer.modality).hex(),
            title=offer.title,
            modality=offer.modality,
            labels=list(offer.labels),
        )

    def joined() -> list[JobOut]:
        address = runtime.account().address
        market = runtime.ledger.deployment.data_market
        jobs = []
        with runtime.lock:
            for number in range(1, market.job_count() + 1):
                job_id = JobId(number)
                if address not in market.providers(job_id):
                    continue
                job = market.get_job(job_id)
                jobs.append(
                    JobOut(
                        job_id=number,
                        state=JobState(job.state).name,
                        dataset_id=market.provider_dataset(job_id, address),
                        rounds_committed=job.rounds_committed,
                        reward=str(job.reward),
                        payout=str(market.payout(job_id, address)),
                    )
                )
        return jobs

    @router.get("/jobs", response_model=JobsOut)
    def jobs(caller: Annotated[Caller, Depends(staff_member)]) -> JobsOut:
        """The training jobs the hospital joined, with their state."""
        del caller
        return JobsOut(jobs=joined())

    @router.get("/earnings", response_model=EarningsOut)
    def earnings(caller: Annotated[Caller, Depends(staff_member)]) -> EarningsOut:
        """What the hospital was paid for its contributions."""
        del caller
        by_job = {str(job.job_id): job.payout for job in joined()}
        address = runtime.account().address
        with runtime.lock:
            balance = runtime.ledger.deployment.token.balance_of(address)
        return EarningsOut(
            account=address,
            total_payouts=str(sum(int(amount) for amount in by_job.values())),
            by_job=by_job,
            token_balance=str(balance),
        )

    return router
