"""capture -> extract -> store, each a pipeline wired through ``from_crawler``.

Components take plain values in ``__init__``; only ``from_crawler`` reads settings, so each is
testable without a crawler: ``StorePipeline(session_factory=...)``.
"""

from __future__ import annotations

import os
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from sqlalchemy.orm import Session, sessionmaker

from crawler.capture import extracted_version, fetch_record, needs_extraction
from crawler.extract import ExtractionError, extract_article
from crawler.items import FetchedPage
from crawler.warc import HttpExchange, WarcArchive
from crawler.workers import ExtractionPool, WorkerCrashed
from storage.db import make_engine, make_session_factory
from storage.ingest import StoryLink, ingest_capture
from storage.migrate import ensure_schema


class ExtractPipeline:
    """Runs extraction in a process pool, only for pages whose payload changed."""

    def __init__(self, pool: ExtractionPool) -> None:
        self.pool = pool

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        workers = crawler.settings.getint("PALIMPSEST_EXTRACT_WORKERS", os.cpu_count() or 1)
        pipeline = cls(ExtractionPool(workers))
        crawler.signals.connect(pipeline.close, signal=signals.spider_closed)
        return pipeline

    def close(self) -> None:
        self.pool.close()

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, FetchedPage) or not needs_extraction(item):
            return item
        try:
            item.extraction = await self.pool.run(
                extract_article, item.final_url or item.requested_url, item.body, item.headers
            )
        except (ExtractionError, WorkerCrashed) as exc:
            item.extraction_error = str(exc)
        return item


class ArchivePipeline:
    """Writes every response to the WARC archive (a revisit when the payload is known)."""

    def __init__(self, archive: WarcArchive) -> None:
        self.archive = archive

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        settings = crawler.settings
        archive = WarcArchive(
            settings["PALIMPSEST_ARCHIVE_DIR"],
            prefix=settings.get("PALIMPSEST_WARC_PREFIX", "palimpsest"),
            max_size=settings.getint("PALIMPSEST_WARC_MAX_SIZE", 100 * 1024 * 1024),
        )
        pipeline = cls(archive)
        crawler.signals.connect(archive.close, signal=signals.spider_closed)
        return pipeline

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, FetchedPage) or item.status is None or item.body is None:
            return item
        revisit_of = item.plan.get("revisit_of")
        same_payload = item.payload_digest == item.previous_digest and revisit_of is not None
        item.warc = self.archive.write(
            HttpExchange(
                url=item.final_url or item.requested_url,
                fetched_at=item.fetched_at,
                status=item.status,
                protocol=item.protocol,
                response_headers=item.raw_headers,
                body=item.body,
                payload_digest=item.payload_digest or "",
                request_headers=item.request_headers,
                ip_address=item.ip_address,
            ),
            revisit_of=tuple(revisit_of) if (same_payload or item.status == 304) and revisit_of else None,
        )
        return item


class StorePipeline:
    """Stores each capture, and its version if the text changed, in one transaction."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        engine = make_engine(crawler.settings["PALIMPSEST_DATABASE_URL"])
        ensure_schema(engine)
        pipeline = cls(make_session_factory(engine))
        crawler.signals.connect(engine.dispose, signal=signals.spider_closed)
        return pipeline

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, FetchedPage):
            return item
        fetch = fetch_record(item, item.extraction)
        candidate = extracted_version(item.extraction) if item.extraction is not None else None
        story = StoryLink(item.story_slug, item.story_how) if item.story_slug else None
        with self.session_factory() as session, session.begin():
            item.result = ingest_capture(session, fetch, candidate, now=item.fetched_at, story=story)
        return item
