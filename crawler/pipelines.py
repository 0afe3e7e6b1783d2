"""capture -> extract -> store, each a pipeline wired through ``from_crawler``.

Components take plain values in ``__init__``; only ``from_crawler`` reads settings, so each is
testable without a crawler: ``StorePipeline(session_factory=...)``.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from palimpsest.crawler.capture import extracted_version, fetch_record, needs_extraction
from palimpsest.crawler.discovery.triage import Discovered, found_links, normalised, triage_found
from palimpsest.crawler.items import FetchedPage, SourcePolled
from palimpsest.crawler.warc import HttpExchange, WarcArchive
from palimpsest.crawler.work import process_page
from palimpsest.crawler.workers import ExtractionPool, WorkerCrashed
from palimpsest.storage import stories
from palimpsest.storage.db import make_engine, make_session_factory
from palimpsest.storage.ingest import (
    CLASSIFY_AHEAD_MIN_WORDS,
    CaptureJob,
    Classified,
    IngestResult,
    StoryLink,
    classify_ahead,
    ingest_captures,
)
from palimpsest.storage.migrate import ensure_schema
from palimpsest.storage.models import StorySource
from palimpsest.storage.revisions import RevisionPolicy
from palimpsest.storage.schedule import SchedulePolicy
from palimpsest.storage.stories import FoundURL

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
        settings = crawler.settings
        pool = ExtractionPool(
            settings.getint("PALIMPSEST_EXTRACT_WORKERS", os.cpu_count() or 1),
            time_limit=settings.getfloat("PALIMPSEST_EXTRACT_TIME_LIMIT", 20.0),
            memory_limit_mb=settings.getint("PALIMPSEST_EXTRACT_MEMORY_MB", 512),
        )
        pipeline = cls(pool)
        crawler.signals.connect(pool.start, signal=signals.spider_opened, weak=False)
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
        self.crawler: Crawler | None = None

    def close_archive(self) -> None:
        try:
            self.archive.close()
        except OSError as exc:  # the folder failed under us: said once, in the summary
            archive_failed(self.crawler, self.archive.directory, exc)

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
        pipeline.crawler = crawler
        crawler.signals.connect(pipeline.close_archive, signal=signals.spider_closed)

        def repair() -> None:
            if repaired := archive.repair():
                crawler.stats.set_value("palimpsest/warc_repaired", len(repaired))
                crawler.stats.set_value("palimpsest/warc_bytes_cut", sum(cut for _name, cut in repaired))

        crawler.signals.connect(repair, signal=signals.spider_opened, weak=False)
        return pipeline

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, FetchedPage) or item.status is None or item.body is None:
            return item
        try:
            return self._archive(item)
        except OSError as exc:
            stop_for_archive(self.crawler, item, self.archive.directory, exc)
            return item

    def _archive(self, item: FetchedPage) -> FetchedPage:
        if item.warc_records is not None:  # built by the extraction worker
            records, item.warc_records = item.warc_records, None
            item.warc = self.archive.append(records)
            return item
        revisit_of = item.plan.get("revisit_of")
        same_payload = item.payload_digest == item.previous_digest and revisit_of is not None
        revisit = tuple(revisit_of) if (same_payload or item.status == 304) and revisit_of else None
        if revisit is not None and self.unchanged == "none":
            return item  # the payload is archived already; the capture row records the check
        item.warc = self.archive.write(exchange_of(item), revisit_of=revisit)
        return item


ARCHIVE_UNWRITABLE = "archive unwritable"


def archive_failed(crawler: Crawler | None, directory: Any, error: OSError) -> bool:
    """Record, once, why the WARC folder failed; True the first time (the crawl must stop)."""
    if crawler is None or crawler.stats is None or crawler.stats.get_value("palimpsest/archive_error"):
        return False
    cause = error.strerror or str(error) or type(error).__name__
    crawler.stats.set_value("palimpsest/archive_error", f"cannot write the WARC archive in {directory}: {cause}")
    return True


def stop_for_archive(crawler: Crawler | None, item: FetchedPage, directory: Any, error: OSError) -> None:
    """The WARC folder cannot be written (disk full, permission, a file in the way): stop the
    crawl after the pages in flight, and store this page as an ``error`` capture saying so,
    so that nothing fetched disappears without a row (the next run fetches it again)."""
    if archive_failed(crawler, directory, error) and crawler is not None:
        deferred_from_coro(crawler.engine.close_spider_async(reason=ARCHIVE_UNWRITABLE))
    cause = error.strerror or str(error) or type(error).__name__
    item.warc, item.warc_records = None, None
    item.failure, item.failure_outcome = f"not archived: cannot write the WARC archive ({cause})", "error"


DATABASE_ERRORS = (OperationalError, InterfaceError)
DATABASE_UNREACHABLE = "database unreachable"


class DatabaseGone(RuntimeError):
    """The database stayed unreachable for the whole retry budget."""


def _backoff(budget_seconds: float) -> Iterator[float]:
    """Delays between attempts: 0.25 s doubling to 5 s, until the budget is spent."""
    delay, waited = 0.25, 0.0
    while waited < budget_seconds:
        yield delay
        waited += delay
        delay = min(delay * 2, 5.0)


def _gone(exc: Exception) -> DatabaseGone:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return DatabaseGone(reason)


async def with_database_retries(work: Callable[[], Any], budget_seconds: float) -> Any:
    """Run a transaction; if the database goes away (a restart, a dropped connection), wait
    and try again, with back-off, for up to ``budget_seconds``. The transaction is atomic,
    so a failed attempt leaves nothing behind."""
    delays = _backoff(budget_seconds)
    while True:
        try:
            return work()
        except DATABASE_ERRORS as exc:
            delay = next(delays, None)
            if delay is None:
                raise _gone(exc) from exc
            await asyncio.sleep(delay)


def retry_transaction(work: Callable[[], T], budget_seconds: float) -> T:
    """``with_database_retries`` for the database thread, which may block while it waits.

    A unique-constraint conflict (another worker stored the same article or URL at the same
    moment) is retried once at once: the second attempt sees the other worker's rows."""
    delays = _backoff(budget_seconds)
    conflicts = 0
    while True:
        try:
            return work()
        except IntegrityError:
            conflicts += 1
            if conflicts > 1:
                raise
        except DATABASE_ERRORS as exc:
            delay = next(delays, None)
            if delay is None:
                raise _gone(exc) from exc
            time.sleep(delay)


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
    """Stores each capture, and its version if the text changed, atomically.

    Group commit: one thread does all the database work, so the reactor never waits on it;
    captures that arrive while a transaction runs go into the next one together (at most
    ``max_batch``), which is what makes a re-crawl of unchanged pages cheap. If one capture
    cannot be stored, the batch is stored again one capture at a time, so only that one is
    lost (and counted as an internal error).

    If the database goes away (a restart), storing is retried with back-off for
    ``retry_seconds``; after that the crawl stops with a message, and the pages not stored
    are fetched again by the next run. A failed attempt leaves nothing behind.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        policy: SchedulePolicy | None = None,
        retry_seconds: float = 30.0,
        crawler: Crawler | None = None,
        max_batch: int = 200,
        max_candidates: int = 200,
        revisions: RevisionPolicy | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.max_candidates = max_candidates
        self.revisions = revisions or RevisionPolicy()
        self.policy = policy or SchedulePolicy()
        self.retry_seconds = retry_seconds
        self.crawler = crawler
        self.max_batch = max_batch
        self.outlet_ids: dict[str, int] = {}
        self.database_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="palimpsest-db")
        self.classify_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="palimpsest-classify")
        self.pending: list[tuple[_Work, asyncio.Future[_Stored]]] = []
        self.draining: asyncio.Task[None] | None = None
        self.gone: DatabaseGone | None = None  # once the retry budget is spent, stop waiting

    def close(self) -> None:
        self.classify_thread.shutdown(wait=True)
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
            crawler.settings.getint("PALIMPSEST_STORE_BATCH", 200),
            crawler.settings.getint("PALIMPSEST_MAX_CANDIDATES_PER_SOURCE", 200),
            RevisionPolicy.from_settings(crawler.settings),
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
        links = (
            found_links(item.extraction.links, self.max_candidates)
            if item.links_for and item.extraction is not None
            else []
        )
        work = _Work(CaptureJob(fetch, candidate, item.fetched_at, story), tuple(item.links_for), links)
        loop = asyncio.get_running_loop()
        stored: asyncio.Future[_Stored] = loop.create_future()
        self.pending.append((work, stored))
        if self.draining is None:
            self.draining = loop.create_task(self._drain())
        try:
            item.result, item.discovered = await stored
        except DatabaseGone as exc:
            stop_for_database(self.crawler, item, exc)
        return item

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.pending:
                batch, self.pending = self.pending[: self.max_batch], self.pending[self.max_batch :]
                works = [work for work, _ in batch]
                classified: Classified = {}
                if any(w.job.candidate and w.job.candidate.word_count >= CLASSIFY_AHEAD_MIN_WORDS for w in works):
                    classified = await loop.run_in_executor(self.classify_thread, self._classify_ahead, works)
                try:
                    results = await loop.run_in_executor(self.database_thread, self._store_batch, works, classified)
                except Exception as exc:  # noqa: BLE001 - handed to each waiting item
                    results = [exc] * len(batch)
                if self.crawler is not None and self.crawler.stats is not None:
                    self.crawler.stats.inc_value("palimpsest/store_transactions")
                for (_work, stored), result in zip(batch, results, strict=True):
                    if stored.done():
                        continue
                    if isinstance(result, BaseException):
                        stored.set_exception(result)
                    else:
                        stored.set_result(result)
        finally:
            self.draining = None

    def _classify_ahead(self, works: list[_Work]) -> Classified:
        """On the classifying thread, in a read-only session: the long diffs, before the write
        transaction, so that the database's write lock is held only to write rows. Only a
        shortcut: if it fails, the transaction classifies as it writes."""
        bind = self.session_factory.kw.get("bind")
        try:
            # A plain (deferred) read: on SQLite, never the write lock the writers' sessions take.
            with Session(bind.execution_options(sqlite_begin="DEFERRED")) as session:
                return classify_ahead(session, [work.job for work in works])
        except Exception:  # noqa: BLE001 - the transaction will diff these itself
            return {}

    def _transaction(self, works: list[_Work], classified: Classified | None = None) -> list[_Stored]:
        """The captures, and the candidates their links make, in one transaction."""
        with self.session_factory() as session, session.begin():
            results = ingest_captures(
                session,
                [work.job for work in works],
                policy=self.policy,
                outlet_ids=self.outlet_ids,
                revisions=self.revisions,
                classified=classified,
            )
            stored = []
            for work, result in zip(works, results, strict=True):
                discovered = Discovered()
                follow = work.links and result.outcome in ("new_version", "unchanged", "paywalled", "revert")
                for story_id in work.links_for if follow else ():
                    triage_found(session, story_id, work.links, now=work.job.now, policy=self.policy, into=discovered)
                stored.append((result, discovered))
            return stored

    def _store_batch(self, jobs: list[_Work], classified: Classified | None = None) -> list[_Stored | BaseException]:
        """On the database thread: the batch in one transaction, or else one by one."""
        if self.gone is not None:
            return [self.gone] * len(jobs)
        try:
            return list(retry_transaction(lambda: self._transaction(jobs, classified), self.retry_seconds))
        except DatabaseGone as exc:
            self.gone = exc
            return [exc] * len(jobs)
        except Exception as exc:  # noqa: BLE001 - isolated below
            if len(jobs) == 1:
                return [exc]
        results: list[_Stored | BaseException] = []
        for job in jobs:
            if self.gone is not None:
                results.append(self.gone)
                continue
            try:
                results.extend(self._store_one(job, classified))
            except DatabaseGone as exc:
                self.gone = exc
                results.append(exc)
            except Exception as exc:  # noqa: BLE001 - this capture only
                results.append(exc)
        return results

    def _store_one(self, job: _Work, classified: Classified | None) -> list[_Stored]:
        """One capture, tried twice; if it still cannot be stored, its row says why (an
        ``error`` capture without a version), so no fetch disappears without a word."""
        failure: Exception | None = None
        for _attempt in range(2):
            try:
                return retry_transaction(lambda: self._transaction([job], classified), self.retry_seconds)
            except DatabaseGone:
                raise
            except Exception as exc:  # noqa: BLE001 - recorded on the error capture below
                failure = exc
        reason = str(getattr(failure, "orig", None) or failure).strip().splitlines()[0][:300]
        fetch = replace(job.job.fetch, outcome="error", error=f"could not be stored: {reason}")
        fallback = _Work(replace(job.job, fetch=fetch, candidate=None, story=None))
        if self.crawler is not None and self.crawler.stats is not None:
            self.crawler.stats.inc_value("palimpsest/stored_as_error")
        return retry_transaction(lambda: self._transaction([fallback]), self.retry_seconds)


class DiscoveryPipeline:
    """Fetches, in the same pass, what the found URLs made due: new candidates, and member
    articles a feed or sitemap date says moved.

    Candidates from an article's links are recorded with its capture (StorePipeline); a
    polled feed or sitemap is recorded here, with its candidates, in one transaction.
    """

    def __init__(self, session_factory: sessionmaker[Session], policy: SchedulePolicy, max_candidates: int) -> None:
        self.session_factory = session_factory
        self.policy = policy
        self.max_candidates = max_candidates
        self.crawler: Crawler | None = None
        self.retry_seconds = 30.0
        self.rechecked: set[str] = set()  # one hint-driven re-check per article per pass
        self.seen_work = False
        self.claims = False

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
        pipeline.claims = crawler.settings.getbool("PALIMPSEST_CLAIMS")
        crawler.signals.connect(engine.dispose, signal=signals.spider_closed)
        return pipeline

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, SourcePolled):
            try:
                discovered = await with_database_retries(lambda: self._source(item), self.retry_seconds)
            except DatabaseGone as exc:
                stop_for_database(self.crawler, item, exc)
            self._follow(discovered)
        elif isinstance(item, FetchedPage) and item.discovered is not None:
            self._follow(item.discovered)
        return item

    def _source(self, item: SourcePolled) -> Discovered:
        found = [
            FoundURL(url, candidate.how, candidate.title, candidate.modified_at, raw=candidate.url)
            for candidate in item.found[: self.max_candidates]
            if (url := normalised(candidate.url))
        ]
        with self.session_factory() as session, session.begin():
            source = session.get(StorySource, item.source_id)
            if source is not None and item.record_poll:
                stories.record_poll(
                    session, source, now=item.fetched_at, status=item.status, error=item.error,
                    etag=item.etag, last_modified=item.last_modified,
                )  # fmt: skip
            discovered = triage_found(
                session, item.story_id, found, now=item.fetched_at, policy=self.policy, source_id=item.source_id
            )
        stats = self.crawler.stats if self.crawler else None
        if stats is not None:
            stats.inc_value("palimpsest/sources_polled" if item.record_poll else "palimpsest/sitemaps_followed")
            if item.error:
                problems = stats.get_value("palimpsest/problems") or []
                problems.append(("source error", item.url, item.error))
                stats.set_value("palimpsest/problems", problems)
        return discovered

    def _follow(self, discovered: Discovered) -> None:
        spider = self.crawler.spider if self.crawler else None
        if spider is None or not hasattr(spider, "candidate_request"):
            return  # `palimpsest crawl`: candidates wait for the next `palimpsest run`
        if self.claims:
            return  # many workers: what is due now is claimed by the next pass of any worker
        for fetch in discovered.fetch:
            self.crawler.engine.crawl(
                spider.candidate_request(fetch.request_url, fetch.story_slug, fetch.how, fetch.url)
            )
        work = getattr(spider, "work", None)
        if work is not None and not self.seen_work:  # due by schedule: already in this pass
            self.rechecked.update(article.url for article in work.articles)
            self.seen_work = True
        rechecks = [recheck for recheck in discovered.rechecks if recheck.url not in self.rechecked]
        for recheck in rechecks:
            self.rechecked.add(recheck.url)
            self.crawler.engine.crawl(spider.recheck_request(recheck.url, recheck.plan, recheck.story_ids))
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("palimpsest/candidates_new", len(discovered.fetch))
            self.crawler.stats.inc_value("palimpsest/hint_rechecks", len(rechecks))


@dataclass(frozen=True)
class _Work:
    """A capture to store, and the links it brings to the stories it belongs to."""

    job: CaptureJob
    links_for: tuple[int, ...] = ()
    links: list[FoundURL] = field(default_factory=list)


_Stored = tuple[IngestResult, Discovered]
