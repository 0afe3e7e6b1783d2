"""Claimed work is renewed just before it is sent, and dropped when the claim moved on.

With many workers (``palimpsest run --redis``, see crawler.frontier), a request can wait in
the shared queue past its lease; by then another worker may have claimed the same check
again. Renewing the claim at the last moment makes sure only one of them fetches it, and
keeps the lease alive while the page is fetched and stored.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured

from palimpsest.storage import claims
from palimpsest.storage.db import make_engine, make_session_factory

DEFAULT_LEASE_SECONDS = 300.0


class ClaimLost(IgnoreRequest):
    """The check this request was for is now another worker's (or already done)."""


def claim_of(request: Request) -> tuple[str, int, str, float] | None:
    """(kind, row id, token, lease end as Unix time) of the claimed check, if any."""
    claim = request.meta.get("palimpsest_claim")
    return tuple(claim) if claim else None  # type: ignore[return-value]


class ClaimCheckMiddleware:
    """Renews a request's claim just before it is sent; drops it when the claim moved on.

    A claim with more than half its lease left needs no database round trip: nobody can
    have taken it over yet, and the rest of the lease covers the fetch and the store."""

    def __init__(self, session_factory: Any, lease_seconds: float) -> None:
        self.session_factory = session_factory
        self.lease_seconds = lease_seconds
        self.crawler: Crawler | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ClaimCheckMiddleware:
        if not crawler.settings.getbool("PALIMPSEST_CLAIMS"):
            raise NotConfigured("claims are used with a shared frontier only")
        engine = make_engine(crawler.settings["PALIMPSEST_DATABASE_URL"])
        middleware = cls(
            make_session_factory(engine),
            crawler.settings.getfloat("PALIMPSEST_CLAIM_LEASE_SECONDS", DEFAULT_LEASE_SECONDS),
        )
        middleware.crawler = crawler
        from scrapy import signals

        crawler.signals.connect(engine.dispose, signal=signals.spider_closed)
        return middleware

    async def process_request(self, request: Request) -> None:
        claim = claim_of(request)
        if claim is None or request.meta.get("palimpsest_claim_renewed"):
            return None  # not claimed work, or a retry/redirect hop of a check already renewed
        kind, row_id, token, lease_ends = claim
        if lease_ends - time.time() > self.lease_seconds / 2:
            return None  # a claim this fresh is still ours: claims move on only after their lease
        if not await asyncio.to_thread(self._renew, kind, row_id, token):
            if self.crawler is not None and self.crawler.stats is not None:
                self.crawler.stats.inc_value("palimpsest/claims_lost")
            raise ClaimLost(f"the claim on {kind} {row_id} has moved on to another worker")
        request.meta["palimpsest_claim_renewed"] = True
        return None

    def _renew(self, kind: str, row_id: int, token: str) -> bool:
        until = datetime.now(UTC) + timedelta(seconds=self.lease_seconds)
        with self.session_factory() as session, session.begin():
            return claims.renew(session, kind, row_id, token, until)
