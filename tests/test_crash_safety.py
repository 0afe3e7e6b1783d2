"""Crashes: a crawl SIGKILLed at random points and restarted stores every page once, leaves no
orphan rows and WARC files that read; a database that goes away loses no capture."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from warcio.archiveiterator import ArchiveIterator

from palimpsest.newsroom import Newsroom
from palimpsest.storage.models import Article, Capture, Version
from tests.conftest import LOCAL_CRAWL, LOOPBACK_ONLY, PG_SERVER_URL

PAGES = 300


@pytest.fixture
def big_newsroom():
    with Newsroom(generated=PAGES) as running:
        yield running


def _popen_crawl(cli, urls, *extra):
    env = dict(
        os.environ,
        PALIMPSEST_DATABASE_URL=cli.database_url,
        PALIMPSEST_ARCHIVE_DIR=str(cli.archive_dir),
        PALIMPSEST_ALLOW_PRIVATE_ADDRESSES=LOOPBACK_ONLY,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "palimpsest", "-q", "crawl", *LOCAL_CRAWL, *extra, *urls],
        cwd=cli.cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _captures(sessions) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Capture))


def _wait_until(predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.slow
def test_sigkill_at_random_points_then_restart_stores_every_page_once(big_newsroom, cli, sessions):
    urls = big_newsroom.generated_urls()
    rng = random.Random(20261121)
    for _round in range(3):
        before = _captures(sessions)
        target = before + rng.randint(5, 60)
        process = _popen_crawl(cli, urls)
        _wait_until(lambda target=target, process=process: _captures(sessions) >= target or process.poll() is not None)
        time.sleep(rng.random() * 0.2)  # land anywhere: mid-fetch, mid-extraction, mid-commit
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)

    final = cli.crawl(*urls)

    assert "Fetched 300 pages" in final.stdout
    with sessions() as session:
        versions_per_article = session.execute(
            select(Version.article_id, func.count()).group_by(Version.article_id)
        ).all()
        articles = session.scalar(select(func.count()).select_from(Article))
        without_capture = session.scalar(
            select(func.count()).select_from(Article).where(~Article.id.in_(select(Capture.article_id)))
        )
        versions = session.scalars(select(Version.id)).all()
        cited = set(session.scalars(select(Capture.version_id).where(Capture.version_id.is_not(None))))
    assert articles == PAGES
    assert len(versions_per_article) == PAGES and {count for _aid, count in versions_per_article} == {1}
    assert without_capture == 0  # no orphan articles
    assert set(versions) <= cited  # no version without the capture that made it

    files = sorted(Path(cli.archive_dir).glob("*.warc.gz*"))
    assert files and not [f for f in files if f.name.endswith(".open")]
    check = subprocess.run(
        [str(Path(sys.executable).with_name("warcio")), "check", *map(str, files)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout[-2000:]
    for path in files:
        with path.open("rb") as handle:
            assert sum(1 for _ in ArchiveIterator(handle)) >= 1


def _pg_database(cli) -> str:
    return make_url(cli.database_url).database


def _admin():
    return create_engine(make_url(PG_SERVER_URL).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")


def _cut_off(database: str, seconds: float) -> None:
    """As a server restart looks to a client: every connection dropped, new ones refused."""
    admin = _admin()
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false'))
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"
            ),
            {"d": database},
        )
        time.sleep(seconds)
        connection.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true'))
    admin.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_SERVER_URL, reason="PALIMPSEST_TEST_DATABASE_URL is not set")
def test_database_restart_mid_crawl_loses_no_capture(big_newsroom, cli, sessions):
    urls = big_newsroom.generated_urls()[:120]
    process = _popen_crawl(cli, urls, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "DOWNLOAD_DELAY=0.02")
    assert _wait_until(lambda: _captures(sessions) >= 10)
    outage = threading.Thread(target=_cut_off, args=(_pg_database(cli), 2.0))
    outage.start()
    output, _ = process.communicate(timeout=180)
    outage.join()

    assert process.returncode == 0, output
    assert "Fetched 120 pages" in output and "unreachable" not in output
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Version)) == 120


@pytest.mark.postgres
@pytest.mark.skipif(not PG_SERVER_URL, reason="PALIMPSEST_TEST_DATABASE_URL is not set")
def test_database_gone_for_good_stops_the_crawl_with_a_clear_message(big_newsroom, cli, sessions):
    urls = big_newsroom.generated_urls()[:120]
    process = _popen_crawl(
        cli, urls, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "DOWNLOAD_DELAY=0.02",
        "-s", "PALIMPSEST_DATABASE_RETRY_SECONDS=1",
    )  # fmt: skip
    assert _wait_until(lambda: _captures(sessions) >= 10)
    outage = threading.Thread(target=_cut_off, args=(_pg_database(cli), 6.0))
    outage.start()
    output, _ = process.communicate(timeout=180)
    outage.join()

    assert process.returncode == 1
    assert "Stopped: the database became unreachable" in output and "Traceback" not in output
    assert "nothing half-written" in output

    cli.crawl(*urls)  # the next run completes the job
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Version)) == 120
        versions = set(session.scalars(select(Version.id)))
        cited = set(session.scalars(select(Capture.version_id).where(Capture.version_id.is_not(None))))
    assert versions <= cited
