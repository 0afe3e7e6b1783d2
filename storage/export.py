"""Incremental export of versions: one row per version, streamed, with a cursor that never skips.

Analysis jobs poll the archive and must see every version exactly once. A naive ``id >
last_id`` cursor loses rows on PostgreSQL, where a transaction that drew a lower id can commit
after one that drew a higher id. So the cursor depends on the backend:

- PostgreSQL: the export's own transaction snapshot. Each version stores the id of the
  top-level transaction that inserted it (``versions.txid``, set in ``storage.ingest``). An
  export runs in one REPEATABLE READ transaction whose first statement reads
  ``pg_current_snapshot()``; it returns the versions its snapshot sees that the previous
  cursor's snapshot did not. A committed row is visible in every snapshot taken after its
  commit and in none taken before, so it lands in exactly one export. Rows with a NULL txid
  (written before migration 0003) count as visible to every snapshot: a full export includes
  them, no cursor delivers them again.
- SQLite: the last version id. SQLite has one writer at a time and a row's id is drawn under
  the write lock, so ids are assigned in commit order and ``id > last_id`` cannot skip.

Cursors are printable, shell- and URL-safe strings with a version prefix:
``v1.pg.<xmin>.<xmax>[.<xip>_<xip>...]`` and ``v1.id.<last id>``. Rows follow the schema
"palimpsest.export/2" (``FIELDS``; documented in docs/export.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TextIO

from sqlalchemy import Engine, String, Text, cast, func, select, text, type_coerce
from sqlalchemy.orm import Session

from palimpsest.storage.models import (
    ABTest,
    Article,
    CandidateText,
    Capture,
    Outlet,
    Story,
    StoryArticle,
    StoryCandidate,
    Version,
)

SCHEMA = "palimpsest.export/2"
CURSOR_VERSION = "v1"
BATCH_SIZE = 1000
# Column order of the CSV export and key order of a JSONL row.
FIELDS = (
    "schema",
    "version_id",
    "article_id",
    "url",
    "outlet_domain",
    "outlet_name",
    "stories",
    "seq",
    "first_seen_at",
    "last_seen_at",
    "headline",
    "dek",
    "byline",
    "published_at",
    "modified_at",
    "language",
    "text",
    "captions",
    "content_hash",
    "word_count",
    "access",
    "complete",
    "change_kinds",
    "similarity",
    "turned_down",  # only with --include-rejected: why the stories turned a candidate down
    "ab_test_variants",  # /2: the article's A/B-tested versions (seqs) when this is one of them
    "reverts_to",  # /2: captures that found this version's text again after another version
)
LIST_SEPARATOR = ";"


class CursorError(ValueError):
    """The cursor is malformed, or belongs to another kind of archive."""


class StoryNotFound(LookupError):
    """No story has that slug."""


# --- Cursors (pure) -------------------------------------------------------------------------
@dataclass(frozen=True)
class SnapshotCursor:
    """A PostgreSQL snapshot: transactions below ``xmin`` had ended, ``xmax`` and above had not
    started, ``xip`` were in progress. Every other transaction id had ended."""

    xmin: int
    xmax: int
    xip: tuple[int, ...] = ()

    backend = "postgresql"

    @classmethod
    def from_pg_snapshot(cls, value: str) -> SnapshotCursor:
        """Parse ``pg_current_snapshot()::text`` ("xmin:xmax:xip,xip")."""
        xmin, xmax, xip = value.split(":")
        return cls(int(xmin), int(xmax), tuple(int(x) for x in xip.split(",") if x))

    def as_pg_snapshot(self) -> str:
        return f"{self.xmin}:{self.xmax}:{','.join(map(str, self.xip))}"


@dataclass(frozen=True)
class IdCursor:
    """SQLite: every version with an id up to ``last_id`` was delivered."""

    last_id: int

    backend = "sqlite"


Cursor = SnapshotCursor | IdCursor

_CURSOR_RE = re.compile(r"v1\.(?:pg\.(\d{1,20})\.(\d{1,20})(?:\.(\d{1,20}(?:_\d{1,20})*))?|id\.(\d{1,20}))")
_BIGINT_MAX = 2**63 - 1


def encode_cursor(cursor: Cursor) -> str:
    """The printable form: ``v1.pg.<xmin>.<xmax>[.<xip>_<xip>...]`` or ``v1.id.<n>``."""
    if isinstance(cursor, SnapshotCursor):
        tail = f".{'_'.join(map(str, cursor.xip))}" if cursor.xip else ""
        return f"{CURSOR_VERSION}.pg.{cursor.xmin}.{cursor.xmax}{tail}"
    return f"{CURSOR_VERSION}.id.{cursor.last_id}"


def _shown(value: str) -> str:
    return repr(value if len(value) <= 60 else value[:57] + "...")


def decode_cursor(value: str) -> Cursor:
    """Parse a cursor printed by an earlier export; CursorError says what is wrong with it."""
    value = value.strip()
    match = _CURSOR_RE.fullmatch(value)
    if match is None:
        prefix = value.split(".", 1)[0]
        if re.fullmatch(r"v\d+", prefix) and prefix != CURSOR_VERSION:
            raise CursorError(f"cursor format {prefix} is not supported by this palimpsest (it reads v1)")
        raise CursorError(f"not an export cursor: {_shown(value)} (expected v1.pg.… or v1.id.…)")
    xmin, xmax, xip, last_id = match.groups()
    if last_id is not None:
        if int(last_id) > _BIGINT_MAX:
            raise CursorError(f"not an export cursor: {_shown(value)} (id out of range)")
        return IdCursor(int(last_id))
    cursor = SnapshotCursor(int(xmin), int(xmax), tuple(int(x) for x in xip.split("_")) if xip else ())
    if not (
        0 < cursor.xmin <= cursor.xmax <= _BIGINT_MAX
        and all(cursor.xmin <= x < cursor.xmax for x in cursor.xip)
        and list(cursor.xip) == sorted(set(cursor.xip))
    ):
        raise CursorError(f"not an export cursor: {_shown(value)} (inconsistent snapshot)")
    return cursor


def _as_cursor(since: Cursor | str | None) -> Cursor | None:
    return decode_cursor(since) if isinstance(since, str) else since


# --- Reading ----------------------------------------------------------------------------------
@contextmanager
def snapshot_session(engine: Engine) -> Iterator[Session]:
    """A session in one read-only transaction that sees one snapshot from start to end.

    PostgreSQL: REPEATABLE READ, READ ONLY (one snapshot for the cursor and the rows).
    SQLite: a deferred transaction, which reads one WAL snapshot and never takes the write lock.
    """
    if engine.dialect.name == "postgresql":
        bind = engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    else:
        bind = engine
    with Session(bind) as session, session.begin():
        yield session


@dataclass
class Export:
    """An export under way: ``next_cursor`` (encoded) is fixed when it starts; pass it on only
    after ``rows`` was consumed to the end, or rows not yet read would be skipped next time.
    Close ``rows`` before the session if you stop early (it holds a database cursor)."""

    next_cursor: str
    rows: Generator[dict[str, Any], None, None]


def iso_from_text(raw: str | None) -> str | None:
    """ISO 8601 UTC from a UTC timestamp as text, without building a datetime (the hot path).

    The query hands timestamps over as naive UTC "YYYY-MM-DD HH:MM:SS.ffffff" (the form
    SQLAlchemy stores on SQLite; ``to_char`` makes it on PostgreSQL). The result equals
    ``isoformat()`` of the aware value: no fraction when it is zero. Any other form is parsed.
    """
    if raw is None:
        return None
    if len(raw) == 26 and raw[10] == " " and raw[19] == ".":
        if raw.endswith(".000000"):
            return f"{raw[:10]}T{raw[11:19]}+00:00"
        return f"{raw[:10]}T{raw[11:]}+00:00"
    value = datetime.fromisoformat(raw)
    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)).isoformat()


@lru_cache(maxsize=1024)
def _parsed_kinds(raw: str) -> tuple[str, ...]:
    return tuple(json.loads(raw))


def _kinds(raw: str | None) -> list[str]:
    """change_kinds arrives as JSON text; there are few distinct values, each parsed once."""
    return list(_parsed_kinds(raw)) if raw else []


_V, _A, _O = Version.__table__.c, Article.__table__.c, Outlet.__table__.c


def _columns(backend: str) -> tuple[Any, ...]:
    """The query's columns. Timestamps and change_kinds come back as text, formatted and
    parsed by ``iso_from_text`` and ``_kinds``: per-row datetime and JSON objects cost more
    than everything else but the serialisation."""

    def timestamp(name: str) -> Any:
        column = _V[name]
        if backend == "postgresql":
            as_text = func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24:MI:SS.US")
            return type_coerce(as_text, String).label(name)
        return type_coerce(column, String).label(name)  # stored as naive UTC text already

    kinds = cast(_V.change_kinds, Text) if backend == "postgresql" else type_coerce(_V.change_kinds, Text)
    return (
        _V.id,
        _V.article_id,
        _A.canonical_url,
        _O.domain,
        _O.name,
        _V.seq,
        timestamp("first_seen_at"),
        timestamp("last_seen_at"),
        _V.headline,
        _V.dek,
        _V.byline,
        timestamp("published_at"),
        timestamp("modified_at"),
        _V.language,
        _V.text,
        _V.captions,
        _V.content_hash,
        _V.word_count,
        _V.access,
        _V.complete,
        kinds.label("change_kinds"),
        _V.similarity,
    )


def _story_slugs(session: Session, article_ids: Sequence[int]) -> dict[int, list[str]]:
    """The story slugs of one batch's articles (one query per batch, not per row)."""
    slugs: dict[int, list[str]] = {}
    rows = session.execute(
        select(StoryArticle.article_id, Story.slug)
        .join(Story, Story.id == StoryArticle.story_id)
        .where(StoryArticle.article_id.in_(article_ids))
        .order_by(StoryArticle.article_id, Story.slug)
    )
    for article_id, slug in rows:
        slugs.setdefault(article_id, []).append(slug)
    return slugs


