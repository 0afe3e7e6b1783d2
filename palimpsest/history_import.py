"""Captures other archives made, into this archive: the same extraction, URL identity and
version decisions as a crawl (``crawler.capture``), placed by capture time
(``storage.imported``). Shared by ``palimpsest import`` (WARC/ARC files) and ``palimpsest
backfill`` (a Wayback CDX server).

Each page's bytes are also written to the project's own WARC files (prefix ``imported``), so
``capture --raw``, ``reextract`` and replay tools read imported captures like crawled ones.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from palimpsest.crawler.capture import extracted_version, fetch_record
from palimpsest.crawler.extract import ExtractionError, extract_article
from palimpsest.crawler.items import FetchedPage
from palimpsest.crawler.spiders.article import payload_digest
from palimpsest.crawler.warc import HttpExchange, WarcArchive
from palimpsest.storage.imported import Origin, ingest_archived_capture, known_origin_keys
from palimpsest.storage.ingest import IngestResult, StoryLink

ALREADY = "already imported"


@dataclass
class ImportTally:
    """What an import or backfill did: outcomes of stored captures, and reasons for the rest."""

    outcomes: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)

    @property
    def stored(self) -> int:
        return sum(count for outcome, count in self.outcomes.items() if outcome != ALREADY)

    def summary(self, what: str) -> str:
        seconds = max(time.monotonic() - self.started, 1e-9)
        lines = [f"{what}: {self.stored} capture(s) stored in {seconds:.1f}s ({self.stored / seconds:.1f}/s)"]
        lines += [f"  {outcome}: {count}" for outcome, count in sorted(self.outcomes.items())]
        lines += [f"  skipped, {reason}: {count}" for reason, count in sorted(self.skipped.items())]
        return "\n".join(lines)


@dataclass(frozen=True)
class Page:
    """One archived HTTP response, wherever it was read from."""

    url: str
    captured_at: datetime
    status: int
    protocol: str | None
    headers: list[tuple[str, str]]
    body: bytes


class CaptureImporter:
    """Stores pages from other archives, one transaction each (a page and its WARC record land
    together, or the page is tried again next time)."""

    def __init__(self, sessions: sessionmaker[Session], archive_dir: str | Path, story: str | None = None) -> None:
        self.sessions = sessions
        self.warc = WarcArchive(archive_dir, prefix="imported")
        self.story = StoryLink(story) if story else None
        self.outlet_ids: dict[str, int] = {}

    def known(self, keys: list[str]) -> set[str]:
        with self.sessions() as session:
            return known_origin_keys(session, keys)

    def add(self, page: Page, origin: Origin) -> tuple[str, IngestResult | None]:
        """(outcome or reason skipped, the stored capture's result)."""
        headers = {name.lower(): value for name, value in page.headers}
        try:
            extraction = extract_article(page.url, page.body, headers)
        except ExtractionError as exc:
            return f"not an article ({exc})", None
        digest = payload_digest(page.body)
        fetched = FetchedPage(
            requested_url=page.url,
            fetched_at=page.captured_at,
            final_url=page.url,
            status=page.status,
            headers=headers,
            raw_headers=page.headers,
            body=page.body,
            payload_digest=digest,
        )
        fetch = fetch_record(fetched, extraction)
        candidate = extracted_version(extraction)
        try:
            with self.sessions() as session, session.begin():
                if known_origin_keys(session, [origin.key]):
                    return ALREADY, None
                location = self.warc.write(
                    HttpExchange(
                        url=page.url,
                        fetched_at=page.captured_at,
                        status=page.status,
                        protocol=page.protocol,
                        response_headers=page.headers,
                        body=page.body,
                        payload_digest=digest,
                        request_headers=[],
                    )
                )
                self.warc.flush()
                fetch = replace(
                    fetch, warc_file=location.file, warc_offset=location.offset, warc_length=location.length
                )
                result = ingest_archived_capture(
                    session, fetch, candidate, origin, story=self.story, outlet_ids=self.outlet_ids
                )
        except IntegrityError:
            return ALREADY, None  # another import stored this record in the meantime
        if result is None:
            return ALREADY, None
        return result.outcome, result

    def close(self) -> None:
        self.warc.close()


def progress_line(page: Page, outcome: str, result: IngestResult | None) -> str:
    """One line per capture: when it was captured, what it became, which article."""
    stamp = page.captured_at.strftime("%Y-%m-%d %H:%M:%S")
    if result is None:
        return f"  {stamp}  {outcome}  {page.url}"
    version = f" v{result.version_seq}" if result.version_seq else ""
    kinds = f" ({', '.join(result.change_kinds)})" if result.change_kinds else ""
    return f"  {stamp}  {result.outcome}{version}{kinds}  {result.article_url}"
