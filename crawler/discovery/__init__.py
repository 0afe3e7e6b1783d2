"""Discovery, pure: candidate URLs from feeds, sitemaps and article links. No Scrapy, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Candidate:
    """A URL that may belong to a story, with what its source said about it."""

    url: str
    how: str  # feed | sitemap | link
    title: str | None = None
    summary: str | None = None
    published_at: datetime | None = None
    modified_at: datetime | None = None  # feed <updated>, sitemap <lastmod>: a re-check hint
