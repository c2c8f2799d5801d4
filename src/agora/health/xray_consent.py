"""The X-ray job's patients and their consent, on chain.

PneumoniaMNIST rows carry no patient. To run the job consent-scoped, each
hospital's rows are given to pseudonymous patients: a seeded draw puts every
row with one of ``ceil(rows / 4)`` patients of that hospital (about four
X-rays each; patients who drew none do not exist). Each patient is a
secp256k1 key pair derived from the seed, hence an Ethereum account (the
owner of their grants) and a ``did:key``. A row is the record
``ImagingStudy/pneumoniamnist-train-<row>`` of the :data:`IMAGING` category
(``row`` indexes the official train split, so the id names the image).

Each patient is drawn one :class:`ConsentStory` with the seed; about 88 %
consent, and the rest cover each rule of :mod:`agora.market.consent`:

- ``consented``: a grant to the hospital's DID for :data:`PURPOSE` over
  imaging studies, for a year;
- ``no-grant``: no grant at all;
- ``revoked``: such a grant, revoked by the patient;
- ``expired``: such a grant, for one hour, which passes before the job;
- ``other-purpose``: imaging studies for :data:`OTHER_PURPOSE`;
- ``out-of-scope``: the right purpose, but conditions and medication only.

Patients sign their grants off chain (EIP-712) and the hospital submits
them in batches; a patient who revokes sends the revocation themself.
"""

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from eth_account import Account as AccountFactory

from agora.identity.did_key import did_key_from_key_pair
from agora.identity.document import Did
from agora.identity.keys import KeyPair, KeyType
from agora.ledger import (
    Account,
    Category,
    Chain,
    ConsentClient,
    GrantId,
    GrantRequest,
    grantee_hash,
    purpose_code,
)
from agora.market.consent import ConsentedRecord
from agora.vault.scope import RecordId

PURPOSE = "research:pneumonia-model"
"""What the X-ray job trains for; its spec's ``purpose``."""

OTHER_PURPOSE = "research:oncology-model"
"""The purpose of the grants that name another use."""

IMAGING = Category.IMAGING_STUDY
"""The category of an X-ray record."""

RECORDS_PER_PATIENT = 4
"""Rows per patient on average, before patients without rows drop out."""

YEAR = 365 * 86_400
SHORT_GRANT = 3_600
"""Lifetime of the grants that have expired by the time the job runs."""


class ConsentStory(StrEnum):
    """What a patient did about consent; see the module docstring."""

    CONSENTED = "consented"
    NO_GRANT = "no-grant"
    REVOKED = "revoked"
    EXPIRED = "expired"
    OTHER_PURPOSE = "other-purpose"
    OUT_OF_SCOPE = "out-of-scope"


STORY_SHARES: dict[ConsentStory, float] = {
    ConsentStory.CONSENTED: 0.88,
    ConsentStory.NO_GRANT: 0.03,
    ConsentStory.REVOKED: 0.03,
    ConsentStory.EXPIRED: 0.02,
    ConsentStory.OTHER_PURPOSE: 0.02,
    ConsentStory.OUT_OF_SCOPE: 0.02,
}
"""How often each story is drawn."""


def record_id(row: int) -> RecordId:
    """The record id of train row ``row``."""
    return RecordId(f"ImagingStudy/pneumoniamnist-train-{row}")


@dataclass(frozen=True)
class Patient:
    """One pseudonymous patient of a hospital."""

    account: Account = field(repr=False)
    story: ConsentStory

    @property
    def did(self) -> Did:
        """The patient's ``did:key``."""
        key = KeyPair.from_private_bytes(KeyType.SECP256K1, bytes(self.account.key))
        return did_key_from_key_pair(key)


