"""``palimpsest newsroom [--port N]``: serve the local test newsroom until interrupted."""

from __future__ import annotations

import argparse

from palimpsest.cli.common import UserError, bounded_int

NAME = "newsroom"
HELP = "serve the local test newsroom"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port", type=bounded_int(0, 65535), default=0, help="port on every outlet address (default: a free one)"
    )


def run(args: argparse.Namespace) -> int:
    from palimpsest.newsroom.__main__ import serve

    try:
        serve(args.port)
    except OSError as exc:
        raise UserError(f"cannot serve the newsroom on port {args.port}: {exc.strerror or exc}", 2) from exc
    return 0
