"""A patient's record read from their vault, as the grantee of a share.

The QA service's operator is a grantee like any other: the patient shares
the categories the service may read (:func:`agora.vault.sharing.share`),
and :func:`record_from_share` reads every record the share labels through
the proxies, each re-encryption checked against the grant on chain, and
parses it back into the resources questions are answered from. Plaintext
passes through a private temporary folder and is removed record by record.
"""

import json
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from eth_typing import ChecksumAddress

from agora.errors import DataError
from agora.health.fhir.resources import FhirResource
from agora.health.qa.record import PatientRecord
from agora.vault.blockstore import BlockBackend
from agora.vault.proxy import ProxyEndpoint
from agora.vault.sharing import GranteeKeys, Share, read_shared


def record_from_share(
    store: BlockBackend,
    shared: Share,
    grantee: GranteeKeys,
    *,
    proxies: Mapping[ChecksumAddress, ProxyEndpoint],
    clock: Callable[[], float] = time.time,
) -> PatientRecord:
    """The record of every resource ``shared`` labels, read as ``grantee``.

    Raises what :func:`read_shared` raises when the grant no longer lets
    the grantee read (revoked, expired), and :class:`DataError` when a
    record is not the FHIR resource its id names.
    """
    resources: list[FhirResource] = []
    with tempfile.TemporaryDirectory(prefix="agora-qa-") as folder:
        plaintext = Path(folder) / "record.json"
        for record_id in sorted(shared.labels):
            read_shared(
                store,
                shared,
                record_id,
                grantee,
                proxies=proxies,
                destination=plaintext,
                clock=clock,
            )
            try:
                content = json.loads(plaintext.read_bytes())
            except ValueError:
                raise DataError(f"record {record_id} is not JSON") from None
            finally:
                plaintext.unlink(missing_ok=True)

            # The label names the record; the record must be that resource.
            resource_type, _, resource_id = record_id.partition("/")
            if not isinstance(content, dict) or (
                content.get("resourceType"),
                content.get("id"),
            ) != (resource_type, resource_id):
                raise DataError(f"record {record_id} holds another resource")
            resources.append(FhirResource(resource_type, resource_id, content))
    return PatientRecord(resources)
