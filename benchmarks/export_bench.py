"""Export throughput and memory: rows per second, and a peak that does not grow with the rows.

Builds an archive of N versions with bulk inserts (SQLite in a temporary directory unless
``--db`` names an empty database), then exports it to /dev/null as JSON Lines and as CSV at
N/10 and at N versions (the same database, filled up in between). Each export runs in a fresh
child process, twice: once untimed-by-tracing for rows/s and the process's max RSS, once under
tracemalloc for the peak of Python allocations during the export. Flat memory means both
peaks stay put while the row count grows tenfold. Versions are synthetic and deterministic
(``random.Random(0)``): ~480 words (~3 KB) of body in 6 paragraphs, 4 versions per article,
20 outlets, a story for every third article. Run from the project root:

    python -m benchmarks.export_bench [--rows 100000] [--db URL]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, literal_column, select

from palimpsest.storage.db import make_engine, redact
from palimpsest.storage.export import WRITERS, snapshot_session, start_export
from palimpsest.storage.migrate import ensure_schema
from palimpsest.storage.models import Article, Outlet, Story, StoryArticle, Version

VERSIONS_PER_ARTICLE = 4
OUTLETS = 20
PARAGRAPHS_PER_TEXT = 6
WORDS_PER_PARAGRAPH = 80
CHUNK = 5000
T0 = datetime(2026, 1, 1, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent


def _paragraph_pool(rng: random.Random, count: int = 400) -> list[str]:
    vocabulary = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 9))) for _ in range(3000)]
    vocabulary += ["the", "of", "and", "to", "a", "in", "that", "said", "is", "for", "über", "café"] * 30
    return [
        " ".join(rng.choice(vocabulary) for _ in range(WORDS_PER_PARAGRAPH)).capitalize() + "." for _ in range(count)
    ]


def fill(engine: Engine, rows: int) -> None:
    """Add synthetic versions until the archive holds ``rows`` of them (bulk inserts)."""
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as connection:
        have = connection.scalar(select(func.count()).select_from(Version)) or 0
        if have == 0:
            connection.execute(
                insert(Outlet),
                [
                    {
                        "domain": f"outlet{n}.example",
                        "name": f"Outlet {n}",
                        "validators_trusted": True,
                        "created_at": T0,
                    }
                    for n in range(OUTLETS)
                ],
            )
            connection.execute(
                insert(Story), [{"slug": "budget", "title": "Budget", "match_terms": [], "created_at": T0}]
            )
        outlet_ids = connection.scalars(select(Outlet.id).order_by(Outlet.id)).all()
        story_id = connection.scalar(select(Story.id))
    rng = random.Random(have)
    pool = _paragraph_pool(random.Random(0))
    version_insert = insert(Version)
    if postgres:  # as storage.ingest does, so that cursors work on the benchmark data
        version_insert = version_insert.values(txid=literal_column("pg_current_xact_id()::text::bigint"))
    while have < rows:
        count = min(CHUNK, rows - have)
        first_article = have // VERSIONS_PER_ARTICLE
        last_article = (have + count - 1) // VERSIONS_PER_ARTICLE
        with engine.begin() as connection:
            new_articles = [
                {
                    "canonical_url": f"https://outlet{n % OUTLETS}.example/news/{n}",
                    "outlet_id": outlet_ids[n % OUTLETS],
                    "first_seen_at": T0 + timedelta(minutes=n),
                    "state": "active",
                    "unchanged_streak": 0,
                }
                for n in range(first_article, last_article + 1)
                if n * VERSIONS_PER_ARTICLE >= have
            ]
            if new_articles:
                connection.execute(insert(Article), new_articles)
            urls = {f"https://outlet{n % OUTLETS}.example/news/{n}": n for n in range(first_article, last_article + 1)}
            article_ids = {
                urls[url]: article_id
                for article_id, url in connection.execute(
                    select(Article.id, Article.canonical_url).where(Article.canonical_url.in_(urls))
                )
            }
            members = [
                {"story_id": story_id, "article_id": article_ids[n], "how": "seed", "joined_at": T0}
                for n in range(first_article, last_article + 1)
                if n % 3 == 0 and n * VERSIONS_PER_ARTICLE >= have
            ]
            if members:
                connection.execute(insert(StoryArticle), members)
            versions = []
            for position in range(have, have + count):
                article, seq = divmod(position, VERSIONS_PER_ARTICLE)
                seen = T0 + timedelta(minutes=article, hours=seq)
                body = "\n\n".join(rng.choice(pool) for _ in range(PARAGRAPHS_PER_TEXT))
                versions.append(
                    {
                        "article_id": article_ids[article],
                        "seq": seq + 1,
                        "first_seen_at": seen,
                        "last_seen_at": seen + timedelta(minutes=30),
                        "headline": f"Headline {article}, revision {seq + 1}",
                        "dek": "A standfirst that sums the article up.",
                        "byline": "By A. Reporter",
                        "published_at": T0 + timedelta(minutes=article),
                        "modified_at": seen if seq else None,
                        "language": "en",
                        "text": body,
                        "captions": None,
                        "content_hash": f"{position:064x}",
                        "word_count": PARAGRAPHS_PER_TEXT * WORDS_PER_PARAGRAPH,
                        "access": "free" if position % 5 else "metered",
                        "complete": True,
                        "paywall_evidence": [],
                        "extractor": "benchmark",
                        "change_kinds": ["body"] if seq else [],
                        "similarity": 0.93 if seq else None,
                    }
                )
            connection.execute(version_insert, versions)
        have += count


def export_once(database_url: str, fmt: str, trace: bool) -> dict[str, Any]:
    """One full export to /dev/null in this process (the child's side of ``measure_export``)."""
    engine = make_engine(database_url)
    with snapshot_session(engine):  # connect and warm up outside the measurement
        pass
    if trace:
        tracemalloc.start()
        tracemalloc.reset_peak()
    started = time.perf_counter()
    with snapshot_session(engine) as session, open(os.devnull, "w", encoding="utf-8", newline="") as sink:
        count = WRITERS[fmt](start_export(session).rows, sink)
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {"rows": count, "seconds": seconds, "max_rss_bytes": _max_rss()}
    if trace:
        result["traced_peak_bytes"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    engine.dispose()
    return result


def _max_rss() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024  # kilobytes on Linux


def _in_child(database_url: str, fmt: str, trace: bool) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.export_bench", "--child", fmt, "--db", database_url]
    if trace:
        command.append("--trace")
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def measure_export(rows: int = 100_000, database_url: str | None = None) -> dict[str, Any]:
    """Export N/10 and N versions as jsonl and csv; rows/s, traced peak and max RSS for each."""
    with tempfile.TemporaryDirectory(prefix="palimpsest-export-bench-") as scratch:
        url = database_url or f"sqlite:///{Path(scratch) / 'bench.db'}"
        engine = make_engine(url)
        ensure_schema(engine)
        with engine.connect() as connection:
            if connection.scalar(select(func.count()).select_from(Version)):
                raise SystemExit(f"{redact(url)} already holds versions: the benchmark needs an empty database")
        results = []
        build_seconds = 0.0
        for size in sorted({max(1, rows // 10), rows}):
            started = time.perf_counter()
            fill(engine, size)
            build_seconds += time.perf_counter() - started
            for fmt in ("jsonl", "csv"):
                timed = _in_child(url, fmt, trace=False)
                traced = _in_child(url, fmt, trace=True)
                assert timed["rows"] == traced["rows"] == size, (timed, traced, size)
                results.append(
                    {
                        "rows": size,
                        "format": fmt,
                        "seconds": round(timed["seconds"], 3),
                        "rows_per_second": round(size / timed["seconds"]),
                        "max_rss_bytes": timed["max_rss_bytes"],
                        "traced_peak_bytes": traced["traced_peak_bytes"],
                    }
                )
        engine.dispose()
    return {
        "backend": _backend(url),
        "words_per_version": PARAGRAPHS_PER_TEXT * WORDS_PER_PARAGRAPH,
        "build_seconds": round(build_seconds, 1),
        "results": results,
    }


def _backend(url: str) -> str:
    return "postgresql" if url.startswith(("postgresql", "postgres:")) else "sqlite"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", metavar="URL", help="an empty database (default: SQLite in a temporary directory)")
    parser.add_argument("--child", choices=sorted(WRITERS), help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(export_once(args.db, args.child, args.trace)))
        return
    report = measure_export(args.rows, args.db)
    mib = 1024 * 1024
    print(
        f"export to /dev/null, {report['backend']}, ~{report['words_per_version']} words per version "
        f"(database built in {report['build_seconds']} s)"
    )
    print(f"{'versions':>9} {'format':>6} {'seconds':>8} {'rows/s':>8} {'traced peak':>12} {'max RSS':>9}")
    for r in report["results"]:
        print(
            f"{r['rows']:>9} {r['format']:>6} {r['seconds']:>8.2f} {r['rows_per_second']:>8} "
            f"{r['traced_peak_bytes'] / mib:>8.1f} MiB {r['max_rss_bytes'] / mib:>5.0f} MiB"
        )


if __name__ == "__main__":
    main()
