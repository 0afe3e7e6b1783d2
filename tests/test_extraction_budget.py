"""Each page's extraction has a wall-time and a memory budget (issue 20): over it, the worker
is replaced and the page fails with a plain reason; a stop request cuts a page short."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from palimpsest.crawler.workers import ExtractionPool, WorkerCrashed
from palimpsest.storage.models import Capture
from tests.conftest import LOCAL_CRAWL


def allocate(megabytes: int) -> int:
    """Runs in a worker: holds ``megabytes`` of memory at once."""
    block = bytearray(megabytes * 1024 * 1024)
    return len(block)


def spin(seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pass
    return "done"


def worker_pids(pool: ExtractionPool) -> set[int]:
    return {worker.process.pid for worker in pool._all}


def test_a_page_over_its_memory_or_time_budget_fails_alone_and_the_worker_is_replaced():
    async def scenario() -> list[str]:
        pool = ExtractionPool(1, time_limit=1.0, memory_limit_mb=64)
        answers = []
        try:
            answers.append(str(await pool.run(allocate, 8)))
            first = worker_pids(pool)
            for call in ((allocate, 256), (spin, 30)):
                try:
                    await pool.run(*call)
                except WorkerCrashed as exc:
                    answers.append(str(exc))
            answers.append(str(await pool.run(allocate, 8)))
            assert worker_pids(pool).isdisjoint(first)  # killed and replaced
        finally:
            pool.close()
        return answers

    started = time.monotonic()
    answers = asyncio.run(scenario())
    assert answers == [
        str(8 * 1024 * 1024),
        "extraction needed more than 64 MB",
        "extraction took longer than 1 s",
        str(8 * 1024 * 1024),
    ]
    assert time.monotonic() - started < 30


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")
def test_sigterm_is_obeyed_within_seconds_while_a_page_is_being_extracted(newsroom, cli, sessions):
    slow = newsroom.url("courier", "/faults/extract-slow")
    env = dict(os.environ, PALIMPSEST_DATABASE_URL=cli.database_url, PALIMPSEST_ARCHIVE_DIR=str(cli.archive_dir),
               PALIMPSEST_ALLOW_PRIVATE_ADDRESSES="127.0.0.0/8", PYTHONWARNINGS="ignore")  # fmt: skip
    crawl = subprocess.Popen(
        [sys.executable, "-m", "palimpsest", "crawl", *LOCAL_CRAWL, slow, "-s", "PALIMPSEST_EXTRACT_TIME_LIMIT=120"],
        cwd=cli.cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while newsroom.fault_hits.get("extract-slow", 0) == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)  # fetched: now in extraction, which alone takes several seconds
        signalled = time.monotonic()
        crawl.send_signal(signal.SIGTERM)
        crawl.communicate(timeout=60)
        stopped_after = time.monotonic() - signalled
    finally:
        if crawl.poll() is None:
            crawl.kill()
            crawl.wait()
    assert crawl.returncode == 128 + signal.SIGTERM
    assert stopped_after < 8, stopped_after
    with sessions() as session:
        capture = session.scalars(select(Capture)).one()
    assert (capture.outcome, capture.error) == ("error", "extraction cut short: the crawl was stopped")
