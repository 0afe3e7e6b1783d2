"""``palimpsest capture ID [--raw] [--json]``: one capture, or the bytes it archived."""

from __future__ import annotations

import argparse
import json
import sys

from palimpsest.cli.common import UserError, bounded_int, open_archive

NAME = "capture"
HELP = "one capture's metadata, or its archived page"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("id", type=bounded_int(1), metavar="ID")
    parser.add_argument("--raw", action="store_true", help="print the archived page bytes (from the WARC file)")
    parser.add_argument("--json", action="store_true", help="metadata as JSON")


def run(args: argparse.Namespace) -> int:
    from palimpsest.captures import CaptureNotFound, archived_payload, capture_details

    archive = open_archive(args)
    with archive.readers() as session:
        try:
            if args.raw:
                payload = archived_payload(session, archive.archive_dir, args.id)
            else:
                details = capture_details(session, args.id)
        except CaptureNotFound as exc:
            raise UserError(str(exc)) from exc
    if args.raw:
        sys.stdout.buffer.write(payload)
        sys.stdout.flush()
    elif args.json:
        print(json.dumps(details, indent=2, ensure_ascii=False))
    else:
        for key, value in details.items():
            if isinstance(value, dict):
                value = f"{value['file']} @ {value['offset']} (+{value['length']} bytes)"
            print(f"{key:>15}: {'-' if value is None else value}")
    return 0
