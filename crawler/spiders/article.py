"""Fetch article URLs and hand every outcome, failures included, to the pipelines."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from scrapy import Request, Spider
from scrapy.exceptions import (
    DownloadCancelledError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response
from twisted.internet import error as net_error
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from palimpsest.crawler.addresses import AddressRefused
from palimpsest.crawler.claim_check import ClaimLost
from palimpsest.crawler.extract.dates import retry_after_seconds
from palimpsest.crawler.items import FetchedPage

# Every status reaches the spider (a 404 or a 503 is a capture too), except redirects, which
# Scrapy's redirect middleware must still follow (handle_httpstatus_all would stop it).
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
HANDLED_STATUSES = [status for status in range(100, 600) if status not in REDIRECT_STATUSES]


def payload_digest(body: bytes) -> str:
    """The WARC-style digest (``sha1:BASE32``) that identifies a payload across captures."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def headers_as_list(headers: Any) -> list[tuple[str, str]]:
    """Scrapy's bytes headers as (name, value) pairs, one per value, in received order."""
    return [(key.decode("latin-1"), value.decode("latin-1")) for key, values in headers.items() for value in values]


def headers_as_dict(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Lower-cased names; repeated headers joined by ', '."""
    result: dict[str, str] = {}
    for name, value in pairs:
        name = name.lower()
        result[name] = f"{result[name]}, {value}" if name in result else value
    return result


def describe_failure(failure: Failure, timeout: float | None = None) -> tuple[str, str]:
    """(outcome, plain-words reason) for a request that got no usable response."""
    exc = failure.value
    message = str(exc)
    if isinstance(exc, AddressRefused):
        return "refused", message
    if isinstance(exc, IgnoreRequest):
        if "robots.txt" in message.lower():
            return "refused", "disallowed by robots.txt"
        if "max redirections" in message.lower():
            return "error", "redirect loop (too many redirects)"
        if "decompress" in message.lower() or "max size" in message.lower():
            return "error", f"response too large once decompressed (a compression bomb?); not loaded: {message}"
        return "refused", message or "request ignored"
    if isinstance(exc, DownloadCancelledError) or "larger than download max size" in message:
        return "error", "response larger than the size cap; not loaded"
    if isinstance(exc, net_error.DNSLookupError):
        return "error", "could not resolve the host name"
    if isinstance(exc, (net_error.TimeoutError, net_error.TCPTimedOutError, DownloadTimeoutError)):
        return "error", f"timed out after {timeout:g}s" if timeout else "timed out"
    if isinstance(exc, net_error.ConnectionRefusedError):
        return "error", "connection refused"
    if isinstance(exc, (ResponseDataLossError, ResponseFailed, net_error.ConnectionLost, net_error.ConnectionDone)):
        return "error", "connection lost mid-response (the body was cut short)"
    if isinstance(exc, ResponseNeverReceived):
        return "error", "connection closed before any response"
    return "error", plain_reason(exc)


_FAILURE_REPR = re.compile(r"<twisted\.python\.failure\.Failure ([\w.]+?)(?:: ([^>]*))?>")


def plain_reason(exc: BaseException) -> str:
    """'Name: message', with any Twisted ``<Failure ...>`` reprs inside turned into the plain
    'ExceptionName: message' they wrap (they are Python internals, not a reason)."""
    message = _FAILURE_REPR.sub(
        lambda found: found.group(1).rsplit(".", 1)[-1] + (f": {found.group(2)}" if found.group(2) else ""),
        str(exc),
    )
    message = message.strip().strip("[]").strip()
    return f"{type(exc).__name__}: {message}".rstrip(": ")[:500]


class ArticleSpider(Spider):
    """Fetches the given URLs once each.

    ``urls``: a list, or a comma/whitespace separated string (``scrapy crawl article -a
    urls=...``). ``plans``: per URL, what the archive knew before (previous payload digest,
    validators), so the pipelines can skip work. ``story``: a story slug to file articles under.
    """

    name = "article"
    custom_settings: dict[str, Any] = {}

    def __init__(
        self,
        urls: Iterable[str] | str = (),
        story: str | None = None,
        plans: Mapping[str, Mapping[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(urls, str):
            urls = urls.replace(",", " ").split()
        self.urls = list(dict.fromkeys(urls))
        self.story = story
        self.plans = dict(plans or {})

    async def start(self) -> AsyncIterator[Request | FetchedPage]:
        limit = self.settings.getint("URLLENGTH_LIMIT", 2083) if self.settings else 2083
        for url in self.urls:
            request = self.request_for(url, self.plans.get(url, {}))
            if limit and len(request.url) > limit:
                # Scrapy would drop it without a word (UrlLengthMiddleware): recorded instead.
                page = self._page(request)
                page.failure_outcome = "refused"
                page.failure = f"URL longer than {limit} characters ({len(request.url)}); not fetched"
                yield page
                continue
            yield request

    def request_for(self, url: str, plan: Mapping[str, Any], **meta: Any) -> Request:
        return Request(
            url,
            callback=self.parse_page,
            errback=self.fetch_failed,
            dont_filter=True,
            meta={
                "handle_httpstatus_list": HANDLED_STATUSES,
                "palimpsest_requested_url": url,
                "palimpsest_plan": dict(plan),
                "palimpsest_story": plan.get("story", self.story),
                "palimpsest_how": plan.get("how", "seed"),
                **meta,
            },
        )

    def _page(self, request: Request) -> FetchedPage:
        meta = request.meta
        return FetchedPage(
            requested_url=meta.get("palimpsest_requested_url", request.url),
            fetched_at=datetime.now(UTC),
            story_slug=meta.get("palimpsest_story"),
            story_how=meta.get("palimpsest_how", "seed"),
            candidate_url=meta.get("palimpsest_candidate_url"),
            links_for=list(meta.get("palimpsest_links_for") or ()),
            plan=meta.get("palimpsest_plan", {}),
            request_headers=headers_as_list(request.headers),
        )

    def parse_page(self, response: Response) -> Iterable[FetchedPage]:
        page = self._page(response.request)
        page.final_url = response.url
        page.status = response.status
        page.raw_headers = headers_as_list(response.headers)
        page.headers = headers_as_dict(page.raw_headers)
        page.body = response.body
        page.ip_address = str(response.ip_address) if response.ip_address is not None else None
        # A 304 has no payload of its own; its capture cites the payload it vouches for.
        page.payload_digest = page.previous_digest if response.status == 304 else payload_digest(response.body)
        page.protocol = response.protocol
        page.redirect_urls = tuple(response.request.meta.get("redirect_urls", ()))
        latency = response.meta.get("download_latency")
        page.duration_ms = round(latency * 1000) if latency is not None else None
        page.retry_after = retry_after_seconds(page.headers.get("retry-after"), page.fetched_at)
        page.retries = response.request.meta.get("retry_times", 0)
        yield page

    def fetch_failed(self, failure: Failure) -> Iterable[FetchedPage]:
        if failure.check(ClaimLost):
            return  # another worker does this check now: nothing to record here
        request = failure.request  # type: ignore[attr-defined]
        page = self._page(request)
        page.failure_outcome, page.failure = describe_failure(failure, request.meta.get("download_timeout"))
        page.redirect_urls = tuple(request.meta.get("redirect_urls", ()))
        yield page
