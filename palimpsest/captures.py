"""``palimpsest capture ID [--raw]``: a capture's metadata, or the page it archived."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from palimpsest.crawler.warc import ArchivedRecord, read_record
from palimpsest.storage.models import Article, Capture, Version


class CaptureNotFound(LookupError):
    pass


def capture_details(session: Session, capture_id: int) -> dict[str, Any]:
    capture = session.get(Capture, capture_id)
    if capture is None:
        raise CaptureNotFound(f"no capture {capture_id}")
    article = session.get(Article, capture.article_id)
    version = session.get(Version, capture.version_id) if capture.version_id else None
    return {
        "id": capture.id,
        "article": article.canonical_url,
        "requested_url": capture.requested_url,
        "final_url": capture.final_url,
        "fetched_at": capture.fetched_at.isoformat(),
        "duration_ms": capture.duration_ms,
        "http_status": capture.http_status,
        "outcome": capture.outcome,
        "error": capture.error,
        "content_type": capture.content_type,
        "content_length": capture.content_length,
        "etag": capture.etag,
        "last_modified": capture.last_modified,
        "payload_digest": capture.payload_digest,
        "warc": (
            {"file": capture.warc_file, "offset": capture.warc_offset, "length": capture.warc_length}
            if capture.warc_file
            else None
        ),
        "version": version.seq if version else None,
        # Set for captures another archive made (palimpsest import / backfill): where from.
        "origin": capture.origin,
        "origin_url": capture.origin_url,
    }


def archived_payload(session: Session, archive_dir: str | Path, capture_id: int) -> bytes:
    """The page bytes a capture archived.

    A revisit record, an unchanged re-check stored without a record (lean mode) and a 304 all
    point back at a page archived earlier: the same payload digest, or for a 304 the article's
    last archived response before it.
    """
    capture = session.get(Capture, capture_id)
    if capture is None:
        raise CaptureNotFound(f"no capture {capture_id}")
    if capture.warc_file:
        record = _read(archive_dir, capture)
        if record.record_type == "response":
            return record.payload
    elif capture.outcome not in ("unchanged", "not_modified"):
        raise CaptureNotFound(
            f"capture {capture_id} archived nothing ({capture.outcome}: {capture.error or 'no response'})"
        )
    earlier = select(Capture).where(
        Capture.article_id == capture.article_id,
        Capture.warc_file.is_not(None),
        Capture.id != capture.id,
    )
    if capture.payload_digest:
        earlier = earlier.where(Capture.payload_digest == capture.payload_digest).order_by(Capture.id)
    else:
        earlier = earlier.where(Capture.id < capture.id).order_by(Capture.id.desc())
    for candidate in session.scalars(earlier):
        original = _read(archive_dir, candidate)
        if original.record_type == "response":
            return original.payload
    raise CaptureNotFound(
        f"capture {capture_id} refers to an earlier archived page, but that page is not in the archive"
    )


def _read(archive_dir: str | Path, capture: Capture) -> ArchivedRecord:
    try:
        return read_record(archive_dir, capture.warc_file, capture.warc_offset, capture.warc_length)
    except (OSError, ValueError) as exc:
        raise CaptureNotFound(f"cannot read {capture.warc_file} at offset {capture.warc_offset}: {exc}") from exc
