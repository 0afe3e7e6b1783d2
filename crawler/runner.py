"""Run crawls from the command line: one reactor, any number of crawls in sequence.

``run_crawls(settings, main)`` starts the asyncio reactor, awaits ``main(crawl)`` and stops.
``crawl(Spider, **kwargs)`` runs one crawl to the end and returns what it did. The first
Ctrl-C / SIGTERM stops crawling gracefully (requests in flight finish, every capture already
fetched is stored); a second one stops at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from scrapy import Spider, signals
from scrapy.crawler import AsyncCrawlerRunner, Crawler
from scrapy.settings import Settings
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.log import configure_logging
from scrapy.utils.reactor import install_reactor

from palimpsest.crawler import workers
from palimpsest.crawler.configuration import PREFIX, check_settings, from_environment, merged
from palimpsest.crawler.report import outcome_counts

T = TypeVar("T")
ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"


def declared_settings() -> dict[str, Any]:
    """Name -> value of every setting in ``crawler/settings.py`` (the environment applied)."""
    from palimpsest.crawler import settings

    return {name: getattr(settings, name) for name in dir(settings) if name.isupper()}


def command_line_settings(pairs: Sequence[str], environ: Mapping[str, str]) -> dict[str, Any]:
    """``-s NAME=VALUE`` settings, parsed and checked before anything runs, with the
    environment's ``PALIMPSEST_*`` settings (raises configuration.SettingError, one line).
    The environment's values reach the crawl through ``crawler/settings.py``."""
    return merged(declared_settings(), pairs, environ)


class SettingsCheck:
    """Scrapy extension: the settings check when Scrapy starts a crawl itself (``scrapy
    crawl``); ``palimpsest`` commands have checked before that (``command_line_settings``)."""

    @classmethod
    def from_crawler(cls, crawler: Any) -> SettingsCheck:
        settings = crawler.settings
        own = {name: settings[name] for name in settings.attributes if name.startswith(PREFIX)}
        declared = declared_settings()
        from_environment(declared, os.environ)  # crawler/settings.py left out what fails here
        check_settings(declared, own, source="Scrapy settings")
        return cls()


def build_settings(overrides: dict[str, Any] | None = None) -> Settings:
    settings = Settings()
    settings.setmodule("palimpsest.crawler.settings", priority="project")
    if overrides:
        settings.setdict(overrides, priority="cmdline")
    return settings


@dataclass
class CrawlStats:
    counts: dict[str, int]
    problems: list[tuple[str, str, str]] = field(default_factory=list)
    seconds: float = 0.0
    internal_errors: int = 0
    interrupted: bool = False
    database_error: str | None = None  # the crawl stopped because the database went away
    archive_error: str | None = None  # the crawl stopped because the WARC folder failed
    extra: dict[str, int] = field(default_factory=dict)  # other palimpsest/ counters


class _Interrupt:
    """First signal: graceful stop. Second: stop the reactor now."""

    def __init__(self, runner: AsyncCrawlerRunner, reactor: Any) -> None:
        self.runner, self.reactor, self.count = runner, reactor, 0
        self.signum: int | None = None  # the first stop signal received
        self.stopped = asyncio.Event()
        # Crawlers whose engine has started: only those can be stopped. Scrapy's stop, asked
        # while a crawler is still opening, marks it stopped without stopping its engine, and
        # the crawl then never ends; such a crawler is stopped once its engine starts.
        self.started: set[Crawler] = set()

    def __call__(self, signum: int, _frame: Any) -> None:
        self.count += 1
        self.signum = self.signum or signum
        if self.count == 1:
            print("\nStopping: finishing pages in flight (again to stop at once)...", file=sys.stderr, flush=True)
            self.reactor.callFromThread(self._stop_gracefully)
        else:
            self.reactor.callFromThread(self.reactor.stop)

    def _stop_gracefully(self) -> None:
        self.stopped.set()
        workers.stop_soon()  # a page stuck in extraction does not hold the stop for its budget
        for crawler in list(self.started):
            deferred_from_coro(_stop_once_running(crawler))

    def engine_started(self, crawler: Crawler) -> None:
        """A crawler's engine starts: stop it at once if a stop was asked while it opened."""
        self.started.add(crawler)
        if self.count:
            deferred_from_coro(_stop_once_running(crawler))


