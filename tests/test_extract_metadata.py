"""Metadata from a page's own declarations: JSON-LD first, then OpenGraph/meta, then the page."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from palimpsest.crawler.extract import ExtractionError, extract_article
from palimpsest.crawler.extract.dates import parse_date
from palimpsest.crawler.extract.decode import decode_html, parse_html
from palimpsest.crawler.extract.metadata import read_metadata

BODY = "".join(f"<p>Paragraph {i} of the story has enough words to count as article text here.</p>" for i in range(8))


def page(head: str = "", body: str = BODY, lang: str = "en") -> bytes:
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head>{head}</head><body><article>{body}</article></body></html>'.encode()
    )


def jsonld(data) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def meta_of(html: bytes, url: str = "https://news.example.com/a/story.html"):
    return read_metadata(parse_html(decode_html(html).text), url)


def test_jsonld_article_in_a_graph_wins_over_opengraph():
    html = page(
        '<meta property="og:title" content="Social headline">'
        + jsonld(
            {
                "@context": "https://schema.org",
                "@graph": [
                    {"@type": "WebSite", "name": "Example"},
                    {
                        "@type": ["NewsArticle"],
                        "headline": "The  real\nheadline",
                        "author": [{"@type": "Person", "name": "Ann Lee"}, {"@type": "Person", "name": "Bo Park"}],
                        "datePublished": "2024-03-01T10:00:00-05:00",
                        "dateModified": "2024-03-02T08:00:00Z",
                        "isBasedOn": "https://wire.example.org/original",
                    },
                ],
            }
        )
    )
    meta = meta_of(html)
    assert meta.headline == "The real headline"
    assert meta.headline_source == "json-ld"
    assert meta.byline == "Ann Lee and Bo Park"
    assert meta.published.utc == datetime(2024, 3, 1, 15, 0, tzinfo=UTC)
    assert meta.published.raw == "2024-03-01T10:00:00-05:00"
    assert meta.published.source == "json-ld:datePublished"
    assert meta.modified.utc == datetime(2024, 3, 2, 8, 0, tzinfo=UTC)
    assert meta.based_on_url == "https://wire.example.org/original"


def test_opengraph_and_meta_when_there_is_no_jsonld():
    html = page(
        '<title>Ignored - Example News</title><meta property="og:title" content="Council votes - Example News">'
        '<meta name="author" content="By Carla Diaz">'
        '<meta property="article:published_time" content="2023-07-04T12:30:00Z">'
        '<meta property="og:site_name" content="Example News"><link rel="canonical" href="/a/story.html">'
        '<link rel="amphtml" href="https://news.example.com/amp/a/story.html">'
    )
    meta = meta_of(html)
    assert meta.headline == "Council votes"
    assert meta.byline == "Carla Diaz"
    assert meta.published.source == "meta:article:published_time"
    assert meta.published.utc == datetime(2023, 7, 4, 12, 30, tzinfo=UTC)
    assert meta.site_name == "Example News"
    assert meta.canonical_url == "https://news.example.com/a/story.html"
    assert meta.amp_url == "https://news.example.com/amp/a/story.html"
    assert meta.language == "en"


def test_visible_page_is_the_last_resort():
    html = page(
        "<title>Only a title</title>",
        body='<h1>Visible headline</h1><p class="byline">By Dee Moss</p><time datetime="2022-01-05">Jan 5</time>'
        + BODY,
    )
    meta = meta_of(html)
    assert meta.headline == "Visible headline"
    assert meta.headline_source == "h1"
    assert meta.byline == "Dee Moss"
    assert meta.published.source == "time"
    assert meta.published.utc == datetime(2022, 1, 5, tzinfo=UTC)


def test_broken_jsonld_is_skipped_not_fatal():
    html = page(
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": </script><title>Fallback</title>'
    )
    assert meta_of(html).headline == "Fallback"


def test_unparseable_date_keeps_the_raw_string():
    html = page(jsonld({"@type": "NewsArticle", "headline": "x", "datePublished": "sometime last week"}))
    published = meta_of(html).published
    assert published.raw == "sometime last week" and published.utc is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2018-06-05T14:01:00Z", datetime(2018, 6, 5, 14, 1, tzinfo=UTC)),
        ("2018-06-05", datetime(2018, 6, 5, tzinfo=UTC)),
        ("Tue, 05 Jun 2018 14:01:00 GMT", datetime(2018, 6, 5, 14, 1, tzinfo=UTC)),
        ("June 5, 2018", datetime(2018, 6, 5, tzinfo=UTC)),
        ("Tuesday, June 5, 2018", datetime(2018, 6, 5, tzinfo=UTC)),
        ("Jun. 5, 2018", datetime(2018, 6, 5, tzinfo=UTC)),
        ("5 June 2018", datetime(2018, 6, 5, tzinfo=UTC)),
        ("Updated: June 5, 2018 2:01 PM EDT", datetime(2018, 6, 5, 18, 1, tzinfo=UTC)),
        ("not a date", None),
        ("", None),
        ("1066-10-14", None),
    ],
)
def test_parse_date(raw, expected):
    assert parse_date(raw) == expected


def test_charset_declared_utf8_but_bytes_are_cp1252():
    body = '<html><head><meta charset="utf-8"></head><body><p>Caf\xe9 \u201cquoted\u201d</p></body></html>'.encode(
        "cp1252"
    )
    decoded = decode_html(body, "text/html; charset=utf-8")
    assert "Caf\xe9 \u201cquoted\u201d" in decoded.text
    assert decoded.encoding == "windows-1252"
    assert "declared utf-8" in decoded.note


def test_charset_missing_falls_back_from_utf8_to_cp1252():
    assert decode_html("<p>na\xefve</p>".encode("cp1252")).text == "<p>na\xefve</p>"
    assert decode_html("<p>na\xefve</p>".encode()).text == "<p>na\xefve</p>"


def test_charset_from_header_beats_meta():
    body = '<html><head><meta charset="utf-8"></head><body>\u0416</body></html>'.encode("koi8-r")
    assert "\u0416" in decode_html(body, "text/html; charset=koi8-r").text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"%PDF-1.7 ...", "a PDF document"),
        (b"\x89PNG\r\n\x1a\n", "a PNG image"),
        (b"", "empty document"),
        (b"   ", "empty document"),
    ],
)
def test_not_an_article(body, message):
    with pytest.raises(ExtractionError, match=message):
        extract_article("https://example.com/x", body)


def test_page_without_main_text_is_an_error():
    with pytest.raises(ExtractionError, match="no article text"):
        extract_article("https://example.com/x", b"<html><body><nav><a href='/'>Home</a></nav></body></html>")


def test_first_paragraph_repeating_the_headline_is_dropped():
    html = page(
        jsonld(
            {
                "@type": "NewsArticle",
                "headline": "Paragraph 0 of the story has enough words to count as article text here.",
            }
        )
    )
    extraction = extract_article("https://example.com/x", html)
    assert not extraction.text.startswith("Paragraph 0")
    assert extraction.text.startswith("Paragraph 1")
