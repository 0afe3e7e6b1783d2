"""The newsroom's fault side: what a broken or hostile web serves, one case per path.

Every case lives under ``/faults/`` on every outlet and is served over real HTTP by the same
server as the articles, so the crawler meets it exactly as it would meet it on the web.
Handlers write to the raw socket when a case needs it (a reset mid-body, a stalled response);
every loop here is bounded, and a case that streams stops when the client goes away.
"""

from __future__ import annotations

import socket
import struct
import time
import zlib
from collections.abc import Callable
from typing import Any

# A decent article page, used by the charset and HTML-damage cases.
_PARAGRAPHS = [
    "Café owners on Quay Street said the new parking rules had cut their weekend trade by a third since the "
    "summer, and asked the council for a six-month trial of evening permits.",
    "The council's transport committee will consider the request in December. Its chair said the “naïve” "
    "first plan had not counted the ferry crowds, and promised a revised map before Christmas.",
    "Residents of the old harbour streets, where the spaces were removed, said they had not been consulted "
    "and collected more than 600 signatures in a fortnight.",
    "A spokesman for the mayor said the rules were meant to clear the quay for emergency vehicles, not to "
    "punish shop owners, and that the city was open to changes.",
]


def _page(title: str, charset_meta: str | None = '<meta charset="utf-8">', extra: str = "") -> str:
    # Marked up as an article, as any CMS does; the faults are in the transport, not the page.
    head = f"<head>{charset_meta or ''}<title>{title}</title><meta property='og:type' content='article'></head>"
    body = "".join(f"<p>{p}</p>" for p in _PARAGRAPHS)
    return f"<!DOCTYPE html><html lang='en'>{head}<body><article><h1>{title}</h1>{body}{extra}</article></body></html>"


Handler = Callable[[Any, bool], None]  # (the request handler, head) -> writes a response
FAULTS: dict[str, Handler] = {}
XSS_HEADLINE = "<script>alert('headline')</script> Council row"
XSS_BYLINE = "<img src=x onerror=alert('byline')> Staff"


def fault(name: str) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        FAULTS[name] = function
        return function

    return register


@fault("gone-404")
def _gone_404(h: Any, head: bool) -> None:
    h._send(404, "text/html; charset=utf-8", b"<html><body>Not found</body></html>", head=head)


@fault("gone-410")
def _gone_410(h: Any, head: bool) -> None:
    h._send(410, "text/html; charset=utf-8", b"<html><body>This article was removed</body></html>", head=head)


def _server_error(status: int) -> Handler:
    def handler(h: Any, head: bool) -> None:
        h._send(status, "text/html; charset=utf-8", f"<html><body>Error {status}</body></html>".encode(), head=head)

    return handler


for _status in (500, 502, 503):
    FAULTS[f"error-{_status}"] = _server_error(_status)


@fault("rate-limited")
def _rate_limited(h: Any, head: bool) -> None:
    """429 with Retry-After: 1 for the first request of each run, then the article."""
    newsroom = h.server.newsroom
    with newsroom.lock:
        newsroom.fault_hits["rate-limited"] = newsroom.fault_hits.get("rate-limited", 0) + 1
        first = newsroom.fault_hits["rate-limited"] % 2 == 1
    if first:
        h._send(429, "text/plain", b"slow down", head=head, extra={"Retry-After": "1"})
    else:
        h._send(200, "text/html; charset=utf-8", _page("Parking rules anger quay cafes").encode(), head=head)


@fault("rate-limited-long")
def _rate_limited_long(h: Any, head: bool) -> None:
    h._send(429, "text/plain", b"come back in an hour", head=head, extra={"Retry-After": "3600"})


@fault("slow")
def _slow(h: Any, head: bool) -> None:
    """Headers promptly, then nothing: a read timeout. Bounded at 10 s."""
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Content-Length", "100000")
    h.end_headers()
    h.wfile.write(b"<html><body><p>Start of a page that never")
    h.wfile.flush()
    time.sleep(10)
    h.close_connection = True


