"""capture -> extract -> store, each a pipeline wired through ``from_crawler``.

Components take plain values in ``__init__``; only ``from_crawler`` reads settings, so each is
testable without a crawler: ``StorePipeline(session_factory=...)``.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from crawler.capture import extracted_version, fetch_record, needs_extraction
from crawler.extract.urls import BadURLError, normalise_url
from crawler.items import FetchedPage, SourcePolled
from crawler.plans import plan_for
from crawler.warc import HttpExchange, WarcArchive
from crawler.work import process_page
from crawler.workers import ExtractionPool, WorkerCrashed
from storage import stories
from storage.db import make_engine, make_session_factory
from storage.ingest import StoryLink, ingest_capture
from storage.migrate import ensure_schema
from storage.models import Article, Story, StorySource
from storage.schedule import SchedulePolicy
from storage.stories import FoundURL

T = TypeVar("T")


def exchange_of(item: FetchedPage) -> HttpExchange:
    return HttpExchange(
        url=item.final_url or item.requested_url,
        fetched_at=item.fetched_at,
        status=item.status or 0,
        protocol=item.protocol,
        response_headers=item.raw_headers,
        body=item.body or b"",
        payload_digest=item.payload_digest or "",
        request_headers=item.request_headers,
        ip_address=item.ip_address,
    )


class ExtractPipeline:
    """Pages whose payload changed go to a worker process: extraction, the normalised
    version and the compressed WARC records come back (crawler.work)."""

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
            result = await self.pool.run(process_page, exchange_of(item))
        except WorkerCrashed as exc:
            item.extraction_error = str(exc)
            return item
        item.extraction, item.version, item.extraction_error = result.extraction, result.version, result.error
        item.warc_records = result.records
        return item


class ArchivePipeline:
    """Writes every response to the WARC archive (a revisit when the payload is known)."""

    def __init__(self, archive: WarcArchive, unchanged: str = "revisit") -> None:
        self.archive = archive
        self.unchanged = unchanged  # "revisit": WARC records for unchanged re-checks; "none": the row only

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        settings = crawler.settings
        archive = WarcArchive(
            settings["PALIMPSEST_ARCHIVE_DIR"],
            prefix=settings.get("PALIMPSEST_WARC_PREFIX", "palimpsest"),
            max_size=settings.getint("PALIMPSEST_WARC_MAX_SIZE", 100 * 1024 * 1024),
        )
        unchanged = settings.get("PALIMPSEST_WARC_UNCHANGED", "revisit")
        if unchanged not in ("revisit", "none"):
            raise ValueError(f"PALIMPSEST_WARC_UNCHANGED must be 'revisit' or 'none', not {unchanged!r}")
        pipeline = cls(archive, unchanged)
        crawler.signals.connect(archive.close, signal=signals.spider_closed)

        def repair() -> None:
            if repaired := archive.repair():
                crawler.stats.set_value("palimpsest/warc_repaired", len(repaired))
                crawler.stats.set_value("palimpsest/warc_bytes_cut", sum(cut for _name, cut in repaired))

        crawler.signals.connect(repair, signal=signals.spider_opened, weak=False)
        return pipeline

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, FetchedPage) or item.status is None or item.body is None:
            return item
        if item.warc_records is not None:  # built by the extraction worker
            item.warc = self.archive.append(item.warc_records)
            item.warc_records = None
            return item
        revisit_of = item.plan.get("revisit_of")
        same_payload = item.payload_digest == item.previous_digest and revisit_of is not None
        revisit = tuple(revisit_of) if (same_payload or item.status == 304) and revisit_of else None
        if revisit is not None and self.unchanged == "none":
            return item  # the payload is archived already; the capture row records the check
        item.warc = self.archive.write(exchange_of(item), revisit_of=revisit)
        return item


DATABASE_ERRORS = (OperationalError, InterfaceError)
DATABASE_UNREACHABLE = "database unreachable"


class DatabaseGone(RuntimeError):
    """The database stayed unreachable for the whole retry budget."""


async def with_database_retries(work: Callable[[], Any], budget_seconds: float) -> Any:
    """Run a transaction (``work`` may return an awaitable: run on the database thread); if
    the database goes away (a restart, a dropped connection), wait and try again, with
    back-off, for up to ``budget_seconds``. The transaction is atomic, so a failed attempt
    leaves nothing behind."""
    delay, waited = 0.25, 0.0
    while True:
        try:
            result = work()
            return await result if inspect.isawaitable(result) else result
        except DATABASE_ERRORS as exc:
            if waited >= budget_seconds:
                reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
                raise DatabaseGone(reason) from exc
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, 5.0)


def stop_for_database(crawler: Crawler | None, item: Any, error: DatabaseGone) -> None:
    """Stop the crawl, once, with a message a user can act on; the item is dropped unstored."""
    if crawler is not None and crawler.stats is not None:
        if not crawler.stats.get_value("palimpsest/database_error"):
            crawler.stats.set_value("palimpsest/database_error", str(error))
            deferred_from_coro(crawler.engine.close_spider_async(reason=DATABASE_UNREACHABLE))
        crawler.stats.inc_value("palimpsest/not_stored")
    raise DropItem(f"not stored, the database is unreachable: {error}")


def schedule_policy(settings: Any) -> SchedulePolicy:
    """The re-check policy from PALIMPSEST_SCHEDULE_* settings (see storage.schedule)."""
    values = {
        name: str(settings[name])
        for name in settings.attributes
        if name.startswith("PALIMPSEST_SCHEDULE_") and settings[name] not in (None, "")
    }
    return SchedulePolicy.from_settings(values)


class StorePipeline:
    """Stores each capture, and its version if the text changed, in one transaction.

    If the database goes away (a restart), storing is retried with back-off for
    ``retry_seconds``; after that the crawl stops with a message, and the page is fetched
    again by the next run. A failed attempt leaves nothing behind: the transaction is atomic.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        policy: SchedulePolicy | None = None,
        retry_seconds: float = 30.0,
        crawler: Crawler | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.policy = policy or SchedulePolicy()
        self.retry_seconds = retry_seconds
        self.crawler = crawler
        self.outlet_ids: dict[str, int] = {}
        # One thread does all the database work: the reactor never waits on database I/O,
        # and writes stay in the order items arrive.
        self.database_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="palimpsest-db")

    def close(self) -> None:
        self.database_thread.shutdown(wait=True)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        engine = make_engine(crawler.settings["PALIMPSEST_DATABASE_URL"])
        ensure_schema(engine)
        pipeline = cls(
            make_session_factory(engine),
            schedule_policy(crawler.settings),
            crawler.settings.getfloat("PALIMPSEST_DATABASE_RETRY_SECONDS", 30.0),
            crawler,
        )
        crawler.signals.connect(pipeline.close, signal=signals.spider_closed)
        crawler.signals.connect(engine.dispose, signal=signals.spider_closed)
        return pipeline

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, FetchedPage):
            return item
        fetch = fetch_record(item, item.extraction)
        candidate = item.version
        if candidate is None and item.extraction is not None:
            candidate = extracted_version(item.extraction)
        story = (
            StoryLink(item.story_slug, item.story_how, candidate_url=item.candidate_url) if item.story_slug else None
        )

        def store() -> Any:
            with self.session_factory() as session, session.begin():
                return ingest_capture(
                    session,
                    fetch,
                    candidate,
                    now=item.fetched_at,
                    story=story,
                    policy=self.policy,
                    outlet_ids=self.outlet_ids,
                )

        loop = asyncio.get_running_loop()
        try:
            item.result = await with_database_retries(
                lambda: loop.run_in_executor(self.database_thread, store), self.retry_seconds
            )
        except DatabaseGone as exc:
            stop_for_database(self.crawler, item, exc)
        return item


