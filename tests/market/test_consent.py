"""Consent-scoped training: which records a provider may train a job on,
and the patients' proofs against the inclusion root it declares on chain."""

from dataclasses import dataclass

import pytest

from agora.federated.errors import InclusionProofError
from agora.ledger import (
    Account,
    Category,
    Chain,
    Deployment,
    GrantId,
    GrantRequest,
    JobId,
    Role,
    connect,
    deploy,
    grantee_hash,
    label_set_hash,
    modality_hash,
    purpose_code,
    tokens,
)
from agora.market.consent import (
    ConsentedRecord,
    ExclusionRule,
    InclusionSet,
    consented_records,
    verify_record_included,
)
from agora.market.errors import NothingConsentedError, NotIncludedError
from agora.settings import Settings
from agora.vault.scope import RecordId, records_root

HOSPITAL_DID = "did:key:zHospitalOfTheTest"
PURPOSE = "research:pneumonia-model"
DAY = 86_400


@dataclass(frozen=True)
class Ward:
    """A chain, a hospital and one patient per consent story."""

    chain: Chain
    ledger: Deployment
    hospital: Account
    buyer: Account
    patients: dict[str, Account]

    def records(self) -> list[ConsentedRecord]:
        """Two X-ray records per patient."""
        return [
            ConsentedRecord(
                RecordId(f"ImagingStudy/{story}-{n}"),
                patient.address,
                Category.IMAGING_STUDY,
            )
            for story, patient in self.patients.items()
            for n in (1, 2)
        ]

    def filtered(self) -> InclusionSet:
        return consented_records(
            self.ledger.consent,
            self.records(),
            grantee=HOSPITAL_DID,
            purpose=PURPOSE,
            now=self.chain.now(),
        )


STORIES = (
    "consents",
    "consents-after-revoking",
    "revoked",
    "expired",
    "other-purpose",
    "imaging-not-covered",
    "other-grantee",
    "no-grant",
)


@pytest.fixture(scope="module")
def ward(tmp_path_factory: pytest.TempPathFactory) -> Ward:
    cache = tmp_path_factory.mktemp("cache")
    chain = connect(Settings(chain_url=None, cache_dir=cache))
    admin = chain.new_account("admin")
    ledger = deploy(chain, admin)
    hospital, buyer = chain.new_account("hospital"), chain.new_account("buyer")
    ledger.consortium.add_member(
        hospital.address, "hospital", Role.HOSPITAL, account=admin
    )
    ledger.consortium.add_member(
        buyer.address, "buyer", Role.BUYER | Role.COORDINATOR, account=admin
    )
    ledger.token.mint(buyer.address, tokens(1_000), account=admin)
    patients = {story: chain.new_account(story) for story in STORIES}
    now = chain.now()

    def grant(
        story: str,
        *,
        grantee: str = HOSPITAL_DID,
        categories: Category = Category.IMAGING_STUDY,
        purpose: str = PURPOSE,
        expiry: int = now + 365 * DAY,
    ) -> GrantId:
        return ledger.consent.grant(
            grantee_hash(grantee),
            categories=categories,
            purpose=purpose_code(purpose),
            expiry=expiry,
            account=patients[story],
        )

    # One patient signs off chain and the hospital submits it, as in the demo.
    signed = ledger.consent.sign(
        GrantRequest(
            owner=patients["consents"].address,
            grantee_hash=grantee_hash(HOSPITAL_DID),
            purpose=purpose_code(PURPOSE),
            expiry=now + 365 * DAY,
            categories=Category.IMAGING_STUDY | Category.CONDITION,
        ),
        patients["consents"],
    )
    ledger.consent.grant_signed([signed], account=hospital)
    for story in ("consents-after-revoking", "revoked"):
        ledger.consent.revoke(grant(story), account=patients[story])
    grant("consents-after-revoking")
    grant("expired", expiry=now + 3_600)
    grant("other-purpose", purpose="research:oncology-model")
    grant(
        "imaging-not-covered",
        categories=Category.CONDITION | Category.MEDICATION_REQUEST,
    )
    grant("other-grantee", grantee="did:key:zAnotherHospital")

    # Two hours later, the hour-long grant has expired.
    chain.time_travel(now + 7_200)
    chain.new_account("clock", ether=1)
    return Ward(chain, ledger, hospital, buyer, patients)


