"""The Wayback CDX client: both listing shapes, which captures are fetched, one request per
delay, Retry-After obeyed (against a loopback server that answers 429 first)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from palimpsest.crawler.addresses import parse_allowance
from palimpsest.crawler.cdx import (
    CDXCapture,
    CDXError,
    WaybackClient,
    capture_url,
    parse_cdx,
    query_urls,
    replay_base,
    same_article,
    skip_reason,
)
from palimpsest.crawler.fetch import FetchError

URL = "https://www.example.com/news/2026/03/01/vote"


def test_both_listing_shapes_are_read():
    internet_archive = json.dumps(
        [
            ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"],
            ["com,example)/news", "20260301090000", URL, "text/html", "200", "AAA", "1200"],
            ["com,example)/news", "20260302090000", URL + "?utm_source=x", "warc/revisit", "-", "AAA", "400"],
        ]
    ).encode()
    pywb = b"\n".join(
        json.dumps(row).encode()
        for row in (
            {"urlkey": "com,example)/news", "timestamp": "20260301090000", "url": URL, "mime": "text/html",
             "status": "200", "digest": "AAA"},
            {"urlkey": "com,example)/logo", "timestamp": "20260301090001", "url": "https://www.example.com/logo.png",
             "mime": "image/png", "status": "200", "digest": "BBB"},
        )
    )  # fmt: skip
    first, second = parse_cdx(internet_archive)
    assert (first.timestamp, first.original, first.status) == ("20260301090000", URL, "200")
    assert (second.mimetype, second.status) == ("warc/revisit", "-")
    assert second.captured_at.isoformat() == "2026-03-02T09:00:00+00:00"
    page, logo = parse_cdx(pywb)
    assert page.original == URL and skip_reason(page) is None
    assert skip_reason(logo) == "not HTML (image/png)"
    assert skip_reason(CDXCapture("20260301090000", URL, "text/html", "404", "")) == "HTTP 404"
    assert parse_cdx(b"") == []
    with pytest.raises(CDXError):
        parse_cdx(b"<html>an error page</html>")


def test_replay_addresses_and_which_listed_urls_are_the_article():
    assert replay_base("https://web.archive.org/cdx/search/cdx") == "https://web.archive.org/web"
    assert replay_base("http://127.0.0.1:8080/news/cdx") == "http://127.0.0.1:8080/news"
    listed = CDXCapture("20260301090000", URL, "text/html", "200", "")
    assert capture_url("http://127.0.0.1:8080/news", listed) == f"http://127.0.0.1:8080/news/20260301090000id_/{URL}"
    # One prefix query per form the server does not fold (scheme and www. are folded).
    assert query_urls([URL, URL.replace("https://www.", "http://"), URL + "/amp"]) == [URL, URL + "/amp"]
    wanted = {URL}
    assert same_article(CDXCapture("1", URL.replace("https://www.", "http://") + "?utm_source=a", "", "", ""), wanted)
    assert not same_article(CDXCapture("1", URL + "-and-more", "", "", ""), wanted)


class _Archive(BaseHTTPRequestHandler):
    """429 with Retry-After on the first request to each path, then a CDX line."""

    seen: dict[str, int] = {}

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        count = self.seen[self.path] = self.seen.get(self.path, 0) + 1
        if "never" in self.path:
            self.send_response(503)
            self.send_header("Retry-After", "7200")
            self.end_headers()
            return
        if count == 1:
            self.send_response(429)
            self.send_header("Retry-After", "3")
            self.end_headers()
            return
        body = json.dumps({"timestamp": "20260301090000", "url": URL, "mime": "text/html", "status": "200"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def archive_server() -> Iterator[str]:
    _Archive.seen = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Archive)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(round(seconds, 3))
        self.now += seconds


def test_retry_after_is_obeyed_and_requests_are_spaced(archive_server):
    fake = FakeTime()
    client = WaybackClient(
        f"{archive_server}/news/cdx",
        user_agent="palimpsest-tests",
        allowance=parse_allowance("127.0.0.0/8"),
        delay=1.0,
        sleep=fake.sleep,
        clock=fake.clock,
    )
    (listed,) = client.captures(URL)
    assert listed.original == URL
    # The 429 said "3": waited 3s, then 1s had passed since the last request already.
    assert fake.waits == [3.0]
    assert client.requests == 2
    client.captures(URL + "/other")  # a new path: a 429 again, after the 1s spacing
    assert fake.waits == [3.0, 1.0, 3.0]
    with pytest.raises(CDXError, match="asked to wait 7200s"):
        client.captures(URL + "/never")


def test_private_addresses_stay_refused_unless_allowed(archive_server):
    client = WaybackClient(f"{archive_server}/news/cdx", user_agent="t", allowance=parse_allowance(""), delay=0)
    with pytest.raises(CDXError, match="loopback"):
        client.captures(URL)
    with pytest.raises(FetchError, match="loopback"):
        client.fetch(CDXCapture("20260301090000", URL, "text/html", "200", ""))
