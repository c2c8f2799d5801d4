"""Shared test values and the Market helper used by the ledger tests."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from eth_account.signers.local import LocalAccount

from agora.ledger import (
    NO_PRIVACY_COST,
    Chain,
    ContractRevertError,
    DatasetId,
    Deployment,
    JobId,
    MilliEpsilon,
    TokenAmount,
    label_set_hash,
    modality_hash,
    tokens,
)

XRAY = modality_hash("xray/chest-28x28-grey")
LABELS = label_set_hash(["normal", "pneumonia"])
ROOT = bytes(range(1, 33))
AGGREGATE = bytes(range(33, 65))
BUYER_FUNDS = tokens(1_000_000)
REWARD = tokens(100)


@dataclass(frozen=True)
class Market:
    """A deployed marketplace and its cast of accounts."""

    chain: Chain
    ledger: Deployment
    admin: LocalAccount
    hospitals: list[LocalAccount]
    buyer: LocalAccount
    coordinator: LocalAccount
    outsider: LocalAccount

    def register(
        self,
        hospital: LocalAccount,
        *,
        modality: bytes = XRAY,
        label_set: bytes = LABELS,
        samples: int = 500,
    ) -> DatasetId:
        """Register a dataset that matches :meth:`post_job`'s defaults."""
        return self.ledger.data_market.register_dataset(
            modality=modality,
            label_set=label_set,
            samples=samples,
            schema_cid="bafy-schema",
            account=hospital,
        )

    def post_job(
        self,
        *,
        reward: TokenAmount = REWARD,
        min_samples: int = 100,
        min_providers: int = 1,
        max_providers: int = 4,
        deadline: int | None = None,
        coordinator: LocalAccount | None = None,
        buyer: LocalAccount | None = None,
        privacy_cost: MilliEpsilon = NO_PRIVACY_COST,
    ) -> JobId:
        """Post a job from the buyer (who pre-approved the market)."""
        return self.ledger.data_market.post_job(
            spec_cid="bafy-spec",
            modality=XRAY,
            label_set=LABELS,
            min_samples=min_samples,
            reward=reward,
            min_providers=min_providers,
            max_providers=max_providers,
            deadline=self.chain.now() + 3600 if deadline is None else deadline,
            coordinator=(coordinator or self.coordinator).address,
            account=buyer or self.buyer,
            privacy_cost=privacy_cost,
        )

    def running_job(self, providers: int = 2, *, reward: TokenAmount = REWARD) -> JobId:
        """A job with ``providers`` hospitals applied and training started."""
        job_id = self.post_job(reward=reward, max_providers=max(providers, 1))
        for hospital in self.hospitals[:providers]:
            self.ledger.data_market.apply(
                job_id, self.register(hospital), account=hospital
            )
        self.ledger.data_market.start_job(job_id, account=self.coordinator)
        return job_id

    def commit(self, job_id: JobId, rounds: int = 1) -> None:
        for number in range(1, rounds + 1):
            self.ledger.data_market.commit_round(
                job_id,
                number,
                updates_root=ROOT,
                aggregate_hash=AGGREGATE,
                account=self.coordinator,
            )


@contextmanager
def reverts(reason: str | None) -> Iterator[None]:
    """Expect a revert with exactly ``reason`` (None: a revert without one)."""
    with pytest.raises(ContractRevertError) as info:
        yield
    actual = info.value.reason
    assert actual == reason, f"reverted with {actual!r}, expected {reason!r}"


def mine_at(chain: Chain, timestamp: int) -> None:
    """Mine a block at ``timestamp``, so that ``chain.now()`` reads it.

    Time travel only dates the next block; any transaction mines it.
    """
    chain.time_travel(timestamp)
    chain.new_account("clock", ether=1)
