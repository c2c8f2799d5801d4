"""``agora audit``: re-derive what the chain says happened, from public data.

- ``agora audit job JOB_ID`` re-derives a finalised training job from the
  local consortium's chain and the job's artifacts in the blockstore
  (:func:`agora.market.audit.audit_job`): every round's update hashes and
  Merkle root, every aggregate, the Shapley values, weights and payouts.
  Exit 0 when everything matches; 12 when something does not, with the
  first mismatch (round and provider) on one line; 6 when the job cannot
  be audited (unknown, not finalised, no manifest on chain); 4 when an
  artifact is missing from the store, altered, or not what it should be
  (the message names its round and provider).
- ``agora audit patient DID`` lists every access to the records of
  ``DID`` (a ``did:ethr`` or secp256k1 ``did:key``), each beside the grant
  it relied on and whether that grant was in force when the proxy served
  it (:func:`agora.vault.audit.accesses_with_grants`). No wallet is
  needed: the chain and the anchored access logs are public.

``--json`` prints the report as one JSON object (errors as for every
command, :mod:`agora.cli.common`).
"""

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from agora.cli.common import failing_cleanly
from agora.cli.wallet import echo_json
from agora.ledger import JobId
from agora.ledger.local import LocalLedger
from agora.market.audit import JobAuditReport, audit_job
from agora.market.errors import AuditMismatchError
from agora.settings import load_settings
from agora.vault.audit import (
    GrantedAccess,
    accesses_with_grants,
    audit_trail,
    granted_access_to_json,
)
from agora.vault.blockstore import open_blockstore
from agora.vault.local import OwnerCatalog
from agora.vault.sharing import owner_address

audit_app = typer.Typer(
    help="Re-derive training jobs and record accesses from the chain.",
    no_args_is_help=True,
)

OutputJson = Annotated[
    bool, typer.Option("--json", help="Output, and errors, as JSON.")
]


@audit_app.command("job")
def job(
    job_id: Annotated[int, typer.Argument(min=1, help="The DataMarket job id.")],
    as_json: OutputJson = False,
) -> None:
    """Re-derive a finalised training job; exit 12 on any mismatch."""
    with failing_cleanly(as_json=as_json):
        settings = load_settings()
        store = open_blockstore(settings)
        with LocalLedger.open(settings) as ledger:
            report = audit_job(ledger.deployment, store, JobId(job_id))
        if as_json:
            echo_json(report.to_json())
        else:
            _print_report(report)
        if not report.ok:
            first, *rest = report.mismatches
            more = f" (and {len(rest)} more)" if rest else ""
            raise AuditMismatchError(f"job {job_id} audit: {first}{more}")


def _print_report(report: JobAuditReport) -> None:
    console = Console(highlight=False, soft_wrap=True)
    console.print(
        f"job {report.job_id}  manifest {report.manifest_cid}  spec {report.spec_cid}"
    )

    # Providers by their index in the job (the table below names them).
    index = {p.address: f"#{p.index}" for p in report.providers}
    rounds = Table("round", "accepted", "rejected (rule)", "dropped", "aggregation")
    for audited in report.rounds:
        rounds.add_row(
            str(audited.server_round),
            " ".join(index.get(a, a) for a in audited.accepted) or "-",
            " ".join(f"{index.get(a, a)} ({rule})" for a, rule in audited.rejected)
            or "-",
            " ".join(index.get(a, a) for a in audited.dropped) or "-",
            audited.aggregation,
        )
    console.print(rounds)

    providers = Table("#", "provider", "shapley", "weight bps", "derived pay", "paid")
    for provider in report.providers:
        providers.add_row(
            str(provider.index),
            provider.address,
            "-" if provider.shapley is None else f"{provider.shapley:.6g}",
            "-" if provider.weight_bps is None else str(provider.weight_bps),
            "-" if provider.payout_derived is None else str(provider.payout_derived),
            str(provider.payout_on_chain),
        )
    console.print(providers)

    if report.ok:
        console.print("ok: every root, aggregate, weight and payout matches")
    for mismatch in report.mismatches:
        console.print(f"mismatch: {mismatch}", markup=False)


@audit_app.command("patient")
def patient(
    did: Annotated[str, typer.Argument(help="The patient's DID.")],
    as_json: OutputJson = False,
) -> None:
    """Every access to a patient's records, with the grant it relied on."""
    with failing_cleanly(as_json=as_json):
        settings = load_settings()
        address = owner_address(did)
        known = OwnerCatalog.open(settings.state_dir, address).grantees()
        store = open_blockstore(settings)
        with LocalLedger.open(settings) as ledger:
            trail = audit_trail(ledger.deployment, store, address, known_dids=known)
        joined = accesses_with_grants(trail)
        if as_json:
            echo_json([granted_access_to_json(entry) for entry in joined])
            return
        if not joined:
            typer.echo(f"no access to the records of {did} on chain")
        for entry in joined:
            typer.echo(_access_line(entry))


def _when(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def _access_line(joined: GrantedAccess) -> str:
    access, grant = joined.access, joined.grant
    line = (
        f"{_when(access.timestamp)}  {access.record_id} read by {access.requester}"
        f" via {access.proxy} under grant {access.grant_id}"
    )
    if grant is not None:
        scope = "+".join(member.name or "" for member in grant.categories)
        line += (
            f" (to {grant.grantee}, {scope or 'records'} for {grant.purpose}"
            f" until {_when(grant.expiry)}"
        )
        if joined.revoked_at is not None:
            line += f", revoked {_when(joined.revoked_at)}"
        line += ")"
    return line + ("" if joined.within_grant else "  OUTSIDE THE GRANT")
