"""What an extraction worker does with one new page: read it, and prepare its archive records.

Everything CPU-heavy about a page that changed — parsing, extraction, the paywall verdict,
normalising and hashing the version, compressing its WARC records — happens here, in a worker
process, so the crawling process only fetches, appends bytes and stores rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from palimpsest.crawler.capture import extracted_version
from palimpsest.crawler.extract import Extraction, ExtractionError, extract_article
from palimpsest.crawler.warc import ArchiveRecords, HttpExchange, build_records
from palimpsest.storage.ingest import ExtractedVersion


@dataclass(frozen=True)
class PageResult:
    records: ArchiveRecords
    extraction: Extraction | None = None
    version: ExtractedVersion | None = None
    error: str | None = None


def process_page(exchange: HttpExchange) -> PageResult:
    records = build_records(exchange)
    headers = {name.lower(): value for name, value in exchange.response_headers}
    try:
        extraction = extract_article(exchange.url, exchange.body, headers)
    except ExtractionError as exc:
        return PageResult(records, error=str(exc))
    return PageResult(records, extraction, extracted_version(extraction))
