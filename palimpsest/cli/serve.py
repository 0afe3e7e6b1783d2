"""``palimpsest serve [--host H] [--port P]``: the read-only web view."""

from __future__ import annotations

import argparse

from palimpsest.cli.common import UserError, archive_dir_of, bounded_int, database_url_of

NAME = "serve"
HELP = "the read-only web view of the archive, and its feeds"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default: 127.0.0.1: this machine only)")
    parser.add_argument(
        "--port", type=bounded_int(0, 65535), default=8000, help="port to listen on (default: 8000; 0 picks a free one)"
    )
    parser.add_argument(
        "--public-url",
        type=_public_url,
        help="the address readers use (behind a proxy), the base of absolute links in feeds"
        " (default: the listen address; never the request's Host header)",
    )


def _public_url(value: str) -> str:
    from palimpsest.web.origin import check_public_url

    if problem := check_public_url(value):
        raise argparse.ArgumentTypeError(f"expected {problem}")
    return value


def run(args: argparse.Namespace) -> int:
    from palimpsest.crawler.runner import build_settings
    from palimpsest.storage.outlet_health import HealthThresholds
    from palimpsest.web.server import serve

    return serve(
        database_url_of(args),
        host=args.host,
        port=args.port,
        archive_dir=archive_dir_of(args),
        user_error=UserError,
        public_url=args.public_url,
        health=HealthThresholds.from_settings(build_settings(args.settings)),
    )
