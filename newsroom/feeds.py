"""The newsroom's feeds and sitemaps, shaped like the ones publishers serve.

The Ledger: an RSS 2.0 feed whose links carry tracking parameters, and a sitemap index that
points to a Google News sitemap and a plain archive sitemap (both list the water-sale story).
The Courier: an Atom feed whose entries link through a redirector. The Gazette: an RSS feed
that links its report's AMP page and its syndicated copy. Every feed mixes in unrelated news.
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable, Iterable
from html import escape

from palimpsest.newsroom.content import EXPLAINER_PATH, OUTLETS, Article

UrlFor = Callable[[str, str], str]

FEED_PATHS = {"ledger": "/feeds/metro.rss", "courier": "/feed.atom", "gazette": "/rss.xml"}
SITEMAP_INDEX_PATH = "/sitemap.xml"
NEWS_SITEMAP_PATH = "/sitemaps/news.xml"
# Not in the sitemap index: a sitemap of the Ledger's index pages (front, section, topic,
# author), for stories that must turn them down.
SECTIONS_SITEMAP_PATH = "/sitemaps/sections.xml"
INDEX_PAGE_PATHS = ("/", "/metro/", "/topics/water-utility/", "/by/mara-ellison")
ARCHIVE_SITEMAP_PATH = "/sitemaps/archive.xml"
# Redirectors: an old-style short link that answers 301 with the article's address.
REDIRECTS = {("courier", "/go/water-vote"): "/news/harbor-city-council-water-utility-vote"}
# Articles each feed links in an unusual way.
_FEED_LINK = {
    "ledger": lambda article: article.path + "?utm_source=rss&utm_medium=feed",
    "courier": lambda article: next(
        (short for (outlet, short), target in REDIRECTS.items() if outlet == "courier" and target == article.path),
        article.path,
    ),
    "gazette": lambda article: ("/amp" + article.path) if article.amp else article.path,
}


def _rfc2822(article: Article) -> str:
    return email.utils.format_datetime(article.current.modified, usegmt=True)


def rss_feed(outlet_key: str, articles: Iterable[Article], url_for: UrlFor) -> str:
    outlet = OUTLETS[outlet_key]
    items = "\n".join(
        f"""    <item>
      <title>{escape(a.current.headline)}</title>
      <link>{escape(url_for(outlet_key, _FEED_LINK[outlet_key](a)))}</link>
      <guid isPermaLink="false">{escape(a.key)}</guid>
      <description>{escape(a.current.dek)}</description>
      <pubDate>{email.utils.format_datetime(a.published, usegmt=True)}</pubDate>
      <atom:updated>{a.current.modified.isoformat()}</atom:updated>
    </item>"""
        for a in articles
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>{escape(outlet.name)}</title>
    <link>{escape(url_for(outlet_key, "/"))}</link>
    <description>Latest news from {escape(outlet.name)}</description>
{items}
  </channel>
</rss>
"""


def atom_feed(outlet_key: str, articles: Iterable[Article], url_for: UrlFor) -> str:
    outlet = OUTLETS[outlet_key]
    articles = list(articles)
    updated = max((a.current.modified for a in articles), default=None)
    entries = "\n".join(
        f"""  <entry>
    <title>{escape(a.current.headline)}</title>
    <link rel="alternate" href="{escape(url_for(outlet_key, _FEED_LINK[outlet_key](a)))}"/>
    <id>tag:{escape(outlet.host)},2026:{escape(a.path)}</id>
    <published>{a.published.isoformat()}</published>
    <updated>{a.current.modified.isoformat()}</updated>
    <summary>{escape(a.current.dek)}</summary>
    <author><name>{escape(", ".join(a.current.authors))}</name></author>
  </entry>"""
        for a in articles
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>{escape(outlet.name)}</title>
  <id>tag:{escape(outlet.host)},2026:feed</id>
  <updated>{updated.isoformat() if updated else ""}</updated>
  <link rel="self" href="{escape(url_for(outlet_key, FEED_PATHS[outlet_key]))}"/>
{entries}
</feed>
"""


def feed(outlet_key: str, articles: Iterable[Article], url_for: UrlFor) -> tuple[str, str]:
    """(content type, body) of an outlet's feed."""
    if outlet_key == "courier":
        return "application/atom+xml; charset=utf-8", atom_feed(outlet_key, articles, url_for)
    return "application/rss+xml; charset=utf-8", rss_feed(outlet_key, articles, url_for)


def sitemap_index(outlet_key: str, url_for: UrlFor) -> str:
    sitemaps = "\n".join(
        f"  <sitemap><loc>{escape(url_for(outlet_key, path))}</loc></sitemap>"
        for path in (NEWS_SITEMAP_PATH, ARCHIVE_SITEMAP_PATH)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{sitemaps}
</sitemapindex>
"""


def news_sitemap(outlet_key: str, articles: Iterable[Article], url_for: UrlFor) -> str:
    """Google News sitemap: publication name and date, title, lastmod (the explainer is left
    out, so that only a link leads to it)."""
    outlet = OUTLETS[outlet_key]
    urls = "\n".join(
        f"""  <url>
    <loc>{escape(url_for(outlet_key, a.path))}</loc>
    <lastmod>{a.current.modified.isoformat()}</lastmod>
    <news:news>
      <news:publication><news:name>{escape(outlet.name)}</news:name><news:language>en</news:language></news:publication>
      <news:publication_date>{a.published.isoformat()}</news:publication_date>
      <news:title>{escape(a.current.headline)}</news:title>
    </news:news>
  </url>"""
        for a in articles
        if a.path != EXPLAINER_PATH
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
{urls}
</urlset>
"""


def archive_sitemap(outlet_key: str, articles: Iterable[Article], url_for: UrlFor) -> str:
    urls = "\n".join(
        f"  <url><loc>{escape(url_for(outlet_key, a.path))}</loc>"
        f"<lastmod>{a.current.modified.date().isoformat()}</lastmod></url>"
        for a in articles
        if a.in_story and a.path != EXPLAINER_PATH
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{urls}
</urlset>
"""


def sections_sitemap(outlet_key: str, url_for: UrlFor) -> str:
    urls = "\n".join(f"  <url><loc>{escape(url_for(outlet_key, path))}</loc></url>" for path in INDEX_PAGE_PATHS)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{urls}
</urlset>
"""
