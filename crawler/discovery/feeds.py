"""RSS 2.0, RSS 1.0 (RDF) and Atom feeds into candidates.

Parsed with lxml in recovery mode and without network access or entity expansion, since a
feed is untrusted input (an XML bomb or an external entity must not hurt us). Unknown
elements are ignored; an entry without a usable http(s) link is skipped.
"""

from __future__ import annotations

from lxml import etree

from palimpsest.crawler.discovery import Candidate
from palimpsest.crawler.extract.dates import parse_date
from palimpsest.crawler.extract.urls import is_http_url, join_url

_PARSER = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)
MAX_ENTRIES = 500


class NotAFeed(ValueError):
    """The document is not an RSS or Atom feed."""


def _local(tag: object) -> str:
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def _child_text(element: etree._Element, *names: str) -> str | None:
    for child in element:
        if _local(child.tag) in names and (text := "".join(child.itertext()).strip()):
            return text
    return None


def _atom_link(entry: etree._Element) -> str | None:
    fallback = None
    for child in entry:
        if _local(child.tag) != "link":
            continue
        href = (child.get("href") or "").strip()
        rel = (child.get("rel") or "alternate").strip()
        if href and rel == "alternate":
            return href
        fallback = fallback or href
    return fallback


def parse_feed(body: bytes, base_url: str) -> list[Candidate]:
    """Candidates from a feed, in feed order; raises NotAFeed for anything else."""
    try:
        root = etree.fromstring(body.lstrip(), parser=_PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise NotAFeed(f"not XML: {exc}") from exc
    if root is None or _local(root.tag) not in ("rss", "feed", "rdf"):
        raise NotAFeed("no rss, feed or rdf:RDF root element")
    entries = [e for e in root.iter() if _local(e.tag) in ("item", "entry")][:MAX_ENTRIES]
    candidates: list[Candidate] = []
    seen: set[str] = set()
    for entry in entries:
        link = _child_text(entry, "link") if _local(root.tag) != "feed" else None
        link = link or _atom_link(entry) or _child_text(entry, "guid")
        if not link:
            continue
        url = join_url(base_url, link)
        if url is None or not is_http_url(url) or url in seen:
            continue
        seen.add(url)
        published = _child_text(entry, "pubdate", "published", "date", "issued")
        updated = _child_text(entry, "updated", "modified")
        candidates.append(
            Candidate(
                url=url,
                how="feed",
                title=_child_text(entry, "title"),
                summary=_child_text(entry, "description", "summary", "content"),
                published_at=parse_date(published),
                modified_at=parse_date(updated) or parse_date(published),
            )
        )
    return candidates
