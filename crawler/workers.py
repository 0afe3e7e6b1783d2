"""A process pool for extraction, so that parsing HTML never blocks the reactor.

Workers come from a forkserver that has already imported the extractor: starting one costs a
fork, not an import of trafilatura, and no reactor thread is ever forked. ``workers=0`` runs
extraction inline (for debugging, or a machine with one core to spare).
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")


class WorkerCrashed(RuntimeError):
    """A worker process died while handling a page (the pool has been replaced)."""


class ExtractionPool:
    def __init__(self, workers: int) -> None:
        self.workers = max(0, workers)
        self._executor: ProcessPoolExecutor | None = None

    def _executor_or_start(self) -> ProcessPoolExecutor:
        if self._executor is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["crawler.extract"])
            self._executor = ProcessPoolExecutor(self.workers, mp_context=context)
        return self._executor

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        if self.workers == 0:
            return function(*args)
        try:
            return await asyncio.wrap_future(self._executor_or_start().submit(function, *args))
        except BrokenProcessPool as exc:
            # One page killed its worker (memory, a C-level crash). Replace the pool; the
            # page becomes an error and the crawl goes on.
            self._executor = None
            raise WorkerCrashed("the extractor process crashed on this page") from exc

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
