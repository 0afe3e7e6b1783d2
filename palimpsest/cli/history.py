"""``palimpsest history URL [--json]``: the versions of one article."""

from __future__ import annotations

import argparse
import json

from palimpsest.cli.common import article_for, checked_urls, open_archive
from palimpsest.cli.output import format_history

NAME = "history"
HELP = "versions of one article"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("url", metavar="URL")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    from palimpsest.storage.history import history_of

    checked_urls([args.url])
    archive = open_archive(args)
    with archive.readers() as session:
        history = history_of(session, article_for(session, args.url))
        if args.json:
            print(json.dumps(history.as_dict(), indent=2, ensure_ascii=False))
        else:
            print(format_history(history))
    return 0
