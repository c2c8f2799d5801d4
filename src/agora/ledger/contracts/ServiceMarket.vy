# pragma version ~=0.4.3
"""
@title ServiceMarket
@notice AI services sold per call, with royalties to the data providers who
        trained the model. A provider lists a service: the model's CID, a
        price per call, the provider's share in basis points, and the
        finalized DataMarket job that trained the model; the rest of every
        fee is split among that job's providers in proportion to what the
        job paid them (their contribution weights).
        Calls cost no transaction. A consumer deposits Token, and for each
        call signs an EIP-712 receipt: (service, consumer, cumulative calls,
        nonce). Anyone, usually the provider, settles the latest receipt:
        the calls since the last settlement are charged to the deposit.
        Counts only grow, so an old receipt settles nothing; the consumer's
        signature fixes the count, so nobody inflates it. A consumer leaves
        by asking to withdraw and waiting NOTICE seconds, during which the
        provider can still settle; withdrawing returns the rest and starts a
        new nonce, which voids every receipt signed before.
        Every misuse reverts with a reason prefixed "services: ".
"""

from ethereum.ercs import IERC20
from snekmate.utils import ecdsa
from snekmate.utils import eip712_domain_separator as eip712

initializes: eip712

exports: eip712.eip712Domain


interface IConsortium:
    def hasRole(account: address, role: uint256) -> bool: view


# DataMarket's Job, field for field: its getter returns this struct.
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


interface IDataMarket:
    def jobs(jobId: uint256) -> Job: view
    def providers(jobId: uint256) -> DynArray[address, 16]: view
    def payout(jobId: uint256, provider: address) -> uint256: view


BPS: constant(uint256) = 10_000
BUYER: constant(uint256) = 4
MAX_PROVIDERS: constant(uint256) = 16
FINALIZED: constant(uint256) = 3
NOTICE: public(constant(uint256)) = 86_400

RECEIPT_TYPEHASH: public(constant(bytes32)) = keccak256(
    "Receipt(uint256 service,address consumer,uint256 calls,uint256 nonce)"
)


struct Service:
    provider: address
    modelCid: String[128]
    pricePerCall: uint256
    providerShareBps: uint256
    jobId: uint256
    active: bool


event ServiceListed:
    serviceId: indexed(uint256)
    provider: indexed(address)
    jobId: indexed(uint256)
    modelCid: String[128]
    pricePerCall: uint256
    providerShareBps: uint256


event ServiceDelisted:
    serviceId: indexed(uint256)


event Deposited:
    consumer: indexed(address)
    amount: uint256


event Settled:
    serviceId: indexed(uint256)
    consumer: indexed(address)
    calls: uint256
    amount: uint256


event RoyaltyPaid:
    serviceId: indexed(uint256)
    recipient: indexed(address)
    amount: uint256


event WithdrawalRequested:
    consumer: indexed(address)
    availableAt: uint256


event Withdrawn:
    consumer: indexed(address)
    amount: uint256


consortium: public(immutable(IConsortium))
token: public(immutable(IERC20))
dataMarket: public(immutable(IDataMarket))

serviceCount: public(uint256)
services: public(HashMap[uint256, Service])
deposits: public(HashMap[address, uint256])
nonces: public(HashMap[address, uint256])
settledCalls: public(HashMap[uint256, HashMap[address, HashMap[uint256, uint256]]])
withdrawalAt: public(HashMap[address, uint256])
earned: public(HashMap[address, uint256])


@deploy
def __init__(consortium_: IConsortium, token_: IERC20, dataMarket_: IDataMarket):
    eip712.__init__("Agora ServiceMarket", "1")
    consortium = consortium_
    token = token_
    dataMarket = dataMarket_


@external
def listService(
    modelCid: String[128], pricePerCall: uint256, providerShareBps: uint256, jobId: uint256
) -> uint256:
    """
    @notice List a service of the model trained by finalized job `jobId`;
            only that job's buyer, who paid for the model, may.
    """
    job: Job = staticcall dataMarket.jobs(jobId)
    assert staticcall consortium.hasRole(msg.sender, BUYER), "services: not a buyer"
    assert msg.sender == job.buyer, "services: not the job's buyer"
    assert job.state == FINALIZED, "services: job not finalized"
    assert len(modelCid) > 0, "services: empty model CID"
    assert pricePerCall > 0, "services: zero price"
    assert providerShareBps <= BPS, "services: share over 10000"

    serviceId: uint256 = self.serviceCount + 1
    self.serviceCount = serviceId
    self.services[serviceId] = Service(
        provider=msg.sender,
        modelCid=modelCid,
        pricePerCall=pricePerCall,
        providerShareBps=providerShareBps,
        jobId=jobId,
        active=True,
    )
    log ServiceListed(
        serviceId=serviceId,
        provider=msg.sender,
        jobId=jobId,
        modelCid=modelCid,
        pricePerCall=pricePerCall,
        providerShareBps=providerShareBps,
    )
    return serviceId


