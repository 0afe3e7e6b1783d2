"""``palimpsest crawl URL... [--story SLUG] [--stats FILE]``: fetch now, store what changed."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from palimpsest.cli.common import checked_urls, crawl_settings, open_archive, print_summary

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
    archive = open_archive(args)
    settings = crawl_settings(args, archive)
    with archive.readers() as session:
        plans = fetch_plans(session, urls, verify_every=settings.getint("PALIMPSEST_VERIFY_EVERY"))

    async def main(crawl: Any) -> Any:
        return await crawl(ArticleSpider, urls=urls, story=args.story, plans=plans)

    stats = run_crawls(settings, main, verbose=args.verbose)
    print_summary(stats)
    if args.stats:
        write_stats(args.stats, stats)
    return 1 if stats.internal_errors or stats.database_error else 0


def write_stats(path: str, stats: Any) -> None:
    """The crawl's figures as JSON, for scripts and monitoring."""
    Path(path).write_text(json.dumps(asdict(stats), indent=2, default=str) + "\n", encoding="utf-8")
