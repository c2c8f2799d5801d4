# pragma version ~=0.4.3
"""
@title DataMarket
@notice Datasets offered by data providers (hospitals, lending
        platforms; metadata only), federated training
        jobs with an escrowed reward, on-chain matching of providers to
        jobs, per-round commitments and finalisation that pays each
        provider by contribution weight.

        Job life cycle: OPEN (providers apply) -> RUNNING (coordinator
        commits rounds) -> FINALIZED (providers paid, dust refunded), or
        OPEN -> CANCELLED (buyer refunded after the deadline when the job
        never started).
        RUNNING -> CANCELLED (the coordinator aborts a job that cannot be
        completed, e.g. no provider delivered a valid update: the buyer is
        refunded in full, nobody is paid).

        Privacy budget: each dataset carries a differential-privacy budget
        in milli-epsilon (unlimited until its owner sets one; once finite
        it can only be lowered) and the epsilon committed so far. A job
        posted with a privacy cost (its spec's epsilon, in milli-epsilon;
        0 for a job without differential privacy) reserves that cost on
        the dataset when a provider applies, and the apply reverts when the
        budget cannot cover it. The reservation is given back only when the
        job is cancelled before it started; once training started the data
        has been used, so an aborted job keeps its spend. A job without
        differential privacy spends an unbounded epsilon and is refused by
        every dataset with a finite budget.

        Every function that moves tokens writes its state before the
        transfer (checks-effects-interactions) and also holds Vyper's
        reentrancy lock. The lock check is compiled as a bare `assert`, so
        a re-entrant call reverts without a reason string; every other
        misuse reverts with a reason prefixed "datamarket: ".
"""

from ethereum.ercs import IERC20


interface IConsortium:
    def hasRole(account: address, role: uint256) -> bool: view


# Role bits, mirrored from Consortium.vy.
HOSPITAL: constant(uint256) = 1
COORDINATOR: constant(uint256) = 2
BUYER: constant(uint256) = 4
PLATFORM: constant(uint256) = 8

MAX_PROVIDERS: public(constant(uint256)) = 16
BPS: public(constant(uint256)) = 10000

# Privacy budgets and costs are in milli-epsilon. A job's cost is bounded
# (epsilon 1000 is far past any meaningful guarantee), so the spend of a
# dataset with an unlimited budget cannot overflow: it would take more
# than 10**70 jobs.
UNLIMITED_PRIVACY: public(constant(uint256)) = max_value(uint256)
MAX_JOB_PRIVACY_COST: public(constant(uint256)) = 1000000

# Job states; 0 means "no such job".
OPEN: public(constant(uint256)) = 1
RUNNING: public(constant(uint256)) = 2
FINALIZED: public(constant(uint256)) = 3
CANCELLED: public(constant(uint256)) = 4


struct Dataset:
    owner: address
    modality: bytes32
    labelSet: bytes32
    samples: uint256
    schemaCid: String[128]
    privacyBudget: uint256
    privacySpent: uint256


struct Job:
    buyer: address
    coordinator: address
    specCid: String[128]
    modality: bytes32
    labelSet: bytes32
    minSamples: uint256
    reward: uint256
    minProviders: uint256
    maxProviders: uint256
    deadline: uint256
    state: uint256
    roundsCommitted: uint256
    privacyCost: uint256


struct Round:
    updatesRoot: bytes32
    aggregateHash: bytes32


struct Inclusion:
    root: bytes32
    count: uint256


consortium: public(immutable(IConsortium))
token: public(immutable(IERC20))

datasetCount: public(uint256)
datasets: public(HashMap[uint256, Dataset])

jobCount: public(uint256)
jobs: public(HashMap[uint256, Job])

_providers: HashMap[uint256, DynArray[address, MAX_PROVIDERS]]
# jobId -> provider -> datasetId it applied with (ids start at 1).
providerDataset: public(HashMap[uint256, HashMap[address, uint256]])
_rounds: HashMap[uint256, HashMap[uint256, Round]]
payout: public(HashMap[uint256, HashMap[address, uint256]])
# jobId -> provider -> the records it trains on (a consent-scoped job).
_inclusions: HashMap[uint256, HashMap[address, Inclusion]]
refunded: public(HashMap[uint256, uint256])
# jobId -> CID of the job's audit manifest (rounds, updates, aggregates,
# contributions; see docs/federated-audit.md). Set once, before finalize.
manifestCid: public(HashMap[uint256, String[128]])


