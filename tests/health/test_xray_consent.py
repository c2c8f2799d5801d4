"""The X-ray job's patients and consent: every story on chain, and the
hospital trains on exactly the rows whose root it declared."""

import os
from pathlib import Path

import numpy as np
import pytest

from agora.health.consent_section import declare_inclusions, give_patients_consent
from agora.health.xray import load_pneumoniamnist, partition_non_iid
from agora.health.xray.training import TrainConfig
from agora.health.xray_consent import (
    PURPOSE,
    ConsentStory,
    assign_patients,
    record_id,
)
from agora.health.xray_job import LABELS, MODALITY, XrayTrainer
from agora.ledger import Role, connect, deploy, tokens
from agora.market.consent import ExclusionRule
from agora.market.jobs import TrainingMarket
from agora.market.spec import DatasetSchema, TrainingJobSpec
from agora.settings import Settings
from agora.vault.blockstore import BlockStore
from agora.vault.scope import records_root

DATA_DIR = Path(
    os.environ.get(
        "AGORA_DATA_DIR", Path(__file__).parents[2].parent / "shared" / "data"
    )
)
SEED = 7
CLINIC = 2  # the smallest hospital of the default split: about 700 rows


def test_patients_are_seeded_and_own_every_row() -> None:
    rows = np.arange(1_000, 1_700)
    first = assign_patients(rows, seed=SEED, hospital=CLINIC)
    again = assign_patients(rows, seed=SEED, hospital=CLINIC)

    assert [p.account.address for p in first.patients] == [
        p.account.address for p in again.patients
    ]
    assert np.array_equal(first.patient_of_row, again.patient_of_row)
    # Every patient holds a row; about four rows each.
    assert set(first.patient_of_row.tolist()) == set(range(len(first.patients)))
    assert 140 <= len(first.patients) <= 175
    assert first.patients[0].did.startswith("did:key:z")
    # About one patient in eight does not consent, one way or another.
    refusing = len(first.patients) - first.stories()[ConsentStory.CONSENTED]
    assert 0.06 <= refusing / len(first.patients) <= 0.20


@pytest.mark.slow
def test_the_declared_root_is_the_root_of_the_rows_the_trainer_uses(
    tmp_path: Path,
) -> None:
    if not (DATA_DIR / "pneumoniamnist.npz").is_file():
        pytest.skip(f"PneumoniaMNIST not in {DATA_DIR}; set AGORA_DATA_DIR")
    train = load_pneumoniamnist(DATA_DIR).train
    parts = partition_non_iid(train.labels, seed=SEED)

    # The clinic alone, matched to a consent-scoped job.
    chain = connect(Settings(chain_url=None, cache_dir=tmp_path / "cache"))
    admin = chain.new_account("admin")
    deployment = deploy(chain, admin)
    clinic, buyer = chain.new_account("clinic"), chain.new_account("buyer")
    deployment.consortium.add_member(
        clinic.address, "clinic", Role.HOSPITAL, account=admin
    )
    deployment.consortium.add_member(
        buyer.address, "buyer", Role.BUYER | Role.COORDINATOR, account=admin
    )
    deployment.token.mint(buyer.address, tokens(10), account=admin)
    market = TrainingMarket(deployment, BlockStore(tmp_path / "blocks"))
    section = give_patients_consent(
        chain, market, hospitals=[clinic], parts=[parts[CLINIC]], seed=SEED
    )
    spec = TrainingJobSpec(
        task="pneumonia-detection",
        modality=MODALITY,
        labels=LABELS,
        model="xraynet",
        rounds=1,
        local_epochs=1,
        min_samples=1,
        min_providers=1,
        max_providers=1,
        max_update_norm=50.0,
        seed=SEED,
        purpose=PURPOSE,
    )
    job_id, _ = market.post_job(
        buyer,
        spec,
        reward=tokens(10),
        deadline=chain.now() + 3_600,
        coordinator=buyer.address,
    )
    offer = DatasetSchema(
        modality=MODALITY,
        labels=LABELS,
        shape=(28, 28),
        dtype="uint8",
        samples=len(parts[CLINIC]),
        label_counts={},
    )
    market.apply(clinic, job_id, market.offer_dataset(clinic, offer))
    (declared,) = declare_inclusions(
        chain, market, job_id, hospitals=[clinic], section=section, purpose=PURPOSE
    )

    # Each refusing patient's rows are out, under the rule of their story.
    patients = section[0].patients
    for row, index in zip(patients.rows, patients.patient_of_row, strict=True):
        story = patients.patients[index].story
        rule = declared.included.excluded.get(record_id(int(row)))
        if story is ConsentStory.CONSENTED:
            assert rule is None
        else:
            assert rule is ExclusionRule(str(story))

    # The trainer's rows hash to the root on chain, and are its images.
    trainer = XrayTrainer(
        DATA_DIR.resolve(),
        SEED,
        TrainConfig(),
        included_rows=((), (), declared.rows),
    )
    used = trainer.rows(CLINIC)
    on_chain = deployment.data_market.inclusion(job_id, clinic.address)
    assert records_root(record_id(int(row)) for row in used) == on_chain.root
    assert on_chain.count == len(used) < len(parts[CLINIC])
    assert np.array_equal(trainer.split(CLINIC).images, train.images[used])