class DiscoveryPipeline:
    """Turns polled feeds and sitemaps, and the links of story articles, into candidates.

    New candidates are recorded (once per story and URL) and fetched in the same pass; a feed
    or sitemap date newer than what is known of a member article makes it due, and it is
    re-checked in the same pass too.
    """

    def __init__(self, session_factory: sessionmaker[Session], policy: SchedulePolicy, max_candidates: int) -> None:
        self.session_factory = session_factory
        self.policy = policy
        self.max_candidates = max_candidates
        self.crawler: Crawler | None = None
        self.retry_seconds = 30.0
        self.rechecked: set[str] = set()  # one hint-driven re-check per article per pass
        self.seen_work = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DiscoveryPipeline:
        engine = make_engine(crawler.settings["PALIMPSEST_DATABASE_URL"])
        pipeline = cls(
            make_session_factory(engine),
            schedule_policy(crawler.settings),
            crawler.settings.getint("PALIMPSEST_MAX_CANDIDATES_PER_SOURCE", 200),
        )
        pipeline.crawler = crawler
        pipeline.retry_seconds = crawler.settings.getfloat("PALIMPSEST_DATABASE_RETRY_SECONDS", 30.0)
        crawler.signals.connect(engine.dispose, signal=signals.spider_closed)
        return pipeline

    async def process_item(self, item: Any) -> Any:
        try:
            if isinstance(item, SourcePolled):
                await with_database_retries(lambda: self._source(item), self.retry_seconds)
            elif isinstance(item, FetchedPage) and item.links_for and item.extraction is not None:
                found = [FoundURL(url, "link", raw=raw) for raw in item.extraction.links if (url := _normalised(raw))]
                for story_id in item.links_for:
                    await with_database_retries(
                        lambda story_id=story_id: self._triage(
                            story_id, found[: self.max_candidates], item.fetched_at, None
                        ),
                        self.retry_seconds,
                    )
        except DatabaseGone as exc:
            stop_for_database(self.crawler, item, exc)
        return item

    def _source(self, item: SourcePolled) -> None:
        stats = self.crawler.stats if self.crawler else None
        with self.session_factory() as session, session.begin():
            source = session.get(StorySource, item.source_id)
            if source is not None and item.record_poll:
                stories.record_poll(
                    session, source, now=item.fetched_at, status=item.status, error=item.error,
                    etag=item.etag, last_modified=item.last_modified,
                )  # fmt: skip
        if stats is not None:
            stats.inc_value("palimpsest/sources_polled" if item.record_poll else "palimpsest/sitemaps_followed")
            if item.error:
                problems = stats.get_value("palimpsest/problems") or []
                problems.append(("source error", item.url, item.error))
                stats.set_value("palimpsest/problems", problems)
        found = [
            FoundURL(url, candidate.how, candidate.title, candidate.modified_at, raw=candidate.url)
            for candidate in item.found[: self.max_candidates]
            if (url := _normalised(candidate.url))
        ]
        self._triage(item.story_id, found, item.fetched_at, item.source_id)

    def _triage(self, story_id: int, found: list[FoundURL], now: datetime, source_id: int | None) -> None:
        if not found:
            return
        with self.session_factory() as session, session.begin():
            story = session.get(Story, story_id)
            if story is None:
                return
            triage = stories.triage(session, story_id, found, now=now, source_id=source_id, policy=self.policy)
            slug = story.slug
            rechecks = [
                (article.canonical_url, plan_for(session, article), stories.memberships(session, [article.id]))
                for article in (session.get(Article, article_id) for article_id in triage.recheck)
                if article is not None
            ]
        spider = self.crawler.spider if self.crawler else None
        if spider is None or not hasattr(spider, "candidate_request"):
            return
        for item in triage.fetch:
            self.crawler.engine.crawl(spider.candidate_request(item.raw or item.url, slug, item.how, item.url))
        work = getattr(spider, "work", None)
        if work is not None and not self.seen_work:  # due by schedule: already in this pass
            self.rechecked.update(article.url for article in work.articles)
            self.seen_work = True
        rechecks = [item for item in rechecks if item[0] not in self.rechecked]
        for url, plan, member_of in rechecks:
            self.rechecked.add(url)
            self.crawler.engine.crawl(spider.recheck_request(url, plan, next(iter(member_of.values()), [])))
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("palimpsest/candidates_new", len(triage.fetch))
            self.crawler.stats.inc_value("palimpsest/hint_rechecks", len(rechecks))


def _normalised(url: str) -> str | None:
    try:
        return normalise_url(url)
    except BadURLError:
        return None
