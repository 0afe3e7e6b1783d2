"""What every command shares: the one-line user error, opening the archive, crawl settings."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker


class UserError(Exception):
    """A problem the user can fix; printed as one line."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class OpenArchive:
    """An archive opened for one command: its engine, session factories and WARC folder."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    readers: sessionmaker[Session]
    archive_dir: str


def open_archive(args: argparse.Namespace, *, migrate: bool = True) -> OpenArchive:
    """The database (created and migrated on first use) and the archive directory."""
    from palimpsest.storage.db import (
        DatabaseURLError,
        make_engine,
        make_session_factory,
        redact,
        resolve_database_url,
    )
    from palimpsest.storage.migrate import ensure_schema

    url = resolve_database_url(args.db)
    try:
        engine = make_engine(url)
        if migrate:
            ensure_schema(engine)
        else:
            with engine.connect():
                pass
    except DatabaseURLError as exc:
        raise UserError(str(exc), 2) from exc
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise UserError(f"cannot open database {redact(url)}: {reason}") from exc
    except ModuleNotFoundError as exc:
        raise UserError(f"missing database driver ({exc.name}): pip install 'palimpsest[postgres]'") from exc
    archive_dir = args.archive or os.environ.get("PALIMPSEST_ARCHIVE_DIR") or "archive"
    return OpenArchive(
        url, engine, make_session_factory(engine), make_session_factory(engine, writes=False), archive_dir
    )


def parse_settings(pairs: Sequence[str]) -> dict[str, str]:
    settings = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UserError(f"-s expects NAME=VALUE, got {pair!r}", 2)
        settings[name.strip()] = value
    return settings


def crawl_settings(args: argparse.Namespace, archive: OpenArchive, extra: dict[str, Any] | None = None) -> Any:
    from palimpsest.crawler.runner import build_settings

    overrides: dict[str, Any] = {
        "PALIMPSEST_DATABASE_URL": archive.url,
        "PALIMPSEST_ARCHIVE_DIR": archive.archive_dir,
        "PALIMPSEST_PROGRESS": not args.quiet,
    }
    overrides.update(extra or {})
    overrides.update(parse_settings(args.setting))
    return build_settings(overrides)


def checked_urls(urls: Sequence[str]) -> list[str]:
    from palimpsest.crawler.extract.urls import BadURLError, normalise_url

    for url in urls:
        try:
            normalise_url(url)
        except BadURLError as exc:
            raise UserError(str(exc), 2) from exc
    return list(urls)


def print_summary(stats: Any) -> None:
    from palimpsest.crawler.report import format_summary

    print(format_summary(stats.counts, stats.problems, stats.seconds), flush=True)
    if stats.internal_errors:
        print(f"  {stats.internal_errors} internal error(s) were logged; run with -v to see them.", flush=True)
    if repaired := stats.extra.get("warc_repaired"):
        print(
            f"  Repaired {repaired} WARC file(s) left open by a crawl that was killed"
            f" ({stats.extra.get('warc_bytes_cut', 0)} bytes of a torn last record cut off).",
            flush=True,
        )
    if stats.database_error:
        not_stored = stats.extra.get("not_stored", 0)
        print(
            f"Stopped: the database became unreachable ({stats.database_error}). {not_stored} page(s) fetched"
            " but not stored; nothing half-written. The next run fetches them again.",
            flush=True,
        )
    elif stats.interrupted:
        print("  Interrupted: pages not yet fetched were left for the next run.", flush=True)


def article_for(session: Session, url: str) -> Any:
    """The archived article any variant of ``url`` names, or a one-line error."""
    from palimpsest.crawler.extract.urls import BadURLError, normalise_url
    from palimpsest.storage.history import ArticleNotFound, find_article

    try:
        normalised = normalise_url(url)
    except BadURLError as exc:
        raise UserError(str(exc), 2) from exc
    try:
        return find_article(session, [normalised, url])
    except ArticleNotFound as exc:
        raise UserError(f"no archived article for {url} (crawl it first: palimpsest crawl URL)") from exc
