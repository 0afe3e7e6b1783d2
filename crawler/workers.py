"""A process pool for extraction, so that parsing HTML never blocks the reactor for long.

Workers come from a forkserver that has already imported the extractor: starting one costs a
fork, not an import of trafilatura, and no reactor thread is ever forked. ``workers=0`` runs
extraction inline (for debugging, or a machine with one core to spare).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import select
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")


def _exit_with(crawler_pid: int) -> None:
    """Worker initializer: exit as soon as the crawling process is gone.

    Workers come from the forkserver, and each holds a copy of the forkserver's "alive" pipe;
    when the crawler is SIGKILLed nobody would notice, and the workers would idle forever,
    holding its pipes. So each worker watches the crawler itself: a pidfd becomes readable the
    moment that process exits (Linux >= 5.3); elsewhere, a poll every second.
    """

    def watch() -> None:
        try:
            descriptor = os.pidfd_open(crawler_pid)
        except (AttributeError, OSError):
            while True:
                time.sleep(1)
                try:
                    os.kill(crawler_pid, 0)
                except ProcessLookupError:
                    os._exit(0)
        select.select([descriptor], [], [])
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-crawler", daemon=True).start()


class WorkerCrashed(RuntimeError):
    """A worker process died while handling a page (the pool has been replaced)."""


def _ready() -> bool:
    return True


class ExtractionPool:
    """Extraction in worker processes, started in the background.

    Starting the forkserver and its workers takes most of a second. The first
    ``INLINE_FIRST`` pages of a crawl are extracted inline, so a crawl of a page or two never
    pays for the pool; from the next page on the pool starts in the background, pages are
    extracted inline until it is up, and then in the workers. A worker that dies (memory, a
    C-level crash) fails only its page: the pool is replaced.
    """

    INLINE_FIRST = 2

    def __init__(self, workers: int) -> None:
        self.workers = max(0, workers)
        self._executor: ProcessPoolExecutor | None = None
        self._starting: threading.Thread | None = None
        self._closed = False
        self._inline = 0
        self._lock = threading.Lock()

    def _start_in_background(self) -> None:
        def start() -> None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["palimpsest.crawler.work"])
            executor = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_exit_with, initargs=(os.getpid(),)
            )
            try:
                executor.submit(_ready).result(timeout=60)  # workers spawned and answering
            except Exception:  # noqa: BLE001 - no pool: extraction simply stays inline
                executor.shutdown(wait=False, cancel_futures=True)
                return
            with self._lock:
                if not self._closed:
                    self._executor = executor
                    return
            executor.shutdown(wait=False, cancel_futures=True)  # the crawl ended first

        self._starting = threading.Thread(target=start, name="extraction-pool-start", daemon=True)
        self._starting.start()

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        if self.workers == 0:
            return function(*args)
        with self._lock:
            executor = self._executor
        if executor is None:
            self._inline += 1
            if self._starting is None and self._inline > self.INLINE_FIRST:
                self._start_in_background()
            return function(*args)
        try:
            return await asyncio.wrap_future(executor.submit(function, *args))
        except BrokenProcessPool as exc:
            with self._lock:
                self._executor, self._starting = None, None
            raise WorkerCrashed("the extractor process crashed on this page") from exc

    def close(self) -> None:
        if self._starting is not None:
            self._starting.join(timeout=60)  # never leave workers half-spawned behind us
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