@fault("reset")
def _reset(h: Any, head: bool) -> None:
    """A connection reset (RST) in the middle of the body."""
    body = _page("Reset in the middle").encode()
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body[: len(body) // 3])
    h.wfile.flush()
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.connection.close()
    h.close_connection = True


@fault("loop-a")
def _loop_a(h: Any, head: bool) -> None:
    h._send(302, "text/plain", b"", head=head, extra={"Location": "/faults/loop-b"})


@fault("loop-b")
def _loop_b(h: Any, head: bool) -> None:
    h._send(302, "text/plain", b"", head=head, extra={"Location": "/faults/loop-a"})


@fault("offsite")
def _offsite(h: Any, head: bool) -> None:
    """A redirect to another host (another outlet's article)."""
    newsroom = h.server.newsroom
    target = newsroom.article_url(newsroom.story_keys[1])  # the Courier's story
    h._send(302, "text/plain", b"", head=head, extra={"Location": target})


@fault("to-ledger")
def _to_ledger(h: Any, head: bool) -> None:
    """A redirect whose next hop is on another address (for the address guard)."""
    h._send(302, "text/plain", b"", head=head, extra={"Location": h.server.newsroom.seed_url()})


@fault("meta-refresh")
def _meta_refresh(h: Any, head: bool) -> None:
    """A page that sends the reader on with <meta http-equiv="refresh"> (to a story article)."""
    newsroom = h.server.newsroom
    target = newsroom.article_url(newsroom.story_keys[-1])
    body = f'<html><head><meta http-equiv="Refresh" content="0; url={target}"></head><body>Moved.</body></html>'
    h._send(200, "text/html; charset=utf-8", body.encode(), head=head)


@fault("document.pdf")
def _pdf(h: Any, head: bool) -> None:
    h._send(200, "application/pdf", b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n", head=head)


@fault("pdf-as-html")
def _pdf_as_html(h: Any, head: bool) -> None:
    h._send(200, "text/html; charset=utf-8", b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n", head=head)


@fault("photo")
def _image(h: Any, head: bool) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    h._send(200, "image/png", png, head=head)


@fault("huge")
def _huge(h: Any, head: bool) -> None:
    """A 50 MB body, streamed in chunks until the client hangs up (never held in memory)."""
    size = 50 * 1024 * 1024
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Content-Length", str(size))
    h.end_headers()
    if head:
        return
    chunk = b"<p>" + b"x" * 65529 + b"</p>"
    sent = 0
    try:
        while sent < size:
            h.wfile.write(chunk[: min(len(chunk), size - sent)])
            sent += len(chunk)
    except OSError:
        pass  # the client stopped reading: exactly what should happen
    h.close_connection = True


@fault("gzip-bomb")
def _gzip_bomb(h: Any, head: bool) -> None:
    """About 200 KB on the wire that inflates to 200 MB (the size cap is 10 MB)."""
    h._send(
        200,
        "text/html; charset=utf-8",
        _BOMB(),
        head=head,
        extra={"Content-Encoding": "gzip"},
    )


def _make_bomb() -> Callable[[], bytes]:
    """200 MB of zeros in about 200 KB of gzip (built once, in a fraction of a second)."""
    cache: list[bytes] = []

    def build() -> bytes:
        if not cache:
            compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
            block = b"\0" * (1024 * 1024)
            parts = [compressor.compress(block) for _ in range(200)]
            parts.append(compressor.flush())
            cache.append(b"".join(parts))
        return cache[0]

    return build


_BOMB = _make_bomb()


@fault("cp1252-as-utf8")
def _cp1252_declared_utf8(h: Any, head: bool) -> None:
    body = _page("Caf\u00e9s on the quay").encode("cp1252")
    h._send(200, "text/html; charset=utf-8", body, head=head)


@fault("no-charset")
def _no_charset(h: Any, head: bool) -> None:
    body = _page("Caf\u00e9s on the quay, undeclared", charset_meta=None).encode("cp1252")
    h._send(200, "text/html", body, head=head)


@fault("malformed")
def _malformed(h: Any, head: bool) -> None:
    broken = (
        "<html><head><title>Quay parking fees to double next spring</title><body><div><article>"
        "<h1>Quay parking fees to double next spring, the harbor board says<p>"
        + "<p><b><i>".join(_PARAGRAPHS)
        + "</div></span></td><<>> <p unclosed='yes"
    )
    h._send(200, "text/html; charset=utf-8", broken.encode(), head=head)


@fault("truncated")
def _truncated(h: Any, head: bool) -> None:
    page = _page("Quay parking, cut short").encode()
    h._send(200, "text/html; charset=utf-8", page[: int(len(page) * 0.8)], head=head)


@fault("empty")
def _empty(h: Any, head: bool) -> None:
    h._send(200, "text/html; charset=utf-8", b"", head=head)


@fault("xss")
def _xss(h: Any, head: bool) -> None:
    """An article whose text carries script payloads: it must stay text everywhere. Every
    second request serves a revised text, so that there is a diff to render."""
    newsroom = h.server.newsroom
    with newsroom.lock:
        newsroom.fault_hits["xss"] = newsroom.fault_hits.get("xss", 0) + 1
        revised = newsroom.fault_hits["xss"] % 2 == 0
    ending = "signed <img src=x onerror=alert('v2')> by the committee" if revised else "as the signature"
    payload = "<p>Before <script>alert('body')</script> after, and <img src=x onerror=alert('body')> too.</p>"
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<script type='application/ld+json'>"
        + _json_ld(XSS_HEADLINE, XSS_BYLINE)
        + "</script></head><body><article><h1>x</h1>"
        + "".join(f"<p>{p}</p>" for p in _PARAGRAPHS)
        + "<p>The committee chair read out &lt;script&gt;alert('escaped')&lt;/script&gt; from a complaint "
        "letter, and a resident quoted &lt;img src=x onerror=alert(1)&gt; "
        + ending.replace("<", "&lt;").replace(">", "&gt;")
        + ".</p>"
        + payload
        + "</article></body></html>"
    )
    h._send(200, "text/html; charset=utf-8", page.encode(), head=head)


def _json_ld(headline: str, byline: str) -> str:
    import json

    data = {"@type": "NewsArticle", "headline": headline, "author": {"@type": "Person", "name": byline}}
    return json.dumps(data).replace("</", "<\\/")


__all__ = ["FAULTS", "XSS_BYLINE", "XSS_HEADLINE"]


# --- Hostile pages: small on the wire, costly to read (issue 20) ---------------------------
HOSTILE_SPANS = 50_000  # ~730 KB that keep the extractor busy for seconds


@fault("extract-slow")
def _extract_slow(h: Any, head: bool) -> None:
    """Tens of thousands of tiny inline elements: under every size cap, seconds to extract."""
    newsroom = h.server.newsroom
    with newsroom.lock:
        newsroom.fault_hits["extract-slow"] = newsroom.fault_hits.get("extract-slow", 0) + 1
    spans = "<span>word </span>" * HOSTILE_SPANS
    page = _page("Transcript of the council meeting", extra=f"<p>{spans}</p>")
    h._send(200, "text/html; charset=utf-8", page.encode(), head=head)


@fault("nul-header")
def _nul_header(h: Any, head: bool) -> None:
    """A decent article whose validators and type carry a NUL byte, which PostgreSQL refuses."""
    h.send_response(200, "OK")
    body = _page("Harbour ferry timetable changes").encode()
    for name, value in (
        ("Content-Type", "text/html; charset=utf-8\x00"),
        ("ETag", '"abc\x00def"'),
        ("Last-Modified", "Mon, 30 Nov 2026 06:00:00 GMT\x00"),
        ("Content-Length", str(len(body))),
    ):
        h.send_header(name, value)
    h.end_headers()
    if not head:
        h.wfile.write(body)


@fault("utf8-as-utf16")
def _utf8_declared_utf16(h: Any, head: bool) -> None:
    """UTF-8 bytes declared UTF-16 in the header: browsers read them as UTF-8."""
    h._send(200, "text/html; charset=utf-16", _page("Parking rules anger quay cafés", None).encode(), head=head)


@fault("utf8-as-shift-jis")
def _utf8_declared_shift_jis(h: Any, head: bool) -> None:
    """UTF-8 bytes (with accents) declared Shift_JIS in a meta tag: they do not decode as that."""
    page = _page("Parking rules anger quay cafés", '<meta charset="shift_jis">')
    h._send(200, "text/html", page.encode(), head=head)


@fault("archive-trap")
def _archive_trap(h: Any, head: bool) -> None:
    """A decent article; before answering, runs the test's hook (e.g. the archive folder fails)."""
    hook = h.server.newsroom.hooks.get("archive-trap")
    if hook is not None:
        hook()
    h._send(200, "text/html; charset=utf-8", _page("Harbour works begin on Monday").encode(), head=head)


@fault("deeply-nested")
def _deeply_nested(h: Any, head: bool) -> None:
    """The article wrapped in 5,000 <div>s: deeper than libxml2 keeps (255 levels)."""
    page = _page("Harbour works begin on Monday").replace("<article>", "<article>" + "<div>" * 5000)
    page = page.replace("</article>", "</div>" * 5000 + "</article>")
    h._send(200, "text/html; charset=utf-8", page.encode(), head=head)


HUGE_HEADLINE_WORDS = 1500  # ~10,000 characters in <h1> and <title>


@fault("huge-headline")
def _huge_headline(h: Any, head: bool) -> None:
    """A whole page's worth of words in the headline."""
    title = " ".join(f"harbour{number}" for number in range(HUGE_HEADLINE_WORDS))
    h._send(200, "text/html; charset=utf-8", _page(title).encode(), head=head)
