"""Atom 1.0 change feeds (pure): one entry per classified change, headline rewrites first.

Built with ElementTree, never by pasting strings: archived text becomes XML character data,
escaped by the serializer. Entry content is HTML (``type="html"``) whose every value was
HTML-escaped first, so a reader shows ``<script>`` as text. Characters XML 1.0 forbids (most
C0 controls) are replaced, since a feed with one of them is not XML at all.
"""

from __future__ import annotations

import hashlib
import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from palimpsest.storage.revisions import ab_title

ATOM_NS = "http://www.w3.org/2005/Atom"
TAG_PREFIX = "tag:palimpsest,2026:"
_NOT_XML_RE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
KIND_PHRASES = {
    "dek": "Dek changed",
    "byline": "Byline changed",
    "lede": "Lede changed",
    "body": "Body changed",
    "correction": "Correction added",
    "minor": "Minor edit",
    "access": "Access changed",
    "extraction": "Text lost (extraction)",
}


@dataclass(frozen=True)
class FeedEntry:
    """A row of ``storage.browse.changes_page`` and where its pages are."""

    row: dict[str, Any]
    diff_url: str
    article_page: str


def xml_text(value: str | None) -> str:
    return _NOT_XML_RE.sub("\ufffd", value or "")


def entry_title(row: dict[str, Any]) -> str:
    """ "Headline changed: «old» → «new»", else "Body changed: <headline>" and the like."""
    kinds = list(row["change_kinds"])
    if "headline" in kinds:
        return f"Headline changed: «{row['previous_headline'] or ''}» → «{row['headline'] or ''}»"
    first, rest = kinds[0], kinds[1:]
    phrase = KIND_PHRASES.get(first, f"{first.capitalize()} changed")
    if rest:
        phrase += f" (+{', '.join(rest)})"
    return f"{phrase}: {row['headline'] or '(no headline)'}"


def entry_id(row: dict[str, Any]) -> str:
    """Stable across servers and databases: the article's canonical URL and the version number."""
    digest = hashlib.sha1(row["url"].encode(), usedforsecurity=False).hexdigest()[:20]
    return f"{TAG_PREFIX}articles/{digest}/v{row['seq']}"


def entry_content(entry: FeedEntry) -> str:
    """The entry's HTML, every archived value escaped."""
    row = entry.row
    esc = html.escape
    outlet = row["outlet_name"] or row["outlet"]
    similarity = f" · similarity {row['similarity']:.2f}" if row["similarity"] is not None else ""
    parts = [
        f"<p>{esc(outlet)} · v{row['seq'] - 1} → v{row['seq']} · {esc(', '.join(row['change_kinds']))}{similarity}</p>"
    ]
    if "headline" in row["change_kinds"]:
        old, new = esc(row["previous_headline"] or ""), esc(row["headline"] or "")
        parts.append(f"<p>Headline: <del>{old}</del> → <ins>{new}</ins></p>")
    else:
        parts.append(f"<p>{esc(row['headline'] or '(no headline)')}</p>")
    if row["byline"]:
        parts.append(f"<p>{esc(row['byline'])}</p>")
    if "access" in row["change_kinds"]:
        parts.append(f"<p>Access: {esc(row['previous_access'] or '?')} → {esc(row['access'])}</p>")
    links = [
        f'<a href="{esc(entry.diff_url)}">What changed</a>',
        f'<a href="{esc(entry.article_page)}">All versions</a>',
    ]
    if urlsplit(row["url"]).scheme.lower() in ("http", "https"):
        links.append(f'<a href="{esc(row["url"])}" rel="noopener noreferrer nofollow">Original</a>')
    parts.append(f"<p>{' · '.join(links)}</p>")
    return "\n".join(parts)


@dataclass(frozen=True)
class ABTestEntry:
    """An article A/B-testing its headlines: one entry for all its flips (storage.revision_rows.ab_tests)."""

    test: dict[str, Any]
    article_page: str


def ab_entry_id(test: dict[str, Any]) -> str:
    digest = hashlib.sha1(test["url"].encode(), usedforsecurity=False).hexdigest()[:20]
    return f"{TAG_PREFIX}articles/{digest}/ab-test"


def ab_entry_content(entry: ABTestEntry) -> str:
    test, esc = entry.test, html.escape
    outlet = test["outlet_name"] or test["outlet"]
    parts = [f"<p>{esc(outlet)} · {test['reverts']} reverts between {len(test['variants'])} versions</p>"]
    parts += [f"<p>v{v['seq']}: {esc(v['headline'] or '(no headline)')}</p>" for v in test["variants"]]
    parts.append(f'<p><a href="{esc(entry.article_page)}">All versions</a></p>')
    return "\n".join(parts)


def _element(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attributes.items()})
    if text is not None:
        element.text = xml_text(text)
    return element


def _timestamp(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def build_feed(
    *,
    feed_id: str,
    title: str,
    self_url: str,
    alternate_url: str,
    first_url: str,
    next_url: str | None,
    previous_url: str | None,
    updated: datetime,
    entries: list[FeedEntry],
    ab_tests: list[ABTestEntry] | None = None,
) -> bytes:
    """One Atom document (a page of a paged feed, RFC 5005: rel next = older entries)."""
    # Unqualified names under a literal default namespace: ElementTree's default_namespace option
    # refuses the unqualified attribute names Atom uses (rel, href, type, term).
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _element(feed, "id", feed_id)
    _element(feed, "title", title)
    _element(feed, "updated", _timestamp(updated))
    author = _element(feed, "author")
    _element(author, "name", "palimpsest")
    _element(feed, "generator", "palimpsest")
    _element(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _element(feed, "link", rel="alternate", type="text/html", href=alternate_url)
    _element(feed, "link", rel="first", type="application/atom+xml", href=first_url)
    if previous_url:
        _element(feed, "link", rel="previous", type="application/atom+xml", href=previous_url)
    if next_url:
        _element(feed, "link", rel="next", type="application/atom+xml", href=next_url)
    for ab in ab_tests or []:
        test = ab.test
        item = _element(feed, "entry")
        _element(item, "id", ab_entry_id(test))
        _element(item, "title", ab_title(v["headline"] for v in test["variants"]), type="text")
        _element(item, "updated", _timestamp(test["last_flip_at"]))
        _element(item, "published", _timestamp(test["first_flip_at"]))
        entry_author = _element(item, "author")
        _element(entry_author, "name", test["outlet_name"] or test["outlet"])
        _element(item, "link", rel="alternate", type="text/html", href=ab.article_page)
        _element(item, "category", term="ab_test")
        _element(item, "content", ab_entry_content(ab), type="html")
    for entry in entries:
        row = entry.row
        item = _element(feed, "entry")
        _element(item, "id", entry_id(row))
        _element(item, "title", entry_title(row), type="text")
        _element(item, "updated", _timestamp(row["first_seen_at"]))
        _element(item, "published", _timestamp(row["first_seen_at"]))
        entry_author = _element(item, "author")
        _element(entry_author, "name", row["outlet_name"] or row["outlet"])
        _element(item, "link", rel="alternate", type="text/html", href=entry.diff_url)
        if urlsplit(row["url"]).scheme.lower() in ("http", "https"):
            _element(item, "link", rel="related", type="text/html", href=row["url"])
        for kind in row["change_kinds"]:
            _element(item, "category", term=kind)
        _element(item, "content", entry_content(entry), type="html")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
