"""The article body, via trafilatura, as a list of paragraphs.

trafilatura gets the already-parsed tree (the page is parsed once for everything), without
comments, and without its own metadata pass: metadata comes from ``metadata.py``, which is
cheaper and keeps the source of every value. ``fast=True`` skips trafilatura's second opinion
from readability/jusText: after our cleanup (prompts out, split bodies merged) the fast path
scores higher on the Scrapinghub benchmark (F1 0.972 against 0.970) and costs a fifth less.
"""

from __future__ import annotations

import logging

import trafilatura
from lxml.html import HtmlElement

TRAFILATURA_VERSION = trafilatura.__version__

# trafilatura logs every discarded page at WARNING; a short page is an outcome here, not news.
logging.getLogger("trafilatura").setLevel(logging.ERROR)


def extract_paragraphs(tree: HtmlElement, url: str | None) -> list[str]:
    """Body paragraphs in page order; [] when trafilatura finds no main text."""
    document = trafilatura.bare_extraction(
        tree, url=url, include_comments=False, output_format="python", with_metadata=False, fast=True
    )
    if document is None or not document.text:
        return []
    return [line.strip() for line in document.text.split("\n") if line.strip()]
