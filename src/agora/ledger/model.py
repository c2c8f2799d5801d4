"""Values read from and written to the ledger contracts.

Identifiers and amounts are ``NewType`` so that a job id is never passed
where a dataset id or a token amount is expected. Addresses are
``eth_typing.ChecksumAddress`` throughout.
"""

from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import NewType, TypeAlias

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress

Account: TypeAlias = LocalAccount
"""An acting account: an address and the private key that signs for it
(what :meth:`agora.ledger.Chain.new_account` returns)."""

JobId = NewType("JobId", int)
"""Id of a training job in ``DataMarket``; ids start at 1."""

DatasetId = NewType("DatasetId", int)
"""Id of a dataset offer in ``DataMarket``; ids start at 1."""

TokenAmount = NewType("TokenAmount", int)
"""An amount of ``Token`` in its smallest unit (18 decimals)."""

TxHash = NewType("TxHash", str)
"""A transaction hash as ``0x``-prefixed hex."""

MilliEpsilon = NewType("MilliEpsilon", int)
"""A differential-privacy epsilon in thousandths, as ``DataMarket`` stores
budgets and costs (epsilon 8.0 is ``MilliEpsilon(8000)``)."""

NO_PRIVACY_COST = MilliEpsilon(0)
"""The privacy cost of a job without differential privacy."""

UNLIMITED_PRIVACY = MilliEpsilon(2**256 - 1)
"""The budget of a dataset whose owner set none
(``DataMarket.UNLIMITED_PRIVACY``)."""

MAX_JOB_PRIVACY_COST = MilliEpsilon(1_000_000)
"""Largest privacy cost a job may carry (``DataMarket.MAX_JOB_PRIVACY_COST``)."""

TOKEN_DECIMALS = 18
BPS = 10_000
"""Basis points in a whole: ``finalize`` weights must sum to this."""

MAX_PROVIDERS = 16
"""Most providers one job accepts (``DataMarket.MAX_PROVIDERS``)."""


def tokens(whole: int) -> TokenAmount:
    """Convert whole tokens to the smallest unit: ``tokens(3) == 3 * 10**18``."""
    return TokenAmount(whole * 10**TOKEN_DECIMALS)


class Role(IntFlag):
    """Consortium roles, bit for bit the constants of ``Consortium.vy``."""

    HOSPITAL = 1
    COORDINATOR = 2
    BUYER = 4
    PLATFORM = 8
    ISSUER = 16
    PROXY = 32


class JobState(IntEnum):
    """Life cycle of a ``DataMarket`` job (the contract's state constants)."""

    OPEN = 1
    RUNNING = 2
    FINALIZED = 3
    CANCELLED = 4


@dataclass(frozen=True)
class Member:
    """A consortium member as the contract records it."""

    account: ChecksumAddress
    name: str
    roles: Role
    active: bool


@dataclass(frozen=True)
class Dataset:
    """A dataset offer: metadata only, the data stays with its owner."""

    dataset_id: DatasetId
    owner: ChecksumAddress
    modality: bytes
    label_set: bytes
    samples: int
    schema_cid: str
    privacy_budget: MilliEpsilon = UNLIMITED_PRIVACY
    """Its owner's differential-privacy budget; unlimited until set."""
    privacy_spent: MilliEpsilon = MilliEpsilon(0)
    """Epsilon reserved by the private jobs it applied to (never given back
    once a job started)."""

    @property
    def privacy_remaining(self) -> MilliEpsilon:
        """What is left of the budget (``UNLIMITED_PRIVACY`` if unlimited)."""
        if self.privacy_budget == UNLIMITED_PRIVACY:
            return UNLIMITED_PRIVACY
        return MilliEpsilon(self.privacy_budget - self.privacy_spent)


@dataclass(frozen=True)
class Job:
    """A training job with its escrowed reward."""

    job_id: JobId
    buyer: ChecksumAddress
    coordinator: ChecksumAddress
    spec_cid: str
    modality: bytes
    label_set: bytes
    min_samples: int
    reward: TokenAmount
    min_providers: int
    max_providers: int
    deadline: int
    state: JobState
    rounds_committed: int
    privacy_cost: MilliEpsilon = MilliEpsilon(0)
    """The spec's epsilon; 0 for a job without differential privacy."""


@dataclass(frozen=True)
class RoundCommitment:
    """What a coordinator committed for one training round."""

    updates_root: bytes
    aggregate_hash: bytes


@dataclass(frozen=True)
class Inclusion:
    """What a provider declared it trains a job on: the Merkle root of the
    included record ids and how many there are."""

    root: bytes
    count: int
