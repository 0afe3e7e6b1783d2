"""Discovery parsers and story matching (pure)."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest

from palimpsest.crawler.discovery.feeds import NotAFeed, parse_feed
from palimpsest.crawler.discovery.sitemaps import NotASitemap, parse_sitemap
from palimpsest.crawler.extract.urls import loose_variants
from palimpsest.storage.matching import StoryMatcher, jaccard, vocabulary

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><title>One</title><link>/a?utm_source=rss</link><description>First</description>
<pubDate>Tue, 03 Nov 2026 09:00:00 GMT</pubDate></item>
<item><title>No link</title></item>
<item><title>Two</title><guid>https://news.example.com/b</guid></item>
<item><title>Bad</title><link>javascript:alert(1)</link></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>
<entry><title>A</title><link rel="self" href="https://x.example/self"/><link rel="alternate" href="https://x.example/a"/>
<published>2026-11-03T09:00:00Z</published><updated>2026-11-04T10:00:00Z</updated><summary>s</summary></entry>
</feed>"""

RDF = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<item rdf:about="https://r.example/1"><title>R</title><link>https://r.example/1</link><dc:date>2026-11-02</dc:date></item>
</rdf:RDF>"""


def test_rss_links_are_resolved_and_dated():
    found = parse_feed(RSS, "https://news.example.com/feed.xml")
    assert [c.url for c in found] == ["https://news.example.com/a?utm_source=rss", "https://news.example.com/b"]
    assert found[0].title == "One" and found[0].summary == "First" and found[0].how == "feed"
    assert found[0].published_at == datetime(2026, 11, 3, 9, tzinfo=UTC)


def test_atom_prefers_the_alternate_link_and_reads_updated():
    [entry] = parse_feed(ATOM, "https://x.example/feed")
    assert entry.url == "https://x.example/a"
    assert entry.modified_at == datetime(2026, 11, 4, 10, tzinfo=UTC)


def test_rss_1_0_rdf():
    [entry] = parse_feed(RDF, "https://r.example/")
    assert entry.url == "https://r.example/1" and entry.published_at == datetime(2026, 11, 2, tzinfo=UTC)


@pytest.mark.parametrize("body", [b"<html><body>not a feed</body></html>", b"", b"\x00\x01garbage"])
def test_not_a_feed(body):
    with pytest.raises(NotAFeed):
        parse_feed(body, "https://x.example/")


def test_an_xml_bomb_does_not_expand():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        b"<rss><channel><item><title>&lol3;</title><link>https://x.example/a</link></item>"
        b"</channel></rss>"
    )
    [entry] = parse_feed(bomb, "https://x.example/")
    assert entry.url == "https://x.example/a" and "lollollol" not in (entry.title or "")


NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://n.example/a</loc><lastmod>2026-11-06T23:30:00+00:00</lastmod>
<news:news><news:publication><news:name>N</news:name><news:language>en</news:language></news:publication>
<news:publication_date>2026-11-03T09:00:00+00:00</news:publication_date>
<news:title>A title</news:title></news:news></url>
<url><loc>https://n.example/b</loc></url>
</urlset>"""


def test_google_news_sitemap():
    sitemap = parse_sitemap(NEWS_SITEMAP, "https://n.example/sitemap.xml")
    first, second = sitemap.candidates
    assert (first.url, first.title, first.how) == ("https://n.example/a", "A title", "sitemap")
    assert first.published_at == datetime(2026, 11, 3, 9, tzinfo=UTC)
    assert first.modified_at == datetime(2026, 11, 6, 23, 30, tzinfo=UTC)
    assert second.modified_at is None


def test_sitemap_index_and_gzip():
    index = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>/s1.xml.gz</loc></sitemap><sitemap><loc>https://n.example/s2.xml</loc></sitemap></sitemapindex>"""
    assert parse_sitemap(index, "https://n.example/sitemap.xml").sitemaps == [
        "https://n.example/s1.xml.gz",
        "https://n.example/s2.xml",
    ]
    assert [c.url for c in parse_sitemap(gzip.compress(NEWS_SITEMAP), "https://n.example/").candidates] == [
        "https://n.example/a",
        "https://n.example/b",
    ]


def test_a_sitemap_gzip_bomb_is_refused():
    bomb = gzip.compress(b"<urlset>" + b" " * (60 * 1024 * 1024) + b"</urlset>")
    with pytest.raises(NotASitemap, match="larger than"):
        parse_sitemap(bomb, "https://n.example/")


SEED = (
    "Harbor City plans to sell its municipal water utility to Tidewater Utilities for $410 million. "
    "The agreement would transfer the Northgate pumping station and the Alder Creek reservoir. "
    "Mayor Celia Okafor said the sale would retire pension debt. The Ratepayers Alliance warns bills will rise."
)


def test_terms_join_with_the_share_of_terms_found():
    matcher = StoryMatcher.build(["water utility", "Tidewater"], [SEED])
    verdict = matcher.judge("Council weighs sale", "The water utility would go to Tidewater.", how="feed")
    assert (verdict.joined, verdict.rule, verdict.score) == (True, "terms", 1.0)
    assert matcher.judge(None, "A WATER   UTILITY sale", how="feed").score == 0.5
    assert not matcher.judge(None, "waterworks utilityman", how="feed").joined  # whole words only


def test_similarity_joins_without_terms_and_explains_rejections():
    matcher = StoryMatcher.build(["Tidewater"], [SEED])
    related = (
        "Northgate pumping station and Alder Creek reservoir pass to a private operator; "
        "Celia Okafor cites pension debt."
    )
    verdict = matcher.judge("Harbor City hands over its waterworks", related, how="feed")
    assert verdict.joined and verdict.rule == "similar" and verdict.score >= 0.15
    unrelated = matcher.judge("Panthers win county title", "A late field goal sealed the championship.", how="feed")
    assert (
        not unrelated.joined
        and "similarity" in unrelated.reason
        and "none of the terms (Tidewater)" in unrelated.reason
    )


def test_a_story_without_rules_takes_its_sources_but_not_links():
    matcher = StoryMatcher.build([], [])
    assert matcher.judge("x", "y", how="feed").joined
    assert not matcher.judge("x", "y", how="link").joined


def test_vocabulary_ignores_function_words_and_short_words():
    assert vocabulary("The mayor said that the water would be sold by them") == frozenset({"mayor", "water", "sold"})
    assert jaccard(frozenset({"a", "b"}), frozenset({"b", "c"})) == pytest.approx(1 / 3)


def test_loose_variants_cover_www_scheme_and_trailing_slash():
    variants = set(loose_variants("https://www.example.com/news/a"))
    assert {"http://example.com/news/a", "https://example.com/news/a/", "http://www.example.com/news/a/"} <= variants
    assert "https://www.example.com/news/a" not in variants
