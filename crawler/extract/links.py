"""Links an article makes in its own text: coverage citing other coverage.

Only anchors inside paragraphs of real sentences count (at least ``MIN_PARAGRAPH_WORDS``
words: navigation, bylines, prompts and "most read" boxes are not the article speaking), and
only http(s) links that are neither the page itself nor a site's home page.
"""

from __future__ import annotations

from urllib.parse import urldefrag, urlsplit

from lxml.html import HtmlElement

from palimpsest.crawler.extract.urls import BadURLError, join_url, normalise_url

MAX_LINKS = 50
MIN_PARAGRAPH_WORDS = 12


def in_text_links(tree: HtmlElement, page_url: str) -> list[str]:
    """Absolute URLs of links inside the page's paragraphs, in order, without duplicates."""
    try:
        own = normalise_url(page_url)
    except BadURLError:
        own = page_url
    links: list[str] = []
    for paragraph in tree.xpath("//p[.//a[@href]]"):
        if len(paragraph.text_content().split()) < MIN_PARAGRAPH_WORDS:
            continue
        for anchor in paragraph.xpath(".//a[@href]"):
            joined = join_url(page_url, anchor.get("href"))
            if joined is None:
                continue
            href = urldefrag(joined).url
            try:
                normalised = normalise_url(href)
            except BadURLError:
                continue
            if normalised == own or href in links or urlsplit(normalised).path in ("", "/"):
                continue
            links.append(href)
            if len(links) >= MAX_LINKS:
                return links
    return links