@external
def delistService(serviceId: uint256):
    """
    @notice Stop new use; receipts already signed can still be settled.
    """
    assert self.services[serviceId].provider == msg.sender, "services: not the provider"
    assert self.services[serviceId].active, "services: not listed"
    self.services[serviceId].active = False
    log ServiceDelisted(serviceId=serviceId)


@external
@nonreentrant
def deposit(amount: uint256):
    """
    @notice Add `amount` Token to the sender's deposit (approve it first).
            A pending withdrawal is cancelled.
    """
    assert amount > 0, "services: zero deposit"
    self.deposits[msg.sender] += amount
    self.withdrawalAt[msg.sender] = 0
    assert extcall token.transferFrom(msg.sender, self, amount), "services: transfer failed"
    log Deposited(consumer=msg.sender, amount=amount)


@internal
@view
def _signer(serviceId: uint256, consumer: address, calls: uint256, nonce: uint256, signature: Bytes[65]) -> address:
    struct_hash: bytes32 = keccak256(
        abi_encode(RECEIPT_TYPEHASH, serviceId, consumer, calls, nonce)
    )
    return ecdsa._recover_sig(eip712._hash_typed_data_v4(struct_hash), signature)


@external
@nonreentrant
def settle(serviceId: uint256, consumer: address, calls: uint256, nonce: uint256, signature: Bytes[65]):
    """
    @notice Charge `consumer` for the calls its receipt counts beyond those
            already settled, and pay the provider and the data providers.
    """
    service: Service = self.services[serviceId]
    assert service.provider != empty(address), "services: unknown service"
    assert nonce == self.nonces[consumer], "services: stale nonce"
    assert self._signer(serviceId, consumer, calls, nonce, signature) == consumer, "services: bad signature"
    settled: uint256 = self.settledCalls[serviceId][consumer][nonce]
    assert calls > settled, "services: nothing to settle"
    amount: uint256 = (calls - settled) * service.pricePerCall
    assert amount <= self.deposits[consumer], "services: deposit exhausted"

    # Effects first: count and deposit, then every share.
    self.settledCalls[serviceId][consumer][nonce] = calls
    self.deposits[consumer] -= amount
    log Settled(serviceId=serviceId, consumer=consumer, calls=calls - settled, amount=amount)

    royalties: uint256 = amount * (BPS - service.providerShareBps) // BPS
    providers: DynArray[address, MAX_PROVIDERS] = staticcall dataMarket.providers(service.jobId)
    paid: DynArray[uint256, MAX_PROVIDERS] = []
    total_paid: uint256 = 0
    for provider: address in providers:
        weight: uint256 = staticcall dataMarket.payout(service.jobId, provider)
        paid.append(weight)
        total_paid += weight
    distributed: uint256 = 0
    if total_paid > 0:
        for i: uint256 in range(len(providers), bound=MAX_PROVIDERS):
            share: uint256 = royalties * paid[i] // total_paid
            if share > 0:
                self.earned[providers[i]] += share
                distributed += share
                log RoyaltyPaid(serviceId=serviceId, recipient=providers[i], amount=share)
    # The provider's share, plus the rounding dust of the royalties.
    self.earned[service.provider] += amount - distributed
    log RoyaltyPaid(serviceId=serviceId, recipient=service.provider, amount=amount - distributed)


@external
@nonreentrant
def claim():
    """
    @notice Transfer everything the sender has earned.
    """
    amount: uint256 = self.earned[msg.sender]
    assert amount > 0, "services: nothing earned"
    self.earned[msg.sender] = 0
    assert extcall token.transfer(msg.sender, amount), "services: transfer failed"


@external
def requestWithdrawal():
    """
    @notice Start the notice period after which the deposit can be taken.
    """
    assert self.deposits[msg.sender] > 0, "services: no deposit"
    available_at: uint256 = block.timestamp + NOTICE
    self.withdrawalAt[msg.sender] = available_at
    log WithdrawalRequested(consumer=msg.sender, availableAt=available_at)


@external
@nonreentrant
def withdraw():
    """
    @notice Take back the unspent deposit after the notice period. Every
            receipt signed before is void from now on (a new nonce).
    """
    available_at: uint256 = self.withdrawalAt[msg.sender]
    assert available_at != 0, "services: no withdrawal requested"
    assert block.timestamp >= available_at, "services: notice period running"
    amount: uint256 = self.deposits[msg.sender]
    self.deposits[msg.sender] = 0
    self.withdrawalAt[msg.sender] = 0
    self.nonces[msg.sender] += 1
    assert extcall token.transfer(msg.sender, amount), "services: transfer failed"
    log Withdrawn(consumer=msg.sender, amount=amount)


@external
@view
def domainSeparator() -> bytes32:
    return eip712._domain_separator_v4()
