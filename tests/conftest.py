"""Shared fixtures: the newsroom, a fresh database per test (SQLite, or PostgreSQL when
PALIMPSEST_TEST_DATABASE_URL names a server), and a runner for the real command line."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from palimpsest.newsroom import Newsroom
from palimpsest.storage.db import make_engine, make_session_factory

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
PG_SERVER_URL = os.environ.get("PALIMPSEST_TEST_DATABASE_URL")
# The newsroom is local: crawl it without politeness delays.
LOCAL_CRAWL = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
LOOPBACK_ONLY = "127.0.0.0/8"


@pytest.fixture
def newsroom() -> Iterator[Newsroom]:
    with Newsroom() as running:
        yield running


def _create_pg_database(server_url: str) -> str:
    name = f"palimpsest_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(make_url(server_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(server_url: str, name: str) -> None:
    admin = create_engine(make_url(server_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A new, empty database for this test; dropped afterwards."""
    if PG_SERVER_URL:
        url = _create_pg_database(PG_SERVER_URL)
        yield url
        _drop_pg_database(PG_SERVER_URL, make_url(url).database)
    else:
        yield f"sqlite:///{tmp_path / 'archive.db'}"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'sqlite.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    if not PG_SERVER_URL:
        pytest.skip("PALIMPSEST_TEST_DATABASE_URL is not set")
    url = _create_pg_database(PG_SERVER_URL)
    yield url
    _drop_pg_database(PG_SERVER_URL, make_url(url).database)


@pytest.fixture
def sessions(database_url: str):
    """A migrated database and a session factory on it."""
    from palimpsest.storage.migrate import ensure_schema

    engine = make_engine(database_url)
    ensure_schema(engine)
    yield make_session_factory(engine)
    engine.dispose()


@dataclass
class CLI:
    """The real ``palimpsest`` command in a subprocess, on this test's database and archive."""

    database_url: str
    archive_dir: Path
    cwd: Path

    def __call__(self, *args: str, check: bool = False, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ)
        env.update(
            PALIMPSEST_DATABASE_URL=self.database_url,
            PALIMPSEST_ARCHIVE_DIR=str(self.archive_dir),
            PYTHONWARNINGS="ignore",
            # The newsroom runs on loopback: allowed, and nothing else private.
            PALIMPSEST_ALLOW_PRIVATE_ADDRESSES=LOOPBACK_ONLY,
        )
        result = subprocess.run(
            [sys.executable, "-m", "palimpsest", *args],
            cwd=self.cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"palimpsest {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def crawl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self("crawl", *LOCAL_CRAWL, *args, check=True)


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> CLI:
    return CLI(database_url=database_url, archive_dir=tmp_path / "warc", cwd=tmp_path)


@dataclass
class SharedArchive:
    """A newsroom, a database and a CLI shared by the tests of one module (one costly crawl)."""

    newsroom: Newsroom
    cli: CLI
    sessions: object


@pytest.fixture(scope="module")
def shared_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedArchive]:
    from palimpsest.storage.migrate import ensure_schema

    directory = tmp_path_factory.mktemp("shared")
    url = _create_pg_database(PG_SERVER_URL) if PG_SERVER_URL else f"sqlite:///{directory / 'archive.db'}"
    engine = make_engine(url)
    ensure_schema(engine)
    with Newsroom() as running:
        yield SharedArchive(running, CLI(url, directory / "warc", directory), make_session_factory(engine))
    engine.dispose()
    if PG_SERVER_URL:
        _drop_pg_database(PG_SERVER_URL, make_url(url).database)


@pytest.fixture(scope="session")
def pywb() -> Path:
    """The folder holding pywb's ``wb-manager`` and ``wayback`` (tests/pywb_support.py)."""
    from tests.pywb_support import pywb_tools

    return pywb_tools()
