"""The health demo's records section: a patient's record, shared by consent.

Issue 4's scenario on the demo's chain, in a few seconds:

1. one patient's Bundle is split into the three hospitals' exports and
   merged into one global record, each resource encrypted into the
   patient's vault (:class:`~agora.health.fhir.VaultSink`); hospital B, where
   the import runs, anchors the batch's Merkle root;
2. the patient grants a doctor at hospital B read access to conditions and
   medication requests for 30 days, the key fragments going to three
   proxies (2-of-3);
3. the doctor reads each covered record through the two proxies that are
   online and checks it against the anchored root;
4. the patient revokes; the doctor's next read is refused by the proxies;
5. the patient's audit trail, read back from the chain, shows the grant,
   every access and the revocation.
"""

import json
import logging
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agora.errors import DataError
from agora.health.fhir import (
    Hospital,
    RecordId,
    VaultSink,
    anchor_batch,
    import_bundles,
    verify_record,
)
from agora.identity.did_ethr import ethr_did
from agora.identity.document import Did
from agora.ledger import Account, Category, Chain, Deployment, Role
from agora.vault.audit import audit_trail, entry_to_json
from agora.vault.blockstore import BlockBackend
from agora.vault.errors import ConsentRefusedError, VaultError
from agora.vault.proxy import ProxyService
from agora.vault.scope import Scope
from agora.vault.sharing import (
    DEFAULT_POLICY,
    GranteeKeys,
    OwnerKeys,
    Share,
    read_shared,
    revoke,
    share,
)

logger = logging.getLogger(__name__)

PATIENT_BUNDLE = Path("adult") / "1315899-bundle.json"
"""The patient of the scenario, under the FHIR data folder: an adult with
both conditions and medication requests (the covid-juvenile patients have
no MedicationRequest)."""

GRANT_DAYS = 30
PURPOSE = "treatment"
SHARED_CATEGORIES = Category.CONDITION | Category.MEDICATION_REQUEST
OFFLINE_PROXY = 0
"""The proxy that is down while the doctor reads: two of three suffice."""

_DAY = 86_400


def patient_bundle(fhir_folder: Path) -> Path:
    """The scenario's Bundle under ``fhir_folder``; a :class:`DataError`
    naming the setting if it is missing, so the demo fails before it
    trains rather than after."""
    path = fhir_folder / PATIENT_BUNDLE
    if not path.is_file():
        raise DataError(
            f"the records scenario needs {path} (set AGORA_DATA_DIR or --data-dir)"
        )
    return path


