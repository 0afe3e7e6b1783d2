"""``palimpsest db upgrade | current | check``: the schema and its migrations."""

from __future__ import annotations

import argparse

from sqlalchemy.exc import SQLAlchemyError

from palimpsest.cli.common import UserError, open_archive

NAME = "db"
HELP = "schema migrations"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["upgrade", "current", "check"])


def run(args: argparse.Namespace) -> int:
    from palimpsest.storage import migrate
    from palimpsest.storage.db import redact

    archive = open_archive(args, migrate=args.action == "upgrade")
    try:
        if args.action == "upgrade":
            print(f"{redact(archive.url)}: at revision {migrate.current_revision(archive.engine)} (head)")
            return 0
        if args.action == "current":
            current = migrate.current_revision(archive.engine)
            head = migrate.head_revision()
            state = "up to date" if current == head else f"behind head {head}; run: palimpsest db upgrade"
            print(f"{redact(archive.url)}: revision {current or 'none (empty database)'} ({state})")
            return 0
        result = migrate.check(archive.engine)
    except SQLAlchemyError as exc:
        raise UserError(f"database error: {exc}") from exc
    if result.ok:
        print(f"{redact(archive.url)}: at head {result.head}; models and database agree")
        return 0
    if result.current != result.head:
        print(f"{redact(archive.url)}: at revision {result.current or 'none'}, head is {result.head}")
    for difference in result.differences:
        print(f"  differs: {difference}")
    return 1
