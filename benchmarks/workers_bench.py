"""``python -m benchmarks.workers_bench [--pages 1000]``: 1 worker against 2, same newsroom.

Needs the servers of ``palimpsest run --redis``: PostgreSQL (``--pg``, default the local
server; a database of its own is created and dropped) and Redis (``--redis``). It serves N
pages from the benchmarks' page server, archives them once with ``palimpsest crawl``, then,
for 1 and for 2 workers, makes every article due and times ``palimpsest run --redis
--until-idle`` workers until every check is stored. Re-checks are unconditional 200s of
unchanged pages (the common case of a running archive: a fetch, a payload digest, a
capture row and a revisit record).

Two figures per run: pages per second from the first to the last capture stored (the
crawling itself), and over the wall time of the worker processes (start-up included).
Runs alternate between 1 and 2 workers; the median is reported.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url

from benchmarks.__main__ import FAST, page_server
from palimpsest.storage.models import Article, Capture

SETTINGS = {**FAST, "PALIMPSEST_CONDITIONAL_REQUESTS": "False", "PALIMPSEST_CLAIM_BATCH": "200"}


def _settings_args() -> list[str]:
    return [arg for name, value in SETTINGS.items() for arg in ("-s", f"{name}={value}")]


def _env(database_url: str, archive: Path) -> dict[str, str]:
    return dict(
        os.environ,
        PALIMPSEST_DATABASE_URL=database_url,
        PALIMPSEST_ARCHIVE_DIR=str(archive),
        PALIMPSEST_ALLOW_PRIVATE_ADDRESSES="127.0.0.0/8",
        PYTHONWARNINGS="ignore",
    )


def measure(workers: int, database_url: str, redis_url: str, archive: Path, pages: int) -> dict[str, float]:
    engine = create_engine(make_url(database_url).set(drivername="postgresql+psycopg"))
    with engine.begin() as connection:
        connection.execute(update(Article).values(next_check_at=datetime.now(UTC) - timedelta(seconds=1)))
        before = connection.scalar(select(func.max(Capture.id)))
    command = [sys.executable, "-m", "palimpsest", "-q", "run", "--redis", redis_url, "--until-idle", *_settings_args()]
    started = time.perf_counter()
    processes = [
        subprocess.Popen(command, env=_env(database_url, archive), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(workers)
    ]
    for process in processes:
        output = process.communicate(timeout=1800)[0]
        if process.returncode != 0:
            raise RuntimeError(f"a worker failed:\n{output.decode(errors='replace')}")
    wall = time.perf_counter() - started
    with engine.connect() as connection:
        count, first, last = connection.execute(
            select(func.count(), func.min(Capture.fetched_at), func.max(Capture.fetched_at)).where(Capture.id > before)
        ).one()
    engine.dispose()
    if count != pages:
        raise RuntimeError(f"{workers} worker(s) stored {count} checks of {pages} pages")
    return {"crawling": count / max((last - first).total_seconds(), 1e-6), "wall": count / wall}


def run(pages: int, rounds: int, pg_server: str, redis_url: str) -> dict[str, list[dict[str, float]]]:
    name = f"palimpsest_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(pg_server).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = make_url(pg_server).set(database=name).render_as_string(hide_password=False)
    results: dict[str, list[dict[str, float]]] = {"1": [], "2": []}
    try:
        with page_server(pages) as (port, _source), tempfile.TemporaryDirectory(prefix="palimpsest-workers-") as tmp:
            archive = Path(tmp) / "warc"
            urls = [f"http://127.0.0.1:{port}/p/{n}" for n in range(pages)]
            subprocess.run(
                [sys.executable, "-m", "palimpsest", "-q", "crawl", *_settings_args(), *urls],
                env=_env(database_url, archive), check=True, capture_output=True,
            )  # fmt: skip
            for _round in range(rounds):
                for workers in (1, 2):
                    results[str(workers)].append(measure(workers, database_url, redis_url, archive, pages))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        import redis

        from palimpsest.crawler.frontier import namespace_for

        server = redis.Redis.from_url(redis_url)
        for key in server.scan_iter(f"{namespace_for(database_url)}:*"):
            server.delete(key)
        server.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.workers_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres", help="PostgreSQL server")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    results = run(args.pages, args.rounds, args.pg, args.redis)
    one = {key: statistics.median(r[key] for r in results["1"]) for key in ("crawling", "wall")}
    two = {key: statistics.median(r[key] for r in results["2"]) for key in ("crawling", "wall")}
    print(f"{args.pages} unchanged re-checks (200), PostgreSQL + Redis, median of {args.rounds} runs")
    print("workers | pages/s, first to last capture | pages/s, wall time incl. start-up")
    print(f"1       | {one['crawling']:.1f}{'':24} | {one['wall']:.1f}")
    print(f"2       | {two['crawling']:.1f}{'':24} | {two['wall']:.1f}")
    print(
        f"ratio 2/1: {two['crawling'] / one['crawling']:.2f} (crawling), {two['wall'] / one['wall']:.2f} (wall)"
        f" on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
