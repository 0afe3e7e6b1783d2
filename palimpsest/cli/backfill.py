"""``palimpsest backfill URL... [--story SLUG] [--cdx ENDPOINT] [--from DATE] [--to DATE]``:
earlier captures of articles from a Wayback CDX server.

Asks the CDX server which captures it holds of each article (its URL and every variant the
archive knows: tracking parameters, AMP; http/https and ``www.`` are folded by the server),
fetches each capture's original bytes (``id_``) and stores it as an imported capture at its
capture time. One request a second by default (``--delay``), Retry-After obeyed, a progress
line per capture. A capture stored before is not fetched again: a re-run continues where the
last one stopped. Only the extracted text decides whether the text changed (the CDX digest
changes with ads and tokens).

Exit codes: 0 done (captures skipped are in the summary); 1 the CDX server could not be asked
or some captures could not be fetched (a re-run tries them again); 2 a usage error.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from palimpsest.cli.common import UserError, bounded_float, checked_urls, crawl_settings, open_archive, utc_date

NAME = "backfill"
HELP = "earlier captures of articles from a Wayback CDX server"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("urls", nargs="+", metavar="URL")
    parser.add_argument("--story", metavar="SLUG", help="file the articles under this story (created if new)")
    parser.add_argument(
        "--cdx",
        metavar="ENDPOINT",
        help="CDX endpoint (default: the Internet Archive's; a pywb collection: http://HOST/COLL/cdx)",
    )
    parser.add_argument("--from", dest="since", type=utc_date, metavar="DATE", help="captures from DATE (UTC)")
    parser.add_argument("--to", dest="until", type=utc_date, metavar="DATE", help="captures up to DATE (UTC)")
    parser.add_argument(
        "--delay",
        type=bounded_float(0, 3600),
        metavar="SECONDS",
        help="pause between requests to the archive (default: PALIMPSEST_BACKFILL_DELAY, 1 second)",
    )


def run(args: argparse.Namespace) -> int:
    from palimpsest.crawler.addresses import parse_allowance
    from palimpsest.crawler.cdx import WaybackClient
    from palimpsest.crawler.settings import USER_AGENT
    from palimpsest.history_import import CaptureImporter, ImportTally

    urls = checked_urls(args.urls)
    if args.cdx is not None and not (args.cdx.startswith(("http://", "https://")) and len(args.cdx) > 8):
        raise UserError(f"--cdx: expected an http:// or https:// URL, got {args.cdx!r}", 2)
    archive = open_archive(args, create=True, warc=True)
    settings = crawl_settings(args, archive)
    endpoint = args.cdx or settings.get("PALIMPSEST_BACKFILL_CDX")
    client = WaybackClient(
        endpoint.rstrip("/"),
        user_agent=settings.get("USER_AGENT") or USER_AGENT,
        allowance=parse_allowance(settings.get("PALIMPSEST_ALLOW_PRIVATE_ADDRESSES") or ""),
        delay=args.delay if args.delay is not None else settings.getfloat("PALIMPSEST_BACKFILL_DELAY"),
    )
    tally = ImportTally()
    importer = CaptureImporter(archive.sessions, archive.archive_dir, args.story)
    failures = 0
    try:
        for url in urls:
            failures += _backfill_one(url, args, archive, client, importer, tally)
    finally:
        importer.close()
    print(
        tally.summary(
            f"Backfilled {len(urls)} URL(s) from {client.replay.split('://', 1)[-1]} ({client.requests} request(s))"
        )
    )
    return 1 if failures else 0


# Listing rounds per URL: the captures fetched can name more forms (AMP, og:url) to ask for.
ROUNDS = 3


def _backfill_one(url: str, args: argparse.Namespace, archive: Any, client: Any, importer: Any, tally: Any) -> int:
    """Every capture the server holds of one article, stored; the number of failures."""
    from palimpsest.crawler.cdx import CDXError, capture_url, query_urls, same_article, skip_reason
    from palimpsest.crawler.extract.urls import normalise_url
    from palimpsest.crawler.fetch import FetchError
    from palimpsest.history_import import ALREADY, Page, progress_line
    from palimpsest.storage.imported import Origin, origin_key

    asked: set[str] = set()
    seen: set[tuple[str, str]] = set()
    failures = 0
    for _round in range(ROUNDS):
        wanted = _known_forms(archive, normalise_url(url))
        queries = [query for query in query_urls(sorted(wanted)) if query not in asked]
        if not queries:
            break
        listed = {}
        try:
            for query in queries:
                asked.add(query)
                for capture in client.captures(query, since=args.since, until=args.until):
                    if same_article(capture, wanted) and (capture.timestamp, capture.original) not in seen:
                        listed.setdefault((capture.timestamp, capture.original), capture)
        except CDXError as exc:
            print(f"palimpsest: backfill: {url}: cannot list captures: {exc}", file=sys.stderr, flush=True)
            return failures + 1
        seen.update(listed)
        captures = [listed[key] for key in sorted(listed)]
        keys = {id(c): origin_key(c.original, c.captured_at) for c in captures}
        stored = importer.known(list(keys.values()))
        if not args.quiet:
            print(f"{url}: {len(captures)} capture(s) listed, {len(stored)} stored before", file=sys.stderr, flush=True)
        for capture in captures:
            key = keys[id(capture)]
            if key in stored:
                tally.outcomes[ALREADY] += 1
                continue
            if reason := skip_reason(capture):
                tally.skipped[reason] += 1
                continue
            try:
                response = client.fetch(capture)
            except FetchError as exc:
                print(f"palimpsest: backfill: {exc}", file=sys.stderr, flush=True)
                failures += 1
                continue
            page = Page(capture.original, capture.captured_at, 200, None, list(response.headers.items()), response.body)
            if response.status != 200:
                tally.skipped[f"the archive answered HTTP {response.status}"] += 1
                if not args.quiet:
                    print(
                        progress_line(page, f"archive answered HTTP {response.status}", None),
                        file=sys.stderr,
                        flush=True,
                    )
                continue
            origin = Origin(client.replay.split("://", 1)[-1], capture_url(client.replay, capture), key)
            outcome, result = importer.add(page, origin)
            if result is None and outcome != ALREADY:
                tally.skipped[outcome.split(" (", 1)[0]] += 1
            else:
                tally.outcomes[outcome] += 1
            if not args.quiet:
                print(progress_line(page, outcome, result), file=sys.stderr, flush=True)
    return failures


def _known_forms(archive: Any, url: str) -> set[str]:
    """The URL and, when the article is archived already, every URL it was seen under."""
    from palimpsest.storage import repository as repo
    from palimpsest.storage.models import ArticleURL

    with archive.readers() as session:
        article = repo.find_article_by_urls(session, [url])
        if article is None:
            return {url}
        from sqlalchemy import select

        known = set(session.scalars(select(ArticleURL.url).where(ArticleURL.article_id == article.id)))
    return known | {url, article.canonical_url}
