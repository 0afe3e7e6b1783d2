"""WARC files of a small news site, written with warcio, for the import and backfill tests."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

ARTICLE_URL = "https://www.harbor-gazette.com/news/2026/03/01/council-water-vote"
BODY = [
    "The Harbor City council voted 7 to 2 on Tuesday night to sell the municipal water utility to "
    "Clearwell Partners, a private operator based in Denver, ending a debate that lasted two years.",
    "Supporters said the sale would pay for long-delayed repairs to the city's aging pipes, while "
    "opponents warned that water rates would climb once a private company set them.",
    "Mayor Lena Ortiz said the city would keep an oversight board with the power to review any rate "
    "increase, and that the sale would close by the end of the summer if regulators approve it.",
    "Residents who spoke at the meeting were divided. Several asked the council to put the question "
    "to voters in November; the council rejected that proposal by the same margin.",
]


def article_html(headline: str, paragraphs: list[str] | None = None, *, prompt: str | None = None) -> bytes:
    paragraphs = list(BODY if paragraphs is None else paragraphs)
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs[:2])
    if prompt:
        body += f'\n<p class="subscribe-prompt">{prompt}</p>'
    body += "\n" + "\n".join(f"<p>{p}</p>" for p in paragraphs[2:])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{headline} - Harbor Gazette</title>
<link rel="canonical" href="{ARTICLE_URL}">
<meta property="og:site_name" content="Harbor Gazette">
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "NewsArticle",
"headline": "{headline}", "datePublished": "2026-03-01T08:00:00Z",
"author": {{"@type": "Person", "name": "Dana Reyes"}}}}</script>
</head><body><header><nav><a href="/">Home</a> <a href="/news">News</a></nav></header>
<main><article><h1>{headline}</h1><p class="byline">By Dana Reyes</p>
{body}
</article></main><footer>Harbor Gazette</footer></body></html>""".encode()


def write_warc(
    path: Path,
    records: list[tuple[str, str, datetime, int, str, bytes]],
    *,
    gzip: bool = True,
    originals: dict[bytes, tuple[str, str, str]] | None = None,
) -> Path:
    """records: (kind, url, when, status, content type, body); kind "response", or "revisit"
    (of the previous response with the same body, in this file or, through ``originals``
    shared between calls, in another)."""
    originals = {} if originals is None else originals
    with path.open("wb") as output:
        writer = WARCWriter(output, gzip=gzip)
        for kind, url, when, status, content_type, body in records:
            date = when.strftime("%Y-%m-%dT%H:%M:%SZ")
            http = StatusAndHeaders(
                f"{status} {'OK' if status == 200 else 'Not Found'}",
                [("Content-Type", content_type), ("Content-Length", str(len(body)))],
                protocol="HTTP/1.1",
            )
            if kind == "revisit":
                target, refers_date, digest = originals[body]
                record = writer.create_revisit_record(
                    url, digest, target, refers_date, http_headers=http, warc_headers_dict={"WARC-Date": date}
                )
            else:
                record = writer.create_warc_record(
                    url,
                    "response",
                    payload=io.BytesIO(body),
                    length=len(body),
                    http_headers=http,
                    warc_headers_dict={"WARC-Date": date},
                )
                digest = record.rec_headers.get_header("WARC-Payload-Digest")
                originals.setdefault(body, (url, date, digest))
            writer.write_record(record)
    return path


def write_arc(path: Path, records: list[tuple[str, datetime, bytes]]) -> Path:
    """An ARC (version 1) file, as the Internet Archive's crawlers wrote before WARC: records
    (url, when, HTML body), each an HTTP 200 response."""
    meta = b"1 0 palimpsest-tests\nURL IP-address Archive-date Content-type Archive-length\n"
    parts = [b"filedesc://" + path.name.encode() + b" 0.0.0.0 20260301000000 text/plain %d\n" % len(meta) + meta]
    for url, when, body in records:
        response = (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
            + b"Content-Length: %d\r\n\r\n" % len(body)
            + body
        )
        stamp = when.strftime("%Y%m%d%H%M%S").encode()
        parts.append(b"\n" + url.encode() + b" 192.0.2.1 " + stamp + b" text/html %d\n" % len(response) + response)
    path.write_bytes(b"".join(parts) + b"\n")
    return path