def run_records_section(
    chain: Chain,
    deployment: Deployment,
    *,
    admin: Account,
    hospitals: Sequence[Account],
    store: BlockBackend,
    bundle: Path,
) -> dict[str, Any]:
    """Run the scenario of the module docstring on the patient of
    ``bundle`` (:func:`patient_bundle`); return its results.

    ``hospitals`` are three consortium members (the second, hospital B,
    anchors the import); ``admin`` admits the proxies.
    """
    started = time.perf_counter()
    names = [Hospital(chain.name_of(h.address)) for h in hospitals]
    hospital_b = hospitals[1]

    # The cast: the patient (a did:ethr of its account, which owns the
    # grants), a doctor at hospital B (a did:key) and three proxies.
    patient_account = chain.new_account("patient")
    patient = OwnerKeys.generate(patient_account)
    patient_did = Did(ethr_did(chain.chain_id, patient_account.address))
    doctor = GranteeKeys.generate()
    proxies = _admit_proxies(chain, deployment, admin=admin, store=store)

    # Three hospitals' exports, merged, each record encrypted to the patient.
    sink = VaultSink(store, {patient_did: patient.public_key})
    report = import_bundles(
        [bundle],
        sink=sink,
        dids=lambda _patient_id: patient_did,
        hospitals=names,
    )
    (imported,) = report.patients
    anchor_id = anchor_batch(imported.batch, deployment.anchor, account=hospital_b)

    # The grant: conditions and medication requests, 30 days, 2-of-3.
    shared = share(
        deployment,
        patient,
        grantee=doctor.did,
        grantee_key=doctor.public_key,
        scope=Scope(categories=SHARED_CATEGORIES),
        purpose=PURPOSE,
        expiry=chain.now() + GRANT_DAYS * _DAY,
        proxies=proxies,
        records=sink.catalog(patient_did),
    )

    # The doctor reads every covered record while one proxy is offline,
    # and checks each against the root hospital B anchored.
    online = [p for i, p in enumerate(proxies) if i != OFFLINE_PROXY]
    anchored_root = deployment.anchor.get(anchor_id).root
    index = {entry.record_id: entry for entry in sink.index}
    reads = []
    with tempfile.TemporaryDirectory() as folder:
        for record_id in sorted(shared.labels):
            data = _read(store, shared, record_id, doctor, online, Path(folder))
            verify_record(
                data, imported.batch.proof(RecordId(record_id)), anchored_root
            )
            resource = json.loads(data)
            entry = index[RecordId(record_id)]
            reads.append(
                {
                    "record_id": record_id,
                    "resource_type": resource["resourceType"],
                    "id": resource["id"],
                    "display": entry.display,
                    "date": entry.date.isoformat() if entry.date else None,
                    "hospitals": list(entry.hospitals),
                    "bytes": len(data),
                }
            )
        access_anchors = [
            int(batch.anchor_id)
            for batch in (p.anchor_access_log() for p in proxies)
            if batch is not None
        ]

        # The patient revokes; the doctor tries again.
        revoke(deployment, patient, shared.grant_id, proxies=proxies)
        refusal = _refused_read(
            store, shared, reads[0]["record_id"], doctor, online, Path(folder)
        )

    trail = audit_trail(
        deployment, store, patient_account.address, known_dids=[doctor.did]
    )
    logger.info("records section: %d reads, grant %d", len(reads), shared.grant_id)
    return {
        "patient": patient_did,
        "doctor": doctor.did,
        "bundle": bundle.name,
        "imported": {
            "records": len(imported.batch.record_ids),
            "per_type": dict(sorted(imported.per_type.items())),
            "per_hospital": dict(imported.per_hospital),
            "issues": len(report.issues),
            "merkle_root": imported.batch.root.hex(),
            "anchor_id": int(anchor_id),
            "anchored_by": chain.name_of(hospital_b.address),
        },
        "grant": {
            "grant_id": int(shared.grant_id),
            "categories": [member.name for member in SHARED_CATEGORIES],
            "purpose": PURPOSE,
            "days": GRANT_DAYS,
            "threshold": DEFAULT_POLICY.threshold,
            "proxies": [p.address for p in proxies],
            "offline_proxy": proxies[OFFLINE_PROXY].address,
        },
        "reads": reads,
        "access_log_anchors": access_anchors,
        "refusal": refusal,
        "audit": [entry_to_json(entry) for entry in trail],
        "seconds": time.perf_counter() - started,
    }


def _admit_proxies(
    chain: Chain, deployment: Deployment, *, admin: Account, store: BlockBackend
) -> list[ProxyService]:
    proxies = []
    for number in range(1, DEFAULT_POLICY.shares + 1):
        account = chain.new_account(f"proxy-{number}")
        deployment.consortium.add_member(
            account.address, f"proxy-{number}", Role.PROXY, account=admin
        )
        proxies.append(ProxyService(account=account, ledger=deployment, store=store))
    return proxies


def _read(
    store: BlockBackend,
    shared: Share,
    record_id: str,
    doctor: GranteeKeys,
    proxies: Sequence[ProxyService],
    folder: Path,
) -> bytes:
    destination = folder / "record.json"
    read_shared(
        store,
        shared,
        record_id,
        doctor,
        proxies={p.address: p for p in proxies},
        destination=destination,
    )
    return destination.read_bytes()


def _refused_read(
    store: BlockBackend,
    shared: Share,
    record_id: str,
    doctor: GranteeKeys,
    proxies: Sequence[ProxyService],
    folder: Path,
) -> dict[str, Any]:
    """The doctor's read after revocation, which the proxies must refuse."""
    try:
        _read(store, shared, record_id, doctor, proxies, folder)
    except ConsentRefusedError as refused:
        return {
            "record_id": record_id,
            "error": type(refused).__name__,
            "rule": refused.rule.value,
            "message": str(refused),
        }
    raise VaultError(f"the proxies served grant {shared.grant_id} after revocation")