def _revision_marks(session: Session, batch: Sequence[Any]) -> tuple[dict[int, list[int]], dict[int, int]]:
    """For one batch: article id -> its A/B test's variant seqs, and version id -> how many
    captures reverted to it (two queries per batch)."""
    article_ids = list({row[1] for row in batch})
    variants = {
        article_id: [variant["seq"] for variant in found]
        for article_id, found in session.execute(
            select(ABTest.article_id, ABTest.variants).where(ABTest.article_id.in_(article_ids))
        )
    }
    reverts = dict(
        session.execute(
            select(Capture.version_id, func.count())
            .where(Capture.version_id.in_([row[0] for row in batch]), Capture.outcome == "revert")
            .group_by(Capture.version_id)
        ).all()
    )
    return variants, reverts


def _variants_of(variants: dict[int, list[int]], article_id: int, seq: int) -> list[int]:
    found = variants.get(article_id, [])
    return list(found) if seq in found else []


def _rows(session: Session, stmt: Any, batch_size: int) -> Generator[dict[str, Any], None, None]:
    result = session.execute(stmt.execution_options(stream_results=True, yield_per=batch_size))
    try:
        for batch in result.partitions():
            stories = _story_slugs(session, list({row[1] for row in batch}))
            variants, reverts = _revision_marks(session, batch)
            for (
                version_id,
                article_id,
                url,
                outlet_domain,
                outlet_name,
                seq,
                first_seen_at,
                last_seen_at,
                headline,
                dek,
                byline,
                published_at,
                modified_at,
                language,
                body,
                captions,
                content_hash,
                word_count,
                access,
                complete,
                change_kinds,
                similarity,
            ) in batch:
                yield {
                    "schema": SCHEMA,
                    "version_id": version_id,
                    "article_id": article_id,
                    "url": url,
                    "outlet_domain": outlet_domain,
                    "outlet_name": outlet_name,
                    "stories": list(stories.get(article_id, ())),
                    "seq": seq,
                    "first_seen_at": iso_from_text(first_seen_at),
                    "last_seen_at": iso_from_text(last_seen_at),
                    "headline": headline,
                    "dek": dek,
                    "byline": byline,
                    "published_at": iso_from_text(published_at),
                    "modified_at": iso_from_text(modified_at),
                    "language": language,
                    "text": body,
                    "captions": captions,
                    "content_hash": content_hash,
                    "word_count": word_count,
                    "access": access,
                    "complete": bool(complete),
                    "change_kinds": _kinds(change_kinds),
                    "similarity": similarity,
                    "turned_down": None,
                    "ab_test_variants": _variants_of(variants, article_id, seq),
                    "reverts_to": reverts.get(version_id, 0),
                }
    finally:
        result.close()


