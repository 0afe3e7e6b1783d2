"""One polite fetch outside Scrapy, for ``palimpsest extract URL``.

Same manners as the crawler: the honest User-Agent, robots.txt obeyed, a size cap and a
timeout. Crawls go through Scrapy; this is for looking at one page.
"""

from __future__ import annotations

import gzip
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from protego import Protego


class FetchError(RuntimeError):
    """The page could not be fetched (robots.txt, HTTP error, network, too big)."""


@dataclass(frozen=True)
class FetchedDocument:
    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes


def _read(url: str, user_agent: str, timeout: float, max_bytes: int) -> tuple[str, int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) checked by caller
            body = response.read(max_bytes + 1)
            headers = {k.lower(): v for k, v in response.headers.items()}
            final_url, status = response.geturl(), response.status
    except urllib.error.HTTPError as exc:
        return exc.geturl(), exc.code, {k.lower(): v for k, v in exc.headers.items()}, b""
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"could not fetch {url}: {reason}") from exc
    if len(body) > max_bytes:
        raise FetchError(f"{url}: response larger than {max_bytes // (1024 * 1024)} MB, not loaded")
    encoding = headers.get("content-encoding", "").lower()
    try:
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
    except (OSError, zlib.error) as exc:
        raise FetchError(f"{url}: cannot decompress the response: {exc}") from exc
    return final_url, status, headers, body


def robots_allows(url: str, user_agent: str, timeout: float) -> bool:
    parts = urlsplit(url)
    robots_url = urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))
    try:
        _final, status, _headers, body = _read(robots_url, user_agent, timeout, 512 * 1024)
    except FetchError:
        return True  # no robots.txt reachable: nothing forbids it
    if status >= 400:
        return True
    return Protego.parse(body.decode("utf-8", "replace")).can_fetch(url, user_agent)


def fetch_once(url: str, *, user_agent: str, timeout: float = 30, max_bytes: int = 10 * 1024 * 1024) -> FetchedDocument:
    if not robots_allows(url, user_agent, timeout):
        raise FetchError(f"{url}: disallowed by robots.txt")
    final_url, status, headers, body = _read(url, user_agent, timeout, max_bytes)
    if status != 200:
        raise FetchError(f"{url}: HTTP {status}")
    return FetchedDocument(url=url, final_url=final_url, status=status, headers=headers, body=body)
