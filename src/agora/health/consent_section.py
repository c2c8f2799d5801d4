"""The health demo's consent-scoped training: patients, grants, inclusion.

Before the job, each hospital's rows get pseudonymous patients whose
consent stories are played out on chain (:mod:`.xray_consent`). Once the
hospitals are matched to the job, each reads its grants, keeps the rows
its patients' consent covers (:mod:`agora.market.consent`) and declares
their Merkle root on ``DataMarket``. After the job, one consenting patient
per hospital checks their record is under the on-chain root, and one
excluded patient's record is shown to have no proof.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from agora.health.xray_consent import (
    PURPOSE,
    SHORT_GRANT,
    HospitalPatients,
    assign_patients,
    give_consent,
)
from agora.identity.did_ethr import ethr_did
from agora.ledger import Account, Chain, JobId
from agora.market.consent import (
    InclusionSet,
    consented_records,
    verify_record_included,
)
from agora.market.errors import NotIncludedError
from agora.market.jobs import TrainingMarket


@dataclass(frozen=True)
class HospitalConsent:
    """One hospital's patients and, once declared, what it trains on."""

    did: str
    patients: HospitalPatients
    grants: int
    revocations: int


@dataclass(frozen=True)
class Declared:
    """What a hospital declared for the job, and the rows behind it."""

    included: InclusionSet
    rows: tuple[int, ...]
    """Sorted train rows of :attr:`InclusionSet.included`: what it trains on."""
    tx_hash: str


def give_patients_consent(
    chain: Chain,
    market: TrainingMarket,
    *,
    hospitals: Sequence[Account],
    parts: Sequence[np.ndarray],
    seed: int,
) -> list[HospitalConsent]:
    """Create each hospital's patients and play out their consent; then
    let the short grants expire (test chains only: the clock moves)."""
    consent = market.deployment.consent
    section: list[HospitalConsent] = []
    for index, (hospital, rows) in enumerate(zip(hospitals, parts, strict=True)):
        did = ethr_did(chain.chain_id, hospital.address)
        patients = assign_patients(rows, seed=seed, hospital=index)
        given = give_consent(
            chain, consent, patients, hospital=hospital, hospital_did=did
        )
        section.append(
            HospitalConsent(did, patients, len(given.grants), given.revocations)
        )
    chain.time_travel(chain.now() + SHORT_GRANT + 60)
    return section


def declare_inclusions(
    chain: Chain,
    market: TrainingMarket,
    job_id: JobId,
    *,
    hospitals: Sequence[Account],
    section: Sequence[HospitalConsent],
    purpose: str,
) -> list[Declared]:
    """Each hospital filters its rows by consent and declares the root."""
    declared: list[Declared] = []
    for hospital, consent in zip(hospitals, section, strict=True):
        included = consented_records(
            market.deployment.consent,
            consent.patients.records(),
            grantee=consent.did,
            purpose=purpose,
            now=chain.now(),
        )
        tx_hash = market.declare_inclusion(hospital, job_id, included)
        rows = consent.patients.rows_of(included.included)
        declared.append(
            Declared(included, tuple(int(row) for row in rows), str(tx_hash))
        )
    return declared


def consent_result(
    market: TrainingMarket,
    job_id: JobId,
    *,
    hospitals: Sequence[Account],
    section: Sequence[HospitalConsent],
    declared: Sequence[Declared],
    seconds: float,
) -> dict[str, Any]:
    """result.json's ``consent``: per hospital, the patients' stories, what
    was included and excluded, and a patient's check of each."""
    per_hospital = []
    for hospital, consent, inclusion in zip(hospitals, section, declared, strict=True):
        included = inclusion.included
        per_hospital.append(
            {
                "did": consent.did,
                "patients": len(consent.patients.patients),
                "stories": {
                    str(story): count
                    for story, count in consent.patients.stories().items()
                },
                "grants": consent.grants,
                "revocations": consent.revocations,
                "included": len(included.included),
                "excluded": len(included.excluded),
                "excluded_by_rule": {
                    str(rule): count
                    for rule, count in included.excluded_by_rule().items()
                },
                "inclusion_root": "0x" + included.root.hex(),
                "declare_tx": inclusion.tx_hash,
                **_patient_checks(market, job_id, hospital, included),
            }
        )
    return {"purpose": PURPOSE, "seconds": seconds, "hospitals": per_hospital}


def _patient_checks(
    market: TrainingMarket, job_id: JobId, hospital: Account, included: InclusionSet
) -> dict[str, Any]:
    """A consenting patient proves their record was included (against the
    chain's root); an excluded one gets no proof at all."""
    record = included.included[len(included.included) // 2]
    verify_record_included(
        market.deployment,
        job_id,
        hospital.address,
        record,
        included.proof(record),
    )
    checks: dict[str, Any] = {"included_record_proven": record}
    if included.excluded:
        excluded = sorted(included.excluded)[0]
        try:
            included.proof(excluded)
        except NotIncludedError:
            checks["excluded_record_unprovable"] = excluded
    return checks