def _rejected_rows(session: Session, story_id: int | None) -> Generator[dict[str, Any], None, None]:
    """Candidates turned down by every story that judged them, from the text their capture
    kept: no version, so no version id, sequence number or cursor position."""
    decided = select(StoryCandidate.article_id).where(StoryCandidate.decision == "rejected")
    if story_id is not None:
        decided = decided.where(StoryCandidate.story_id == story_id)
    rows = session.execute(
        select(CandidateText, Article, Outlet)
        .join(Article, Article.id == CandidateText.article_id)
        .join(Outlet, Outlet.id == Article.outlet_id)
        .where(Article.state == "rejected", CandidateText.article_id.in_(decided))
        .order_by(CandidateText.article_id)
    )
    for kept, article, outlet in rows:
        reasons = session.execute(
            select(Story.slug, StoryCandidate.reason)
            .join(Story, Story.id == StoryCandidate.story_id)
            .where(StoryCandidate.article_id == article.id, StoryCandidate.decision == "rejected")
            .order_by(Story.slug)
        ).all()
        data = kept.extraction
        yield {
            "schema": SCHEMA,
            "version_id": None,
            "article_id": article.id,
            "url": article.canonical_url,
            "outlet_domain": outlet.domain,
            "outlet_name": outlet.name,
            "stories": [],
            "seq": None,
            "first_seen_at": kept.fetched_at.isoformat(),
            "last_seen_at": kept.fetched_at.isoformat(),
            "headline": kept.headline,
            "dek": data.get("dek"),
            "byline": data.get("byline"),
            "published_at": data.get("published_at"),
            "modified_at": data.get("modified_at"),
            "language": data.get("language"),
            "text": kept.text,
            "captions": data.get("captions"),
            "content_hash": data.get("content_hash"),
            "word_count": data.get("word_count"),
            "access": data.get("access"),
            "complete": bool(data.get("complete")),
            "change_kinds": [],
            "similarity": None,
            "turned_down": "; ".join(f"{slug}: {reason}" for slug, reason in reasons),
            "ab_test_variants": [],
            "reverts_to": 0,
        }