def test_only_patients_whose_consent_covers_the_job_are_included(
    ward: Ward,
) -> None:
    included = ward.filtered()

    assert included.included == (
        "ImagingStudy/consents-1",
        "ImagingStudy/consents-2",
        "ImagingStudy/consents-after-revoking-1",
        "ImagingStudy/consents-after-revoking-2",
    )
    assert included.root == records_root(included.included)
    assert included.inclusion.count == 4


@pytest.mark.parametrize(
    ("story", "rule"),
    [
        ("revoked", ExclusionRule.REVOKED),
        ("expired", ExclusionRule.EXPIRED),
        ("other-purpose", ExclusionRule.OTHER_PURPOSE),
        ("imaging-not-covered", ExclusionRule.OUT_OF_SCOPE),
        ("other-grantee", ExclusionRule.NO_GRANT),
        ("no-grant", ExclusionRule.NO_GRANT),
    ],
)
def test_each_broken_rule_excludes_the_patients_records(
    ward: Ward, story: str, rule: ExclusionRule
) -> None:
    excluded = ward.filtered().excluded

    for n in (1, 2):
        assert excluded[RecordId(f"ImagingStudy/{story}-{n}")] is rule


def test_excluded_counts_by_rule(ward: Ward) -> None:
    assert ward.filtered().excluded_by_rule() == {
        ExclusionRule.NO_GRANT: 4,
        ExclusionRule.OTHER_PURPOSE: 2,
        ExclusionRule.REVOKED: 2,
        ExclusionRule.EXPIRED: 2,
        ExclusionRule.OUT_OF_SCOPE: 2,
    }


def test_nothing_consented_is_an_error(ward: Ward) -> None:
    with pytest.raises(NothingConsentedError):
        consented_records(
            ward.ledger.consent,
            ward.records(),
            grantee=HOSPITAL_DID,
            purpose="research:another-model",
            now=ward.chain.now(),
        )


def _declared_job(ward: Ward, included: InclusionSet) -> JobId:
    """A job the hospital is matched to and declared ``included`` for."""
    ledger, buyer = ward.ledger, ward.buyer
    xray, labels = modality_hash("xray"), label_set_hash(["normal", "pneumonia"])
    ledger.token.approve(ledger.data_market.address, tokens(10), account=buyer)
    job_id = ledger.data_market.post_job(
        spec_cid="bafy-spec",
        modality=xray,
        label_set=labels,
        min_samples=1,
        reward=tokens(10),
        min_providers=1,
        max_providers=1,
        deadline=ward.chain.now() + 3_600,
        coordinator=buyer.address,
        account=buyer,
    )
    dataset = ledger.data_market.register_dataset(
        modality=xray,
        label_set=labels,
        samples=len(ward.records()),
        schema_cid="bafy-schema",
        account=ward.hospital,
    )
    ledger.data_market.apply(job_id, dataset, account=ward.hospital)
    ledger.data_market.declare_inclusion(
        job_id, included.inclusion, account=ward.hospital
    )
    return job_id


def test_a_consenting_patient_proves_inclusion_against_the_chain(
    ward: Ward,
) -> None:
    included = ward.filtered()
    job_id = _declared_job(ward, included)
    record = "ImagingStudy/consents-after-revoking-2"

    # The root comes from DataMarket, not from the hospital.
    verify_record_included(
        ward.ledger, job_id, ward.hospital.address, record, included.proof(record)
    )
    assert ward.ledger.data_market.inclusion(
        job_id, ward.hospital.address
    ).root == records_root(included.included)


def test_a_non_consenting_patient_cannot_be_proven_included(ward: Ward) -> None:
    included = ward.filtered()
    job_id = _declared_job(ward, included)
    excluded = "ImagingStudy/revoked-1"

    # The hospital has no proof to give for an excluded record …
    with pytest.raises(NotIncludedError, match="revoked"):
        included.proof(excluded)
    with pytest.raises(NotIncludedError):
        included.proof("ImagingStudy/never-held")
    # … and another record's proof does not carry it to the on-chain root.
    borrowed = included.proof("ImagingStudy/consents-1")
    with pytest.raises(InclusionProofError):
        verify_record_included(
            ward.ledger, job_id, ward.hospital.address, excluded, borrowed
        )
