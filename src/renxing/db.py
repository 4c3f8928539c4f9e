"""Engine, sessions and the declarative base shared by every domain."""

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from renxing.config import get_settings

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware (SQLite drops tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # type: ignore[override]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; pass an aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect):  # type: ignore[override]
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """``column`` contains ``text`` literally: ``%`` and ``_`` typed into a search box are not
    wildcards (a LIKE with an escape character, the same on SQLite and PostgreSQL)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"%{escaped}%", escape="\\")


@contextmanager
def pipelined(session: Session, enabled: bool = True) -> Iterator[None]:
    """On PostgreSQL (psycopg 3), statements sent inside go out without waiting for each answer
    and come back together at the end: one round trip for several writes. Only for statements
    whose results nobody reads (no RETURNING, no implicit one either: ``insert().inline()``);
    a failing statement still fails the transaction, at the end of the block. Elsewhere, or
    when not ``enabled``, a no-op."""
    dbapi = session.connection().connection.dbapi_connection
    pipeline = getattr(dbapi, "pipeline", None)
    if pipeline is None or not enabled:
        yield
        return
    dialect = session.get_bind().dialect
    try:
        with pipeline():
            yield
    except dialect.loaded_dbapi.Error as exc:
        # An error answered at the end of the block comes straight from the driver; callers
        # expect SQLAlchemy's (IntegrityError and the like), as from any other statement.
        raise DBAPIError.instance(None, None, exc, dialect.loaded_dbapi.Error, dialect=dialect) from exc


def utcnow() -> datetime:
    return datetime.now(UTC)


SQLITE_TIMEOUT = 30.0
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC")
_write_locks: dict[str, threading.Lock] = {}
_write_locks_guard = threading.Lock()


def _serialise_writes(engine: Engine, path: str) -> None:
    """SQLite has one writer at a time. Left to itself, a transaction that finds the database
    locked sleeps in the busy handler (backing off up to 100 ms) and retries, so under many
    threads most of the time goes to sleeping. Instead a process-wide lock per database file
    is taken at the first write of a transaction (where the driver begins it) and released
    once the commit or rollback is done: writers queue and the next one starts the moment
    the last ends. Reads never take it; other processes still meet the busy handler."""
    with _write_locks_guard:
        lock = _write_locks.setdefault(path or str(engine.url), threading.Lock())
    holders: set[int] = set()  # ids of the DBAPI connections that hold the lock

    def raw(conn) -> int:
        return id(getattr(conn, "dbapi_connection", conn))

    def release(conn) -> None:
        key = raw(conn)
        if key in holders:
            holders.discard(key)
            lock.release()

    @event.listens_for(engine, "before_cursor_execute")
    def _take(conn, _cursor, statement, _params, _context, _many):
        key = raw(conn.connection)
        if key not in holders and statement.lstrip()[:6].upper() in _WRITES:
            if not lock.acquire(timeout=SQLITE_TIMEOUT):
                raise sqlite3.OperationalError("database is locked (waited for this process's write lock)")
            holders.add(key)

    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_connection) -> None:
        try:
            commit(dbapi_connection)
        finally:
            release(dbapi_connection)

    def do_rollback(dbapi_connection) -> None:
        try:
            rollback(dbapi_connection)
        finally:
            release(dbapi_connection)

    dialect.do_commit = do_commit  # type: ignore[method-assign]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]

    # A connection thrown away without a commit or rollback releases too.
    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_conn, _record):
        if dbapi_conn is not None:
            release(dbapi_conn)

    @event.listens_for(engine, "close")
    def _on_close(dbapi_conn, _record):
        release(dbapi_conn)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_TIMEOUT})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            # Pages through the OS cache instead of a read call each, and room for a large
            # transaction's dirty pages (the default 2 MB spills them mid-transaction).
            cur.execute("PRAGMA mmap_size=268435456")
            cur.execute("PRAGMA cache_size=-32768")
            cur.close()

        _serialise_writes(engine, path)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


_engines: dict[str, Engine] = {}


def get_engine(url: str | None = None) -> Engine:
    url = url or get_settings().database_url
    if url not in _engines:
        _engines[url] = make_engine(url)
    return _engines[url]


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything on any error."""
    with session_factory(engine)() as session, session.begin():
        yield session
