"""Schema migrations, driven from the application (``palimpsest db ...`` and first use).

The scripts live in the ``palimpsest.migrations`` package (``migrations/`` in the repository)
so that an installed ``palimpsest`` finds them wherever it runs; ``alembic`` from the project
root reads the same folder via pyproject.toml.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from palimpsest import migrations
from palimpsest.storage.db import foreign_keys_off_for_sqlite
from palimpsest.storage.models import Base

# Any fixed number works; it only has to be the same for every palimpsest process.
_PG_MIGRATION_LOCK = 7_318_420_551


def alembic_config(connection: Connection | None = None, database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    if connection is not None:
        config.attributes["connection"] = connection
    if database_url is not None:
        config.attributes["database_url"] = database_url
    return config


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migrations have {len(heads)} heads, expected one: {heads}")
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate to ``revision``; concurrent callers on PostgreSQL take turns on a lock."""
    with engine.connect() as connection, foreign_keys_off_for_sqlite(connection), connection.begin():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.connect() as connection, foreign_keys_off_for_sqlite(connection), connection.begin():
        command.downgrade(alembic_config(connection), revision)


def ensure_schema(engine: Engine) -> None:
    """Create or migrate the database on first use; a no-op when it is already at head.

    Two processes starting on a new SQLite file at once (two first crawls from cron) take
    turns: the second waits for the first's migration, then finds the schema at head."""
    with migration_turn(engine):
        if current_revision(engine) != head_revision():
            upgrade(engine)


@contextmanager
def migration_turn(engine: Engine) -> Iterator[None]:
    """An exclusive ``flock`` on the SQLite file's folder for the time of the check and migration.

    SQLite's own locks make the loser of the race fail "database is locked" while the winner
    switches the file to WAL and creates tables; this lock makes it wait instead. The folder,
    not the database file, is locked: closing any descriptor of the database file would drop
    the POSIX locks SQLite holds on it in this process. PostgreSQL has its advisory lock."""
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:" or path.startswith("file:"):
        yield
        return
    try:
        import fcntl

        folder = os.open(Path(path).expanduser().resolve().parent, os.O_RDONLY)
    except (ImportError, OSError):  # not POSIX, or a folder we cannot open: no turns, as before
        yield
        return
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        yield
    finally:
        os.close(folder)  # releases the lock


@dataclass(frozen=True)
class SchemaCheck:
    current: str | None
    head: str
    differences: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.current == self.head and not self.differences


def check(engine: Engine) -> SchemaCheck:
    """Is the database at head, and do the models and the database agree?"""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = tuple(str(diff) for diff in compare_metadata(context, Base.metadata))
        current = context.get_current_revision()
    return SchemaCheck(current=current, head=head_revision(), differences=differences)
