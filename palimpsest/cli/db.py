"""``palimpsest db upgrade | current | check``: the schema and its migrations.

``upgrade`` is the one command meant to create an archive (it says so); ``current`` and
``check`` only read, and a database that is not there is an error, not a new archive.
"""

from __future__ import annotations

import argparse

from palimpsest.cli.common import open_archive

NAME = "db"
HELP = "schema migrations"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["upgrade", "current", "check"])


def run(args: argparse.Namespace) -> int:
    from palimpsest.storage import migrate
    from palimpsest.storage.db import redact

    if args.action == "upgrade":
        archive = open_archive(args, create=True)
        print(f"{redact(archive.url)}: at revision {migrate.current_revision(archive.engine)} (head)")
        return 0
    archive = open_archive(args, any_revision=True)
    if args.action == "current":
        current = migrate.current_revision(archive.engine)
        head = migrate.head_revision()
        state = "up to date" if current == head else f"behind head {head}; run: palimpsest db upgrade"
        print(f"{redact(archive.url)}: revision {current} ({state})")
        return 0
    result = migrate.check(archive.engine)
    if result.ok:
        print(f"{redact(archive.url)}: at head {result.head}; models and database agree")
        return 0
    if result.current != result.head:
        print(f"{redact(archive.url)}: at revision {result.current or 'none'}, head is {result.head}")
    for difference in result.differences:
        print(f"  differs: {difference}")
    return 1
