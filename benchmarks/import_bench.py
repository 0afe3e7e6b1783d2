"""Captures per second for ``palimpsest import`` and ``palimpsest backfill``, against bare baselines
measured in the same run.

A WARC file holds ``articles`` synthetic articles (~600 words) captured on three days each (a
headline edit between the first two, the third identical). Measured, each on a fresh SQLite
archive:

- read: warcio reading every page back (the listing pass and the payloads), nothing else;
- extract: bare ``trafilatura.extract`` over the same payloads (the extraction baseline);
- import: ``palimpsest import`` of the file (extraction, identity, versions, WARC copy, database);
- fetch: bare GETs of every capture's ``id_`` URL from pywb's ``wayback`` on loopback;
- backfill: ``palimpsest backfill --delay 0`` of every article from that pywb (CDX query + fetch
  + the import path). With the default ``--delay 1`` a backfill makes one request a second by
  design, so that figure is a ceiling, not a target.

The pywb rows need pywb (``wayback`` on PATH, or ``.venv-pywb`` as the tests make it). Run:

    python -m benchmarks.import_bench [--articles 100]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

DAY = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _page(rng: random.Random, url: str, headline: str, paragraphs: list[str]) -> bytes:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{headline}</title>'
        f'<link rel="canonical" href="{url}"><script type="application/ld+json">{{"@type": "NewsArticle",'
        f' "headline": "{headline}", "datePublished": "2026-03-01T08:00:00Z"}}</script></head><body>'
        f"<nav><a href='/'>Home</a></nav><article><h1>{headline}</h1><p>By A. Reporter</p>{body}</article>"
        "<footer>Bench Gazette</footer></body></html>"
    ).encode()


def make_warc(path: Path, articles: int, seed: int = 0) -> list[tuple[str, datetime]]:
    """The file, and every (url, capture time) in it."""
    rng = random.Random(seed)
    words = ["council", "water", "vote", "city", "budget", "said", "the", "of", "and", "residents", "plan"]
    captures = []
    with path.open("wb") as output:
        writer = WARCWriter(output, gzip=True)
        for number in range(articles):
            url = f"https://www.bench-gazette.com/news/2026/03/01/story-{number}"
            paragraphs = [" ".join(rng.choice(words) for _ in range(60)).capitalize() + "." for _ in range(10)]
            for day, headline in enumerate((f"Story {number} first", f"Story {number} edited", None)):
                when = DAY + timedelta(days=day, seconds=number)
                body = _page(rng, url, headline or f"Story {number} edited", paragraphs)
                http = StatusAndHeaders(
                    "200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))],
                    protocol="HTTP/1.1",
                )  # fmt: skip
                record = writer.create_warc_record(
                    url,
                    "response",
                    payload=io.BytesIO(body),
                    length=len(body),
                    http_headers=http,
                    warc_headers_dict={"WARC-Date": when.strftime("%Y-%m-%dT%H:%M:%SZ")},
                )
                writer.write_record(record)
                captures.append((url, when))
    return captures


def _timed(work) -> float:  # noqa: ANN001 - any callable
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _cli(*args: str) -> None:
    from palimpsest.cli import main

    with contextlib.redirect_stdout(io.StringIO()):
        code = main(list(args))
    if code != 0:
        raise SystemExit(f"palimpsest {' '.join(args[:3])} exited {code}")


def measure(articles: int) -> list[tuple[str, int, float]]:
    import trafilatura

    from palimpsest.crawler.warc_import import list_pages, read_page

    rows: list[tuple[str, int, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        warc = home / "bench.warc.gz"
        captures = make_warc(warc, articles)
        count = len(captures)
        pages: list = []
        rows.append(
            ("read (warcio only)", count, _timed(lambda: pages.extend(map(read_page, list_pages([warc]).pages))))
        )
        rows.append(("extract (bare trafilatura)", count, _timed(lambda: [trafilatura.extract(p.body) for p in pages])))
        db = f"sqlite:///{home / 'import.db'}"
        imported = ["--db", db, "--archive", str(home / "a"), "-q", "import", str(warc)]
        _cli("--db", db, "db", "upgrade")  # the archive exists: its creation is not timed
        rows.append(("palimpsest import", count, _timed(lambda: _cli(*imported))))

        tools = _pywb_tools()
        if tools is None:
            print("pywb not found (wayback on PATH or .venv-pywb): backfill not measured", file=sys.stderr)
            return rows
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tests.pywb_support import running_wayback

        with running_wayback(tools, home / "pywb", "bench", [warc]) as base:

            def fetch_all() -> None:
                for url, when in captures:
                    LOCAL.open(f"{base}/{when:%Y%m%d%H%M%S}id_/{url}", timeout=60).read()

            rows.append(("fetch id_ from pywb (bare urllib)", count, _timed(fetch_all)))
            urls = sorted({url for url, _when in captures})
            db = f"sqlite:///{home / 'backfill.db'}"
            args = ["--db", db, "--archive", str(home / "b"), "-q", "backfill", *urls, "--cdx", f"{base}/cdx"]
            _cli("--db", db, "db", "upgrade")
            args += ["--delay", "0", "-s", "PALIMPSEST_ALLOW_PRIVATE_ADDRESSES=127.0.0.0/8"]
            rows.append(("palimpsest backfill --delay 0", count, _timed(lambda: _cli(*args))))
    return rows


def _pywb_tools() -> Path | None:
    import shutil

    if shutil.which("wayback") and shutil.which("wb-manager"):
        return Path(shutil.which("wayback")).parent
    venv = Path(__file__).resolve().parent.parent / ".venv-pywb" / "bin"
    return venv if (venv / "wayback").exists() else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--articles", type=int, default=100)
    args = parser.parse_args(argv)
    rows = measure(args.articles)
    figures = {name: count / seconds for name, count, seconds in rows}
    print(f"{'step':<36} {'captures':>8} {'seconds':>8} {'captures/s':>11}")
    for name, count, seconds in rows:
        print(f"{name:<36} {count:>8} {seconds:>8.2f} {count / seconds:>11.1f}")
    extract = figures.get("extract (bare trafilatura)")
    if extract:
        print(f"import / bare extraction: {figures['palimpsest import'] / extract:.2f}")
    fetch = figures.get("fetch id_ from pywb (bare urllib)")
    if fetch:
        print(f"backfill / bare id_ fetch: {figures['palimpsest backfill --delay 0'] / fetch:.2f}")


if __name__ == "__main__":
    main()
