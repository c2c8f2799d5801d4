"""A PostgreSQL server for the node tests, when one can be had.

``AGORA_TEST_POSTGRES_URL`` (a database the tests may create databases
with, e.g. ``postgresql://agora@127.0.0.1:5432/postgres``) is used as it
is. Otherwise, where Debian's ``postgresql`` package is installed
(``initdb`` and ``pg_ctl`` on PATH, or in /usr/lib/postgresql/*/bin), a
throwaway cluster is started in a temporary folder on a free loopback port,
as the ``postgres`` user when the tests run as root (``initdb`` refuses
root), and stopped at the end of the session. Each test gets a fresh
database of its own.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

URL_VARIABLE = "AGORA_TEST_POSTGRES_URL"


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def unavailable_reason() -> str | None:
    """Why no PostgreSQL can be had here, or ``None`` if one can."""
    if os.environ.get(URL_VARIABLE):
        return None
    if _binary("initdb") is None or _binary("pg_ctl") is None:
        return f"{URL_VARIABLE} unset and no initdb/pg_ctl (Debian postgresql)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser to start PostgreSQL as postgres"
    return None


@contextmanager
def postgres_server() -> Iterator[str]:
    """The URL of a server's maintenance database for the session."""
    given = os.environ.get(URL_VARIABLE)
    if given:
        yield given
        return

    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    assert initdb is not None and pg_ctl is not None
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    folder = Path(tempfile.mkdtemp(prefix="agora-pg-"))
    folder.chmod(0o777)  # the postgres user writes its cluster and socket here
    data, port = folder / "data", _free_port()
    subprocess.run(
        [
            *as_user,
            initdb,
            "-D",
            str(data),
            "-U",
            "agora",
            "--auth=trust",
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
    )
    options = f"-k {folder} -c listen_addresses=127.0.0.1 -p {port} -c fsync=off"
    log = str(folder / "log")
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(data), "-o", options, "-l", log, "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://agora@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


def _execute(server_url: str, statement: str) -> None:
    maintenance = make_url(server_url).set(drivername="postgresql")
    dsn = maintenance.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(statement.encode())


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database on ``server_url``'s server (its URL), dropped
    afterwards with whatever connections are still open to it."""
    name = f"agora_test_{uuid.uuid4().hex[:12]}"
    _execute(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield (
            make_url(server_url)
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        _execute(server_url, f'DROP DATABASE "{name}" WITH (FORCE)')
