"""What every command shares: the one-line user error, opening the archive, crawl settings."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker


class UserError(Exception):
    """A problem the user can fix; printed as one line."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# Row ids and counts beyond this cannot exist (and SQLite refuses to bind larger integers).
LARGEST_ID = 2**31 - 1


def bounded_int(minimum: int, maximum: int = LARGEST_ID) -> Callable[[str], int]:
    """An argparse type: a whole number within bounds (argparse turns the error into one line)."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"expected a whole number from {minimum} to {maximum}, got {text}")
        return value

    parse.__name__ = "whole number"
    return parse


def bounded_float(minimum: float, maximum: float) -> Callable[[str], float]:
    """An argparse type: a number within bounds."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"expected a number from {minimum:g} to {maximum:g}, got {text}")
        return value

    parse.__name__ = "number"
    return parse


@dataclass
class OpenArchive:
    """An archive opened for one command: its engine, session factories and WARC folder."""

    url: str
    engine: Engine
    writers: sessionmaker[Session] | None  # None when opened for reading
    readers: sessionmaker[Session]
    archive_dir: str

    def sessions(self) -> Session:
        """A session that may write (the archive was opened for writing)."""
        if self.writers is None:
            raise RuntimeError("this archive was opened for reading")
        return self.writers()


def open_archive(
    args: argparse.Namespace,
    *,
    write: bool = False,
    create: bool = False,
    any_revision: bool = False,
    warc: bool = False,
) -> OpenArchive:
    """The archive named by ``--db`` (or the environment) and the WARC folder.

    Reading commands open an existing archive read-only (also on read-only media); writing
    commands migrate it; ``create`` lets a writing command make a new archive, and says so.
    A typo'd ``--db`` is one line, never a new empty archive; nor is a typo'd ``--archive``
    of a command that writes WARC files (``warc``): the folder is checked first."""
    from palimpsest.storage.db import (
        DatabaseURLError,
        make_session_factory,
        redact,
    )
    from palimpsest.storage.opening import ArchiveUnavailable, open_for_reading, open_for_writing

    url = database_url_of(args)
    if warc:
        check_archive_folder(archive_dir_of(args))
    try:
        if write or create:
            opened = open_for_writing(url, create=create)
            engine = opened.engine
            if opened.created:
                print(f"palimpsest: created a new archive at {redact(url)}", file=sys.stderr, flush=True)
        else:
            engine = open_for_reading(url, any_revision=any_revision)
    except DatabaseURLError as exc:
        raise UserError(f"cannot open database {redact(url)}: {exc}", 2) from exc
    except ArchiveUnavailable as exc:
        raise UserError(str(exc), 2) from exc
    except DatabaseError as exc:
        raise UserError(f"cannot open database {redact(url)}: {database_reason(exc)}") from exc
    except ModuleNotFoundError as exc:
        raise UserError(f"missing database driver ({exc.name}): pip install 'palimpsest[postgres]'") from exc
    _OPENED.append(engine)
    archive_dir = archive_dir_of(args)
    writes = make_session_factory(engine) if write or create else None
    return OpenArchive(url, engine, writes, make_session_factory(engine, writes=False), archive_dir)


def database_url_of(args: argparse.Namespace) -> str:
    """The archive database: ``--db``, ``-s PALIMPSEST_DATABASE_URL=``, the environment, or
    ``sqlite:///palimpsest.db``."""
    from palimpsest.storage.db import resolve_database_url

    return resolve_database_url(args.db or getattr(args, "settings", {}).get("PALIMPSEST_DATABASE_URL"))


# Engines the command opened, closed when it ends (cli.main): a command run in-process (a
# test, a script calling main) leaves no connection behind.
_OPENED: list[Engine] = []


def close_archives() -> None:
    while _OPENED:
        _OPENED.pop().dispose()


def archive_dir_of(args: argparse.Namespace) -> str:
    """The WARC folder: ``--archive``, ``-s PALIMPSEST_ARCHIVE_DIR=``, the environment, or
    ``./archive``."""
    given = args.archive or getattr(args, "settings", {}).get("PALIMPSEST_ARCHIVE_DIR")
    return given or os.environ.get("PALIMPSEST_ARCHIVE_DIR") or "archive"


def database_reason(exc: BaseException) -> str:
    from palimpsest.storage.opening import database_reason as reason

    return reason(exc)


def silence_stdout() -> None:
    """After the reader of our output went away: send the rest nowhere, so that Python's own
    flush at exit does not fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def crawl_settings(args: argparse.Namespace, archive: OpenArchive, extra: dict[str, Any] | None = None) -> Any:
    from palimpsest.crawler.runner import build_settings

    overrides: dict[str, Any] = {"PALIMPSEST_PROGRESS": not args.quiet}
    overrides.update(extra or {})
    overrides.update(args.settings)  # -s, checked at start (cli.main)
    # The archive this command opened, whichever way it was named.
    overrides.update(PALIMPSEST_DATABASE_URL=archive.url, PALIMPSEST_ARCHIVE_DIR=archive.archive_dir)
    check_archive_folder(archive.archive_dir)
    return build_settings(overrides)


def check_archive_folder(folder: str) -> None:
    """The WARC folder can take files: refused before the first request, not found out after
    a thousand fetches thrown away. A folder not made yet is made by the crawl, so its nearest
    existing parent is what must be writable."""
    import tempfile

    path = Path(folder)
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise UserError(f"--archive: {probe} is a file, not a folder", 2)
    try:
        with tempfile.TemporaryFile(dir=probe, prefix=".palimpsest-probe-"):
            pass
    except OSError as exc:
        raise UserError(f"--archive: cannot write in {probe}: {exc.strerror or exc}", 2) from exc


def failed_fetches(stats: Any) -> tuple[int, int]:
    """(fetches that failed or were refused, fetches tried) in one crawl: pages and sources."""
    pages = sum(stats.counts.values())
    failed_pages = stats.counts.get("error", 0) + stats.counts.get("refused", 0)
    sources = stats.extra.get("sources_polled", 0)
    failed_sources = sum(1 for outcome, _url, _error in stats.problems if outcome == "source error")
    return failed_pages + failed_sources, pages + sources


def crawl_exit_code(passes: Sequence[Any], stop_signal: int | None) -> int:
    """0 done (pages that failed are in the summary, and on the error back-off); 1 a crawl or
    pass in which every fetch failed or was refused (a setting, the network or the site is
    wrong), or that stopped on a database, archive (WARC folder) or internal error; 128 + the signal number when a
    signal (Ctrl-C, SIGTERM) cut it short."""
    if stop_signal:
        return 128 + stop_signal
    for stats in passes:
        failed, tried = failed_fetches(stats)
        if stats.internal_errors or stats.database_error or getattr(stats, "archive_error", None):
            return 1
        if failed and failed == tried:
            return 1
    return 0


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
    if archive_error := getattr(stats, "archive_error", None):
        print(f"palimpsest: stopped: {archive_error}", file=sys.stderr, flush=True)
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


def utc_date(text: str) -> Any:
    """An argparse type: ``2026-03-01``, ``2026-03-01T12:00`` or ``20260301``, as aware UTC."""
    from datetime import UTC, datetime

    value = text.strip()
    try:
        parsed = datetime.strptime(value, "%Y%m%d") if value.isdigit() else datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-03-01 or 2026-03-01T12:00, got {text!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
