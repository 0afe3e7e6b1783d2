"""How long a text is, in words, for every script; and how much text a page shows (pure).

Chinese, Japanese, Korean and Thai are written without spaces between words, so a
whitespace count calls a 2,000-character Chinese article one "word". Such characters are
counted the way ``pagetype.text_weight`` weighs them (a character about a short word), at
one word per two characters: Chinese words average 1.5 to 2 characters.
"""

from __future__ import annotations

from lxml.etree import XPath, tostring
from lxml.html import HtmlElement

from palimpsest.crawler.extract.pagetype import text_weight

# Elements whose text a reader does not see as the page's content.
_SCRIPT_TAGS = ("script", "style", "noscript", "template")
_UNSEEN_TAGS = ("nav", "header", "footer", "aside", "form", "select", "button")
_SPACES = (" ", "\n", "\t", "\r", "\xa0")
_PARAGRAPH_TEXT = XPath("//p//text()")


def word_count(text: str) -> int:
    """Whitespace-separated words; a run of unspaced script counts one word per two characters."""
    words = text.split()
    if text.isascii():
        return len(words)
    collapsed = " ".join(words)
    if text_weight(collapsed) == len(collapsed):  # no unspaced script (accents, quotes, dashes...)
        return len(words)
    spaced = wide = 0
    for token in words:
        # text_weight counts each character of an unspaced script three times.
        extra = 0 if token.isascii() else (text_weight(token) - len(token)) // 2
        if extra:
            wide += extra
        else:
            spaced += 1
    return spaced + (wide + 1) // 2


def paragraph_words(tree: HtmlElement) -> int:
    """Words in the page's ``<p>`` elements: the prose it shows, wherever it sits."""
    return word_count(" ".join(_PARAGRAPH_TEXT(tree)))


def printed_characters(text: str) -> int:
    """Characters other than whitespace: a length that markup indentation does not inflate."""
    return len(text) - sum(text.count(space) for space in _SPACES)


def _text(element: HtmlElement) -> str:
    return tostring(element, method="text", encoding=str, with_tail=False)


def _body(tree: HtmlElement) -> HtmlElement:
    body = tree.find("body")
    return body if body is not None else tree


def body_characters(tree: HtmlElement) -> int:
    """Printed characters of the whole body, scripts and menus included: a cheap upper bound."""
    return printed_characters(_text(_body(tree)))


def visible_characters(tree: HtmlElement) -> int:
    """Printed characters of the page's body outside scripts, navigation, header, footer,
    asides and forms: what a reader sees as the page's content. (Characters, not words: a
    word count of the whole page cost 4 ms a page, this 0.7 ms.)"""
    root = _body(tree)
    total = printed_characters(_text(root))
    for script in root.iter(*_SCRIPT_TAGS):
        total -= printed_characters(script.text or "")
    unseen: set[HtmlElement] = set()
    for element in root.iter(*_UNSEEN_TAGS):
        if not any(ancestor in unseen for ancestor in element.iterancestors()):
            unseen.add(element)
            total -= printed_characters(_text(element))
    return max(total, 0)


def paragraph_characters(tree: HtmlElement) -> int:
    """Printed characters in the page's ``<p>`` elements, wherever they sit."""
    return printed_characters("".join(_PARAGRAPH_TEXT(tree)))
