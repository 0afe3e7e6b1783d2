"""``palimpsest crawl URL... [--story SLUG] [--stats FILE]``: fetch now, store what changed.

Exit codes: 0 the crawl ran (a page that failed is named in the summary and retried on the
error back-off by ``run``); 1 every page failed or was refused (a setting, the network or the
site is wrong), or the crawl stopped early (the database went away); 2 a usage or setup error;
128 + the signal number when Ctrl-C (130) or SIGTERM (143) cut the crawl short.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from palimpsest.cli.common import UserError, checked_urls, crawl_exit_code, crawl_settings, open_archive, print_summary

NAME = "crawl"
HELP = "fetch URLs now; store captures and versions"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("urls", nargs="+", metavar="URL")
    parser.add_argument("--story", metavar="SLUG", help="file the articles under this story (created if new)")
    parser.add_argument("--stats", metavar="FILE", help="also write the crawl's figures (outcomes, seconds) as JSON")


def run(args: argparse.Namespace) -> int:
    from palimpsest.crawler.plans import fetch_plans
    from palimpsest.crawler.runner import run_crawls
    from palimpsest.crawler.spiders.article import ArticleSpider

    urls = checked_urls(args.urls)
    if args.stats:
        check_writable(args.stats)
    archive = open_archive(args, create=True, warc=True)
    settings = crawl_settings(args, archive)
    with archive.readers() as session:
        plans = fetch_plans(session, urls, verify_every=settings.getint("PALIMPSEST_VERIFY_EVERY"))

    async def main(crawl: Any) -> Any:
        return await crawl(ArticleSpider, urls=urls, story=args.story, plans=plans), crawl.stop_signal

    stats, stop_signal = run_crawls(settings, main, verbose=args.verbose)
    print_summary(stats)
    if args.stats:
        write_stats(args.stats, stats)
    return crawl_exit_code([stats], stop_signal)


def check_writable(path: str) -> None:
    """``--stats FILE`` can be written: said before the crawl, not after it."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise UserError(f"--stats: {path} is a folder", 2)
    if not folder.is_dir():
        raise UserError(f"--stats: no folder {folder}", 2)
    if not os.access(target if target.exists() else folder, os.W_OK):
        raise UserError(f"--stats: cannot write {path}: permission denied", 2)


def write_stats(path: str, stats: Any) -> None:
    """The crawl's figures as JSON, for scripts and monitoring."""
    try:
        Path(path).write_text(json.dumps(asdict(stats), indent=2, default=str) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UserError(f"--stats: cannot write {path}: {exc.strerror or exc}") from exc
