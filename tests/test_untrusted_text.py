"""Archived pages are untrusted: script and onerror payloads in a headline, a byline and the
body are stored as text and rendered inert."""

from __future__ import annotations

import json

from palimpsest.newsroom.faults import XSS_BYLINE, XSS_HEADLINE


def test_payloads_are_stored_as_text_and_rendered_inert(newsroom, cli):
    url = newsroom.url("courier", "/faults/xss")
    cli.crawl(url)
    cli.crawl(url)  # a revised text: two versions, a diff to render

    history = json.loads(cli("history", url, "--json", check=True).stdout)
    assert len(history["versions"]) == 2
    assert history["versions"][0]["headline"] == XSS_HEADLINE  # kept exactly, as text
    assert history["versions"][0]["byline"] == XSS_BYLINE

    html = cli("diff", url, "--format", "html", check=True).stdout
    lowered = html.lower()
    # No raw <script> or <img> element at all: an onerror= can then only be text.
    assert "<script" not in lowered and "<img" not in lowered
    assert "&lt;script&gt;alert(&#x27;headline&#x27;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(&#x27;byline&#x27;)&gt;" in html
    assert "default-src &#x27;none&#x27;" in html or "default-src 'none'" in html  # and scripts forbidden anyway

    text = cli("diff", url, check=True).stdout
    assert "\x1b" not in text  # piped: plain, and article text cannot inject terminal escapes
    payload = json.loads(cli("diff", url, "--format", "json", check=True).stdout)
    assert payload["fields"]["headline"]["new"] == XSS_HEADLINE
