"""The article body, via trafilatura, as a list of paragraphs.

trafilatura gets the already-parsed tree (the page is parsed once for everything), without
comments, and without its own metadata pass: metadata comes from ``metadata.py``, which is
cheaper and keeps the source of every value.

Two passes, the second only when the first looks short for the page. The first is
trafilatura's fast path (``fast=True``, ``favor_recall=True``): no second opinion from
readability/jusText. On pages where its main algorithm finds one block of a long article it
keeps a fraction of the text (105 of 2,277 words on one page), so when its result holds
less than ``SHORT_OF_VISIBLE`` of the text the page shows outside navigation, less than
``SHORT_OF_PARAGRAPHS`` of the text in its ``<p>`` elements, or less than
``SHORT_OF_DECLARED`` of the length its JSON-LD declares, the page pays for the full
comparison (``fast=False``): about 3% of the pages of the Scrapinghub and WCXB sets (see
``benchmarks/extraction_bench.py``). ``favor_recall`` on the fast path scored higher on both
sets (WCXB F1 0.928 against 0.918, Scrapinghub 0.973 against 0.972) and costs less.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import trafilatura
from lxml.html import HtmlElement

from palimpsest.crawler.extract.length import (
    body_characters,
    paragraph_characters,
    printed_characters,
    visible_characters,
    word_count,
)

TRAFILATURA_VERSION = trafilatura.__version__
# The fast result looks short below these shares of what the page shows (measured; see above).
SHORT_OF_VISIBLE = 0.2
SHORT_OF_PARAGRAPHS = 0.2
SHORT_OF_DECLARED = 0.2
# A fast result below this many words is always checked by the full comparison.
MIN_FAST_WORDS = 10

# trafilatura logs every discarded page at WARNING; a short page is an outcome here, not news.
logging.getLogger("trafilatura").setLevel(logging.ERROR)


def _run(tree: HtmlElement, url: str | None, *, fast: bool) -> list[str]:
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        include_comments=False,
        output_format="python",
        with_metadata=False,
        fast=fast,
        favor_recall=fast,
    )
    if document is None or not document.text:
        return []
    return [line.strip() for line in document.text.split("\n") if line.strip()]


def looks_short(tree: HtmlElement, paragraphs: list[str], declared: int | None = None) -> bool:
    """Whether a fast result is short for what the page shows (in printed characters) or
    declares (in words)."""
    text = "\n".join(paragraphs)
    least_words = max(MIN_FAST_WORDS, SHORT_OF_DECLARED * (declared or 0))
    # Whitespace words first: the script-aware count is needed only for unspaced scripts.
    if len(text.split()) < least_words and word_count(text) < least_words:
        return True
    # The whole body bounds both measures from above: most pages are cleared by it alone.
    characters = printed_characters(text)
    if characters >= max(SHORT_OF_VISIBLE, SHORT_OF_PARAGRAPHS) * body_characters(tree):
        return False
    return characters < SHORT_OF_VISIBLE * visible_characters(tree) or (
        characters < SHORT_OF_PARAGRAPHS * paragraph_characters(tree)
    )


class BodyText(NamedTuple):
    """The body paragraphs, and the fast pass's own when the full comparison replaced them."""

    paragraphs: list[str]
    fast_paragraphs: list[str] | None = None


def extract_paragraphs(tree: HtmlElement, url: str | None, declared: int | None = None) -> BodyText:
    """Body paragraphs in page order ([] when trafilatura finds no main text).

    ``declared``: the article's length in words as its JSON-LD declares it, if it does.
    """
    first = _run(tree, url, fast=True)
    if looks_short(tree, first, declared):
        return BodyText(_run(tree, url, fast=False) or first, first)
    return BodyText(first)
