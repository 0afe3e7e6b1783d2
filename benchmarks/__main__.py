"""``python -m benchmarks [--pages 1000]``: every performance figure, measured side by side.

One run serves N article pages from a loopback server in a process of its own (the
Scrapinghub benchmark's real pages when ../shared/eval is present, else the newsroom's
generator), then measures, each in a fresh process where a crawler is involved:

- bare ``trafilatura.extract`` in a loop, one process (the extraction baseline);
- a no-op Scrapy spider over the same URLs (the fetching baseline);
- palimpsest's first crawl (fetch, extract, paywall verdict, version, WARC, database);
- palimpsest's re-crawl of the unchanged pages (full 200 responses, same payload);
- a re-crawl answered by 304s;
- database plus WARC bytes added per unchanged re-check;
- diffing two 5,000-word versions, and their sentence actions; exporting versions.

Crawlers use the same settings (concurrency 16, no delay: the server is ours). It prints a
table of absolute figures and ratios against the baselines measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.diff_bench import measure_diff
from benchmarks.export_bench import measure_export
from benchmarks.pageserver import source_pages
from benchmarks.revision_bench import measure_revisions

FAST = {
    "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
}
TARGETS = {
    "first crawl / bare trafilatura": ">= 1.3",
    "unchanged re-crawl / no-op spider": ">= 0.8",
    "bytes per unchanged re-check": "<= 300",
    "diff, 5,000 words (median)": "< 20 ms",
    "export": ">= 20,000 rows/s, flat memory",
}


@contextmanager
def page_server(count: int):
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.pageserver", "--count", str(count)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline().split()
        yield int(line[1]), line[3]
    finally:
        process.terminate()
        process.communicate(timeout=10)


def bare_trafilatura(pages: int) -> float:
    import trafilatura

    _source, bodies = source_pages()
    for body in bodies[:10]:
        trafilatura.extract(body, include_comments=False)  # warm up
    started = time.perf_counter()
    for number in range(pages):
        trafilatura.extract(bodies[number % len(bodies)], include_comments=False)
    return pages / (time.perf_counter() - started)


def noop_spider(urls_file: Path) -> float:
    args = [arg for name, value in FAST.items() for arg in ("-s", f"{name}={value}")]
    output = subprocess.run(
        [sys.executable, "-m", "benchmarks.noop_spider", str(urls_file), *args],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    result = json.loads(output.strip().splitlines()[-1])
    return result["pages"] / result["seconds"]


def palimpsest_crawl(urls_file: Path, workdir: Path, *extra: str) -> dict[str, Any]:
    stats_file = workdir / "stats.json"
    env = dict(
        os.environ,
        PALIMPSEST_DATABASE_URL=f"sqlite:///{workdir / 'bench.db'}",
        PALIMPSEST_ARCHIVE_DIR=str(workdir / "warc"),
        PALIMPSEST_ALLOW_PRIVATE_ADDRESSES="127.0.0.0/8",
    )
    settings = [arg for name, value in FAST.items() for arg in ("-s", f"{name}={value}")]
    subprocess.run(
        [sys.executable, "-m", "palimpsest", "-q", "crawl", "--stats", str(stats_file), *settings, *extra,
         *urls_file.read_text().split()],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    stats = json.loads(stats_file.read_text())
    stats["pages_per_second"] = sum(stats["counts"].values()) / stats["seconds"]
    return stats


def archive_bytes(workdir: Path) -> tuple[int, int]:
    """(database bytes, checkpointed: the WAL folded in; WARC bytes)."""
    database = workdir / "bench.db"
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    warc = sum(path.stat().st_size for path in (workdir / "warc").glob("*"))
    return database.stat().st_size, warc


def per_check(before: tuple[int, int], after: tuple[int, int], pages: int) -> dict[str, float]:
    database, warc = ((a - b) / pages for a, b in zip(after, before, strict=True))
    return {"total": database + warc, "database": database, "warc": warc}


def run(pages: int, export_rows: int, rounds: int = 3) -> dict[str, Any]:
    """Crawl figures are the median of ``rounds`` runs, baselines and palimpsest interleaved:
    on a shared 2-core machine one run of the same crawl varies by a third."""
    results: dict[str, Any] = {"pages": pages, "rounds": rounds}
    with page_server(pages) as (port, source), tempfile.TemporaryDirectory(prefix="palimpsest-bench-") as tmp:
        workdir = Path(tmp)
        urls_file = workdir / "urls.txt"
        urls_file.write_text("\n".join(f"http://127.0.0.1:{port}/p/{n}" for n in range(pages)))
        results["source"] = source
        results["bare_trafilatura"] = bare_trafilatura(pages)
        results["first_crawl"] = palimpsest_crawl(urls_file, workdir)["pages_per_second"]
        unconditional = ("-s", "PALIMPSEST_CONDITIONAL_REQUESTS=False")
        conditional = ("-s", "PALIMPSEST_VERIFY_EVERY=0")  # every re-check asks for a 304
        runs: dict[str, list[float]] = {"noop_spider": [], "unchanged_recrawl": [], "recrawl_304": []}
        for number in range(rounds):
            runs["noop_spider"].append(noop_spider(urls_file))
            before = archive_bytes(workdir)
            runs["unchanged_recrawl"].append(palimpsest_crawl(urls_file, workdir, *unconditional)["pages_per_second"])
            after_revisits = archive_bytes(workdir)
            runs["recrawl_304"].append(palimpsest_crawl(urls_file, workdir, *conditional)["pages_per_second"])
            if number == 0:
                results["bytes_per_unchanged_recheck"] = per_check(before, after_revisits, pages)
                results["bytes_per_304_recheck"] = per_check(after_revisits, archive_bytes(workdir), pages)
        before = archive_bytes(workdir)
        palimpsest_crawl(urls_file, workdir, *unconditional, "-s", "PALIMPSEST_WARC_UNCHANGED=none")
        results["bytes_per_unchanged_recheck_lean"] = per_check(before, archive_bytes(workdir), pages)
        for name, figures in runs.items():
            results[name] = statistics.median(figures)
            results[f"{name}_runs"] = figures
    results["diff"] = measure_diff()
    results["sentence_actions"] = measure_revisions()
    results["export"] = measure_export(export_rows)
    return results


def _export_rows(export: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    by = {(item["rows"], item["format"]): item for item in export["results"]}
    sizes = sorted({rows for rows, _fmt in by})
    small, large = sizes[0], sizes[-1]
    rows = []
    for fmt in ("jsonl", "csv"):
        item = by[(large, fmt)]
        peak_small = by[(small, fmt)]["traced_peak_bytes"] / 2**20
        peak_large = item["traced_peak_bytes"] / 2**20
        rows.append(
            (
                f"export {large:,} versions ({fmt})",
                f"{item['rows_per_second']:,} rows/s",
                f"peak {peak_large:.1f} MiB ({peak_small:.1f} at {small:,})",
                TARGETS["export"],
            )
        )
    return rows


def _rate(r: dict[str, Any], name: str) -> str:
    runs = r.get(f"{name}_runs") or [r[name]]
    spread = f" ({min(runs):.0f}-{max(runs):.0f})" if len(runs) > 1 else ""
    return f"{r[name]:.1f} pages/s{spread}"


def _bytes(figures: dict[str, float]) -> str:
    return f"{figures['total']:.0f} B (WARC {figures['warc']:.0f} + database {figures['database']:.0f})"


def table(r: dict[str, Any]) -> str:
    rows = [
        ("pages served", f"{r['pages']} ({r['source']})", f"median of {r.get('rounds', 1)} runs", ""),
        ("bare trafilatura.extract, 1 process", f"{r['bare_trafilatura']:.1f} pages/s", "1.00", "baseline"),
        ("no-op Scrapy spider", _rate(r, "noop_spider"), "1.00", "baseline"),
        (
            "palimpsest first crawl",
            f"{r['first_crawl']:.1f} pages/s",
            f"{r['first_crawl'] / r['bare_trafilatura']:.2f} x trafilatura",
            TARGETS["first crawl / bare trafilatura"],
        ),
        (
            "re-crawl, unchanged pages (200)",
            _rate(r, "unchanged_recrawl"),
            f"{r['unchanged_recrawl'] / r['noop_spider']:.2f} x no-op",
            TARGETS["unchanged re-crawl / no-op spider"],
        ),
        (
            "re-crawl answered by 304s",
            _rate(r, "recrawl_304"),
            f"{r['recrawl_304'] / r['noop_spider']:.2f} x no-op",
            "",
        ),
        *(
            (f"bytes per unchanged re-check ({label})", _bytes(r[key]), "", TARGETS["bytes per unchanged re-check"])
            for label, key in (
                ("200, revisit", "bytes_per_unchanged_recheck"),
                ("304, revisit", "bytes_per_304_recheck"),
                ("200, WARC_UNCHANGED=none", "bytes_per_unchanged_recheck_lean"),
            )
        ),
        (
            "diff, two 5,000-word versions",
            f"{r['diff']['median_ms']:.1f} ms median",
            "",
            TARGETS["diff, 5,000 words (median)"],
        ),
        (
            "sentence actions, the same 5,000 words",
            f"{r['sentence_actions']['sentence_actions_ms']:.1f} ms median",
            f"{r['sentence_actions']['actions_to_diff_ratio']:.2f} x the diff",
            "",
        ),
        *_export_rows(r["export"]),
    ]
    widths = [max(len(str(row[i])) for row in rows) for i in range(4)]
    header = ("measure", "figure", "ratio", "target")
    lines = [" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--export-rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3, help="re-crawl and baseline runs (median reported)")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON too")
    args = parser.parse_args()
    results = run(args.pages, args.export_rows, args.rounds)
    print(table(results))
    if args.json:
        print(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
