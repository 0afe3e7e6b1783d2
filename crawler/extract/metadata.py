"""Headline, dek, byline, dates, language and identity links from a page's own declarations.

Sources, in order of trust: JSON-LD (the article object of ``schema.org``), OpenGraph and
``article:*`` meta, other ``<meta>`` conventions, then the visible page (``<h1>``, ``<time>``,
a byline element, ``<title>``). Every date keeps its raw string and the source that gave it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml.html import HtmlElement

from palimpsest.crawler.extract.dates import parse_date
from palimpsest.crawler.extract.urls import join_url

ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "backgroundnewsarticle",
        "reviewnewsarticle",
        "askpublicnewsarticle",
        "blogposting",
        "liveblogposting",
        "report",
        "socialmediaposting",
    }
)
_SPACES = re.compile(r"\s+")
_BYLINE_PREFIX = re.compile(r"^\s*(?:by|von|par|por|di|door)\s+", re.I)
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class DateValue:
    """A date as the page wrote it (``raw``), read as UTC (``utc``), and who said so."""

    raw: str
    utc: datetime | None
    source: str


@dataclass(frozen=True)
class PageMetadata:
    headline: str | None = None
    headline_source: str | None = None
    dek: str | None = None
    byline: str | None = None
    published: DateValue | None = None
    modified: DateValue | None = None
    language: str | None = None
    canonical_url: str | None = None
    og_url: str | None = None
    amp_url: str | None = None
    site_name: str | None = None
    based_on_url: str | None = None
    content_tier: str | None = None
    section: str | None = None
    # The page's JSON-LD article object, for the paywall verdict (isAccessibleForFree,
    # hasPart, wordCount, articleBody). Plain JSON values only.
    article_jsonld: dict[str, Any] = field(default_factory=dict)


def clean_text(value: Any) -> str | None:
    """Collapse whitespace; None for empty or non-text values."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    if not isinstance(value, str):
        return None
    value = _SPACES.sub(" ", _CONTROL_CHARS.sub("", value)).strip()
    return value or None


def iter_jsonld(tree: HtmlElement) -> Iterator[dict[str, Any]]:
    """Every JSON-LD object on the page, flattening lists and ``@graph``; bad JSON skipped."""
    for script in tree.iterfind(".//script[@type]"):
        if script.get("type", "").strip().lower() != "application/ld+json":
            continue
        raw = (script.text or "").strip()
        if raw.startswith("<!--"):
            raw = raw.removeprefix("<!--").removesuffix("-->")
        raw = raw.strip().removeprefix("//<![CDATA[").removesuffix("//]]>").strip()
        try:
            data = json.loads(_CONTROL_CHARS.sub(" ", raw))
        except (ValueError, RecursionError):
            continue
        yield from _flatten(data, depth=0)


