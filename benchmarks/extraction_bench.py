"""Extraction time per page: palimpsest's extractor against bare ``trafilatura.extract``.

Both run in one process on the same pages, interleaved page by page (bare, ours, bare, ours...)
so that a noisy machine slows both alike; the first round warms caches and is not counted.
Pages: the Scrapinghub benchmark's 181 real news pages and WCXB's 711 article pages from
../shared/eval when present, otherwise the newsroom's own generated articles. Run from the
project root:

    python -m benchmarks.extraction_bench [--rounds 2] [--set scrapinghub|wcxb|all]

"Ours" is the whole extraction worker's job (``extract_article``: parsing, JSON-LD/OpenGraph
metadata, the paywall verdict, prompt removal, caption and standfirst separation, the
article-or-index judgement) against bare trafilatura's text alone. Ours takes trafilatura's
fast path and pays for its full comparison (readability, jusText) only on pages where the
fast result looks short for the page; the share of such pages is printed too.
Target: ours within 1.15x of bare on every set.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from contextlib import suppress
from pathlib import Path

import trafilatura

from palimpsest.crawler.extract import ExtractionError, extract_article
from palimpsest.crawler.extract import text as text_module

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
TARGET_RATIO = 1.15


def load_sets(which: str = "all") -> dict[str, list[tuple[str, bytes]]]:
    """{set name: [(url, html bytes)]}, the shared benchmark sets that are present."""
    sets: dict[str, list[tuple[str, bytes]]] = {}
    scrapinghub = EVAL / "scrapinghub" / "ground-truth.json"
    if which in ("all", "scrapinghub") and scrapinghub.exists():
        data = json.loads(scrapinghub.read_text())
        sets["scrapinghub (181 news pages)"] = [
            (v["url"], gzip.decompress((scrapinghub.parent / "html" / f"{pid}.html.gz").read_bytes()))
            for pid, v in data.items()
        ]
    wcxb = EVAL / "wcxb" / "ground-truth.json.gz"
    if which in ("all", "wcxb") and wcxb.exists():
        with gzip.open(wcxb, "rt", encoding="utf-8") as stream:
            data = json.load(stream)
        sets["wcxb (711 article pages)"] = [
            (v["url"], gzip.decompress((wcxb.parent / "html" / f"{pid}.html.gz").read_bytes()))
            for pid, v in sorted(data.items())
            if v["page_type"] == "article"
        ]
    if not sets:
        from palimpsest.newsroom.generator import generated_pages

        pages = generated_pages(200)
        sets[f"newsroom generator ({len(pages)} pages)"] = pages
    return sets


class _FullPassCounter:
    """Counts the pages that take trafilatura's full comparison (a benchmark-only wrapper)."""

    def __init__(self) -> None:
        self.count = 0
        self._run = text_module._run

    def __call__(self, tree, url, *, fast):
        if not fast:
            self.count += 1
        return self._run(tree, url, fast=fast)


def measure_pages(pages: list[tuple[str, bytes]], rounds: int = 2) -> dict[str, float]:
    bare_seconds = ours_seconds = 0.0
    counter = _FullPassCounter()
    text_module._run = counter
    try:
        for round_index in range(rounds + 1):
            if round_index == 1:
                counter.count = 0
            for url, body in pages:
                started = time.perf_counter()
                trafilatura.extract(body, include_comments=False)
                middle = time.perf_counter()
                with suppress(ExtractionError):
                    extract_article(url, body)
                ended = time.perf_counter()
                if round_index:  # round 0 warms up
                    bare_seconds += middle - started
                    ours_seconds += ended - middle
    finally:
        text_module._run = counter._run
    count = rounds * len(pages)
    return {
        "bare_ms_per_page": round(bare_seconds / count * 1000, 2),
        "ours_ms_per_page": round(ours_seconds / count * 1000, 2),
        "ratio": round(ours_seconds / bare_seconds, 3),
        "full_pass_share": round(counter.count / count, 3),
    }


def measure_extraction(rounds: int = 2, which: str = "all") -> dict[str, dict[str, float]]:
    """{set name: figures}, plus "all pages" (time-weighted over every set) when several."""
    sets = load_sets(which)
    results = {name: measure_pages(pages, rounds) for name, pages in sets.items()}
    if len(results) > 1:
        sizes = {name: len(pages) for name, pages in sets.items()}
        bare = sum(r["bare_ms_per_page"] * sizes[n] for n, r in results.items())
        ours = sum(r["ours_ms_per_page"] * sizes[n] for n, r in results.items())
        results["all pages"] = {"ratio": round(ours / bare, 3)}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--set", choices=["all", "scrapinghub", "wcxb"], default="all")
    args = parser.parse_args()
    for name, result in measure_extraction(args.rounds, args.set).items():
        if "bare_ms_per_page" not in result:
            print(f"{name}: ours / bare {result['ratio']:.2f}x  (target: at most {TARGET_RATIO}x)")
            continue
        print(f"pages: {name}")
        print(f"  bare trafilatura.extract(include_comments=False): {result['bare_ms_per_page']:6.2f} ms/page")
        print(f"  palimpsest extract_article (the whole worker):    {result['ours_ms_per_page']:6.2f} ms/page")
        print(f"  ours / bare: {result['ratio']:.2f}x  (target: at most {TARGET_RATIO}x)")
        print(f"  pages taking trafilatura's full comparison: {result['full_pass_share']:.1%}")


if __name__ == "__main__":
    main()
