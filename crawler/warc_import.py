"""Reading WARC and ARC files any crawler wrote (Heritrix, Browsertrix, ``wget --warc-file``, an
older palimpsest): which records are HTML pages served with a 200, and why the others are not.

Files are read twice: a first pass lists the records (no payload kept, so a large file costs
little memory) and resolves each ``revisit`` to the record holding its payload; the pages are
then read back one at a time, by offset, in capture-time order. warcio reads gzip or plain
files, and ARC files as if they were WARC (``arc2warc``).
"""

from __future__ import annotations

import io
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from palimpsest.crawler.capture import is_html_content_type


class UnreadableArchive(ValueError):
    """A file that is not a WARC or ARC file, or cannot be read."""


@dataclass(frozen=True)
class RecordRef:
    """Where a page's payload is: the file and the offset of its record."""

    path: Path
    offset: int


@dataclass(frozen=True)
class ListedPage:
    """An HTML page served with a 200 (or a revisit of one), not yet read."""

    target_uri: str
    captured_at: datetime
    source: RecordRef  # this record: its provenance
    payload: RecordRef  # the record holding the payload (itself, or a revisit's original)


@dataclass(frozen=True)
class ArchivedPage:
    target_uri: str
    captured_at: datetime
    status: int
    protocol: str | None
    headers: list[tuple[str, str]]
    body: bytes
    location: str  # FILE#offset of the capture's own record


@dataclass
class Listing:
    pages: list[ListedPage] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> records
    unreadable: list[str] = field(default_factory=list)  # why a file (or its rest) could not be read


def parse_warc_date(value: str) -> datetime:
    """A WARC-Date (``2026-03-01T12:00:00Z``, fractions allowed) or an ARC date
    (``20260301120000``) as aware UTC."""
    value = value.strip()
    if value.isdigit():
        return datetime.strptime(value[:14].ljust(14, "0"), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def list_pages(paths: Sequence[Path]) -> Listing:
    """Every HTML 200 page of these files, oldest first, the count of records skipped by reason,
    and the files that could not be read (what was read of them before the failure is kept).
    A revisit is resolved to its original in any of the files."""
    listing = Listing()
    by_digest: dict[str, RecordRef] = {}
    by_capture: dict[tuple[str, datetime], RecordRef] = {}
    revisits: list[tuple[str, datetime, RecordRef, str | None, tuple[str, datetime] | None]] = []
    for path in paths:
        try:
            _list_file(path, listing, by_digest, by_capture, revisits)
        except UnreadableArchive as exc:
            listing.unreadable.append(str(exc))
    for uri, captured_at, here, digest, refers in revisits:
        original = (by_capture.get(refers) if refers else None) or (by_digest.get(digest) if digest else None)
        if original is None:
            listing.skipped["revisit of a record that is not an HTML 200 page in these files"] += 1
            continue
        listing.pages.append(ListedPage(uri, captured_at, here, original))
    listing.pages.sort(key=lambda page: (page.captured_at, page.target_uri))
    return listing


def _list_file(
    path: Path,
    listing: Listing,
    by_digest: dict[str, RecordRef],
    by_capture: dict[tuple[str, datetime], RecordRef],
    revisits: list[tuple[str, datetime, RecordRef, str | None, tuple[str, datetime] | None]],
) -> None:
    for record, offset in _records(path):
        kind = record.rec_type
        if kind not in ("response", "revisit"):
            listing.skipped[f"not a response record ({kind})"] += 1
            continue
        uri = record.rec_headers.get_header("WARC-Target-URI") or ""
        if not uri.startswith(("http://", "https://")):
            listing.skipped["not a web page (dns:, whois:, ...)"] += 1
            continue
        try:
            captured_at = parse_warc_date(record.rec_headers.get_header("WARC-Date") or "")
        except ValueError:
            listing.skipped["no readable WARC-Date"] += 1
            continue
        here = RecordRef(path, offset)
        digest = record.rec_headers.get_header("WARC-Payload-Digest")
        if kind == "revisit":
            refers = record.rec_headers.get_header("WARC-Refers-To-Target-URI")
            try:
                refers_date = parse_warc_date(record.rec_headers.get_header("WARC-Refers-To-Date") or "")
            except ValueError:
                refers = None
            revisits.append((uri, captured_at, here, digest, (refers, refers_date) if refers else None))
            continue
        reason = _problem(record)
        if reason:
            listing.skipped[reason] += 1
            continue
        if digest:
            by_digest.setdefault(digest, here)
        by_capture[(uri, captured_at)] = here
        listing.pages.append(ListedPage(uri, captured_at, here, here))


def _problem(record: Any) -> str | None:
    http = record.http_headers
    if http is None:
        return "no HTTP response in the record"
    status = http.get_statuscode()
    if status != "200":
        return f"HTTP {status}"
    content_type = http.get_header("Content-Type")
    if not is_html_content_type(content_type):
        return f"not HTML ({(content_type or '').split(';', 1)[0].strip()})"
    return None


def _check_format(path: Path) -> None:
    """warcio reads almost anything as an ARC file: a file must start like a WARC or ARC one."""
    with path.open("rb") as handle:
        start = handle.read(4096)
    if start[:2] == b"\x1f\x8b":
        try:
            start = zlib.decompressobj(31).decompress(start, 64)
        except zlib.error as exc:
            raise UnreadableArchive(f"{path}: not a gzip file ({exc})") from exc
    if not start.startswith((b"WARC/", b"filedesc://")):
        raise UnreadableArchive(f"{path}: not a WARC or ARC file")


def _records(path: Path) -> Iterator[tuple[Any, int]]:
    try:
        _check_format(path)
        with path.open("rb") as handle:
            records = ArchiveIterator(handle, arc2warc=True)
            for record in records:
                yield record, records.get_record_offset()
    except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
        raise UnreadableArchive(f"{path}: {exc}") from exc


def read_page(page: ListedPage) -> ArchivedPage:
    """The page's payload and HTTP headers (a revisit's from its original record)."""
    record_data = _read_at(page.payload)
    http = record_data.http_headers
    return ArchivedPage(
        target_uri=page.target_uri,
        captured_at=page.captured_at,
        status=int(http.get_statuscode()),
        protocol=http.protocol,
        headers=list(http.headers),
        body=record_data.content_stream().read(),
        location=f"{page.source.path.name}#{page.source.offset}",
    )


def _read_at(ref: RecordRef) -> _Loaded:
    """The record at an offset, payload decoded (chunked transfer and gzip content encodings undone)."""
    try:
        with ref.path.open("rb") as handle:
            handle.seek(ref.offset)
            for record in ArchiveIterator(handle, arc2warc=True):
                return _Loaded(record.http_headers, record.content_stream().read())
    except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
        raise UnreadableArchive(f"{ref.path}: {exc}") from exc
    raise UnreadableArchive(f"{ref.path}: no record at offset {ref.offset}")


@dataclass
class _Loaded:
    http_headers: Any
    payload: bytes

    def content_stream(self) -> io.BytesIO:
        return io.BytesIO(self.payload)
