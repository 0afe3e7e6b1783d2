"""``palimpsest demo``: the whole loop, offline, against the local newsroom.

Start the newsroom, crawl its story, have the Ledger rewrite its headline and edit a
paragraph, crawl again, and show the article's history. Everything lands in a temporary
directory unless ``--dir`` is given.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawler.cli import UserError, crawl_settings, open_archive, print_summary
from crawler.output import format_history
from crawler.plans import fetch_plans
from crawler.runner import run_crawls
from crawler.spiders.article import ArticleSpider
from newsroom import Newsroom
from storage import repository as repo
from storage.diff_render import render_text
from storage.history import compare_versions, find_article, history_of

# The newsroom is ours and on loopback: no need to wait between requests.
LOCAL_SETTINGS = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}


def run_demo(args: argparse.Namespace) -> int:
    directory = Path(args.dir or tempfile.mkdtemp(prefix="palimpsest-demo-"))
    directory.mkdir(parents=True, exist_ok=True)
    args.db = args.db or f"sqlite:///{directory / 'palimpsest.db'}"
    args.archive = args.archive or str(directory / "archive")
    archive = open_archive(args)
    settings = crawl_settings(args, archive, LOCAL_SETTINGS)
    print(f"palimpsest demo: database and archive in {directory}")

    with Newsroom() as newsroom:
        urls = newsroom.story_urls()
        ledger_url = urls[0]
        with archive.sessions() as session, session.begin():
            repo.get_or_create_story(session, newsroom.story_slug, newsroom.story_title, datetime.now(UTC))
        print(f"The newsroom is up: {len(urls)} outlets cover the story '{newsroom.story_title}'.")

        def plans() -> dict[str, Any]:
            with archive.readers() as session:
                return fetch_plans(session, urls, verify_every=settings.getint("PALIMPSEST_VERIFY_EVERY"))

        async def main(crawl: Any) -> None:
            print("\n1. First crawl of the story")
            print_summary(await crawl(ArticleSpider, urls=urls, story=newsroom.story_slug, plans=plans()))
            revision = newsroom.publish()
            print(f'\n2. The Harbor Ledger revises its article: new headline "{revision.headline}"')
            print("\n3. Second crawl of the story")
            print_summary(await crawl(ArticleSpider, urls=urls, story=newsroom.story_slug, plans=plans()))

        run_crawls(settings, main, verbose=args.verbose)

    with archive.readers() as session:
        history = history_of(session, find_article(session, [ledger_url]))
    print(f"\n4. History of the Ledger's article\n\n{format_history(history)}")
    if len(history.versions) != 2:
        raise UserError(f"demo expected 2 versions of {ledger_url}, found {len(history.versions)}")
    with archive.readers() as session:
        comparison = compare_versions(session, history.article)
    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    print(f"\n5. What changed (palimpsest diff {ledger_url})\n")
    print(render_text(comparison.diff, color=color))
    print(
        f"\nEverything fetched is in {archive.archive_dir} (WARC); try: palimpsest --db {args.db} history {ledger_url}"
    )
    return 0
