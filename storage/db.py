"""Engines and sessions for SQLite (the embedded default) and PostgreSQL (the shared store).

SQLite gets WAL (readers never block the writer), foreign keys on and a busy timeout, set on
every connection. PostgreSQL URLs are routed to psycopg 3 whatever driver the user wrote.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
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


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the per-connection settings the archive relies on."""
    url = normalise_database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
        event.listen(engine, "connect", _configure_sqlite_connection)
        event.listen(engine, "begin", _begin_sqlite_transaction)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


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
