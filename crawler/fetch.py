"""One polite fetch outside Scrapy, for ``palimpsest extract URL``.

Same manners as the crawler: the honest User-Agent, robots.txt obeyed, the address guard on
every hop, a size cap and a timeout. Crawls go through Scrapy; this is for looking at one page.
"""

from __future__ import annotations

import gzip
import socket
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from protego import Protego

from palimpsest.crawler.addresses import Allowance, literal_address, parse_allowance, refusal
from palimpsest.crawler.settings import PALIMPSEST_ALLOW_PRIVATE_ADDRESSES


class FetchError(RuntimeError):
    """The page could not be fetched (robots.txt, HTTP error, network, too big)."""


@dataclass(frozen=True)
class FetchedDocument:
    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes


def check_address(url: str, allowance: Allowance) -> None:
    """Raise FetchError when ``url``'s host resolves to an address we must not reach."""
    if allowance.everything:
        return
    host = urlsplit(url).hostname or ""
    if literal := literal_address(host):
        addresses = [literal]
    else:
        try:
            addresses = sorted({info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)})
        except OSError as exc:
            raise FetchError(f"could not resolve {host}: {exc}") from exc
    if reason := refusal(host, addresses, allowance):
        raise FetchError(f"{url}: {reason}")


class _GuardedRedirects(urllib.request.HTTPRedirectHandler):
    """Every redirect hop passes the address guard before it is followed."""

    def __init__(self, allowance: Allowance) -> None:
        self.allowance = allowance

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ANN201 - stdlib signature
        try:
            check_address(newurl, self.allowance)
        except FetchError as exc:
            raise urllib.error.URLError(str(exc)) from exc
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _read(
    url: str, user_agent: str, timeout: float, max_bytes: int, allowance: Allowance | None = None
) -> tuple[str, int, dict[str, str], bytes]:
    allowance = allowance if allowance is not None else parse_allowance(PALIMPSEST_ALLOW_PRIVATE_ADDRESSES)
    check_address(url, allowance)
    opener = urllib.request.build_opener(_GuardedRedirects(allowance))
    request = urllib.request.Request(url, headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"})
    try:
        with opener.open(request, timeout=timeout) as response:
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
