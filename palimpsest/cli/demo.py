"""``palimpsest demo``: the whole loop, offline, against the local newsroom.

A story is added with one seed article, two outlets' feeds and a news sitemap; a first pass
of the scheduler discovers the coverage (related articles join, unrelated ones do not); the
Harbor Ledger then rewrites its headline and edits a paragraph, its sitemap says so, and the
second pass re-checks the article and stores version 2. The demo ends with the story, the
article's history and the word-level diff. Everything lands in a temporary folder, removed at
the end, unless ``--dir`` is given.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from palimpsest.cli.common import UserError, crawl_settings, open_archive
from palimpsest.cli.output import format_history
from palimpsest.cli.passes import run_pass
from palimpsest.cli.story import format_story
from palimpsest.crawler.extract.urls import normalise_url
from palimpsest.crawler.pipelines import schedule_policy
from palimpsest.crawler.runner import Crawls, run_crawls
from palimpsest.newsroom import Newsroom
from palimpsest.storage import stories
from palimpsest.storage.diff_render import render_text
from palimpsest.storage.history import compare_versions, find_article, history_of
from palimpsest.storage.stories import SourceSpec

# The newsroom is ours and on loopback: no need to wait between requests, and loopback (only)
# may be reached.
LOCAL_SETTINGS = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "PALIMPSEST_ALLOW_PRIVATE_ADDRESSES": "127.0.0.0/8",
}
MATCH_TERMS = ("water utility", "Tidewater")


def demo_directory(given: str | None) -> Path:
    """``--dir`` (made if new), or a new temporary folder."""
    if given is None:
        return Path(tempfile.mkdtemp(prefix="palimpsest-demo-"))
    directory = Path(given)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise UserError(f"--dir: {given} is a file, not a folder", 2) from exc
    except OSError as exc:
        raise UserError(f"--dir: cannot create {given}: {exc.strerror or exc}", 2) from exc
    return directory


def run(args: argparse.Namespace) -> int:
    directory = demo_directory(args.dir)
    try:
        return run_demo(args, directory)
    finally:
        if args.dir is None:  # a temporary folder: nothing is left behind
            shutil.rmtree(directory, ignore_errors=True)


def run_demo(args: argparse.Namespace, directory: Path) -> int:
    args.db = args.db or f"sqlite:///{directory / 'palimpsest.db'}"
    args.archive = args.archive or str(directory / "archive")
    archive = open_archive(args, create=True)
    settings = crawl_settings(args, archive, LOCAL_SETTINGS)
    print(f"palimpsest demo: database and archive in {directory}")

    with Newsroom() as newsroom:
        sources = [
            SourceSpec("seed", normalise_url(newsroom.seed_url())),
            SourceSpec("feed", normalise_url(newsroom.feed_url("courier"))),
            SourceSpec("feed", normalise_url(newsroom.feed_url("gazette"))),
            SourceSpec("sitemap", normalise_url(newsroom.sitemap_url())),
        ]
        with archive.sessions() as session, session.begin():
            slug = newsroom.story_slug
            if stories.repo.get_story(session, slug) is not None:  # a --dir used before
                slug = f"{slug}-{newsroom.port}"
            # poll_seconds=0: the demo's second pass polls the sources again at once.
            story_id = stories.create_story(
                session, slug, newsroom.story_title, sources=sources, terms=MATCH_TERMS, now=datetime.now(UTC),
                poll_seconds=0,
            ).id  # fmt: skip
        print(
            f"The newsroom is up: three outlets, their feeds and a news sitemap. Story '{slug}': one seed, "
            f"two feeds, one sitemap, match terms {', '.join(MATCH_TERMS)}."
        )
        policy = schedule_policy(settings)
        verify_every = settings.getint("PALIMPSEST_VERIFY_EVERY")

        async def main(crawls: Crawls) -> None:
            print("\n1. First pass: discover the story's coverage")
            await run_pass(crawls, archive, story_id, policy=policy, verify_every=verify_every)
            revision = newsroom.publish()
            print(f'\n2. The Harbor Ledger revises its article: new headline "{revision.headline}"')
            print("\n3. Second pass: the sitemap's new lastmod brings the re-check forward")
            await run_pass(crawls, archive, story_id, policy=policy, verify_every=verify_every, number=2)

        run_crawls(settings, main, verbose=args.verbose)
        ledger_url = newsroom.seed_url()

    with archive.readers() as session:
        view = stories.story_view(session, stories.require_story(session, slug))
        history = history_of(session, find_article(session, [normalise_url(ledger_url)]))
        comparison = compare_versions(session, history.article) if len(history.versions) > 1 else None
    print(f"\n4. The story\n\n{format_story(view)}")
    print(f"\n5. History of the Ledger's article\n\n{format_history(history)}")
    if comparison is None:
        raise UserError(f"demo expected 2 versions of {ledger_url}, found {len(history.versions)}")
    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    print(f"\n6. What changed (palimpsest diff {ledger_url})\n")
    print(render_text(comparison.diff, color=color))
    if args.dir is None:
        print("\nThe demo ran in a temporary folder, removed now; keep its archive with --dir DIR.")
    else:
        print(f"\nEverything fetched is in {archive.archive_dir} (WARC); the database is {args.db}.")
    archive.engine.dispose()
    return 0


NAME = "demo"
HELP = "the whole loop against the local newsroom, offline"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", help="keep the demo's database and archive here (default: a temporary directory)")