def start_export(
    session: Session,
    since: Cursor | str | None = None,
    story: str | None = None,
    *,
    batch_size: int = BATCH_SIZE,
    include_rejected: bool = False,
) -> Export:
    """Fix the snapshot and the next cursor now; stream the rows lazily, ordered by version id.

    ``session`` must be in a transaction that sees one snapshot (``snapshot_session``). Raises
    CursorError for a cursor of the wrong backend or one ahead of this archive, StoryNotFound
    for an unknown story slug. ``story`` filters by membership as of this snapshot; a cursor
    belongs to one filter (an unfiltered cursor reused with a filter, or the reverse, may skip).
    ``include_rejected``: after the versions, one row per candidate the stories turned down
    (all of them every time: they have no version, so the cursor does not cover them).
    """
    selection = select_versions(session, since, story)
    rows = _rows(session, selection.stmt, batch_size)
    if include_rejected:
        rows = _then(rows, lambda: _rejected_rows(session, selection.story_id))
    return Export(encode_cursor(selection.cursor), rows)


@dataclass(frozen=True)
class Selection:
    """The versions an export delivers (``stmt``, ordered by id), the cursor after them and the
    story filtered on. Other row shapes (storage.newsedits) select from the same versions."""

    stmt: Any
    cursor: Cursor
    story_id: int | None


def select_versions(session: Session, since: Cursor | str | None = None, story: str | None = None) -> Selection:
    """Fix the snapshot and the next cursor (see ``start_export``), and select the versions
    that arrived after ``since``."""
    previous = _as_cursor(since)
    backend = session.get_bind().dialect.name
    stmt = (
        select(*_columns(backend))
        .select_from(Version.__table__.join(Article.__table__).join(Outlet.__table__))
        .order_by(_V.id)
    )
    if backend == "postgresql":
        # First statement: in REPEATABLE READ this snapshot is the one every later query uses.
        snapshot, isolation = session.execute(
            text("SELECT pg_current_snapshot()::text, current_setting('transaction_isolation')")
        ).one()
        if isolation not in ("repeatable read", "serializable"):
            raise RuntimeError(f"export needs a REPEATABLE READ transaction (got {isolation}): use snapshot_session")
        cursor: Cursor = SnapshotCursor.from_pg_snapshot(snapshot)
        if previous is not None:
            if not isinstance(previous, SnapshotCursor):
                raise CursorError("this cursor comes from a SQLite archive; this archive is PostgreSQL")
            if previous.xmax > cursor.xmax:
                raise CursorError("this cursor is ahead of this archive's transactions: it comes from another server")
            # Rows of transactions below the old xmin were all visible then (and NULL txids
            # count as always visible); the index on txid keeps this a range scan.
            stmt = stmt.where(
                _V.txid >= previous.xmin,
                text(
                    "NOT pg_visible_in_snapshot(versions.txid::text::xid8, CAST(:previous AS pg_snapshot))"
                ).bindparams(previous=previous.as_pg_snapshot()),
            )
    else:
        newest = session.scalar(select(func.max(_V.id))) or 0  # first read: fixes the WAL snapshot
        if previous is not None and not isinstance(previous, IdCursor):
            raise CursorError("this cursor comes from a PostgreSQL archive; this archive is SQLite")
        last_id = previous.last_id if previous is not None else 0
        if last_id > newest:
            raise CursorError(
                f"this cursor is ahead of this archive (newest version id {newest}): "
                "it comes from another database, or versions were deleted"
            )
        cursor = IdCursor(newest)
        stmt = stmt.where(_V.id > last_id, _V.id <= cursor.last_id)
    story_id = None
    if story is not None:
        story_id = session.scalar(select(Story.id).where(Story.slug == story))
        if story_id is None:
            raise StoryNotFound(story)
        stmt = stmt.where(_V.article_id.in_(select(StoryArticle.article_id).where(StoryArticle.story_id == story_id)))
    return Selection(stmt, cursor, story_id)