async def _stop_once_running(crawler: Crawler, patience: float = 30.0) -> None:
    """Stop a crawl gracefully. Scrapy stops an engine only once it runs (a moment after it
    says it started); asked before, it marks the crawler stopped and leaves the engine going,
    and the crawl never ends. So wait for the engine first (or for the crawl to end alone)."""
    deadline = time.monotonic() + patience
    while crawler.crawling and not crawler.engine.running and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    if crawler.crawling:
        await crawler.stop_async()


class Crawls:
    """What ``main`` gets: ``await crawls(Spider, **kwargs)`` runs one crawl; ``stopping`` says
    whether the user asked to stop; ``await crawls.sleep(s)`` waits, cut short by a stop."""

    def __init__(self, runner: AsyncCrawlerRunner, interrupt: _Interrupt) -> None:
        self._runner, self._interrupt = runner, interrupt

    @property
    def stopping(self) -> bool:
        return self._interrupt.count > 0

    @property
    def stop_signal(self) -> int | None:
        """The signal that asked to stop (SIGINT for Ctrl-C, SIGTERM), if any: a command cut
        short exits with 128 + its number, so that cron and scripts can tell."""
        return self._interrupt.signum

    async def sleep(self, seconds: float) -> bool:
        """False when woken by a stop request."""
        try:
            await asyncio.wait_for(self._interrupt.stopped.wait(), timeout=max(0.0, seconds))
        except TimeoutError:
            return True
        return False

    async def __call__(self, spidercls: type[Spider], **kwargs: Any) -> CrawlStats:
        if self.stopping:  # asked to stop before this crawl began: nothing is fetched
            return CrawlStats(counts={}, interrupted=True)
        crawler = self._runner.create_crawler(spidercls)
        crawler.signals.connect(
            lambda: self._interrupt.engine_started(crawler), signal=signals.engine_started, weak=False
        )
        started = time.monotonic()
        try:
            await self._runner.crawl(crawler, **kwargs)
        finally:
            self._interrupt.started.discard(crawler)
        stats = crawler.stats.get_stats() if crawler.stats else {}
        return CrawlStats(
            counts=outcome_counts(stats),
            problems=list(stats.get("palimpsest/problems", [])),
            seconds=time.monotonic() - started,
            internal_errors=stats.get("palimpsest/internal_errors", 0),
            database_error=stats.get("palimpsest/database_error"),
            archive_error=stats.get("palimpsest/archive_error"),
            interrupted=self.stopping or stats.get("finish_reason") == "shutdown",
            extra={
                key.split("/", 1)[1]: value
                for key, value in stats.items()
                if key.startswith("palimpsest/")
                and isinstance(value, int)
                and not key.startswith("palimpsest/outcome/")
            },
        )


def run_crawls(settings: Settings, main: Callable[[Crawls], Awaitable[T]], *, verbose: bool = False) -> T:
    """Run ``main`` with a ``Crawls`` inside the reactor; return what main returns."""
    if verbose:
        configure_logging(settings)
    else:
        settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
        configure_logging(settings)
        logging.getLogger().addHandler(logging.NullHandler())
    install_reactor(ASYNCIO_REACTOR)
    from twisted.internet import reactor

    runner = AsyncCrawlerRunner(settings)
    interrupt = _Interrupt(runner, reactor)
    outcome: dict[str, Any] = {}

    async def wrapper() -> None:
        try:
            outcome["value"] = await main(Crawls(runner, interrupt))
        except BaseException as exc:  # handed back to the caller below
            outcome["error"] = exc
        finally:
            if reactor.running:
                reactor.stop()

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        reactor.callWhenRunning(lambda: deferred_from_coro(wrapper()))
        reactor.run(installSignalHandlers=False)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if "error" in outcome:
        raise outcome["error"]
    if "value" not in outcome:
        raise KeyboardInterrupt
    return outcome["value"]
