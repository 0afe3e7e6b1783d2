"""Extraction: pure functions from (url, raw bytes, headers) to an article. No Scrapy, no I/O.

The page is decoded and parsed once; metadata, the body text and (later stages) the paywall
verdict all read the same tree. Results are plain picklable values, so extraction can run in
a worker process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from palimpsest.crawler.extract.cleanup import classify_markup, clean_dom, clean_paragraphs, heading_texts
from palimpsest.crawler.extract.dates import parse_date
from palimpsest.crawler.extract.decode import NotHTMLError, decode_html, parse_html
from palimpsest.crawler.extract.length import paragraph_words, word_count
from palimpsest.crawler.extract.links import in_text_links
from palimpsest.crawler.extract.metadata import DateValue, format_byline, read_metadata
from palimpsest.crawler.extract.pagetype import declared_types, judge_page
from palimpsest.crawler.extract.paywall import TEASER_WORDS, PaywallVerdict, decide, read_signals
from palimpsest.crawler.extract.text import TRAFILATURA_VERSION, extract_paragraphs
from palimpsest.crawler.extract.urls import is_http_url

# Fewer words than this is a page without an article (a nav menu, an error stub), not a text.
# Counted for every script: 20 characters of Chinese are 10 words (length.word_count).
MIN_ARTICLE_WORDS = 10
# Bump when a change to extraction can change stored text: versions record who made them.
EXTRACTOR_VERSION = "3"
EXTRACTOR = f"palimpsest/{EXTRACTOR_VERSION} trafilatura/{TRAFILATURA_VERSION}"

_BINARY_SIGNATURES = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PK\x03\x04": "a ZIP archive",
    b"\x1f\x8b": "gzip-compressed data",
}


class ExtractionError(ValueError):
    """The page holds no article we can read (not HTML, empty, no main text)."""


@dataclass(frozen=True)
class Extraction:
    """What one capture of an article page says."""

    url: str
    headline: str | None
    dek: str | None
    byline: str | None
    published: DateValue | None
    modified: DateValue | None
    language: str | None
    text: str  # paragraphs separated by a blank line
    captions: str | None
    canonical_url: str | None
    og_url: str | None
    amp_url: str | None
    site_name: str | None
    based_on_url: str | None
    access: str = "unknown"
    complete: bool = True
    evidence: tuple[dict[str, str], ...] = ()
    # What cleanup took out of the page, (kind, text): prompts, furniture, byline lines...
    removed: tuple[tuple[str, str], ...] = ()
    # Links the article makes in its own paragraphs (story discovery follows them one hop).
    links: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    extractor: str = EXTRACTOR
    # Article or index page (front, section, tag, listing...), and why (crawler.extract.pagetype).
    page_type: str = "article"
    page_kind: str | None = None
    page_reason: str = "article"
    page_evidence: tuple[dict[str, str], ...] = ()

    @property
    def word_count(self) -> int:
        """Words, counting scripts written without spaces by their characters (see length.py)."""
        return word_count(self.text)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: dates as ISO 8601 strings."""
        data = asdict(self)
        for key in ("published", "modified"):
            value = data[key]
            if value is not None and value["utc"] is not None:
                value["utc"] = value["utc"].isoformat()
        data["word_count"] = self.word_count
        data["evidence"] = [dict(item) for item in self.evidence]
        data["removed"] = [{"kind": kind, "text": text} for kind, text in self.removed]
        data["notes"] = list(self.notes)
        data["links"] = list(self.links)
        data["page_evidence"] = [dict(item) for item in self.page_evidence]
        return data


def _content_type(headers: Mapping[str, str] | None) -> str | None:
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == "content-type":
            return value
    return None


def sniff_binary(body: bytes) -> str | None:
    """What a non-HTML payload is, from its first bytes; None when it may be HTML."""
    head = body[:8]
    for signature, what in _BINARY_SIGNATURES.items():
        if head.startswith(signature):
            return what
    return None


