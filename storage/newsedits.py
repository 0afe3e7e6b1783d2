"""``export --format newsedits``: one row per sentence action, in the shape of the NewsEdits
corpus (Spangher et al., NAACL 2022), so that code written for it reads the archive.

The rows are the sentence actions (storage.sentence_actions) of exactly the versions a
version export with the same cursor and story would deliver: the same cursor chain covers
both, and a version's actions arrive with it. Schema "palimpsest.newsedits/1" (docs/export.md).
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterable
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from palimpsest.storage.export import BATCH_SIZE, Cursor, Export, encode_cursor, select_versions, write_csv, write_jsonl
from palimpsest.storage.models import Article, Outlet, SentenceAction, Version

SCHEMA = "palimpsest.newsedits/1"
FIELDS = (
    "schema",
    "source",  # the outlet's domain
    "entry_id",  # the article's id
    "url",
    "version_id",  # the new version's id (what the version export's cursor counts)
    "version_x",  # the older version's seq
    "version_y",  # the newer version's seq
    "first_seen_at",  # when the newer version was first seen
    "action",  # addition | deletion | edit | refactor
    "sent_idx_x",  # 0-based sentence position in the older version (null for an addition)
    "sent_idx_y",  # 0-based sentence position in the newer version (null for a deletion)
    "sentence_x",
    "sentence_y",
    "word_diff",  # edits: [{"op", "old", "new"}]; [] otherwise
)


def start_newsedits_export(
    session: Session, since: Cursor | str | None = None, story: str | None = None, *, batch_size: int = BATCH_SIZE
) -> Export:
    """Like ``storage.export.start_export`` (same cursor, same snapshot rules), one row per action."""
    selection = select_versions(session, since, story)
    version_ids = selection.stmt.with_only_columns(Version.id).order_by(None).scalar_subquery()
    stmt = (
        select(SentenceAction, Article.canonical_url, Outlet.domain, Version.first_seen_at)
        .join(Version, Version.id == SentenceAction.version_id)
        .join(Article, Article.id == SentenceAction.article_id)
        .join(Outlet, Outlet.id == Article.outlet_id)
        .where(SentenceAction.version_id.in_(version_ids))
        .order_by(SentenceAction.version_id, SentenceAction.id)
        .execution_options(yield_per=batch_size)
    )
    return Export(encode_cursor(selection.cursor), _rows(session, stmt))


def _rows(session: Session, stmt: Any) -> Generator[dict[str, Any], None, None]:
    result = session.execute(stmt)
    try:
        for action, url, domain, first_seen_at in result:
            yield {
                "schema": SCHEMA,
                "source": domain,
                "entry_id": action.article_id,
                "url": url,
                "version_id": action.version_id,
                "version_x": action.old_seq,
                "version_y": action.new_seq,
                "first_seen_at": first_seen_at.isoformat(),
                "action": action.action,
                "sent_idx_x": action.old_index,
                "sent_idx_y": action.new_index,
                "sentence_x": action.old_sentence,
                "sentence_y": action.new_sentence,
                "word_diff": list(action.word_diff or []),
            }
            session.expunge(action)
    finally:
        result.close()


def write_newsedits_jsonl(rows: Iterable[dict[str, Any]], stream: TextIO) -> int:
    return write_jsonl(rows, stream)


def write_newsedits_csv(rows: Iterable[dict[str, Any]], stream: TextIO) -> int:
    """CSV as the version export writes it; ``word_diff`` is a JSON array in one cell."""
    as_cells = ({**row, "word_diff": json.dumps(row["word_diff"], ensure_ascii=False)} for row in rows)
    return write_csv(as_cells, stream, fields=FIELDS)


WRITERS = {"newsedits": write_newsedits_jsonl, "newsedits-csv": write_newsedits_csv}
