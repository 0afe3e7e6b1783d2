"""How well the article-or-index judgement holds on WCXB's labelled pages (../shared/eval/wcxb).

    python -m benchmarks.page_types [--jobs N] [--show N]

WCXB labels 711 pages ``article`` and 189 ``listing`` or ``collection`` (index-like: content
lists, category grids, product grids). Each page is extracted as the crawler would, with its
URL. An article counts as kept when it was extracted and judged an article; an index page
counts as turned down when it was judged an index page or had no article text at all (either
way it never becomes a version). ``--show`` lists pages judged wrong, with the evidence.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from palimpsest.crawler.extract import ExtractionError, extract_article

WCXB = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "wcxb"


def labelled_pages(root: Path = WCXB) -> dict[str, tuple[str, str]]:
    """{page id: (URL, label)}."""
    with gzip.open(root / "ground-truth.json.gz", "rt", encoding="utf-8") as stream:
        return {pid: (item["url"], item["page_type"]) for pid, item in json.load(stream).items()}


def judge_one(job: tuple[Path, str, str]) -> tuple[str, str, str]:
    """(page id, "article" | "index" | "error", reason)."""
    root, pid, url = job
    body = gzip.decompress((root / "html" / f"{pid}.html.gz").read_bytes())
    try:
        extraction = extract_article(url, body)
    except ExtractionError as exc:
        return pid, "error", str(exc)
    return pid, extraction.page_type, extraction.page_reason


def judge_all(root: Path = WCXB, jobs: int = 2) -> dict[str, tuple[str, str]]:
    pages = labelled_pages(root)
    work = [(root, pid, url) for pid, (url, _label) in sorted(pages.items())]
    with ProcessPoolExecutor(jobs) as pool:
        return {pid: (judged, reason) for pid, judged, reason in pool.map(judge_one, work, chunksize=8)}


def tally(judged: dict[str, tuple[str, str]], pages: dict[str, tuple[str, str]]) -> dict[str, tuple[int, int]]:
    """{"article" | "not article" | each index label: (pages judged right, pages)}."""
    counts: dict[str, list[int]] = {}
    for pid, (_url, label) in pages.items():
        right = (judged[pid][0] == "article") == (label == "article")
        for key in {label, "article" if label == "article" else "not article"}:
            entry = counts.setdefault(key, [0, 0])
            entry[0] += right
            entry[1] += 1
    return {key: (right, total) for key, (right, total) in sorted(counts.items())}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.page_types", description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--show", type=int, default=0, metavar="N", help="list N pages judged wrong of each kind")
    args = parser.parse_args(argv)
    if not (WCXB / "ground-truth.json.gz").exists():
        print(f"no WCXB data at {WCXB}", file=sys.stderr)
        return 2
    pages = labelled_pages()
    judged = judge_all(jobs=args.jobs)
    for key, (right, total) in tally(judged, pages).items():
        verb = "judged articles" if key == "article" else "turned down"
        print(f"{key:<12} {right:>4}/{total:<4} {right / total:6.1%} {verb}")
    if args.show:
        for wrong_kind, is_wrong in (
            ("articles judged index", lambda label, got: label == "article" and got != "article"),
            ("index pages judged articles", lambda label, got: label != "article" and got == "article"),
        ):
            print(f"\n{wrong_kind}:")
            wrong = [pid for pid, (_url, label) in sorted(pages.items()) if is_wrong(label, judged[pid][0])]
            for pid in wrong[: args.show]:
                print(f"  {pid} {pages[pid][0][:80]}\n      {judged[pid][1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
