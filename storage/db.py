"""Engines and sessions for SQLite (the embedded default) and PostgreSQL (the shared store).

SQLite gets WAL (readers never block the writer), foreign keys on and a busy timeout, set on
every connection. PostgreSQL URLs are routed to psycopg 3 whatever driver the user wrote.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_DATABASE_URL = "sqlite:///palimpsest.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000


class DatabaseURLError(ValueError):
    """The database URL cannot be used (malformed, or a backend we do not support)."""


def resolve_database_url(explicit: str | None = None, environ: dict[str, str] | None = None) -> str:
    """``--db`` wins, then ``PALIMPSEST_DATABASE_URL``, then ``sqlite:///palimpsest.db``."""
    env = os.environ if environ is None else environ
    return explicit or env.get("PALIMPSEST_DATABASE_URL") or DEFAULT_DATABASE_URL


def normalise_database_url(url: str) -> str:
    """Accept ``postgres://``/``postgresql://`` and plain paths; route PostgreSQL to psycopg 3."""
    if "://" not in url:
        url = f"sqlite:///{url}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseURLError(f"not a database URL: {url!r}") from exc
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend != "sqlite":
        raise DatabaseURLError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, read_only: bool = False, **kwargs: Any) -> Engine:
    """An engine with the per-connection settings the archive relies on.

    ``read_only=True`` (the web view) writes nothing, ever: SQLite is opened through a
    ``mode=ro`` URI (a missing file is an error, not a new empty database) with ``query_only``
    on; PostgreSQL sessions start with ``default_transaction_read_only``.
    """
    url = normalise_database_url(url)
    parsed = make_url(url)
    if read_only:
        return _make_read_only_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        # A new file is created (by the first connection); a missing folder is not: see
        # storage.opening, which decides whether a new archive may be made here at all.
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
        event.listen(engine, "connect", _configure_sqlite_connection)
        event.listen(engine, "begin", _begin_sqlite_transaction)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _make_read_only_engine(parsed: URL, **kwargs: Any) -> Engine:
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file:"):
            raise DatabaseURLError("a read-only SQLite archive must be a database file path (sqlite:///path.db)")
        path = Path(parsed.database).expanduser().resolve()
        if not path.is_file():
            raise DatabaseURLError(f"no database file at {path}")
        uri = read_only_sqlite_uri(path)
        engine = create_engine(uri, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
        event.listen(engine, "connect", _configure_sqlite_read_only_connection)
        event.listen(engine, "begin", _begin_sqlite_transaction)
        return engine
    connect_args = dict(kwargs.pop("connect_args", {}))
    options = connect_args.get("options", "")
    connect_args["options"] = f"{options} -c default_transaction_read_only=on".strip()
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, connect_args=connect_args, **kwargs)


def read_only_sqlite_uri(path: Path) -> URL:
    """An SQLite URI that opens ``path`` read-only and never creates it.

    ``mode=ro`` first. A WAL database on read-only media (evidence on a read-only mount) cannot
    be opened that way: a reader must create the ``-shm`` index beside it. There it is opened
    ``immutable=1`` (no locks, no index), which reads the database file alone: right when no
    write-ahead log is left beside it, and refused when one is, since its last commits would
    be silently missing.
    """
    location = f"file:{quote(str(path))}"
    read_only = URL.create("sqlite", database=location, query={"mode": "ro", "uri": "true"})
    try:
        probe = sqlite3.connect(f"{location}?mode=ro", uri=True)
        try:
            probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            probe.close()
    except sqlite3.OperationalError as exc:
        if "unable to open" not in str(exc):
            return read_only  # locked, corrupt...: the engine reports it on first use
        wal = path.with_name(path.name + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise DatabaseURLError(
                f"cannot open {path} read-only: its write-ahead log {wal.name} holds commits that are not in"
                " the database file yet; open it once where it is writable (or copy it there) first"
            ) from exc
        return URL.create("sqlite", database=location, query={"mode": "ro", "immutable": "1", "uri": "true"})
    return read_only


def _configure_sqlite_read_only_connection(dbapi_connection: Any, _record: Any) -> None:
    # No journal_mode change (that is a write); query_only refuses writes even if mode=ro did not.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event own transaction starts (see make_engine).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_sqlite_transaction(conn: Any) -> None:
    # pysqlite's own BEGIN is deferred: a transaction that read first and writes later then
    # fails at once ("database is locked") when another writer got in between. Writers ask
    # for BEGIN IMMEDIATE (see make_session_factory) and wait for the lock instead.
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def foreign_keys_off_for_sqlite(connection: Connection) -> Iterator[None]:
    """SQLite batch migrations copy and drop tables; with foreign keys on and rows present the
    drop fails. Switch enforcement off (at the DBAPI level: PRAGMA is ignored inside a
    transaction) for the migration, and back on after it."""
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.dbapi_connection
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def make_session_factory(engine: Engine, *, writes: bool = True) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (results outlive their transaction).

    ``writes=False`` for readers: on SQLite they then never take the write lock.
    """
    bind = engine.execution_options(sqlite_begin="IMMEDIATE") if writes else engine
    return sessionmaker(bind, expire_on_commit=False)


def redact(url: str) -> str:
    """The URL with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url