def _flatten(data: Any, depth: int) -> Iterator[dict[str, Any]]:
    if depth > 6:
        return
    if isinstance(data, list):
        for item in data:
            yield from _flatten(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _flatten(data["@graph"], depth + 1)


def jsonld_types(obj: dict[str, Any]) -> set[str]:
    types = obj.get("@type")
    if isinstance(types, str):
        types = [types]
    if not isinstance(types, list):
        return set()
    return {t.rsplit("/", 1)[-1].lower() for t in types if isinstance(t, str)}


def find_article_jsonld(tree: HtmlElement) -> dict[str, Any]:
    """The page's article object: the first JSON-LD object typed as an article, or {}."""
    for obj in iter_jsonld(tree):
        if jsonld_types(obj) & ARTICLE_TYPES:
            return obj
    return {}


def _names(value: Any) -> list[str]:
    """Names from a JSON-LD author value: a string, a Person/Organization, or a list of them."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        name = value.get("name")
        return [name] if isinstance(name, str) else []
    if isinstance(value, list):
        return [name for item in value for name in _names(item)]
    return []


def format_byline(names: list[str]) -> str | None:
    """'A', 'A and B', 'A, B and C'; duplicates and 'By ' prefixes removed."""
    seen: list[str] = []
    for name in names:
        name = clean_text(_BYLINE_PREFIX.sub("", name or ""))
        if name and not name.startswith("http") and name not in seen:
            seen.append(name)
    if not seen:
        return None
    if len(seen) == 1:
        return seen[0]
    return ", ".join(seen[:-1]) + " and " + seen[-1]


def _meta_index(tree: HtmlElement) -> dict[str, str]:
    """First content of each ``<meta name|property|itemprop>``, keys lowercased."""
    found: dict[str, str] = {}
    for meta in tree.iterfind(".//meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop")
        content = meta.get("content")
        if key and content and content.strip():
            found.setdefault(key.strip().lower(), content.strip())
    return found


def _link(tree: HtmlElement, rel: str, base: str) -> str | None:
    for link in tree.iterfind(".//link[@rel]"):
        rels = link.get("rel", "").lower().split()
        href = (link.get("href") or "").strip()
        if rel in rels and href:
            return join_url(base, href)
    return None


def _date(candidates: list[tuple[str, Any]]) -> DateValue | None:
    """The first candidate that parses; else the first raw value, kept with utc=None."""
    first_raw: DateValue | None = None
    for source, raw in candidates:
        raw = clean_text(raw)
        if not raw:
            continue
        value = DateValue(raw=raw, utc=parse_date(raw), source=source)
        if value.utc is not None:
            return value
        first_raw = first_raw or value
    return first_raw


_HEADLINE_SITE_SUFFIX = re.compile(r"\s+[|–—-]\s+[^|–—-]{2,60}$")


def _visible_byline(tree: HtmlElement) -> str | None:
    for element in tree.xpath(
        './/*[@rel="author" or @itemprop="author" or contains(@class, "byline")][not(self::meta) and not(self::link)]'
    )[:3]:
        text = clean_text(element.text_content())
        if text and len(text) < 200:
            return format_byline([text])
    return None


def read_metadata(tree: HtmlElement, url: str) -> PageMetadata:
    """Everything the page declares about itself; missing fields are None."""
    article = find_article_jsonld(tree)
    meta = _meta_index(tree)

    headline, headline_source = None, None
    h1 = tree.find(".//h1")
    for source, value in (
        ("json-ld", article.get("headline")),
        ("og:title", meta.get("og:title")),
        ("h1", h1.text_content() if h1 is not None else None),
        ("title", tree.findtext(".//title")),
    ):
        if (value := clean_text(value)) is not None:
            if source in ("og:title", "title"):
                value = _HEADLINE_SITE_SUFFIX.sub("", value)
            headline, headline_source = value, source
            break

    dek = clean_text(article.get("description")) or clean_text(
        meta.get("og:description") or meta.get("description") or meta.get("twitter:description")
    )
    byline = (
        format_byline(_names(article.get("author")))
        or format_byline(
            [meta[key] for key in ("author", "byl", "dc.creator", "sailthru.author", "parsely-author") if key in meta]
        )
        or _visible_byline(tree)
    )

    time_element = tree.find(".//time[@datetime]")
    published = _date(
        [
            ("json-ld:datePublished", article.get("datePublished")),
            ("meta:article:published_time", meta.get("article:published_time")),
            ("meta:datePublished", meta.get("datepublished")),
            ("meta:pubdate", meta.get("pubdate") or meta.get("publishdate") or meta.get("publish-date")),
            ("meta:dc.date", meta.get("dc.date.issued") or meta.get("dc.date")),
            ("meta:parsely-pub-date", meta.get("parsely-pub-date") or meta.get("sailthru.date")),
            ("json-ld:dateCreated", article.get("dateCreated")),
            ("time", time_element.get("datetime") if time_element is not None else None),
        ]
    )
    modified = _date(
        [
            ("json-ld:dateModified", article.get("dateModified")),
            ("meta:article:modified_time", meta.get("article:modified_time")),
            ("meta:og:updated_time", meta.get("og:updated_time")),
            ("meta:dateModified", meta.get("datemodified") or meta.get("last-modified")),
        ]
    )

    html = tree if tree.tag == "html" else tree.find(".//html")
    language = clean_text(article.get("inLanguage")) or clean_text(
        (html.get("lang") if html is not None else None) or meta.get("og:locale") or meta.get("language")
    )
    if language:
        language = language.replace("_", "-")[:20]

    based_on = article.get("isBasedOn") or article.get("isBasedOnUrl")
    if isinstance(based_on, dict):
        based_on = based_on.get("url") or based_on.get("@id")
    if isinstance(based_on, list):
        based_on = next((b for b in based_on if isinstance(b, str)), None)

    return PageMetadata(
        headline=headline,
        headline_source=headline_source,
        dek=dek,
        byline=byline,
        published=published,
        modified=modified,
        language=language,
        canonical_url=_link(tree, "canonical", url),
        og_url=join_url(url, meta.get("og:url")),
        amp_url=_link(tree, "amphtml", url),
        site_name=clean_text(meta.get("og:site_name")) or clean_text(_names(article.get("publisher"))),
        based_on_url=join_url(url, based_on) if isinstance(based_on, str) else None,
        content_tier=clean_text(meta.get("article:content_tier")),
        section=clean_text(article.get("articleSection")) or clean_text(meta.get("article:section")),
        article_jsonld=article,
    )