@dataclass(frozen=True)
class HospitalPatients:
    """A hospital's train rows and the patients they belong to."""

    rows: np.ndarray
    """Global train row indices, sorted."""
    patient_of_row: np.ndarray
    """For each of :attr:`rows`, its patient's index in :attr:`patients`."""
    patients: tuple[Patient, ...]

    def records(self) -> list[ConsentedRecord]:
        """Each row as a record of its patient, for the consent filter."""
        return [
            ConsentedRecord(
                record_id(int(row)), self.patients[patient].account.address, IMAGING
            )
            for row, patient in zip(self.rows, self.patient_of_row, strict=True)
        ]

    def rows_of(self, record_ids: Sequence[str]) -> np.ndarray:
        """The sorted rows of ``record_ids`` (ids of this hospital's rows)."""
        wanted = set(record_ids)
        return np.array(
            [row for row in self.rows if record_id(int(row)) in wanted], dtype=np.int64
        )

    def stories(self) -> dict[ConsentStory, int]:
        """How many patients drew each story."""
        counts = dict.fromkeys(ConsentStory, 0)
        for patient in self.patients:
            counts[patient.story] += 1
        return counts


def assign_patients(rows: np.ndarray, *, seed: int, hospital: int) -> HospitalPatients:
    """Give a hospital's ``rows`` to seeded pseudonymous patients."""
    rng = np.random.default_rng([seed, hospital, 0xC0_25E7])
    drawn = rng.integers(0, math.ceil(len(rows) / RECORDS_PER_PATIENT), len(rows))
    # Patients who drew no row do not exist; number the others densely.
    _, patient_of_row = np.unique(drawn, return_inverse=True)
    count = int(patient_of_row.max()) + 1 if len(rows) else 0
    stories = list(STORY_SHARES)
    picks = rng.choice(len(stories), size=count, p=list(STORY_SHARES.values()))
    patients = tuple(
        Patient(_patient_account(seed, hospital, number), stories[int(pick)])
        for number, pick in enumerate(picks)
    )
    return HospitalPatients(np.asarray(rows, np.int64), patient_of_row, patients)


def _patient_account(seed: int, hospital: int, number: int) -> Account:
    secret = hashlib.sha256(
        f"agora-demo/xray-patient/v1/{seed}/{hospital}/{number}".encode()
    ).digest()
    account: Account = AccountFactory.from_key(secret)
    return account


@dataclass(frozen=True)
class ConsentGiven:
    """What the patients of one hospital wrote on chain."""

    grants: list[GrantId]
    revocations: int


def give_consent(
    chain: Chain,
    consent: ConsentClient,
    patients: HospitalPatients,
    *,
    hospital: Account,
    hospital_did: str,
) -> ConsentGiven:
    """Play out each patient's story on chain: signed grants submitted by
    ``hospital`` in batches, then each revoking patient's revocation.

    Grants of the ``expired`` story end in :data:`SHORT_GRANT` seconds; the
    caller lets the chain's clock pass that before the job."""
    now = chain.now()
    grantee = grantee_hash(hospital_did)
    requests: list[tuple[Patient, GrantRequest]] = []
    for patient in patients.patients:
        if patient.story is ConsentStory.NO_GRANT:
            continue
        requests.append((patient, grant_request(patient, grantee, now=now)))
    signed = [consent.sign(request, patient.account) for patient, request in requests]
    grants = consent.grant_signed(signed, account=hospital)

    # A revoking patient pays for their own transaction (a little ether).
    revocations = 0
    for (patient, _), grant_id in zip(requests, grants, strict=True):
        if patient.story is ConsentStory.REVOKED:
            owner = chain.new_account(
                "patient", ether=1, private_key=bytes(patient.account.key)
            )
            consent.revoke(grant_id, account=owner)
            revocations += 1
    return ConsentGiven(grants, revocations)


def grant_request(patient: Patient, grantee: bytes, *, now: int) -> GrantRequest:
    """The grant ``patient``'s story asks them to sign at chain time ``now``
    (none is ever signed for ``no-grant``)."""
    story = patient.story
    purpose = OTHER_PURPOSE if story is ConsentStory.OTHER_PURPOSE else PURPOSE
    categories = (
        Category.CONDITION | Category.MEDICATION_REQUEST
        if story is ConsentStory.OUT_OF_SCOPE
        else IMAGING
    )
    lifetime = SHORT_GRANT if story is ConsentStory.EXPIRED else YEAR
    return GrantRequest(
        owner=patient.account.address,
        grantee_hash=grantee,
        purpose=purpose_code(purpose),
        expiry=now + lifetime,
        categories=categories,
    )
