"""Benchmark: importing every FHIR Bundle of the data folder.

Times the stages of ``agora health import`` over ``DATA_DIR/fhir`` (or the
folder given): reading and validating the Bundles against the R4B models,
then the whole import (validation, split among three hospitals, merge,
index, storage, Merkle roots) into memory and into a folder. Prints one JSON
object as its last line: ``files``, ``patients``, ``records``,
``validate_s``, ``import_memory_s``, ``import_folder_s``, ``records_per_s``
(of the folder import) and ``repeats`` (each figure is the best of them).

Usage: python benchmarks/fhir_import.py [--folder DIR] [--repeats N]
"""

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from agora.health.fhir import (
    FolderSink,
    ImportReport,
    MemorySink,
    NewDidKeys,
    bundle_files,
    fhir_folder,
    import_bundles,
    load_bundle,
)
from agora.settings import load_settings


def best_of(repeats: int, run: Callable[[], object]) -> float:
    """The shortest wall time of ``repeats`` runs, in seconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    files = bundle_files(args.folder or fhir_folder(load_settings()))

    def to_memory() -> ImportReport:
        return import_bundles(files, sink=MemorySink(), dids=NewDidKeys())

    def to_folder() -> ImportReport:
        with tempfile.TemporaryDirectory(prefix="agora-fhir-") as out:
            return import_bundles(files, sink=FolderSink(Path(out)), dids=NewDidKeys())

    report = to_memory()
    records = sum(len(p.batch.record_ids) for p in report.patients)
    validate_s = best_of(args.repeats, lambda: [load_bundle(f) for f in files])
    memory_s = best_of(args.repeats, to_memory)
    folder_s = best_of(args.repeats, to_folder)
    print(
        json.dumps(
            {
                "files": len(files),
                "patients": len(report.patients),
                "records": records,
                "issues": len(report.issues),
                "validate_s": round(validate_s, 3),
                "import_memory_s": round(memory_s, 3),
                "import_folder_s": round(folder_s, 3),
                "records_per_s": round(records / folder_s),
                "repeats": args.repeats,
            }
        )
    )


if __name__ == "__main__":
    main()
