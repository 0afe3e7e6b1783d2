"""Extraction in worker processes, each page under a wall-time and a memory budget.

A page can be hostile without being big: a few MB of nested markup can keep a parser busy
for half an hour or take gigabytes. So extraction never runs in the crawling process (whose
reactor must keep answering Ctrl-C and the network), and each page gets a budget: a worker
that passes its time is killed and replaced, a worker whose address space passes its memory
limit fails its page (``resource.RLIMIT_AS``) and is replaced. Either way the page is an
``error`` capture with a plain reason, and the crawl goes on.

Workers come from a forkserver that has already imported the extractor: starting one costs a
fork, not an import of trafilatura, and no reactor thread is ever forked.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import select
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any, TypeVar

T = TypeVar("T")

MEGABYTE = 1024 * 1024
# How often a waiting thread looks at the clock (a stop request, the page's deadline).
POLL_SECONDS = 0.1
# After a stop request (Ctrl-C, SIGTERM), pages still being extracted get this long.
STOP_GRACE_SECONDS = 2.0


class WorkerCrashed(RuntimeError):
    """A page could not be extracted in its budget; the message is the capture's reason."""


def _exit_with(crawler_pid: int) -> None:
    """Exit as soon as the crawling process is gone.

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


def _address_space() -> int | None:
    """This process's virtual size in bytes (Linux), the base its memory budget adds to."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _limit_memory(budget_bytes: int) -> None:
    """Cap the address space at what the worker has now plus the page's budget."""
    try:
        import resource
    except ImportError:  # not POSIX: only the wall-time limit applies
        return
    base = _address_space()
    if base is None:
        return
    limit = base + budget_bytes
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _serve(connection: Connection, crawler_pid: int, memory_bytes: int) -> None:
    """A worker's life: take a call, answer it, until the pipe closes."""
    _exit_with(crawler_pid)
    _limit_memory(memory_bytes)
    connection.send(("ready", None))
    while True:
        try:
            function, args = connection.recv()
        except (EOFError, OSError):
            return
        try:
            answer: tuple[str, Any] = ("ok", function(*args))
        except MemoryError:
            connection.send(("memory", None))
            return  # a failed allocation may leave a library half-way: start afresh
        except Exception as exc:  # noqa: BLE001 - the page fails, not the worker
            answer = ("failed", f"{type(exc).__name__}: {exc}"[:500])
        try:
            connection.send(answer)
        except MemoryError:
            connection.send(("memory", None))
            return


class _Worker:
    """One worker process and the pipe to it."""

    def __init__(self, context: Any, memory_bytes: int) -> None:
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child, os.getpid(), memory_bytes), name="palimpsest-extract", daemon=True
        )
        self.process.start()
        child.close()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.connection.close()


_LIVE_POOLS: weakref.WeakSet[ExtractionPool] = weakref.WeakSet()


def stop_soon(grace_seconds: float = STOP_GRACE_SECONDS) -> None:
    """A stop was asked (Ctrl-C, SIGTERM): every page still extracting gets ``grace_seconds``."""
    for pool in list(_LIVE_POOLS):
        pool.stop_soon(grace_seconds)


class ExtractionPool:
    """``await pool.run(function, *args)`` runs the call in a worker process, under budget.

    Each of ``workers`` threads owns one worker process and waits on its pipe, so the reactor
    never blocks. Workers start in the background when the pool does (``start``), and again
    whenever one is killed.
    """

    def __init__(self, workers: int, *, time_limit: float = 20.0, memory_limit_mb: int = 512) -> None:
        self.workers = max(1, workers)
        self.time_limit = time_limit
        self.memory_limit_mb = memory_limit_mb
        self._threads = ThreadPoolExecutor(self.workers, thread_name_prefix="palimpsest-extract")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: set[_Worker] = set()
        self._closed = False
        self._stop_at: float | None = None
        self._context: Any = None
        _LIVE_POOLS.add(self)

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Start a worker in the background, so the first page does not wait for a fork."""
        self._threads.submit(self._own_worker)

    def stop_soon(self, grace_seconds: float) -> None:
        with self._lock:
            deadline = time.monotonic() + grace_seconds
            self._stop_at = deadline if self._stop_at is None else min(self._stop_at, deadline)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._all = list(self._all), set()
        for worker in workers:
            worker.kill()
        self._threads.shutdown(wait=True, cancel_futures=True)
        _LIVE_POOLS.discard(self)

    # --- work -----------------------------------------------------------------------------
    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """The call's result; raises WorkerCrashed with a plain reason when over budget."""
        return await asyncio.wrap_future(self._threads.submit(self._call, function, args))

    def submit(self, function: Callable[..., T], *args: Any) -> Future[T]:
        """The same, for callers outside an event loop (``palimpsest extract``)."""
        return self._threads.submit(self._call, function, args)

    def _spawn(self) -> _Worker:
        if self._context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["palimpsest.crawler.work"])
            self._context = context
        worker = _Worker(self._context, self.memory_limit_mb * MEGABYTE)
        try:
            ready = worker.connection.poll(60) and worker.connection.recv()[0] == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            worker.kill()
            raise WorkerCrashed("the extraction worker did not start")
        with self._lock:
            if self._closed:
                worker.kill()
                raise WorkerCrashed("the crawl stopped before this page was extracted")
            self._all.add(worker)
        return worker

    def _own_worker(self) -> _Worker:
        worker: _Worker | None = getattr(self._local, "worker", None)
        if worker is None or not worker.process.is_alive():
            if worker is not None:
                self._retire(worker)
            worker = self._local.worker = self._spawn()
        return worker

    def _retire(self, worker: _Worker) -> None:
        with self._lock:
            self._all.discard(worker)
        worker.kill()
        if getattr(self._local, "worker", None) is worker:
            self._local.worker = None

    def _call(self, function: Callable[..., T], args: tuple[Any, ...]) -> T:
        if self._closed:
            raise WorkerCrashed("the crawl stopped before this page was extracted")
        if self._stop_at is not None and time.monotonic() >= self._stop_at:
            raise WorkerCrashed("extraction cut short: the crawl was stopped")  # no worker started to be killed
        try:
            worker = self._own_worker()
        except OSError as exc:  # no fork: out of processes or memory on this machine
            raise WorkerCrashed(f"no extraction worker could be started: {exc.strerror or exc}") from exc
        try:
            worker.connection.send((function, args))
        except (OSError, ValueError) as exc:
            self._retire(worker)
            raise WorkerCrashed("the extraction worker could not take this page") from exc
        deadline = time.monotonic() + self.time_limit
        while not worker.connection.poll(POLL_SECONDS):
            now = time.monotonic()
            if now >= deadline:
                self._retire(worker)
                raise WorkerCrashed(f"extraction took longer than {self.time_limit:g} s")
            if self._stop_at is not None and now >= self._stop_at:
                self._retire(worker)
                raise WorkerCrashed("extraction cut short: the crawl was stopped")
        try:
            kind, value = worker.connection.recv()
        except (EOFError, OSError) as exc:
            self._retire(worker)
            raise WorkerCrashed(
                f"the extraction worker died on this page (a crash, or more than {self.memory_limit_mb} MB)"
            ) from exc
        if kind == "ok":
            return value
        if kind == "memory":
            self._retire(worker)
            raise WorkerCrashed(f"extraction needed more than {self.memory_limit_mb} MB")
        raise WorkerCrashed(f"extraction failed: {value}")
