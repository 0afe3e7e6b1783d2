"""``palimpsest export``: stream versions as JSON Lines or CSV, and hand out the next cursor.

The cursor is printed (or written to ``FILE.cursor``) only after every row was written: an
export cut short never advances a job past rows it did not deliver. ``--out FILE`` is written
atomically (a temporary file in the same directory, then a rename), so a reader never sees
half a batch; a FILE that is not a regular file (/dev/null, a pipe) is written in place.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from palimpsest.cli.common import UserError, open_archive
from palimpsest.storage.export import WRITERS, CursorError, StoryNotFound, decode_cursor, snapshot_session, start_export
from palimpsest.storage.newsedits import WRITERS as NEWSEDITS_WRITERS
from palimpsest.storage.newsedits import start_newsedits_export

Writer = Callable[[Iterable[dict[str, Any]], TextIO], int]


def cursor_argument(value: str | None) -> str | None:
    """``--since`` as given, or read from a file when it is ``@PATH`` (e.g. ``FILE.cursor``)."""
    if value is None or not value.startswith("@"):
        return value
    path = Path(value[1:])
    try:
        content = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise UserError(f"--since: cannot read cursor file {path}: {exc.strerror or exc}", 2) from exc
    except UnicodeDecodeError as exc:
        raise UserError(f"--since: {path} is not a cursor file (not text)", 2) from exc
    if not content:
        raise UserError(f"--since: cursor file {path} is empty", 2)
    return content


def _replace_atomically(path: Path, write: Callable[[TextIO], int]) -> int:
    """Write a sibling temporary file, then rename it over ``path`` (atomic on POSIX)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    # os.open honours the umask (tempfile would make the file private).
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with open(handle, "w", encoding="utf-8", newline="") as stream:
            count = write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return count


def _write_in_place(path: Path, write: Callable[[TextIO], int]) -> int:
    """For a FILE that is not a regular file (/dev/null, a named pipe): renaming over it would
    replace the device or the pipe, so write into it."""
    with path.open("w", encoding="utf-8", newline="") as stream:
        return write(stream)


def _write_stdout(write: Callable[[TextIO], int]) -> int:
    """UTF-8 whatever the locale says, no newline translation (CSV records end in CRLF)."""
    sys.stdout.flush()
    stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
    try:
        count = write(stream)
        stream.flush()
    finally:
        stream.detach()
    return count


def run_export(
    engine: Engine,
    *,
    fmt: str,
    since: str | None,
    story: str | None,
    out: str | None,
    quiet: bool,
    include_rejected: bool = False,
) -> int:
    since = cursor_argument(since)
    try:
        previous = decode_cursor(since) if since is not None else None
    except CursorError as exc:
        raise UserError(f"--since: {exc}", 2) from exc
    newsedits = fmt in NEWSEDITS_WRITERS
    if newsedits and include_rejected:
        raise UserError("--include-rejected goes with the version formats (jsonl, csv), not with newsedits", 2)
    writer: Writer = NEWSEDITS_WRITERS[fmt] if newsedits else WRITERS[fmt]
    what = "sentence action(s)" if newsedits else "version(s)"
    target = Path(out) if out else None
    # A regular file (or a new one) gets the atomic rename and FILE.cursor; anything else
    # (/dev/null, a pipe) is written in place and the cursor goes to stderr as without --out.
    regular = target is not None and (target.is_file() or not target.exists())
    try:
        with snapshot_session(engine) as session:
            try:
                if newsedits:
                    export = start_newsedits_export(session, previous, story)
                else:
                    export = start_export(session, previous, story, include_rejected=include_rejected)
            except CursorError as exc:
                raise UserError(f"--since: {exc}", 2) from exc
            except StoryNotFound as exc:
                raise UserError(f"no story {story!r} in this archive") from exc
            try:
                if target is not None and regular:
                    count = _replace_atomically(target, lambda stream: writer(export.rows, stream))
                elif target is not None:
                    count = _write_in_place(target, lambda stream: writer(export.rows, stream))
                else:
                    count = _write_stdout(lambda stream: writer(export.rows, stream))
            finally:
                export.rows.close()  # its database cursor, while the session is still open
    except BrokenPipeError as exc:
        # The reader went away (| head): silence the rest, and hand out no cursor.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise UserError("output closed before the export finished; no cursor issued") from exc
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from exc
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise UserError(f"database error during export: {reason}") from exc

    if target is not None and regular:
        cursor_file = target.with_name(target.name + ".cursor")
        try:
            _replace_atomically(cursor_file, lambda stream: stream.write(export.next_cursor + "\n"))
        except OSError as exc:
            raise UserError(f"cannot write {cursor_file}: {exc.strerror or exc}") from exc
        if not quiet:
            print(f"exported {count} {what} to {target}; next cursor in {cursor_file}", file=sys.stderr)
    else:
        if not quiet:
            print(f"exported {count} {what}{f' to {target}' if target is not None else ''}", file=sys.stderr)
        print(f"next cursor: {export.next_cursor}", file=sys.stderr)
    return 0


NAME = "export"
HELP = "stream versions (JSON Lines or CSV) since a cursor, for analysis jobs"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=["jsonl", "csv", *NEWSEDITS_WRITERS],
        default="jsonl",
        help="versions as JSON Lines (default) or CSV; newsedits / newsedits-csv: one row per sentence action",
    )
    parser.add_argument(
        "--since", metavar="CURSOR", help="only versions after this cursor (from the last export; @PATH reads a file)"
    )
    parser.add_argument("--story", metavar="SLUG", help="only versions of articles in this story")
    parser.add_argument(
        "--include-rejected",
        action="store_true",
        help="also one row per candidate the stories turned down (no version; not covered by the cursor)",
    )
    parser.add_argument(
        "--out", metavar="FILE", help="write FILE (atomically) and the next cursor to FILE.cursor (default: stdout)"
    )


def run(args: argparse.Namespace) -> int:
    archive = open_archive(args)
    try:
        return run_export(
            archive.engine,
            fmt=args.format,
            since=args.since,
            story=args.story,
            out=args.out,
            quiet=args.quiet,
            include_rejected=args.include_rejected,
        )
    finally:
        archive.engine.dispose()
