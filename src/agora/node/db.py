"""Node state in SQLAlchemy models: SQLite by default, PostgreSQL by URL.

One set of models serves both (DESIGN.md, "node state"): the file
``node.db`` in the node's state folder, or the database ``AGORA_DB_URL``
names (``postgresql://user:password@host/db``; the ``psycopg`` 3 driver is
selected for it). SQLAlchemy's exceptions are translated here, once, into
:class:`~agora.node.errors.NodeStateError`; a database URL never appears in
an error or a log line (it may hold a password).
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Engine,
    String,
    create_engine,
    delete,
    event,
    func,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from agora.node.errors import NodeConfigError, NodeStateError

logger = logging.getLogger(__name__)


class Base(DeclarativeBase):
    """Declarative base of every node table."""


class SpentToken(Base):
    """A bearer token accepted once, kept until it would have expired."""

    __tablename__ = "spent_tokens"

    issuer: Mapped[str] = mapped_column(String(512), primary_key=True)
    jti: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)


class OfferRow(Base):
    """A dataset a hospital node offered on ``DataMarket``, with what the
    chain does not keep (a title, who on the staff registered it)."""

    __tablename__ = "dataset_offers"

    dataset_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    modality: Mapped[str] = mapped_column(String(64))
    labels: Mapped[str] = mapped_column(String(1024))
    registered_by: Mapped[str] = mapped_column(String(512))
    registered_at: Mapped[int] = mapped_column(BigInteger)


@dataclass(frozen=True)
class OfferNote:
    """The off-chain part of one offer."""

    dataset_id: int
    title: str
    modality: str
    labels: tuple[str, ...]
    registered_by: str
    registered_at: int


def sqlalchemy_url(url: str) -> str:
    """``url`` with the driver SQLAlchemy should load: ``postgresql://``
    (which SQLAlchemy maps to psycopg2) becomes ``postgresql+psycopg://``.

    Raises :class:`NodeConfigError` for a URL SQLAlchemy cannot parse or a
    database other than SQLite and PostgreSQL.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise NodeConfigError("AGORA_DB_URL is not a database URL") from None
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise NodeConfigError("AGORA_DB_URL must name SQLite or PostgreSQL")
    return parsed.render_as_string(hide_password=False)


def sqlite_url(folder: Path) -> str:
    """The default database: ``node.db`` in the node's state ``folder``."""
    return f"sqlite:///{folder / 'node.db'}"


def _sqlite_pragmas(connection: Any, record: Any) -> None:
    # Write-ahead logging lets readers and the writer proceed together, and
    # NORMAL syncs at checkpoints rather than at every commit
    # (https://www.sqlite.org/wal.html): a crash of the process loses
    # nothing; a power cut may lose the last spent token ids, which only
    # reopens tokens that expire within 5 minutes.
    del record
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class NodeDatabase:
    """The node's tables on one engine; thread-safe (a session per call)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def connect(cls, url: str) -> "NodeDatabase":
        """Open the database at ``url`` and create missing tables."""
        try:
            engine = create_engine(sqlalchemy_url(url), pool_pre_ping=True)
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _sqlite_pragmas)
            Base.metadata.create_all(engine)
        except SQLAlchemyError as exc:
            # The message of a connection error can echo the URL: log the
            # class only.
            logger.warning("database unavailable: %s", type(exc).__name__)
            raise NodeStateError("the node's database is unavailable") from exc
        return cls(engine)

    @contextmanager
    def _session(self) -> Iterator[Session]:
        try:
            with Session(self.engine) as session, session.begin():
                yield session
        except SQLAlchemyError as exc:
            logger.warning("database operation failed: %s", type(exc).__name__)
            raise NodeStateError("the node's database failed") from exc

    def spend(self, issuer: str, jti: str, *, expires_at: int, now: int) -> bool:
        """Record token ``(issuer, jti)`` until ``expires_at``; ``False`` if
        it is recorded and not yet expired. Expired ones are pruned first."""
        try:
            with Session(self.engine) as session, session.begin():
                session.execute(delete(SpentToken).where(SpentToken.expires_at <= now))
                session.add(SpentToken(issuer=issuer, jti=jti, expires_at=expires_at))
        except IntegrityError:
            # The primary key is (issuer, jti): a second insert is a replay,
            # and two racing requests cannot both win it. The prune rolls
            # back with it; the next request prunes again.
            return False
        except SQLAlchemyError as exc:
            logger.warning("database operation failed: %s", type(exc).__name__)
            raise NodeStateError("the node's database failed") from exc
        return True

    def spent_count(self) -> int:
        """Token ids remembered now (expired ones until the next prune)."""
        with self._session() as session:
            return session.scalar(select(func.count()).select_from(SpentToken)) or 0

    def add_offer(self, note: OfferNote) -> None:
        """Keep the off-chain part of a new offer."""
        with self._session() as session:
            session.add(
                OfferRow(
                    dataset_id=note.dataset_id,
                    title=note.title,
                    modality=note.modality,
                    labels="\n".join(note.labels),
                    registered_by=note.registered_by,
                    registered_at=note.registered_at,
                )
            )

    def offers(self) -> dict[int, OfferNote]:
        """The off-chain part of every offer, by dataset id."""
        with self._session() as session:
            rows = session.scalars(select(OfferRow)).all()
            return {
                row.dataset_id: OfferNote(
                    dataset_id=row.dataset_id,
                    title=row.title,
                    modality=row.modality,
                    labels=tuple(row.labels.split("\n")) if row.labels else (),
                    registered_by=row.registered_by,
                    registered_at=row.registered_at,
                )
                for row in rows
            }

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