event DatasetRegistered:
    datasetId: indexed(uint256)
    owner: indexed(address)
    modality: bytes32
    labelSet: bytes32
    samples: uint256
    schemaCid: String[128]


event PrivacyBudgetSet:
    datasetId: indexed(uint256)
    budget: uint256
    spent: uint256


event PrivacySpent:
    jobId: indexed(uint256)
    datasetId: indexed(uint256)
    cost: uint256
    spent: uint256


event PrivacyReleased:
    jobId: indexed(uint256)
    datasetId: indexed(uint256)
    cost: uint256
    spent: uint256


event JobPosted:
    jobId: indexed(uint256)
    buyer: indexed(address)
    coordinator: indexed(address)
    reward: uint256
    deadline: uint256
    specCid: String[128]
    privacyCost: uint256


event ProviderApplied:
    jobId: indexed(uint256)
    provider: indexed(address)
    datasetId: indexed(uint256)
    index: uint256


event JobStarted:
    jobId: indexed(uint256)
    providers: uint256


event RoundCommitted:
    jobId: indexed(uint256)
    round: indexed(uint256)
    updatesRoot: bytes32
    aggregateHash: bytes32


event ManifestPublished:
    jobId: indexed(uint256)
    manifestCid: String[128]


event InclusionDeclared:
    jobId: indexed(uint256)
    provider: indexed(address)
    root: bytes32
    count: uint256


event ProviderPaid:
    jobId: indexed(uint256)
    provider: indexed(address)
    amount: uint256


event Refunded:
    jobId: indexed(uint256)
    buyer: indexed(address)
    amount: uint256


event JobFinalized:
    jobId: indexed(uint256)
    paid: uint256
    refunded: uint256


event JobCancelled:
    jobId: indexed(uint256)
    refunded: uint256


@deploy
def __init__(consortium_: IConsortium, token_: IERC20):
    consortium = consortium_
    token = token_


@internal
@view
def _has_role(account: address, role: uint256) -> bool:
    return staticcall consortium.hasRole(account, role)


@internal
@view
def _is_provider(account: address) -> bool:
    # Hospitals offer X-rays; lending platforms offer their borrowers'
    # credit histories (the joint credit model of the lending application).
    return self._has_role(account, HOSPITAL) or self._has_role(account, PLATFORM)


@internal
@view
def _job(jobId: uint256) -> Job:
    job: Job = self.jobs[jobId]
    assert job.state != 0, "datamarket: no such job"
    return job


@internal
@view
def _check_coordinator(job: Job):
    assert msg.sender == job.coordinator, "datamarket: caller is not the coordinator"


@external
def registerDataset(
    modality: bytes32, labelSet: bytes32, samples: uint256, schemaCid: String[128]
) -> uint256:
    """
    @notice Offer a dataset's metadata. Caller must be a hospital or a
            lending platform.
    @return The new dataset id (ids start at 1).
    """
    assert self._is_provider(msg.sender), "datamarket: caller is not a data provider"
    assert modality != empty(bytes32), "datamarket: empty modality"
    assert labelSet != empty(bytes32), "datamarket: empty label set"
    assert samples > 0, "datamarket: no samples"

    datasetId: uint256 = self.datasetCount + 1
    self.datasetCount = datasetId
    self.datasets[datasetId] = Dataset(
        owner=msg.sender,
        modality=modality,
        labelSet=labelSet,
        samples=samples,
        schemaCid=schemaCid,
        privacyBudget=UNLIMITED_PRIVACY,
        privacySpent=0,
    )
    log DatasetRegistered(
        datasetId=datasetId,
        owner=msg.sender,
        modality=modality,
        labelSet=labelSet,
        samples=samples,
        schemaCid=schemaCid,
    )
    return datasetId


@external
def setPrivacyBudget(datasetId: uint256, budget: uint256):
    """
    @notice Set a dataset's differential-privacy budget, in milli-epsilon.
            Owner only. A finite budget can only be lowered afterwards (a
            promise to the data subjects cannot be taken back), and never
            below what is already spent. A budget of 0 closes the dataset
            to every job.
    """
    dataset: Dataset = self.datasets[datasetId]
    assert dataset.owner != empty(address), "datamarket: no such dataset"
    assert dataset.owner == msg.sender, "datamarket: caller does not own dataset"
    assert budget <= dataset.privacyBudget, "datamarket: privacy budget can only be lowered"
    assert budget >= dataset.privacySpent, "datamarket: privacy budget below spent"

    self.datasets[datasetId].privacyBudget = budget
    log PrivacyBudgetSet(datasetId=datasetId, budget=budget, spent=dataset.privacySpent)


