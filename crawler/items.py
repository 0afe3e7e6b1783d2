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
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    duration_ms: int | None = None
    redirect_urls: tuple[str, ...] = ()
    payload_digest: str | None = None
    # What the crawl already knows went wrong ("refused" for robots.txt, "error" otherwise).
    failure: str | None = None
    failure_outcome: str | None = None
    # Raw HTTP exchange, kept for the WARC record (request headers, response status line).
    request_headers: dict[str, str] = field(default_factory=dict)
    protocol: str | None = None
    # Carried from the request: story membership and what we knew before fetching.
    story_slug: str | None = None
    story_how: str = "seed"
    previous_digest: str | None = None
    # Filled by the pipelines.
    extraction: Any = None
    extraction_error: str | None = None
    warc: tuple[str, int, int] | None = None
    result: Any = None

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")
