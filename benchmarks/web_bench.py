"""Web view response times on a story whose main article has 10,000 versions.

Builds the archive with bulk inserts (SQLite in a temporary directory unless ``--db`` names an
empty database): one story of ``--articles`` articles across 20 outlets, one of them with
``--versions`` versions (~480 words each, a headline rewrite every 10th, body edits between),
the others with 1 to 3. Then requests every page through the Flask test client (no sockets:
what is measured is the app and its queries) and prints the median and the worst of
``--repeat`` requests in milliseconds. Pages are paginated, so the first and the last page
of the 10,000-version timeline should cost about the same. On PostgreSQL the tables are
vacuumed and analysed after the bulk load, as autovacuum would. Run from the project root:

    python -m benchmarks.web_bench [--versions 10000] [--db URL] [--repeat 20]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, literal_column, select, text

from palimpsest.storage.db import make_engine, redact
from palimpsest.storage.migrate import ensure_schema
from palimpsest.storage.models import Article, Outlet, Story, StoryArticle, Version
from palimpsest.web import create_app
from palimpsest.web.state import EXTENSION

OUTLETS = 20
PARAGRAPHS = 6
WORDS_PER_PARAGRAPH = 80
CHUNK = 2000
T0 = datetime(2026, 1, 1, tzinfo=UTC)
SLUG = "bench"


def _paragraph_pool(rng: random.Random, count: int = 300) -> list[str]:
    vocabulary = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 9))) for _ in range(3000)]
    return [
        " ".join(rng.choice(vocabulary) for _ in range(WORDS_PER_PARAGRAPH)).capitalize() + "." for _ in range(count)
    ]


def _version(article_id: int, seq: int, seen: datetime, headline: str, body: str, kinds: list[str]) -> dict[str, Any]:
    return {
        "article_id": article_id,
        "seq": seq,
        "first_seen_at": seen,
        "last_seen_at": seen + timedelta(minutes=10),
        "headline": headline,
        "dek": "A standfirst that sums the article up.",
        "byline": "By A. Reporter",
        "language": "en",
        "text": body,
        "content_hash": f"{article_id:032x}{seq:032x}",
        "word_count": len(body.split()),
        "access": "free" if article_id % 4 else "hard",
        "complete": bool(article_id % 4),
        "paywall_evidence": [],
        "extractor": "benchmark",
        "change_kinds": kinds,
        "similarity": 0.97 if seq > 1 else None,
    }


def build(engine: Engine, versions: int, articles: int) -> int:
    """The benchmark story; the id of its article with ``versions`` versions."""
    rng = random.Random(0)
    pool = _paragraph_pool(rng)
    version_insert = insert(Version)
    if engine.dialect.name == "postgresql":  # as storage.ingest does
        version_insert = version_insert.values(txid=literal_column("pg_current_xact_id()::text::bigint"))
    with engine.begin() as connection:
        connection.execute(
            insert(Outlet),
            [
                {"domain": f"outlet{n}.example", "name": f"Outlet {n}", "validators_trusted": True, "created_at": T0}
                for n in range(OUTLETS)
            ],
        )
        outlet_ids = connection.scalars(select(Outlet.id).order_by(Outlet.id)).all()
        connection.execute(
            insert(Story), [{"slug": SLUG, "title": "Benchmark story", "match_terms": [], "created_at": T0}]
        )
        story_id = connection.scalar(select(Story.id).where(Story.slug == SLUG))
        connection.execute(
            insert(Article),
            [
                {
                    "canonical_url": f"https://outlet{n % OUTLETS}.example/news/{n}",
                    "outlet_id": outlet_ids[n % OUTLETS],
                    "first_seen_at": T0,
                    "state": "active",
                    "unchanged_streak": 0,
                }
                for n in range(articles)
            ],
        )
        article_ids = connection.scalars(select(Article.id).order_by(Article.id)).all()
        connection.execute(
            insert(StoryArticle),
            [
                {"story_id": story_id, "article_id": a, "how": "feed", "score": 0.5, "joined_at": T0}
                for a in article_ids
            ],
        )
    big = article_ids[0]
    paragraphs = [rng.choice(pool) for _ in range(PARAGRAPHS)]
    headline = "Council weighs the budget"
    rows: list[dict[str, Any]] = []

    def flush() -> None:
        if rows:
            with engine.begin() as connection:
                connection.execute(version_insert, rows)
            rows.clear()

    for seq in range(1, versions + 1):
        kinds: list[str] = []
        if seq > 1 and seq % 10 == 0:
            headline, kinds = f"Council weighs the budget, revision {seq}", ["headline"]
        elif seq > 1:
            paragraphs[seq % PARAGRAPHS] = rng.choice(pool)
            kinds = ["body"]
        rows.append(_version(big, seq, T0 + timedelta(minutes=seq), headline, "\n\n".join(paragraphs), kinds))
        if len(rows) >= CHUNK:
            flush()
    for n, article_id in enumerate(article_ids[1:], start=1):
        for seq in range(1, n % 3 + 2):
            body = "\n\n".join(rng.choice(pool) for _ in range(PARAGRAPHS))
            kinds = [] if seq == 1 else ["body"]
            rows.append(_version(article_id, seq, T0 + timedelta(hours=n, minutes=seq), f"Story {n}", body, kinds))
    flush()
    return big


def _time(client: Any, path: str, repeat: int) -> tuple[float, float, int]:
    client.get(path)  # warm: caches, connections, templates
    samples = []
    status = 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        status = response.status_code
        response.close()
    return statistics.median(samples), max(samples), status


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--db", help="an empty database (default: SQLite in a temporary directory)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="palimpsest-web-bench-") as scratch:
        url = args.db or f"sqlite:///{Path(scratch) / 'bench.db'}"
        engine = make_engine(url)
        ensure_schema(engine)
        with engine.connect() as connection:
            if connection.scalar(select(func.count()).select_from(Version)):
                raise SystemExit(f"{redact(url)} already holds versions: the benchmark needs an empty database")
        started = time.perf_counter()
        big = build(engine, args.versions, args.articles)
        if engine.dialect.name == "postgresql":  # what autovacuum does soon after a bulk load
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        engine.dispose()
        total = args.versions + sum(n % 3 + 1 for n in range(1, args.articles))
        print(f"{redact(url)}: {total} versions built in {time.perf_counter() - started:.1f}s")
        app = create_app(url)
        client = app.test_client()
        last_page = (args.versions + 49) // 50
        paths = [
            "/",
            f"/stories/{SLUG}",
            f"/stories/{SLUG}?page={(args.articles + 49) // 50}",
            f"/api/stories/{SLUG}",
            f"/articles/{big}",
            f"/articles/{big}?page={last_page}",
            f"/articles/{big}?per_page=200&page={(args.versions + 199) // 200}",
            f"/api/articles/{big}",
            f"/articles/{big}/diff",
            f"/articles/{big}/diff?from=1&to={args.versions}",
            f"/api/articles/{big}/diff",
            "/search?q=revision",
            "/changes.atom",
            f"/stories/{SLUG}/changes.atom",
            f"/stories/{SLUG}/changes.atom?page=100",
        ]
        print(f"{'path':<48} {'median ms':>10} {'max ms':>8}  status")
        for path in paths:
            median, worst, status = _time(client, path, args.repeat)
            print(f"{path:<48} {median:>10.1f} {worst:>8.1f}  {status}")
        app.extensions[EXTENSION].engine.dispose()


if __name__ == "__main__":
    main()
