"""A patient, a doctor, a nurse, three proxies and three encrypted records
on an embedded chain, for the consent and audit tests."""

import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress

from agora.ledger import Category, Chain, Deployment
from agora.vault.blockstore import BlockStore
from agora.vault.objects import put_encrypted
from agora.vault.proxy import AccessRequest, ProxyEndpoint, ProxyService, sign_request
from agora.vault.scope import RecordId, RecordLabel, Scope
from agora.vault.sharing import (
    GranteeKeys,
    OwnerKeys,
    Share,
    SharedRecord,
    read_shared,
    share,
)

DAY = 24 * 3600

PLAINTEXTS = {
    RecordId("Condition/c1"): b'{"resourceType":"Condition","id":"c1"}',
    RecordId("MedicationRequest/m1"): b'{"resourceType":"MedicationRequest"}',
    RecordId("Observation/o1"): b'{"resourceType":"Observation","id":"o1"}',
}
CONDITIONS_AND_MEDICATIONS = Scope(
    categories=Category.CONDITION | Category.MEDICATION_REQUEST
)


class Clock:
    """A settable clock for the proxies' freshness check."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class Cast:
    """Everything deployed and stored once per session."""

    chain: Chain
    ledger: Deployment
    store: BlockStore
    patient: OwnerKeys
    doctor: GranteeKeys
    nurse: GranteeKeys
    proxy_accounts: tuple[LocalAccount, ...]
    records: tuple[SharedRecord, ...]


def encrypt_records(store: BlockStore, owner: OwnerKeys) -> tuple[SharedRecord, ...]:
    """The patient's three records, encrypted into ``store``."""
    return tuple(
        SharedRecord(
            record_id=record_id,
            category=Category.of(record_id.partition("/")[0]),
            envelope=put_encrypted(store, io.BytesIO(data), owner.public_key),
        )
        for record_id, data in PLAINTEXTS.items()
    )


@dataclass
class World:
    """The cast with fresh proxies (their fragments, nonces and logs are
    per test) and a clock they share."""

    cast: Cast
    proxies: list[ProxyService]
    clock: Clock

    @property
    def chain(self) -> Chain:
        return self.cast.chain

    @property
    def ledger(self) -> Deployment:
        return self.cast.ledger

    def reachable(self, *indices: int) -> Mapping[ChecksumAddress, ProxyEndpoint]:
        """The proxies at ``indices`` (all if none), as a grantee reaches them."""
        chosen = indices or tuple(range(len(self.proxies)))
        return {self.proxies[i].address: self.proxies[i] for i in chosen}

    def share(
        self,
        scope: Scope = CONDITIONS_AND_MEDICATIONS,
        *,
        grantee: GranteeKeys | None = None,
        expiry: int | None = None,
    ) -> Share:
        """The patient shares ``scope`` with the doctor through all proxies."""
        grantee = grantee or self.cast.doctor
        return share(
            self.ledger,
            self.cast.patient,
            grantee=grantee.did,
            grantee_key=grantee.public_key,
            scope=scope,
            purpose="treatment",
            expiry=expiry or self.chain.now() + 30 * DAY,
            proxies=self.proxies,
            records=self.cast.records,
        )

    def read(
        self,
        shared: Share,
        record_id: str,
        destination: Path,
        *,
        grantee: GranteeKeys | None = None,
        proxies: Mapping[ChecksumAddress, ProxyEndpoint] | None = None,
    ) -> bytes:
        """The grantee's read of ``record_id`` through ``proxies``."""
        read_shared(
            self.cast.store,
            shared,
            record_id,
            grantee or self.cast.doctor,
            proxies=self.reachable() if proxies is None else proxies,
            destination=destination,
            clock=self.clock,
        )
        return destination.read_bytes()

    def request(
        self,
        shared: Share,
        record_id: str,
        *,
        proxy: int = 0,
        grantee: GranteeKeys | None = None,
        label: RecordLabel | None = None,
    ) -> AccessRequest:
        """A signed request to proxy ``proxy`` for a record of ``shared``."""
        grantee = grantee or self.cast.doctor
        label = label or shared.labels[RecordId(record_id)]
        return sign_request(
            shared.grant_id,
            label,
            proof=shared.proofs.get(label.record_id),
            proxy=self.proxies[proxy].address,
            requester=grantee.did,
            method_id=grantee.method_id,
            key=grantee.key,
            now=int(self.clock()),
        )
