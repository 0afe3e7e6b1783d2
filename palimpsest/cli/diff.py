"""``palimpsest diff URL [--from N] [--to M] [--format text|json|html]``."""

from __future__ import annotations

import argparse
import json
import os
import sys

from palimpsest.cli.common import UserError, article_for, bounded_int, open_archive
from palimpsest.cli.output import when

NAME = "diff"
HELP = "what changed between two versions of an article"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("url", metavar="URL")
    parser.add_argument(
        "--from", dest="from_seq", type=bounded_int(1), metavar="N", help="old version (default: the one before --to)"
    )
    parser.add_argument(
        "--to", dest="to_seq", type=bounded_int(1), metavar="M", help="new version (default: the latest)"
    )
    parser.add_argument("--format", choices=["text", "json", "html"], default="text")


def run(args: argparse.Namespace) -> int:
    from palimpsest.storage.diff_render import render_html, render_text
    from palimpsest.storage.history import VersionNotFound, compare_versions, diff_payload

    archive = open_archive(args)
    with archive.readers() as session:
        article = article_for(session, args.url)
        try:
            comparison = compare_versions(session, article, args.from_seq, args.to_seq)
        except VersionNotFound as exc:
            raise UserError(f"{args.url}: {exc}") from exc
    old, new = comparison.old, comparison.new
    if args.format == "json":
        print(json.dumps(diff_payload(comparison), indent=2, ensure_ascii=False))
    elif args.format == "html":
        print(
            render_html(
                comparison.diff,
                title=f"{new.headline or article.canonical_url} — v{old.seq} → v{new.seq}",
                old_label=f"v{old.seq}, seen {when(old.first_seen_at)}",
                new_label=f"v{new.seq}, seen {when(new.first_seen_at)}",
            )
        )
    else:
        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        print(
            f"{article.canonical_url}\nv{old.seq} ({when(old.first_seen_at)}) → v{new.seq} ({when(new.first_seen_at)})"
        )
        if list(new.change_kinds or []) == ["extraction"] and new.extractor != old.extractor:
            print(f"v{new.seq} re-read the archived page with {new.extractor}: an extraction change, not an edit")
        print(render_text(comparison.diff, color=color))
    return 0