@external
@view
def privacyRemaining(datasetId: uint256) -> uint256:
    """
    @notice What is left of a dataset's privacy budget, in milli-epsilon
            (UNLIMITED_PRIVACY for an unlimited one).
    """
    dataset: Dataset = self.datasets[datasetId]
    assert dataset.owner != empty(address), "datamarket: no such dataset"
    if dataset.privacyBudget == UNLIMITED_PRIVACY:
        return UNLIMITED_PRIVACY
    return dataset.privacyBudget - dataset.privacySpent


@external
@nonreentrant
def postJob(
    specCid: String[128],
    modality: bytes32,
    labelSet: bytes32,
    minSamples: uint256,
    reward: uint256,
    minProviders: uint256,
    maxProviders: uint256,
    deadline: uint256,
    coordinator: address,
    privacyCost: uint256,
) -> uint256:
    """
    @notice Post a training job and escrow `reward` from the caller, who
            must be a buyer and must have approved this contract first.
            `privacyCost` is the epsilon of the job's differential privacy
            in milli-epsilon, as its spec states; 0 for a job without it.
    @return The new job id (ids start at 1).
    """
    assert self._has_role(msg.sender, BUYER), "datamarket: caller is not a buyer"
    assert self._has_role(coordinator, COORDINATOR), "datamarket: coordinator lacks role"
    assert minProviders >= 1, "datamarket: minProviders below 1"
    assert minProviders <= maxProviders, "datamarket: minProviders above maxProviders"
    assert maxProviders <= MAX_PROVIDERS, "datamarket: maxProviders above 16"
    assert deadline > block.timestamp, "datamarket: deadline passed"
    assert reward > 0, "datamarket: zero reward"
    # finalize multiplies reward by a weight of at most BPS; bounding it
    # here means finalisation can never overflow and strand the escrow.
    assert reward <= max_value(uint256) // BPS, "datamarket: reward too large"
    assert privacyCost <= MAX_JOB_PRIVACY_COST, "datamarket: privacy cost too large"

    jobId: uint256 = self.jobCount + 1
    self.jobCount = jobId
    self.jobs[jobId] = Job(
        buyer=msg.sender,
        coordinator=coordinator,
        specCid=specCid,
        modality=modality,
        labelSet=labelSet,
        minSamples=minSamples,
        reward=reward,
        minProviders=minProviders,
        maxProviders=maxProviders,
        deadline=deadline,
        state=OPEN,
        roundsCommitted=0,
        privacyCost=privacyCost,
    )
    log JobPosted(
        jobId=jobId,
        buyer=msg.sender,
        coordinator=coordinator,
        reward=reward,
        deadline=deadline,
        specCid=specCid,
        privacyCost=privacyCost,
    )

    assert extcall token.transferFrom(msg.sender, self, reward), "datamarket: escrow failed"
    return jobId


@external
def apply(jobId: uint256, datasetId: uint256):
    """
    @notice Apply to an open job with one of the caller's datasets. The
            contract checks that the dataset matches the job. Providers are
            indexed in application order; `finalize` weights follow it.
    """
    job: Job = self._job(jobId)
    assert job.state == OPEN, "datamarket: job not open"
    assert block.timestamp <= job.deadline, "datamarket: deadline passed"
    assert self._is_provider(msg.sender), "datamarket: caller is not a data provider"

    dataset: Dataset = self.datasets[datasetId]
    assert dataset.owner != empty(address), "datamarket: no such dataset"
    assert dataset.owner == msg.sender, "datamarket: caller does not own dataset"
    assert dataset.modality == job.modality, "datamarket: modality mismatch"
    assert dataset.labelSet == job.labelSet, "datamarket: label set mismatch"
    assert dataset.samples >= job.minSamples, "datamarket: too few samples"
    self._check_privacy(job, dataset)

    # A dataset's owner never changes, so one application per provider
    # also means one application per dataset.
    assert self.providerDataset[jobId][msg.sender] == 0, "datamarket: already applied"
    index: uint256 = len(self._providers[jobId])
    assert index < job.maxProviders, "datamarket: job is full"

    self._providers[jobId].append(msg.sender)
    self.providerDataset[jobId][msg.sender] = datasetId
    log ProviderApplied(jobId=jobId, provider=msg.sender, datasetId=datasetId, index=index)

    # Spend at application, not at the start or the end: the coordinator
    # cannot then start a job some of whose datasets ran out meanwhile, and
    # training leaks even when the job is aborted later.
    if job.privacyCost > 0:
        spent: uint256 = dataset.privacySpent + job.privacyCost
        self.datasets[datasetId].privacySpent = spent
        log PrivacySpent(jobId=jobId, datasetId=datasetId, cost=job.privacyCost, spent=spent)


