"""How long a text is, in words, for every script; and how much text a page shows (pure).

Chinese, Japanese, Korean and Thai are written without spaces between words, so a
whitespace count calls a 2,000-character Chinese article one "word". Such characters are
counted the way ``pagetype.text_weight`` weighs them (a character about a short word), at
one word per two characters: Chinese words average 1.5 to 2 characters.
"""

from __future__ import annotations

from lxml.html import HtmlElement

from palimpsest.crawler.extract.pagetype import text_weight

# Elements whose text a reader does not see as the page's content.
_UNSEEN_TAGS = (
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "select", "button",
)  # fmt: skip


def word_count(text: str) -> int:
    """Whitespace-separated words; a run of unspaced script counts one word per two characters."""
    words = text.split()
    if text.isascii():
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
    return sum(word_count(paragraph.text_content()) for paragraph in tree.iter("p"))


def _body(tree: HtmlElement) -> HtmlElement:
    body = tree.find(".//body")
    return body if body is not None else tree


def body_words(tree: HtmlElement) -> int:
    """Words of the page's whole body, scripts and menus included: a cheap upper bound."""
    return word_count(" ".join(_body(tree).itertext()))


def visible_words(tree: HtmlElement) -> int:
    """Words of the page's body outside scripts, navigation, header, footer, asides and forms."""
    root = _body(tree)
    total = word_count(" ".join(root.itertext()))
    unseen = set()
    for element in root.iter(*_UNSEEN_TAGS):
        if not any(ancestor in unseen for ancestor in element.iterancestors()):
            unseen.add(element)
            total -= word_count(" ".join(element.itertext()))
    return max(total, 0)
