"""The ``palimpsest`` command: a module per subcommand, as Scrapy keeps ``scrapy/commands/``.

Each command module names itself (``NAME``, ``HELP``), declares its arguments
(``add_arguments``) and runs (``run(args) -> exit code``). Every setting is checked before a
command runs. Every mistake a user can make (a bad URL or setting, a ``--db`` that is not an
archive, a closed pipe, a busy port, an unknown article) ends with one line on stderr, never a
traceback. Exit codes: 0 done; 1 the command failed (every page of a crawl or a pass failed,
an input failed, the database went away, the output was closed); 2 a usage or setup error; 3 (``health``) an
alert is open;
128 + N when signal N (Ctrl-C: 130, SIGTERM: 143) cut a crawl short.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any, NoReturn

from sqlalchemy.exc import SQLAlchemyError

from palimpsest import __version__
from palimpsest.cli import (
    backfill,
    capture,
    crawl,
    db,
    demo,
    diff,
    export,
    extract,
    health,
    history,
    importing,
    newsroom,
    reextract,
    run,
    serve,
    story,
)
from palimpsest.cli.common import UserError, close_archives, database_reason, silence_stdout

# In the order `palimpsest --help` lists them.
COMMANDS: tuple[ModuleType, ...] = (
    crawl, story, run, history, diff, capture, serve, export, extract, health, importing, backfill, reextract, db,
    demo, newsroom,
)  # fmt: skip


class Parser(argparse.ArgumentParser):
    """argparse, with a usage mistake said in one line (and exit code 2, as argparse does)."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("palimpsest").strip()
        self.exit(2, f"palimpsest: {command + ': ' if command else ''}{message} (see: {self.prog} --help)\n")


def _common_options(*, for_subcommand: bool) -> argparse.ArgumentParser:
    """Global options, accepted before or after the command name.

    On subcommands they default to SUPPRESS, so that ``palimpsest --db X crawl`` keeps X.
    """
    default = (lambda value: argparse.SUPPRESS) if for_subcommand else (lambda value: value)
    common = Parser(add_help=False)
    common.add_argument(
        "--db",
        metavar="URL",
        default=default(None),
        help="database URL (default: $PALIMPSEST_DATABASE_URL or sqlite:///palimpsest.db)",
    )
    common.add_argument(
        "--archive",
        metavar="DIR",
        default=default(None),
        help="WARC directory (default: $PALIMPSEST_ARCHIVE_DIR or ./archive)",
    )
    common.add_argument("-v", "--verbose", action="store_true", default=default(False), help="show Scrapy's own log")
    common.add_argument("-q", "--quiet", action="store_true", default=default(False), help="no per-page progress lines")
    common.add_argument(
        "-s",
        "--setting",
        action="append",
        default=default([]),
        metavar="NAME=VALUE",
        help="override a Scrapy or PALIMPSEST_ setting",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common_options(for_subcommand=True)
    parser = Parser(
        prog="palimpsest",
        description="A paywall-aware news archiver: every revision of every article, and what changed.",
        parents=[_common_options(for_subcommand=False)],
    )
    parser.add_argument("--version", action="version", version=f"palimpsest {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        sub = commands.add_parser(command.NAME, parents=[common], help=command.HELP)
        command.add_arguments(sub, common)
        sub.set_defaults(handler=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.settings = checked_settings(args.setting)
        return args.handler(args)
    except UserError as exc:
        return fail(str(exc), exc.exit_code)
    except BrokenPipeError:
        # The reader went away (`| head`): say so once; nothing more can be written.
        silence_stdout()
        return fail("output closed before everything was written", 1)
    except KeyboardInterrupt:
        return fail("interrupted", 130)
    except SQLAlchemyError as exc:
        reason = database_reason(exc)
        if "database is locked" in reason:
            reason += ": another process kept writing to it; try again when it is done"
        return fail(f"database error: {reason}", 1)
    finally:
        close_archives()


def fail(message: str, exit_code: int) -> int:
    print(f"palimpsest: {message}", file=sys.stderr, flush=True)
    return exit_code


def checked_settings(pairs: Sequence[str]) -> dict[str, Any]:
    """The environment's and ``-s`` settings, parsed and checked before anything runs."""
    from palimpsest.crawler.configuration import SettingError
    from palimpsest.crawler.runner import command_line_settings

    try:
        return command_line_settings(pairs, os.environ)
    except SettingError as exc:
        raise UserError(f"bad setting: {exc}", 2) from exc
