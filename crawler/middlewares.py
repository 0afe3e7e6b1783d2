"""Downloader middlewares: conditional re-checks."""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured


class ConditionalRequestMiddleware:
    """Sends If-None-Match / If-Modified-Since from the request's plan.

    The plan already leaves the validators out for outlets whose validators have lied and for
    the periodic unconditional verification (crawler.plans), so this only copies them over.
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        if not crawler.settings.getbool("PALIMPSEST_CONDITIONAL_REQUESTS", True):
            raise NotConfigured("PALIMPSEST_CONDITIONAL_REQUESTS is off")
        return cls()

    def process_request(self, request: Request, spider: Any = None) -> None:
        plan = request.meta.get("palimpsest_plan") or {}
        if etag := plan.get("etag"):
            request.headers.setdefault(b"If-None-Match", etag.encode("latin-1"))
        if last_modified := plan.get("last_modified"):
            request.headers.setdefault(b"If-Modified-Since", last_modified.encode("latin-1"))
        return None
