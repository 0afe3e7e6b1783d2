"""A polite client of a Wayback-compatible CDX server (the Internet Archive, a national
library, any pywb): which captures it holds of an article, and each capture's original bytes.

The CDX API (``url``, ``matchType``, ``from``, ``to``, ``output=json``) answers either a JSON
array whose first row names the fields (the Internet Archive) or one JSON object per line
(pywb); both are read. A capture's original bytes are fetched with the ``id_`` replay form
(``{replay}/{timestamp}id_/{url}``), which serves the page as archived, not rewritten. One
request per ``delay`` seconds; a 429 or 503 with Retry-After is waited out (up to a bound)
and tried again. The address guard applies as for any fetch.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

from palimpsest.crawler.addresses import Allowance
from palimpsest.crawler.extract.urls import BadURLError, loose_variants, normalise_url
from palimpsest.crawler.fetch import FetchError, _read

HTML_MIMES = ("text/html", "application/xhtml+xml", "warc/revisit")
MAX_BYTES = 20 * 1024 * 1024
RETRY_STATUSES = (429, 503)
RETRIES = 3


class CDXError(RuntimeError):
    """The CDX server could not be asked, or answered something that is not a CDX listing."""


@dataclass(frozen=True)
class CDXCapture:
    """One row of a CDX listing."""

    timestamp: str  # 14 digits, UTC
    original: str  # the URL as captured
    mimetype: str
    status: str  # "200", "404", "-" (a revisit)
    digest: str

    @property
    def captured_at(self) -> datetime:
        return datetime.strptime(self.timestamp[:14].ljust(14, "0"), "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def parse_cdx(body: bytes) -> list[CDXCapture]:
    """A CDX server's ``output=json`` answer, in either of its two shapes (pure)."""
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return []
    rows: list[dict[str, str]] = []
    try:
        if text.startswith("["):
            table = json.loads(text)
            if table:
                names = [str(name) for name in table[0]]
                rows = [dict(zip(names, map(str, row), strict=False)) for row in table[1:]]
        else:
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    except (ValueError, TypeError) as exc:
        raise CDXError(f"not a CDX listing ({exc})") from exc
    captures = []
    for row in rows:
        if not isinstance(row, dict) or not row.get("timestamp") or not row.get("original", row.get("url")):
            continue
        captures.append(
            CDXCapture(
                timestamp=str(row["timestamp"]),
                original=str(row.get("original") or row.get("url")),
                mimetype=str(row.get("mimetype") or row.get("mime") or ""),
                status=str(row.get("statuscode") or row.get("status") or "-"),
                digest=str(row.get("digest") or ""),
            )
        )
    return captures


def replay_base(cdx_endpoint: str) -> str:
    """Where captures are replayed, from the CDX endpoint: ``.../cdx/search/cdx`` (the Internet
    Archive) replays under ``.../web``, a pywb collection's ``.../COLL/cdx`` under ``.../COLL``."""
    base = cdx_endpoint.rstrip("/")
    if base.endswith("/cdx/search/cdx"):
        return base.removesuffix("/cdx/search/cdx") + "/web"
    return base.removesuffix("/cdx")


def capture_url(replay: str, capture: CDXCapture) -> str:
    return f"{replay}/{capture.timestamp}id_/{capture.original}"


def query_urls(urls: Iterable[str]) -> list[str]:
    """What to ask the CDX server for: each URL without its query string, as a prefix query
    (so the tracking-parameter variants are listed too). Wayback servers key captures by SURT,
    which folds http/https and ``www.``: one query covers those forms."""
    asked: dict[tuple[str, str], str] = {}
    for url in urls:
        parts = urlsplit(url)
        folded = (parts.netloc.lower().removeprefix("www."), parts.path.rstrip("/"))
        asked.setdefault(folded, f"{parts.scheme}://{parts.netloc}{parts.path}")
    return list(asked.values())


def same_article(capture: CDXCapture, wanted: set[str]) -> bool:
    """Whether a listed URL is one of the article's forms (tracking parameters, scheme, www
    and trailing slash aside): a prefix query also lists other pages under the path."""
    try:
        normalised = normalise_url(capture.original)
    except BadURLError:
        return False
    return normalised in wanted or any(v in wanted for v in loose_variants(normalised))


def skip_reason(capture: CDXCapture) -> str | None:
    """Why a listed capture is not fetched: not an HTML page served with a 200."""
    mime = capture.mimetype.split(";", 1)[0].strip().lower()
    if mime not in HTML_MIMES:
        return f"not HTML ({mime or 'no type'})"
    if capture.status not in ("200", "-"):
        return f"HTTP {capture.status}"
    return None


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes


class WaybackClient:
    """One request at a time, ``delay`` seconds apart; Retry-After obeyed up to ``max_wait``."""

    def __init__(
        self,
        endpoint: str,
        *,
        user_agent: str,
        allowance: Allowance,
        delay: float = 1.0,
        max_wait: float = 300.0,
        timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.endpoint = endpoint
        self.replay = replay_base(endpoint)
        self.user_agent, self.allowance = user_agent, allowance
        self.delay, self.max_wait, self.timeout = delay, max_wait, timeout
        self.sleep, self.clock = sleep, clock
        self._last: float | None = None
        self.requests = 0

    def _get(self, url: str) -> Response:
        for attempt in range(RETRIES + 1):
            if self._last is not None:
                wait = self.delay - (self.clock() - self._last)
                if wait > 0:
                    self.sleep(wait)
            self._last = self.clock()
            self.requests += 1
            final, status, headers, body = _read(url, self.user_agent, self.timeout, MAX_BYTES, self.allowance)
            if status in RETRY_STATUSES and attempt < RETRIES:
                wait = retry_after_seconds(headers.get("retry-after"), default=self.delay * 2 ** (attempt + 1))
                if wait > self.max_wait:
                    raise FetchError(f"{url}: HTTP {status}, asked to wait {wait:g}s (more than {self.max_wait:g}s)")
                self.sleep(wait)
                continue
            return Response(final, status, headers, body)
        raise AssertionError("unreachable")  # the last attempt returns

    def captures(self, url: str, *, since: datetime | None = None, until: datetime | None = None) -> list[CDXCapture]:
        """Every capture the server lists under ``url`` (a prefix query) within the dates."""
        query = {"url": url, "matchType": "prefix", "output": "json"}
        if since is not None:
            query["from"] = since.strftime("%Y%m%d%H%M%S")
        if until is not None:
            query["to"] = until.strftime("%Y%m%d%H%M%S")
        try:
            response = self._get(f"{self.endpoint}?{urlencode(query)}")
        except FetchError as exc:
            raise CDXError(str(exc)) from exc
        if response.status == 404:
            return []  # pywb: nothing captured under that URL
        if response.status != 200:
            raise CDXError(f"{self.endpoint}: HTTP {response.status}")
        return parse_cdx(response.body)

    def fetch(self, capture: CDXCapture) -> Response:
        """The capture's original bytes and headers (``id_``)."""
        return self._get(capture_url(self.replay, capture))


def retry_after_seconds(value: str | None, *, default: float) -> float:
    """A Retry-After header (seconds, or an HTTP date) as seconds to wait."""
    if not value:
        return default
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
