"""``agora health import``: FHIR Bundles into patients' records.

Registered by :mod:`agora.cli.main` through :func:`register`, which hands
over its one failure handler, so that this command fails as every other
does: a bad file is exit code 4 (:attr:`~agora.cli.exit_codes.ExitCode.DATA`)
with a one-line message; bad resources inside readable Bundles are listed
and do not fail the command.
"""

import json
import time
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated, Any

import typer

from agora.errors import DataError
from agora.health.fhir import (
    FolderSink,
    ImportReport,
    NewDidKeys,
    PatientDids,
    bundle_files,
    fhir_folder,
    import_bundles,
)
from agora.identity.document import Did
from agora.settings import load_settings

FailingCleanly = Callable[..., AbstractContextManager[None]]
"""The CLI's failure handler: ``with failing_cleanly(as_json=…):``."""


def register(app: typer.Typer, *, failing_cleanly: FailingCleanly) -> None:
    """Add the ``health`` command group to ``app``."""
    health_app = typer.Typer(help="OpenHealth patient records.", no_args_is_help=True)
    app.add_typer(health_app, name="health")

    @health_app.command("import")
    def health_import(
        source: Annotated[
            Path | None,
            typer.Argument(
                help="A Bundle file or a folder of them [default: DATA_DIR/fhir]."
            ),
        ] = None,
        data_dir: Annotated[
            Path | None,
            typer.Option(help="Data folder holding fhir/ (default: AGORA_DATA_DIR)."),
        ] = None,
        out: Annotated[
            Path,
            typer.Option(help="Folder the records and indexes are written to."),
        ] = Path("out/records"),
        dids: Annotated[
            Path | None,
            typer.Option(
                help="JSON object of Patient id to DID; without it each patient "
                "gets a new did:key whose key is not kept."
            ),
        ] = None,
        seed: Annotated[
            int, typer.Option(min=0, help="Seed of the split among hospitals.")
        ] = 0,
        as_json: Annotated[
            bool, typer.Option("--json", help="The summary and errors as JSON.")
        ] = False,
    ) -> None:
        """Validate, split among three hospitals, merge and store FHIR Bundles."""
        with failing_cleanly(as_json=as_json):
            settings = load_settings()
            if data_dir is not None:
                settings = settings.model_copy(update={"data_dir": data_dir})
            folder = source if source is not None else fhir_folder(settings)
            files = [folder] if folder.is_file() else bundle_files(folder)
            patient_dids = _read_dids(dids) if dids is not None else NewDidKeys()

            started = time.perf_counter()
            report = import_bundles(
                files, sink=FolderSink(out), dids=patient_dids, seed=seed
            )
            seconds = time.perf_counter() - started

            if as_json:
                summary = {**report.to_json(), "seconds": round(seconds, 3)}
                typer.echo(json.dumps(summary, indent=2))
            else:
                typer.echo(_summary(report, seconds=seconds, out=out))


def _read_dids(path: Path) -> PatientDids:
    try:
        value = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not a readable JSON file of DIDs") from exc
    if not isinstance(value, dict) or not all(
        isinstance(v, str) for v in value.values()
    ):
        raise DataError(f"{path}: must be a JSON object of Patient id to DID")
    return {str(k): Did(v) for k, v in value.items()}


def _summary(report: ImportReport, *, seconds: float, out: Path) -> str:
    records = sum(len(p.batch.record_ids) for p in report.patients)
    lines = [
        f"imported {len(report.patients)} patients, {records} records "
        f"in {seconds:.1f} s into {out}",
        f"per type: {_counts(report.per_type())}",
        f"per hospital: {_counts(report.per_hospital())}",
    ]
    if report.directory:
        directory = Counter(r.resource_type for r in report.directory)
        lines.append(f"directory, in no patient's record: {_counts(directory)}")
    lines.append("patients (DID, records, batch Merkle root, file):")
    lines.extend(
        f"  {p.did}  {len(p.batch.record_ids)}  {p.batch.root.hex()}  {p.file}"
        for p in report.patients
    )
    lines.append(f"issues: {len(report.issues)}")
    lines.extend(f"  {issue}" for issue in report.issues)
    return "\n".join(lines)


def _counts(counts: Mapping[Any, int]) -> str:
    ordered = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
    return ", ".join(f"{name} {count}" for name, count in ordered) or "none"
