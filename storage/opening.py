"""Opening an archive: for reading, or for writing, and creating one only when asked to.

A typo must never create an archive: reading (``history``, ``export``, the web view, the Python
API) opens an existing archive read-only, which also works where the archive sits on read-only
media, and never migrates it; writing (``crawl``, ``run``, ``story``) migrates an existing
archive and creates a new one only when the caller says so (``db upgrade``, the first ``crawl``
or ``story add`` in a new place, which tell the user).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError, OperationalError

from palimpsest.storage import migrate
from palimpsest.storage.db import DatabaseURLError, make_engine, normalise_database_url, redact

SQLITE_MAGIC = b"SQLite format 3\x00"


class ArchiveUnavailable(Exception):
    """The archive cannot be opened as asked; the message says why and what to do."""


class ArchiveNotFound(ArchiveUnavailable):
    """Nothing is there: no database file, or a database with no archive in it."""


class NotAnArchive(ArchiveUnavailable):
    """Something is there, but it is not a palimpsest archive this version can use."""


@dataclass(frozen=True)
class Opened:
    engine: Engine
    created: bool = False  # a new archive was made by this call


def sqlite_path(url: str) -> Path | None:
    """The database file of an SQLite URL (None for PostgreSQL or an in-memory database)."""
    parsed = make_url(normalise_database_url(url))
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).expanduser()


def _check_sqlite_file(path: Path, url: str) -> None:
    """A file that is there must be an SQLite database (an empty file is a new one)."""
    if path.is_dir():
        raise NotAnArchive(f"{path} is a folder, not a database file")
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise ArchiveUnavailable(f"cannot read {path}: {exc.strerror or exc}") from exc
    if head and head != SQLITE_MAGIC:
        raise NotAnArchive(f"{redact(url)} is not a database file (not SQLite): check --db")


def _revision(engine: Engine, url: str) -> str | None:
    try:
        return migrate.current_revision(engine)
    except OperationalError:
        raise  # unreachable, locked...: the caller says "cannot open"
    except DatabaseError as exc:
        raise NotAnArchive(f"cannot read {redact(url)}: {database_reason(exc)}") from exc


def _has_tables(engine: Engine) -> bool:
    with engine.connect() as connection:
        return bool(inspect(connection).get_table_names())


def database_reason(exc: BaseException) -> str:
    """The first line of what the database driver said."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip()
    return text.splitlines()[0] if text else type(original).__name__


def _no_archive(url: str) -> ArchiveNotFound:
    return ArchiveNotFound(
        f"no archive at {redact(url)} (check --db; palimpsest db upgrade, crawl or story add creates one)"
    )


def open_for_reading(url: str, *, any_revision: bool = False) -> Engine:
    """An existing archive at the current schema (``any_revision``: at any), read-only.
    Never creates or changes anything."""
    path = sqlite_path(url)
    if path is not None:
        if not path.exists():
            raise _no_archive(url)
        _check_sqlite_file(path, url)
    engine = make_engine(url, read_only=True)
    try:
        current = _revision(engine, url)
        if current is None:
            raise _no_archive(url)
        head = migrate.head_revision()
        if current != head and not any_revision:
            raise NotAnArchive(
                f"{redact(url)} is at schema revision {current}, this palimpsest reads {head}:"
                " run palimpsest db upgrade first (reading never migrates)"
            )
    except BaseException:
        engine.dispose()
        raise
    return engine


def open_for_writing(url: str, *, create: bool = False) -> Opened:
    """An archive to write to, migrated to the current schema; a new one only with ``create``."""
    path = sqlite_path(url)
    new = False
    if path is not None:
        if path.exists():
            _check_sqlite_file(path, url)
            new = path.stat().st_size == 0
        elif not create:
            raise _no_archive(url)
        elif not path.parent.is_dir():
            raise ArchiveNotFound(f"no folder {path.parent} for the database {path.name} (check --db)")
        else:
            new = True
    engine = make_engine(url)
    try:
        with migrate.migration_turn(engine):  # two first crawls on a new file: one migrates, one waits
            current = _revision(engine, url)
            if current is None and not new:
                if path is not None and _has_tables(engine):
                    raise NotAnArchive(f"{redact(url)} is an SQLite database, but not a palimpsest archive")
                new = True
            if new and not create:
                raise _no_archive(url)
            if current != migrate.head_revision():
                migrate.upgrade(engine)
    except sqlite3.Error as exc:
        engine.dispose()
        raise NotAnArchive(f"cannot use {redact(url)}: {exc}") from exc
    except BaseException:
        engine.dispose()
        raise
    return Opened(engine, created=new)


__all__ = [
    "ArchiveNotFound",
    "ArchiveUnavailable",
    "DatabaseURLError",
    "NotAnArchive",
    "Opened",
    "database_reason",
    "open_for_reading",
    "open_for_writing",
    "sqlite_path",
]
