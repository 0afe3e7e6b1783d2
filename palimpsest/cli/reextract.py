"""``palimpsest reextract [--story SLUG] [--outlet DOMAIN] [--since DATE] [--dry-run]``: re-read
archived payloads with the current extractor.

For each article whose current version an older extractor made, the page is read back from
the WARC archive and extracted again; where the text comes out different, a new version with
change kind ``extraction`` (not an edit by the outlet) records it. ``--dry-run`` only counts.

Exit codes: 0 done; 1 some archived pages could not be read (named on stderr); 2 a usage error.
"""

from __future__ import annotations

import argparse
import sys

from palimpsest.cli.common import UserError, bounded_int, open_archive, utc_date

NAME = "reextract"
HELP = "re-read archived pages with the current extractor"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("--story", metavar="SLUG", help="only the articles of this story")
    parser.add_argument("--outlet", metavar="DOMAIN", help="only the articles of this outlet (example.com)")
    parser.add_argument("--since", type=utc_date, metavar="DATE", help="only articles seen since DATE (UTC)")
    parser.add_argument("--dry-run", action="store_true", help="count what would change, store nothing")
    parser.add_argument(
        "--sample", type=bounded_int(0, 1000), default=5, metavar="N", help="list N changed articles (default 5)"
    )


def run(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from palimpsest.captures import CaptureNotFound, archived_payload
    from palimpsest.crawler.capture import extracted_version
    from palimpsest.crawler.extract import EXTRACTOR, ExtractionError, extract_article
    from palimpsest.storage.models import Capture, Story, Version
    from palimpsest.storage.reextraction import record_reextraction, targets

    archive = open_archive(args, write=not args.dry_run)
    with archive.readers() as session:
        if args.story and session.scalar(select(Story.id).where(Story.slug == args.story)) is None:
            raise UserError(f"no story {args.story!r} (see: palimpsest story list)")
        found = targets(session, EXTRACTOR, story=args.story, outlet=args.outlet, since=args.since)
    changed: list[str] = []
    same = failed = 0
    for target in found:
        with archive.readers() as session:
            capture = session.get(Capture, target.capture_id)
            old = session.get(Version, target.version_id)
            assert capture is not None and old is not None
            try:
                body = archived_payload(session, archive.archive_dir, target.capture_id)
                headers = {"content-type": capture.content_type} if capture.content_type else {}
                page_url = capture.final_url or capture.requested_url
                candidate = extracted_version(extract_article(page_url, body, headers))
            except (CaptureNotFound, ExtractionError) as exc:
                print(f"palimpsest: reextract: {target.url}: {exc}", file=sys.stderr, flush=True)
                failed += 1
                continue
            old_headline, old_words = old.headline, old.word_count
            if candidate.content_hash == old.content_hash:
                same += 1
                continue
        line = f"  {target.url}: {old_words} -> {candidate.word_count} words" + (
            f"; headline {old_headline!r} -> {candidate.headline!r}" if old_headline != candidate.headline else ""
        )
        if not args.dry_run:
            with archive.sessions() as session, session.begin():
                version = record_reextraction(session, target, candidate)
                seq = version.seq if version is not None else None
            if seq is None:
                same += 1
                continue
            line += f" (v{seq})"
        changed.append(line)
    verb = "would get" if args.dry_run else "got"
    print(
        f"{len(found)} article(s) made by an older extractor (current: {EXTRACTOR}):"
        f" {len(changed)} {verb} a new version (change kind: extraction), {same} read the same,"
        f" {failed} could not be read",
        flush=True,
    )
    for line in changed[: args.sample]:
        print(line, flush=True)
    if len(changed) > args.sample:
        print(f"  ... and {len(changed) - args.sample} more", flush=True)
    return 1 if failed else 0
