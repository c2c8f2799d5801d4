"""``agora blocks``: files in the blockstore as IPFS would address them.

Unencrypted, for public material (model cards, schemas, published
results); patient data goes through ``agora vault``, which encrypts first.
The blockstore is ``AGORA_VAULT_DIR``, or the Kubo node at
``AGORA_IPFS_API`` when that is set.
"""

import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

from agora.cli.common import JsonOption, failing_cleanly
from agora.errors import DataError

blocks_app = typer.Typer(
    help="Content-addressed blocks (IPFS-compatible CIDs).", no_args_is_help=True
)

_READ_SIZE = 1024 * 1024


@blocks_app.command("add")
def blocks_add(
    file: Annotated[Path, typer.Argument(help="The file to store.")],
    as_json: JsonOption = False,
) -> None:
    """Store FILE unencrypted; print its CIDv0 and CIDv1, one per line.

    They are the CIDs ``ipfs add FILE`` gives with Kubo's defaults.
    """
    from agora.settings import load_settings
    from agora.vault.blockstore import open_blockstore
    from agora.vault.unixfs import FileWriter

    with failing_cleanly(as_json=as_json):
        store = open_blockstore(load_settings())
        writer = FileWriter(store)
        try:
            with file.open("rb") as source:
                while chunk := source.read(_READ_SIZE):
                    writer.write(chunk)
        except OSError as exc:
            raise DataError(f"cannot read {file}: {exc.strerror}") from exc
        root = writer.close()
        typer.echo(root.cid_v0)
        typer.echo(root.cid)


@blocks_app.command("get")
def blocks_get(
    cid: Annotated[str, typer.Argument(help="CIDv0 or CIDv1 of a file.")],
    out: Annotated[
        Path | None,
        typer.Option(help="Write here (only once every block verified)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Read a file back, every block verified against its CID.

    Without --out the bytes go to standard output as they verify.
    """
    from agora.settings import load_settings
    from agora.vault.blockstore import open_blockstore
    from agora.vault.unixfs import read_file

    with failing_cleanly(as_json=as_json):
        store = open_blockstore(load_settings())
        if out is None:
            for piece in read_file(store, cid):
                sys.stdout.buffer.write(piece)
            sys.stdout.buffer.flush()
            return
        _write_verified(read_file(store, cid), out)


def _write_verified(pieces: Iterable[bytes | memoryview], out: Path) -> None:
    # A temporary file renamed at the end: a failed check leaves no file.
    temporary: Path | None = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=out.parent, prefix=".tmp-")
        temporary = Path(name)
        with os.fdopen(handle, "wb") as sink:
            for piece in pieces:
                sink.write(piece)
        temporary.replace(out)
    except OSError as exc:
        raise DataError(f"cannot write {out}: {exc.strerror}") from exc
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