@internal
@view
def _check_privacy(job: Job, dataset: Dataset):
    if dataset.privacyBudget == UNLIMITED_PRIVACY:
        return
    assert job.privacyCost > 0, "datamarket: dataset needs a private job"
    # spent <= budget always holds, so this cannot underflow.
    remaining: uint256 = dataset.privacyBudget - dataset.privacySpent
    assert job.privacyCost <= remaining, "datamarket: privacy budget exhausted"


@external
def startJob(jobId: uint256):
    """
    @notice Close applications and start training. Coordinator only.
    """
    job: Job = self._job(jobId)
    self._check_coordinator(job)
    assert job.state == OPEN, "datamarket: job not open"
    assert block.timestamp <= job.deadline, "datamarket: deadline passed"
    count: uint256 = len(self._providers[jobId])
    assert count >= job.minProviders, "datamarket: too few providers"

    self.jobs[jobId].state = RUNNING
    log JobStarted(jobId=jobId, providers=count)


@external
def declareInclusion(jobId: uint256, root: bytes32, count: uint256):
    """
    @notice Declare, as a provider matched to the job, the Merkle root of
            the ids of the `count` records it will train on (those its
            patients' consent covers), once, before the first round is
            committed, with `minSamples <= count <= samples offered`.
            Updates of a consent-scoped job are then bounded by `count`,
            not by the samples the dataset offered.
    """
    job: Job = self._job(jobId)
    assert job.state == OPEN or job.state == RUNNING, "datamarket: job not open or running"
    assert job.roundsCommitted == 0, "datamarket: rounds already committed"
    datasetId: uint256 = self.providerDataset[jobId][msg.sender]
    assert datasetId != 0, "datamarket: caller is not a provider of the job"
    assert self._inclusions[jobId][msg.sender].count == 0, "datamarket: inclusion already declared"
    assert root != empty(bytes32), "datamarket: empty inclusion root"
    assert count > 0, "datamarket: no records included"
    # The job's minimum holds for what is trained on, not only for the offer.
    assert count >= job.minSamples, "datamarket: fewer records than the job's minimum"
    assert count <= self.datasets[datasetId].samples, "datamarket: more records than offered"

    self._inclusions[jobId][msg.sender] = Inclusion(root=root, count=count)
    log InclusionDeclared(jobId=jobId, provider=msg.sender, root=root, count=count)


@external
def commitRound(jobId: uint256, round: uint256, updatesRoot: bytes32, aggregateHash: bytes32):
    """
    @notice Commit training round `round` (rounds start at 1): the Merkle
            root of the providers' update hashes and the aggregate's hash.
    """
    job: Job = self._job(jobId)
    self._check_coordinator(job)
    assert job.state == RUNNING, "datamarket: job not running"
    assert round == job.roundsCommitted + 1, "datamarket: round out of order"
    assert updatesRoot != empty(bytes32), "datamarket: empty updates root"
    assert aggregateHash != empty(bytes32), "datamarket: empty aggregate hash"

    self.jobs[jobId].roundsCommitted = round
    self._rounds[jobId][round] = Round(updatesRoot=updatesRoot, aggregateHash=aggregateHash)
    log RoundCommitted(
        jobId=jobId, round=round, updatesRoot=updatesRoot, aggregateHash=aggregateHash
    )


@external
def publishManifest(jobId: uint256, manifestCid: String[128]):
    """
    @notice Record the CID of the job's audit manifest. Coordinator only,
            once, while the job runs: finalisation freezes it, so the
            manifest the providers are paid against cannot be swapped.
    """
    job: Job = self._job(jobId)
    self._check_coordinator(job)
    assert job.state == RUNNING, "datamarket: job not running"
    assert len(manifestCid) > 0, "datamarket: empty manifest cid"
    assert len(self.manifestCid[jobId]) == 0, "datamarket: manifest already published"

    self.manifestCid[jobId] = manifestCid
    log ManifestPublished(jobId=jobId, manifestCid=manifestCid)


