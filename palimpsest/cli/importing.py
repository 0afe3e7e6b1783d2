"""``palimpsest import FILE... [--story SLUG]``: WARC and ARC files from any crawler into versions.

Every HTML page served with a 200 (and every revisit of one) becomes a capture at its
WARC-Date, in capture-time order, through the same extraction and version decisions as a
crawl. Other records are counted and skipped with a reason. A record imported before is
skipped ("already imported"): importing the same file twice changes nothing.

Exit codes: 0 imported (skipped records are in the summary); 1 a file could not be read (the
others were imported); 2 a usage error (a file that does not exist).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from palimpsest.cli.common import UserError, open_archive

NAME = "import"
HELP = "import WARC/ARC files from any crawler into versions"
# Captures stored per transaction: one WARC sync and one commit for this many.
BATCH = 50


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="WARC or ARC files, gzip-compressed or not")
    parser.add_argument("--story", metavar="SLUG", help="file the articles under this story (created if new)")


def run(args: argparse.Namespace) -> int:
    from palimpsest.crawler.warc_import import UnreadableArchive, list_pages, read_page
    from palimpsest.history_import import CaptureImporter, ImportTally, Page
    from palimpsest.storage.imported import Origin, origin_key

    paths = [Path(name) for name in args.files]
    for path in paths:
        if not path.is_file():
            raise UserError(f"import: no such file: {path}", 2)
    archive = open_archive(args, create=True, warc=True)
    tally = ImportTally()
    importer = CaptureImporter(archive.sessions, archive.archive_dir, args.story)
    try:
        listing = list_pages(paths)  # together: a revisit may refer to a record in another file
        for problem in listing.unreadable:
            print(f"palimpsest: import: cannot read {problem}", file=sys.stderr, flush=True)
        failed = len(listing.unreadable)
        listed = listing.pages
        tally.skipped.update(listing.skipped)
        keys = {id(item): origin_key(item.target_uri, item.captured_at) for item in listed}
        stored = importer.known(list(keys.values()))
        batch: list = []
        for item in listed:
            key = keys[id(item)]
            if key in stored:
                tally.outcomes["already imported"] += 1
                continue
            try:
                archived = read_page(item)
            except UnreadableArchive as exc:
                tally.skipped[f"unreadable record ({exc})"] += 1
                continue
            page = Page(
                archived.target_uri,
                archived.captured_at,
                archived.status,
                archived.protocol,
                archived.headers,
                archived.body,
            )
            batch.append((page, Origin(item.source.path.name, archived.location, key)))
            if len(batch) >= BATCH:
                _store(importer, batch, tally, quiet=args.quiet)
                batch = []
        _store(importer, batch, tally, quiet=args.quiet)
    finally:
        importer.close()
    print(tally.summary(f"Read {len(paths)} file(s)"), flush=True)
    return 1 if failed else 0


def _store(importer: Any, batch: list[Any], tally: Any, *, quiet: bool) -> None:
    from palimpsest.history_import import ALREADY, progress_line

    if not batch:
        return
    for (page, _origin), (outcome, result) in zip(batch, importer.add_batch(batch), strict=True):
        if result is None and outcome != ALREADY:
            tally.skipped[outcome.split(" (", 1)[0]] += 1
        else:
            tally.outcomes[outcome] += 1
        if not quiet:
            print(progress_line(page, outcome, result), file=sys.stderr, flush=True)
