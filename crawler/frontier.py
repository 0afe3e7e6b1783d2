"""The shared frontier of ``palimpsest run --redis``: scrapy-redis holds the request queue
and the duplicate filter in Redis; PostgreSQL holds who claimed which check.

Every worker pushes the checks it claimed into one queue and pops whatever is next, so the
workers share the fetching whatever each one claimed. Two things scrapy-redis does not do by
itself are done here:

- its duplicate filter keeps request fingerprints forever, which would swallow every re-check
  of an article after the first; ``CheckDupeFilter`` keys a request by the check it belongs to
  (kind, row, claim token) and lets the key expire with the lease;
- a request popped by a worker that then died is gone from Redis; the claim's lease in
  PostgreSQL expires and another worker claims the check again. ``ClaimCheckMiddleware``
  renews the claim just before a request goes out, and drops a request whose claim has moved
  on (its lease ran out while it waited in the queue and the check was claimed again); it
  lives in ``crawler.claim_check``, which needs no Redis.
"""

from __future__ import annotations

import hashlib
from typing import Any

from scrapy import Request, Spider
from scrapy_redis.dupefilter import RFPDupeFilter
from sqlalchemy.engine import make_url

from palimpsest.crawler.claim_check import DEFAULT_LEASE_SECONDS, claim_of


def namespace_for(database_url: str) -> str:
    """Redis key prefix for one archive: workers on the same database share a frontier, and
    two archives on one Redis server never mix their queues."""
    url = make_url(database_url)
    identity = f"{url.get_backend_name()}://{url.host}:{url.port}/{url.database}"
    return "palimpsest:" + hashlib.sha1(identity.encode()).hexdigest()[:10]


def frontier_settings(redis_url: str, database_url: str) -> dict[str, Any]:
    """Scrapy settings that put the crawl's queue and duplicate filter in Redis."""
    namespace = namespace_for(database_url)
    return {
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        # Never flush the shared queue when this worker's crawl ends: others are using it.
        "SCHEDULER_PERSIST": True,
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "SCHEDULER_QUEUE_KEY": f"{namespace}:%(spider)s:requests",
        "SCHEDULER_DUPEFILTER_KEY": f"{namespace}:%(spider)s:checks",
        "DUPEFILTER_CLASS": "palimpsest.crawler.frontier.CheckDupeFilter",
        "REDIS_URL": redis_url,
        "PALIMPSEST_CLAIMS": True,
    }


def queued_requests(redis_url: str, database_url: str, spider_name: str) -> int:
    """How many requests wait in the shared queue (work for a worker that claimed nothing)."""
    import redis

    server = redis.Redis.from_url(redis_url)
    try:
        return int(server.zcard(f"{namespace_for(database_url)}:{spider_name}:requests"))
    finally:
        server.close()


class CheckDupeFilter(RFPDupeFilter):
    """scrapy-redis's filter with expiring keys: one key per check, gone with the lease.

    A request that belongs to a claimed check is a duplicate only of the same check (same
    kind, row and claim token): the next check of the same article has a new token and is
    never swallowed. A redirect hop belongs to a check already admitted and always passes.
    Other requests fall back to their fingerprint, which also expires.
    """

    def __init__(self, server: Any, key: str, debug: bool = False, ttl: float = DEFAULT_LEASE_SECONDS) -> None:
        super().__init__(server, key, debug)
        self.ttl = max(1, int(ttl))

    @classmethod
    def from_spider(cls, spider: Spider) -> CheckDupeFilter:
        from scrapy_redis.connection import get_redis_from_settings

        settings = spider.settings
        key = settings.get("SCHEDULER_DUPEFILTER_KEY") % {"spider": spider.name}
        return cls(
            get_redis_from_settings(settings),
            key=key,
            debug=settings.getbool("DUPEFILTER_DEBUG"),
            ttl=settings.getfloat("PALIMPSEST_CLAIM_LEASE_SECONDS", DEFAULT_LEASE_SECONDS),
        )

    def request_seen(self, request: Request) -> bool:
        if request.meta.get("redirect_urls"):
            return False
        claim = claim_of(request)
        identity = ":".join(map(str, claim[:3])) if claim else self.request_fingerprint(request)
        added = self.server.set(f"{self.key}:{identity}", 1, nx=True, ex=self.ttl)
        return not added

    def clear(self) -> None:
        for key in self.server.scan_iter(f"{self.key}:*"):
            self.server.delete(key)