@external
@nonreentrant
def finalize(jobId: uint256, weightsBps: DynArray[uint256, MAX_PROVIDERS]):
    """
    @notice Pay each provider reward * weight / 10000, in provider order,
            and refund the rounding remainder to the buyer. Coordinator only.
    """
    job: Job = self._job(jobId)
    self._check_coordinator(job)
    assert job.state == RUNNING, "datamarket: job not running"
    assert job.roundsCommitted >= 1, "datamarket: no rounds committed"
    providers: DynArray[address, MAX_PROVIDERS] = self._providers[jobId]
    assert len(weightsBps) == len(providers), "datamarket: weights length mismatch"
    total: uint256 = 0
    for weight: uint256 in weightsBps:
        # Bounding each weight keeps the sum (at most 16 terms) from
        # overflowing, which would revert without a reason.
        assert weight <= BPS, "datamarket: weight above 10000"
        total += weight
    assert total == BPS, "datamarket: weights must sum to 10000"

    # Effects: every amount is recorded before any token moves.
    self.jobs[jobId].state = FINALIZED
    amounts: DynArray[uint256, MAX_PROVIDERS] = []
    paid: uint256 = 0
    for i: uint256 in range(len(providers), bound=MAX_PROVIDERS):
        amount: uint256 = job.reward * weightsBps[i] // BPS
        amounts.append(amount)
        paid += amount
        self.payout[jobId][providers[i]] = amount
        log ProviderPaid(jobId=jobId, provider=providers[i], amount=amount)
    remainder: uint256 = job.reward - paid
    self.refunded[jobId] = remainder
    log Refunded(jobId=jobId, buyer=job.buyer, amount=remainder)
    log JobFinalized(jobId=jobId, paid=paid, refunded=remainder)

    # Interactions.
    for i: uint256 in range(len(providers), bound=MAX_PROVIDERS):
        if amounts[i] > 0:
            assert extcall token.transfer(providers[i], amounts[i]), "datamarket: payment failed"
    if remainder > 0:
        assert extcall token.transfer(job.buyer, remainder), "datamarket: refund failed"


@external
@nonreentrant
def cancel(jobId: uint256):
    """
    @notice Refund the whole escrow to the buyer of a job that never
            started, once its deadline has passed. Buyer only.
    """
    job: Job = self._job(jobId)
    assert msg.sender == job.buyer, "datamarket: caller is not the buyer"
    assert job.state == OPEN, "datamarket: job not open"
    assert block.timestamp > job.deadline, "datamarket: deadline not reached"

    self.jobs[jobId].state = CANCELLED
    self.refunded[jobId] = job.reward
    log Refunded(jobId=jobId, buyer=job.buyer, amount=job.reward)
    log JobCancelled(jobId=jobId, refunded=job.reward)

    # No training happened: the datasets get their reserved epsilon back.
    if job.privacyCost > 0:
        for provider: address in self._providers[jobId]:
            datasetId: uint256 = self.providerDataset[jobId][provider]
            spent: uint256 = self.datasets[datasetId].privacySpent - job.privacyCost
            self.datasets[datasetId].privacySpent = spent
            log PrivacyReleased(
                jobId=jobId, datasetId=datasetId, cost=job.privacyCost, spent=spent
            )

    assert extcall token.transfer(job.buyer, job.reward), "datamarket: refund failed"


@external
@nonreentrant
def abort(jobId: uint256):
    """
    @notice Abort a running job that cannot be completed and refund the
            whole escrow to its buyer. Coordinator only; committed rounds
            stay on record. Without this a failed job would lock the
            escrow for ever (cancel only applies before the start).
    """
    job: Job = self._job(jobId)
    assert msg.sender == job.coordinator, "datamarket: caller is not the coordinator"
    assert job.state == RUNNING, "datamarket: job not running"

    self.jobs[jobId].state = CANCELLED
    self.refunded[jobId] = job.reward
    log Refunded(jobId=jobId, buyer=job.buyer, amount=job.reward)
    log JobCancelled(jobId=jobId, refunded=job.reward)

    assert extcall token.transfer(job.buyer, job.reward), "datamarket: refund failed"


@external
@view
def providers(jobId: uint256) -> DynArray[address, MAX_PROVIDERS]:
    """
    @notice Providers of a job in application order.
    """
    return self._providers[jobId]


@external
@view
def inclusion(jobId: uint256, provider: address) -> (bytes32, uint256):
    """
    @notice (root, count) a provider declared for a job; zeros if none.
    """
    declared: Inclusion = self._inclusions[jobId][provider]
    return declared.root, declared.count


@external
@view
def roundCommitment(jobId: uint256, round: uint256) -> (bytes32, bytes32):
    """
    @notice (updatesRoot, aggregateHash) of a committed round; zeros if
            the round was never committed.
    """
    committed: Round = self._rounds[jobId][round]
    return committed.updatesRoot, committed.aggregateHash