def _then(
    first: Generator[dict[str, Any], None, None], then: Callable[[], Iterator[dict[str, Any]]]
) -> Generator[dict[str, Any], None, None]:
    """``first``'s rows, then ``then()``'s; closing it closes ``first`` (its database cursor)."""
    try:
        yield from first
    finally:
        first.close()
    yield from then()


# --- Writing ----------------------------------------------------------------------------------
# Line separators that json.dumps leaves raw with ensure_ascii=False; escaped so that any line
# splitter (Python's str.splitlines included) sees one row per line.
_LINE_BREAKS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"})


def write_jsonl(rows: Iterable[dict[str, Any]], stream: TextIO) -> int:
    """One JSON object per line (UTF-8, not ASCII-escaped); returns the number of rows."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    count = 0
    for row in rows:
        line = dumps(row)
        if "\u2028" in line or "\u2029" in line or "\x85" in line:
            line = line.translate(_LINE_BREAKS)
        stream.write(line + "\n")
        count += 1
    return count


def csv_record(values: Iterable[Any]) -> str:
    """One CSV record as ``csv.writer(quoting=QUOTE_MINIMAL, lineterminator="\\r\\n")`` writes
    it (the tests compare the two), lists joined with ";", booleans true/false, None empty.

    By hand because the csv module's writer copies each field character by character: on
    article-length text it took most of the export's time, where ``in`` and ``str.replace``
    scan at memory speed.
    """
    cells = []
    for value in values:
        if value is None:
            cells.append("")
            continue
        if value is True:
            cell = "true"
        elif value is False:
            cell = "false"
        elif isinstance(value, str):
            cell = value
        elif isinstance(value, list):
            cell = LIST_SEPARATOR.join(map(str, value))
        else:
            cell = str(value)
        if '"' in cell:
            cell = '"' + cell.replace('"', '""') + '"'
        elif "," in cell or "\n" in cell or "\r" in cell:
            cell = '"' + cell + '"'
        cells.append(cell)
    return ",".join(cells) + "\r\n"


def write_csv(
    rows: Iterable[dict[str, Any]], stream: TextIO, *, bom: bool = True, fields: Sequence[str] = FIELDS
) -> int:
    """A header and one record per row: RFC 4180 (CRLF, minimal quoting, newlines kept inside
    quoted fields), lists joined with ";", booleans true/false, NULL as an empty field. The BOM
    lets spreadsheets detect UTF-8. Open files with ``newline=""``."""
    if bom:
        stream.write("\ufeff")
    stream.write(csv_record(fields))
    count = 0
    for row in rows:
        stream.write(csv_record([row[name] for name in fields]))
        count += 1
    return count


WRITERS = {"jsonl": write_jsonl, "csv": write_csv}

__all__ = [
    "BATCH_SIZE",
    "FIELDS",
    "SCHEMA",
    "WRITERS",
    "Cursor",
    "CursorError",
    "Export",
    "IdCursor",
    "SnapshotCursor",
    "StoryNotFound",
    "decode_cursor",
    "encode_cursor",
    "snapshot_session",
    "select_versions",
    "start_export",
    "csv_record",
    "write_csv",
    "write_jsonl",
]
