"""What the spider hands to the pipelines: one fetch, as observed, before any interpretation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class FetchedPage:
    """One fetch of one URL. ``body`` is None when the fetch failed before a response."""

    requested_url: str
    fetched_at: datetime
    final_url: str | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names, for lookups
    raw_headers: list[tuple[str, str]] = field(default_factory=list)  # as received, for the WARC
    body: bytes | None = None
    duration_ms: int | None = None
    redirect_urls: tuple[str, ...] = ()
    payload_digest: str | None = None
    # What the crawl already knows went wrong ("refused" for robots.txt, "error" otherwise).
    failure: str | None = None
    failure_outcome: str | None = None
    # The rest of the HTTP exchange, kept for the WARC records.
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    protocol: str | None = None
    ip_address: str | None = None
    # Carried from the request: story membership and what the archive knew before fetching
    # (previous payload digest, the record that holds it, validators): see crawler.plans.
    story_slug: str | None = None
    story_how: str = "seed"
    candidate_url: str | None = None  # a story candidate, judged after the pass, not joined now
    links_for: list[int] = field(default_factory=list)  # story ids whose candidates its links become
    retry_after: float | None = None  # seconds, from a Retry-After header
    retries: int = 0  # how many times Scrapy retried before this answer
    plan: dict[str, Any] = field(default_factory=dict)
    # Filled by the pipelines.
    extraction: Any = None
    extraction_error: str | None = None
    version: Any = None  # storage.ingest.ExtractedVersion, prepared with the extraction
    warc_records: Any = None  # crawler.warc.ArchiveRecords, prepared with the extraction
    warc: Any = None  # crawler.warc.WarcLocation
    result: Any = None
    discovered: Any = None  # crawler.discovery.triage.Discovered: what its links made due

    @property
    def previous_digest(self) -> str | None:
        return self.plan.get("previous_digest")

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


@dataclass
class SourcePolled:
    """A story source (feed or sitemap) was fetched: what it pointed at, or why it failed."""

    source_id: int
    story_id: int
    url: str
    fetched_at: datetime
    status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    found: list[Any] = field(default_factory=list)  # crawler.discovery.Candidate
    error: str | None = None
    record_poll: bool = True  # False for the child sitemaps of an index (the index is the poll)