def extract_article(url: str, body: bytes, headers: Mapping[str, str] | None = None) -> Extraction:
    """Read an article page. Raises ExtractionError when there is no article to read."""
    if binary := sniff_binary(body):
        raise ExtractionError(f"not an HTML page: {binary}")
    decoded = decode_html(body, _content_type(headers))
    try:
        tree = parse_html(decoded.text)
    except NotHTMLError as exc:
        raise ExtractionError(str(exc)) from exc
    metadata = read_metadata(tree, url)
    links = tuple(in_text_links(tree, url))
    declared = declared_types(tree)  # before cleanup removes the scripts
    markup = classify_markup(tree)
    signals = read_signals(tree, metadata, markup.paywall_marked)  # before cleanup changes the tree
    dom = clean_dom(tree, signals.gated_selectors, markup)
    body = extract_paragraphs(tree, url, signals.declared_words)

    def clean(paragraphs: list[str]):
        return clean_paragraphs(
            paragraphs,
            headline=metadata.headline,
            byline=metadata.byline,
            section=metadata.section,
            headings=lambda: heading_texts(tree),
        )

    cleaned = clean(body.paragraphs)
    kept = cleaned.kept + [note for note in dom.corrections if not _already_in(note, cleaned.kept)]
    text = "\n\n".join(kept)
    words = word_count(text)
    if words < MIN_ARTICLE_WORDS:
        raise ExtractionError("no article text found")
    removed = tuple(dom.removed) + tuple(cleaned.removed)
    shown = paragraph_words(tree) if words < TEASER_WORDS else None
    verdict = decide(signals, words, removed, shown)
    published = metadata.published
    # Last: measuring the page's structure strips its furniture from the tree.
    page = judge_page(
        tree,
        url if is_http_url(url) else (metadata.canonical_url or metadata.og_url or url),
        declared=declared,
        headline=metadata.headline,
        published=published is not None or bool(cleaned.dateline),
        byline=bool(metadata.byline or cleaned.byline),
        # The fast pass's text when the full comparison replaced it: on an index page the full
        # comparison gathers the listing's teasers into long "paragraphs" (WCXB: 91.0% of index
        # pages turned down this way, 89.9% judging the full text; articles kept 97.5%, 97.7%).
        paragraphs=cleaned.kept if body.fast_paragraphs is None else clean(body.fast_paragraphs).kept,
    )
    if published is None and cleaned.dateline:
        published = DateValue(raw=cleaned.dateline, utc=parse_date(cleaned.dateline), source="dateline")
    return Extraction(
        url=url,
        headline=metadata.headline,
        dek=dom.deks[0] if dom.deks else metadata.dek,
        byline=metadata.byline or format_byline([cleaned.byline or ""]),
        published=published,
        modified=metadata.modified,
        language=metadata.language,
        text=text,
        captions="\n\n".join(dict.fromkeys(dom.captions + cleaned.captions)) or None,
        canonical_url=metadata.canonical_url,
        og_url=metadata.og_url,
        amp_url=metadata.amp_url,
        site_name=metadata.site_name,
        based_on_url=metadata.based_on_url,
        access=verdict.access,
        complete=verdict.complete,
        evidence=verdict.evidence,
        removed=removed,
        links=links,
        notes=(decoded.note,) if decoded.note else (),
        page_type=page.page_type,
        page_kind=page.kind,
        page_reason=page.reason,
        page_evidence=page.evidence,
    )


def _already_in(note: str, paragraphs: list[str]) -> bool:
    key = " ".join(note.split()).lower()
    return any(key in " ".join(p.split()).lower() for p in paragraphs)


def paywall_verdict(url: str, body: bytes, headers: Mapping[str, str] | None = None) -> PaywallVerdict:
    """The paywall verdict alone, for a page whether or not it holds readable text."""
    try:
        extraction = extract_article(url, body, headers)
    except ExtractionError:
        try:
            tree = parse_html(decode_html(body, _content_type(headers)).text)
        except NotHTMLError:
            return PaywallVerdict(access="unknown", complete=False)
        metadata = read_metadata(tree, url)
        signals = read_signals(tree, metadata)
        dom = clean_dom(tree, signals.gated_selectors)
        return decide(signals, 0, dom.removed)
    return PaywallVerdict(extraction.access, extraction.complete, extraction.evidence)


__all__ = ["Extraction", "ExtractionError", "extract_article", "paywall_verdict", "EXTRACTOR", "sniff_binary"]
