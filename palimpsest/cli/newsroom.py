"""``palimpsest newsroom [--port N]``: serve the local test newsroom until interrupted."""

from __future__ import annotations

import argparse

NAME = "newsroom"
HELP = "serve the local test newsroom"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    from palimpsest.newsroom.__main__ import serve

    serve(args.port)
    return 0
