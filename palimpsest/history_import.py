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
from palimpsest.storage.ingest import ExtractedVersion, FetchRecord, IngestResult, StoryLink

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
    """Stores pages from other archives: a transaction per page or batch of pages (pages and
    their WARC records land together, or they are tried again next time)."""

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
        return self.add_batch([(page, origin)])[0]

    def add_batch(self, items: list[tuple[Page, Origin]]) -> list[tuple[str, IngestResult | None]]:
        """Store several pages in one transaction (one WARC sync, one commit): what each became.
        If another import stored one of them meanwhile, they are stored one by one instead."""
        prepared: list[tuple[Page, Origin, FetchRecord | None, ExtractedVersion | None, str]] = []
        for page, origin in items:
            headers = {name.lower(): value for name, value in page.headers}
            try:
                extraction = extract_article(page.url, page.body, headers)
            except ExtractionError as exc:
                prepared.append((page, origin, None, None, f"not an article ({exc})"))
                continue
            fetched = FetchedPage(
                requested_url=page.url,
                fetched_at=page.captured_at,
                final_url=page.url,
                status=page.status,
                headers=headers,
                raw_headers=page.headers,
                body=page.body,
                payload_digest=payload_digest(page.body),
            )
            prepared.append((page, origin, fetch_record(fetched, extraction), extracted_version(extraction), ""))
        try:
            return self._store(prepared)
        except IntegrityError:
            # Another writer got there first (this record, or a version number): one by one.
            return [self._store_alone(one) for one in prepared]

    def _store_alone(
        self, one: tuple[Page, Origin, FetchRecord | None, ExtractedVersion | None, str]
    ) -> tuple[str, IngestResult | None]:
        for _attempt in range(2):
            try:
                return self._store([one])[0]
            except IntegrityError:
                if one[1].key in self.known([one[1].key]):
                    return ALREADY, None
        return "not stored (concurrent writes to the same article; import again)", None

    def _store(
        self, prepared: list[tuple[Page, Origin, FetchRecord | None, ExtractedVersion | None, str]]
    ) -> list[tuple[str, IngestResult | None]]:
        results: list[tuple[str, IngestResult | None]] = []
        with self.sessions() as session, session.begin():
            stored = known_origin_keys(session, [origin.key for _page, origin, *_rest in prepared])
            located = []
            for page, origin, fetch, candidate, reason in prepared:
                if fetch is None or origin.key in stored:
                    located.append((origin, None, candidate, reason or ALREADY))
                    continue
                stored.add(origin.key)
                location = self.warc.write(
                    HttpExchange(
                        url=page.url,
                        fetched_at=page.captured_at,
                        status=page.status,
                        protocol=page.protocol,
                        response_headers=page.headers,
                        body=page.body,
                        payload_digest=fetch.payload_digest or "",
                        request_headers=[],
                    )
                )
                fetch = replace(
                    fetch, warc_file=location.file, warc_offset=location.offset, warc_length=location.length
                )
                located.append((origin, fetch, candidate, ""))
            self.warc.flush()  # the records are durable before the rows that cite them
            for origin, fetch, candidate, reason in located:
                if fetch is None:
                    results.append((reason, None))
                    continue
                result = ingest_archived_capture(
                    session, fetch, candidate, origin, story=self.story, outlet_ids=self.outlet_ids
                )
                results.append((result.outcome, result) if result is not None else (ALREADY, None))
        return results

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
