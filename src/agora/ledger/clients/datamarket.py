"""Typed client of ``DataMarket.vy``: datasets, training jobs, payouts."""

from collections.abc import Sequence

from eth_typing import ChecksumAddress

from agora.ledger.clients.base import ContractClient
from agora.ledger.errors import InvalidArgumentError, NotFoundError
from agora.ledger.model import (
    NO_PRIVACY_COST,
    Account,
    Dataset,
    DatasetId,
    Inclusion,
    Job,
    JobId,
    JobState,
    MilliEpsilon,
    RoundCommitment,
    TokenAmount,
    TxHash,
)

_HASH_BYTES = 32


def _bytes32(value: bytes, what: str) -> bytes:
    # web3.py would pad a short value silently; a truncated hash is a bug.
    if len(value) != _HASH_BYTES:
        raise InvalidArgumentError(f"{what} must be 32 bytes, got {len(value)}")
    return value


class DataMarketClient(ContractClient):
    """Datasets offered, training jobs with escrowed rewards, and payouts.

    A job goes OPEN -> RUNNING -> FINALIZED, or OPEN -> CANCELLED. Every
    rule is enforced by the contract; a broken one raises
    :class:`~agora.ledger.errors.ContractRevertError` whose ``reason``
    starts with ``"datamarket: "``.
    """

    artifact_name = "DataMarket"

    def register_dataset(
        self,
        *,
        modality: bytes,
        label_set: bytes,
        samples: int,
        schema_cid: str,
        account: Account,
    ) -> DatasetId:
        """Offer a dataset's metadata; ``account`` must hold the HOSPITAL or
        PLATFORM role (a data provider).

        ``modality`` and ``label_set`` come from
        :func:`~agora.ledger.hashing.modality_hash` and
        :func:`~agora.ledger.hashing.label_set_hash`.
        """
        function = self.contract.functions.registerDataset(
            _bytes32(modality, "modality"),
            _bytes32(label_set, "label_set"),
            samples,
            schema_cid,
        )
        receipt = self._transact(account, function)
        return DatasetId(self._event(receipt, "DatasetRegistered")["args"]["datasetId"])

    def set_privacy_budget(
        self, dataset_id: DatasetId, budget: MilliEpsilon, *, account: Account
    ) -> TxHash:
        """Set a dataset's differential-privacy budget (its owner only).

        A new dataset's budget is unlimited; once finite it can only be
        lowered, never below what is spent. Private jobs whose epsilon the
        remaining budget cannot cover, and every job without differential
        privacy, are then refused at ``apply``.
        """
        return self._send(
            account, self.contract.functions.setPrivacyBudget(dataset_id, budget)
        )

    def post_job(
        self,
        *,
        spec_cid: str,
        modality: bytes,
        label_set: bytes,
        min_samples: int,
        reward: TokenAmount,
        min_providers: int,
        max_providers: int,
        deadline: int,
        coordinator: ChecksumAddress,
        account: Account,
        privacy_cost: MilliEpsilon = NO_PRIVACY_COST,
    ) -> JobId:
        """Post a job and escrow ``reward`` from ``account`` (a BUYER).

        ``account`` must first approve this contract for ``reward`` on the
        token. ``deadline`` is a chain timestamp (see ``Chain.now``) until
        which providers may apply and the coordinator may start the job.
        ``privacy_cost`` is the epsilon of the job's differential privacy,
        which each applying dataset's budget must cover; 0 (no differential
        privacy) is refused by every dataset with a finite budget.
        """
        function = self.contract.functions.postJob(
            spec_cid,
            _bytes32(modality, "modality"),
            _bytes32(label_set, "label_set"),
            min_samples,
            reward,
            min_providers,
            max_providers,
            deadline,
            coordinator,
            privacy_cost,
        )
        receipt = self._transact(account, function)
        return JobId(self._event(receipt, "JobPosted")["args"]["jobId"])

    def apply(
        self, job_id: JobId, dataset_id: DatasetId, *, account: Account
    ) -> TxHash:
        """Apply to an open job with a dataset that ``account`` owns."""
        return self._send(account, self.contract.functions.apply(job_id, dataset_id))

    def start_job(self, job_id: JobId, *, account: Account) -> TxHash:
        """Close applications and start training (the coordinator)."""
        return self._send(account, self.contract.functions.startJob(job_id))

    def commit_round(
        self,
        job_id: JobId,
        round_number: int,
        updates_root: bytes,
        aggregate_hash: bytes,
        *,
        account: Account,
    ) -> TxHash:
        """Commit round ``round_number`` (1, 2, … in order) of a running job."""
        function = self.contract.functions.commitRound(
            job_id,
            round_number,
            _bytes32(updates_root, "updates_root"),
            _bytes32(aggregate_hash, "aggregate_hash"),
        )
        return self._send(account, function)

    def publish_manifest(
        self, job_id: JobId, manifest_cid: str, *, account: Account
    ) -> TxHash:
        """Record the CID of the job's audit manifest (the coordinator, once,
        while the job runs; finalisation freezes it)."""
        function = self.contract.functions.publishManifest(job_id, manifest_cid)
        return self._send(account, function)

    def manifest_cid(self, job_id: JobId) -> str | None:
        """The CID of the job's audit manifest, or ``None`` if none was
        published."""
        cid = str(self._call(self.contract.functions.manifestCid(job_id)))
        return cid or None

    def declare_inclusion(
        self, job_id: JobId, inclusion: Inclusion, *, account: Account
    ) -> TxHash:
        """Declare, as a provider of ``job_id``, the records it trains on
        (once, before the first round is committed)."""
        function = self.contract.functions.declareInclusion(
            job_id, _bytes32(inclusion.root, "inclusion root"), inclusion.count
        )
        return self._send(account, function)

    def inclusion(self, job_id: JobId, provider: ChecksumAddress) -> Inclusion:
        """What ``provider`` declared for ``job_id``; :class:`NotFoundError`
        if it declared nothing."""
        root, count = self._call(self.contract.functions.inclusion(job_id, provider))
        if count == 0:
            raise NotFoundError(f"{provider} declared no inclusion for job {job_id}")
        return Inclusion(root=bytes(root), count=count)

    def finalize(
        self, job_id: JobId, weights_bps: Sequence[int], *, account: Account
    ) -> TxHash:
        """Pay the providers by ``weights_bps`` (provider order, sum 10000).

        :func:`~agora.ledger.hashing.to_basis_points` turns contribution
        scores into such weights. The rounding remainder goes back to the
        buyer.
        """
        return self._send(
            account, self.contract.functions.finalize(job_id, list(weights_bps))
        )

    def cancel(self, job_id: JobId, *, account: Account) -> TxHash:
        """Refund a never-started job to its buyer once its deadline passed;
        its datasets get the epsilon it reserved back."""
        return self._send(account, self.contract.functions.cancel(job_id))

    def abort(self, job_id: JobId, *, account: Account) -> TxHash:
        """Abort a running job that cannot complete; the buyer gets it all back."""
        return self._send(account, self.contract.functions.abort(job_id))

    def get_job(self, job_id: JobId) -> Job:
        """The job's current record; :class:`NotFoundError` if there is none."""
        (
            buyer,
            coordinator,
            spec_cid,
            modality,
            label_set,
            min_samples,
            reward,
            min_providers,
            max_providers,
            deadline,
            state,
            rounds_committed,
            privacy_cost,
        ) = self._call(self.contract.functions.jobs(job_id))
        if state == 0:
            raise NotFoundError(f"no job {job_id}")
        return Job(
            job_id=job_id,
            buyer=buyer,
            coordinator=coordinator,
            spec_cid=spec_cid,
            modality=bytes(modality),
            label_set=bytes(label_set),
            min_samples=min_samples,
            reward=TokenAmount(reward),
            min_providers=min_providers,
            max_providers=max_providers,
            deadline=deadline,
            state=JobState(state),
            rounds_committed=rounds_committed,
            privacy_cost=MilliEpsilon(privacy_cost),
        )

    def dataset(self, dataset_id: DatasetId) -> Dataset:
        """A dataset offer; :class:`NotFoundError` if there is none."""
        owner, modality, label_set, samples, schema_cid, budget, spent = self._call(
            self.contract.functions.datasets(dataset_id)
        )
        if samples == 0:
            raise NotFoundError(f"no dataset {dataset_id}")
        return Dataset(
            dataset_id=dataset_id,
            owner=owner,
            modality=bytes(modality),
            label_set=bytes(label_set),
            samples=samples,
            schema_cid=schema_cid,
            privacy_budget=MilliEpsilon(budget),
            privacy_spent=MilliEpsilon(spent),
        )

    def providers(self, job_id: JobId) -> list[ChecksumAddress]:
        """A job's providers in application order (the order of weights)."""
        return list(self._call(self.contract.functions.providers(job_id)))

    def provider_dataset(self, job_id: JobId, provider: ChecksumAddress) -> DatasetId:
        """The dataset ``provider`` applied to ``job_id`` with."""
        dataset_id = self._call(
            self.contract.functions.providerDataset(job_id, provider)
        )
        if dataset_id == 0:
            raise NotFoundError(f"{provider} did not apply to job {job_id}")
        return DatasetId(dataset_id)

    def round_commitment(self, job_id: JobId, round_number: int) -> RoundCommitment:
        """What was committed for a round; :class:`NotFoundError` if nothing."""
        updates_root, aggregate_hash = self._call(
            self.contract.functions.roundCommitment(job_id, round_number)
        )
        if aggregate_hash == bytes(_HASH_BYTES):
            raise NotFoundError(f"job {job_id} has no round {round_number}")
        return RoundCommitment(
            updates_root=bytes(updates_root), aggregate_hash=bytes(aggregate_hash)
        )

    def payout(self, job_id: JobId, provider: ChecksumAddress) -> TokenAmount:
        """What ``provider`` was paid for ``job_id`` (0 before finalisation)."""
        return TokenAmount(self._call(self.contract.functions.payout(job_id, provider)))

    def refunded(self, job_id: JobId) -> TokenAmount:
        """What went back to the buyer of ``job_id`` (dust, or all if cancelled)."""
        return TokenAmount(self._call(self.contract.functions.refunded(job_id)))

    def job_count(self) -> int:
        """How many jobs were ever posted; ids run from 1 to this."""
        return int(self._call(self.contract.functions.jobCount()))

    def dataset_count(self) -> int:
        """How many datasets were ever registered; ids run from 1 to this."""
        return int(self._call(self.contract.functions.datasetCount()))
