"""XML sitemaps, sitemap indexes and Google News sitemaps into candidates.

A sitemap index yields further sitemaps to fetch; a urlset yields candidates with ``lastmod``
(a re-check hint) and, for Google News sitemaps, ``news:publication_date`` and ``news:title``.
Gzipped sitemaps are inflated with a size cap (a sitemap bomb must not exhaust memory).
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass, field

from lxml import etree

from palimpsest.crawler.discovery import Candidate
from palimpsest.crawler.extract.dates import parse_date
from palimpsest.crawler.extract.urls import is_http_url, join_url

_PARSER = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)
MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the protocol's own limit for an uncompressed sitemap
MAX_URLS = 50_000


class NotASitemap(ValueError):
    """The document is not a sitemap or sitemap index."""


@dataclass(frozen=True)
class Sitemap:
    candidates: list[Candidate] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)  # from a sitemap index: fetch these next


def _local(tag: object) -> str:
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def _inflate(body: bytes) -> bytes:
    if not body.startswith(b"\x1f\x8b"):
        return body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, MAX_SITEMAP_BYTES + 1)
    except (zlib.error, gzip.BadGzipFile) as exc:
        raise NotASitemap(f"bad gzip data: {exc}") from exc
    if len(data) > MAX_SITEMAP_BYTES or inflater.unconsumed_tail:
        raise NotASitemap(f"sitemap larger than {MAX_SITEMAP_BYTES // (1024 * 1024)} MB uncompressed")
    return data


def _texts(element: etree._Element) -> dict[str, str]:
    """Local name -> text for every descendant (news:title, news:publication_date, lastmod...)."""
    found: dict[str, str] = {}
    for child in element.iter():
        name = _local(child.tag)
        if name and child is not element and child.text and child.text.strip():
            found.setdefault(name, child.text.strip())
    return found


def parse_sitemap(body: bytes, base_url: str) -> Sitemap:
    try:
        root = etree.fromstring(_inflate(body).lstrip(), parser=_PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise NotASitemap(f"not XML: {exc}") from exc
    kind = _local(root.tag) if root is not None else ""
    if kind == "sitemapindex":
        locations = [_texts(child).get("loc") for child in root if _local(child.tag) == "sitemap"]
        return Sitemap(sitemaps=[url for loc in locations if (url := join_url(base_url, loc)) and is_http_url(url)])
    if kind != "urlset":
        raise NotASitemap("no urlset or sitemapindex root element")
    candidates: list[Candidate] = []
    seen: set[str] = set()
    for child in root:
        if _local(child.tag) != "url":
            continue
        values = _texts(child)
        url = join_url(base_url, values.get("loc"))
        if url is None or not is_http_url(url) or url in seen:
            continue
        seen.add(url)
        published = parse_date(values.get("publication_date"))
        candidates.append(
            Candidate(
                url=url,
                how="sitemap",
                title=values.get("title"),
                published_at=published,
                modified_at=parse_date(values.get("lastmod")) or published,
            )
        )
        if len(candidates) >= MAX_URLS:
            break
    return Sitemap(candidates=candidates)
