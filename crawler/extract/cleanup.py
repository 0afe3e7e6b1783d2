"""Remove what is not the article, and keep all of what is (pure; no I/O).

Two passes. Before extraction, on the DOM: elements marked up as paywall prompts (vendor
classes such as Piano's ``tp-*``, prompt containers such as ``.paywall-prompt``) and inline
hover cards go; photo captions and the standfirst are set aside; an article body that the
template split into several containers is put back together. Markup alone never removes
prose: a paywall class on the article's own paragraphs (Bloomberg puts ``class="paywall"``
on every body ``<p>`` of a metered story) marks gated text, not junk, so a marked paragraph
of sentences goes only when its wording names it a prompt. The elements a JSON-LD
``hasPart.cssSelector`` names are protected: that selector usually marks the *gated
article body*, not a prompt; inside it, only what the wording names a prompt is removed.
After extraction, on paragraphs: prompts by their wording (in English,
German, French and Spanish), page furniture, byline and dateline lines (they become
metadata), captions and a trailing section label. (Matching prompt wording on the DOM as well
found nothing more on the Scrapinghub benchmark and cost 1.5 ms a page, so wording is matched
once, on paragraphs.)
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from lxml.cssselect import CSSSelector
from lxml.etree import XPath
from lxml.html import HtmlElement

from palimpsest.crawler.extract.dates import parse_date
from palimpsest.crawler.extract.markers import (
    BYLINE_LINE,
    CAPTION_CREDIT,
    DATELINE_LINE,
    FURNITURE,
    HARD_PROMPT,
    INLINE_JUNK_CLASSES,
    MARKUP_HINT,
    METER_PROMPT,
    NEWSLETTER_PROMO,
    PAYWALL_CONTAINER_TOKEN,
    PROMO_CONTAINER_TOKEN,
    PROMPT_KEYWORD,
    REGISTRATION_PROMPT,
    SUBSCRIBE_PROMO,
    VENDOR_TOKEN,
)
from palimpsest.storage.diffing import is_correction_note

_SPACES = re.compile(r"\s+")
# Prompts are short; a block longer than this is article text whatever words it contains.
MAX_PROMPT_WORDS = 60
# A container with this many substantial paragraphs is article body, never a prompt.
BODY_PARAGRAPHS = 3
SUBSTANTIAL_WORDS = 20
# A marked paragraph of at least this many words that ends a sentence is article prose.
PROSE_WORDS = 12
_CAPTION_CLASS = re.compile(r"(?:^|[-_ ])(?:caption|figcaption|photo-?credit|image-?credit|credits?)(?:$|[-_ ])", re.I)
# Standfirsts sit above the body; the dek field holds them (NYT "css-summary", Guardian
# "standfirst", WordPress "entry-summary", Vox "c-entry-summary", Wired "content-header__dek").
_DEK_CLASS = re.compile(
    r"(?:^|[-_])(?:dek|deck|standfirst|summary|sub-?title|sub-?headline|subhed|kicker-summary|excerpt|lede-summary)(?:$|[-_])",
    re.I,
)
# Correction boxes (NYT "correction", Guardian "editors-note", "article-clarification").
_CORRECTION_CLASS = re.compile(r"correction|clarification|editors?[-_]?note", re.I)
_LIST_ITEM = re.compile(r"^[-•*]\s")
_SENTENCE_END = re.compile(r"[.!?:;,\"”’)\]]$")
_PROSE_END = re.compile(r"[.!?…\"”’»)]$")


def collapse(text: str | None) -> str:
    return _SPACES.sub(" ", text or "").strip()


def word_count(text: str) -> int:
    return len(text.split())


def prompt_kind(text: str) -> str | None:
    """Which paywall prompt a short paragraph is: meter, hard, registration; or None."""
    return _prompt_kind(collapse(text))


def _prompt_kind(text: str) -> str | None:
    """``prompt_kind`` of collapsed text (the cleanup collapses each paragraph once)."""
    if not text or word_count(text) > MAX_PROMPT_WORDS:
        return None
    if METER_PROMPT.search(text):
        return "meter"
    if REGISTRATION_PROMPT.search(text):
        return "registration"
    if HARD_PROMPT.search(text):
        return "hard"
    return None


def boilerplate_kind(text: str) -> str | None:
    """prompt:<kind>, promo, newsletter or furniture for a short non-article paragraph."""
    return _boilerplate_kind(collapse(text))


def _boilerplate_kind(text: str) -> str | None:
    """``boilerplate_kind`` of collapsed text."""
    text = text.lstrip("-•* ").strip("*_ ")
    if not text or word_count(text) > MAX_PROMPT_WORDS:
        return None
    return pitch_kind(text) or ("furniture" if FURNITURE.search(text) else None)


def pitch_kind(text: str) -> str | None:
    """prompt:<kind>, promo or newsletter: what the DOM pass removes (collapsed text in)."""
    if not PROMPT_KEYWORD.search(text.lower()) or word_count(text) > MAX_PROMPT_WORDS:
        return None
    if kind := _prompt_kind(text):
        return f"prompt:{kind}"
    if SUBSCRIBE_PROMO.search(text):
        return "promo"
    if NEWSLETTER_PROMO.search(text):
        return "newsletter"
    return None


# --- DOM pass -----------------------------------------------------------------------------------


@dataclass
class DomCleanup:
    removed: list[tuple[str, str]] = field(default_factory=list)  # (kind, text)
    captions: list[str] = field(default_factory=list)
    deks: list[str] = field(default_factory=list)
    # Correction and editor's notes, wherever the template put them: the extractor often
    # drops a box after the body, and an archive must not lose a correction.
    corrections: list[str] = field(default_factory=list)
    merged_containers: int = 0


@lru_cache(maxsize=256)
def _compiled(selector: str) -> CSSSelector | None:
    try:
        return CSSSelector(selector)
    except Exception:  # noqa: BLE001 - cssselect raises its own error types for bad selectors
        return None


def select(tree: HtmlElement, selector: str) -> list[HtmlElement]:
    """Elements matching a CSS selector from the page's own JSON-LD; [] for invalid selectors."""
    compiled = _compiled(selector)
    return compiled(tree) if compiled is not None else []


def _protected(tree: HtmlElement, selectors: Iterable[str]) -> tuple[set[HtmlElement], set[HtmlElement]]:
    """(the hasPart elements and their ancestors: never removed, their descendants: removed
    only when their wording names them)."""
    guarded: set[HtmlElement] = set()
    inside: set[HtmlElement] = set()
    for selector in selectors:
        for element in select(tree, selector):
            inside.update(element.iterdescendants())
            guarded.add(element)
            guarded.update(element.iterancestors())
    return guarded, inside - guarded


def _is_prose(element: HtmlElement, text: str) -> bool:
    """A paragraph of sentences: article text whatever class it carries."""
    return (
        element.tag in ("p", "blockquote", "li")
        and word_count(text) >= PROSE_WORDS
        and bool(_PROSE_END.search(text.rstrip()))
    )


def _looks_like_body(element: HtmlElement) -> bool:
    substantial = 0
    for paragraph in element.iter("p"):
        if word_count(paragraph.text_content()) >= SUBSTANTIAL_WORDS:
            substantial += 1
            if substantial >= BODY_PARAGRAPHS:
                return True
    return False


def _drop(element: HtmlElement) -> None:
    """Remove an element but keep the text that follows it (its tail) in place."""
    if element.getparent() is not None:
        element.drop_tree()


# Unions of plain name tests are the fastest form in libxml2 (measured), despite the traversals.
_CLASS_AND_ID_VALUES = XPath("//@class | //@id")
_CAPTION_ELEMENTS = XPath("//figcaption | //*[@itemprop = 'caption']")
_SPLIT_BODY_CANDIDATES = XPath("//div[@class][count(p) >= 2] | //section[@class][count(p) >= 2]")
_SKIPPED_TAGS = frozenset({"html", "body", "head", "script", "style", "meta", "link"})
# Icons and controls: their class names mention newsletters and paywalls, they hold no prompt.
_NON_CONTENT_TAGS = frozenset({"svg", "symbol", "use", "path", "img", "input", "button", "iframe", "noscript"})


@dataclass
class PageMarkup:
    """Elements whose class or id says what they are, found in one pass over the tree."""

    marked: list[HtmlElement] = field(default_factory=list)  # vendor paywall markup, prompt and promo containers
    paywall_marked: list[HtmlElement] = field(default_factory=list)  # the subset that is evidence of a paywall
    captions: list[HtmlElement] = field(default_factory=list)
    deks: list[HtmlElement] = field(default_factory=list)
    inline_junk: list[HtmlElement] = field(default_factory=list)
    corrections: list[HtmlElement] = field(default_factory=list)


def _hinted_elements(tree: HtmlElement) -> list[HtmlElement]:
    """Elements with a MARKUP_HINT in their class or id: one regex scan over all the values."""
    values = _CLASS_AND_ID_VALUES(tree)
    if not values:
        return []
    starts, position = [], 0
    for value in values:
        starts.append(position)
        position += len(value) + 1
    elements: list[HtmlElement] = []
    last = -1
    for match in MARKUP_HINT.finditer("\n".join(values).lower()):
        index = bisect_right(starts, match.start()) - 1
        if index != last:
            last = index
            element = values[index].getparent()
            if not elements or elements[-1] is not element:
                elements.append(element)
    return elements


def classify_markup(tree: HtmlElement) -> PageMarkup:
    markup = PageMarkup(captions=list(_CAPTION_ELEMENTS(tree)))
    junk_classes = set(INLINE_JUNK_CLASSES)
    for element in _hinted_elements(tree):
        if element.tag in _SKIPPED_TAGS:
            continue
        css_class = element.get("class", "")
        attributes = css_class + " " + element.get("id", "")
        classes = css_class.split()
        if junk_classes.intersection(classes):
            markup.inline_junk.append(element)
        elif element.tag in _NON_CONTENT_TAGS:
            continue
        elif any(VENDOR_TOKEN.match(t) or PAYWALL_CONTAINER_TOKEN.search(t) for t in attributes.split()):
            markup.marked.append(element)
            markup.paywall_marked.append(element)
        elif any(PROMO_CONTAINER_TOKEN.search(t) for t in attributes.split()):
            markup.marked.append(element)
        elif element.tag in ("div", "span", "p", "small", "cite") and any(_CAPTION_CLASS.search(t) for t in classes):
            markup.captions.append(element)
        elif element.tag in ("p", "div", "h2", "h3", "span") and any(_DEK_CLASS.search(t) for t in classes):
            markup.deks.append(element)
        elif element.tag in ("p", "div", "aside", "section") and any(_CORRECTION_CLASS.search(t) for t in classes):
            markup.corrections.append(element)
    return markup


def clean_dom(
    tree: HtmlElement, protected_selectors: Iterable[str] = (), markup: PageMarkup | None = None
) -> DomCleanup:
    """Mutates ``tree``: prompts out, captions and standfirst aside, split bodies merged.

    ``markup``: the page's ``classify_markup``, when the caller already has it.
    """
    markup = markup if markup is not None else classify_markup(tree)
    result = DomCleanup()
    guarded, inside = _protected(tree, protected_selectors)
    handled: set[HtmlElement] = set()

    def take(element: HtmlElement, named: bool = False) -> bool:
        """Claim an element for removal; inside the hasPart region only a named prompt."""
        if element in handled or element.getparent() is None or element in guarded:
            return False
        if element in inside and not named:
            return False
        handled.add(element)
        return True

    for element in markup.inline_junk:
        if take(element):
            _drop(element)

    doomed: list[tuple[HtmlElement, str, str]] = []
    paywall_marked = set(markup.paywall_marked)
    for element in markup.marked:
        pieces = [collapse(piece) for piece in element.itertext()]
        text = " ".join(piece for piece in pieces if piece)
        if word_count(text) > MAX_PROMPT_WORDS * 2 or _looks_like_body(element):
            continue
        # The wording says what kind of prompt it is; the markup alone, what kind of box.
        kind = next((k for k in map(pitch_kind, [text, *pieces]) if k), None)
        if kind is None and _is_prose(element, text):
            continue  # markup alone never removes prose
        if take(element, named=kind is not None):
            doomed.append((element, kind or ("paywall-markup" if element in paywall_marked else "promo"), text))
    doomed_set = {element for element, _kind, _text in doomed}
    for element, kind, text in doomed:
        if any(ancestor in doomed_set for ancestor in element.iterancestors()):
            continue
        if text:
            result.removed.append((kind, text[:300]))
        _drop(element)

    for element in markup.captions:
        text = collapse(element.text_content())
        if text and word_count(text) <= 120 and take(element):
            result.captions.append(text)
            _drop(element)
    for element in markup.corrections:
        text = " ".join(piece for piece in map(collapse, element.itertext()) if piece)
        if text and is_correction_note(text) and word_count(text) <= 200:
            result.corrections.append(text)
    for element in markup.deks:
        text = collapse(element.text_content())
        if text and word_count(text) <= MAX_PROMPT_WORDS and not _looks_like_body(element) and take(element):
            result.deks.append(text)
            _drop(element)

    result.merged_containers = merge_split_bodies(tree)
    return result


def merge_split_bodies(tree: HtmlElement) -> int:
    """Join article bodies that a template split into sibling containers of one class.

    Wired, for one, splits the text into several ``div.article__body`` blocks between ads;
    an extractor that picks the first container loses the rest of the article.
    """
    groups: dict[tuple[str, str], list[HtmlElement]] = defaultdict(list)
    for element in _SPLIT_BODY_CANDIDATES(tree):
        css_class = element.get("class")
        paragraphs = [c for c in element if c.tag == "p" and word_count(c.text_content()) >= 8]
        if len(paragraphs) >= 2:
            groups[(element.tag, css_class)].append(element)
    merged = 0
    for members in groups.values():
        if len(members) < 2:
            continue
        # Into the block holding the most text, where the extractor looks for the body: moving
        # everything into the first block (a narrow layout cell on one page) lost 40% of it.
        target = max(members, key=lambda member: len(member.text_content()))
        position = 0
        for other in members:
            if other is target or target in other.iterancestors() or other in target.iterancestors():
                continue
            before = members.index(other) < members.index(target)  # members are in page order
            for child in list(other):
                if before:
                    target.insert(position, child)
                    position += 1
                else:
                    target.append(child)
            _drop(other)
            merged += 1
    return merged


# --- paragraph pass -----------------------------------------------------------------------------


@dataclass
class ParagraphCleanup:
    kept: list[str]
    removed: list[tuple[str, str]] = field(default_factory=list)  # (kind, text)
    captions: list[str] = field(default_factory=list)
    byline: str | None = None
    dateline: str | None = None


def _may_be_credit(text: str) -> bool:
    """Cheap test before CAPTION_CREDIT: every credit form has one of these."""
    return "/" in text or ":" in text or "etty" in text or "redit" in text


def _is_date_line(text: str) -> bool:
    return bool(DATELINE_LINE.search(text)) or (word_count(text) <= 6 and parse_date(text) is not None)


def _is_section_label(text: str, previous: str, section: str | None, headings: Callable[[], frozenset[str]]) -> bool:
    """A trailing blog or section name ("The Switch"), not a sign-off or a sentence."""
    label = text.strip("*#_ ")
    if section and label.lower() == section.lower():
        return True
    words = label.split()
    return (
        0 < len(words) <= 4
        and all(w[:1].isupper() for w in words)
        and not any(ch.isdigit() or ch in ":©@/" for ch in label)
        and not _SENTENCE_END.search(label)
        and bool(_SENTENCE_END.search(previous))
        and label.lower() in headings()  # last: it walks the tree
    )


def heading_texts(tree: HtmlElement) -> frozenset[str]:
    """Lower-cased texts of the page's headings and links: where section labels live."""
    return frozenset(
        collapse(element.text_content()).lower()
        for element in tree.iter("h2", "h3", "h4", "h5", "h6", "a", "strong")
        if len(element.text_content()) <= 60
    )


def _drop_trailing_link_list(result: ParagraphCleanup) -> None:
    """A run of short, unpunctuated list items ending the text is a related-links list."""
    run = 0
    for text in reversed(result.kept):
        if _LIST_ITEM.match(text) and word_count(text) <= 20 and not _SENTENCE_END.search(text):
            run += 1
        else:
            break
    if run >= 3 and run < len(result.kept):
        for _ in range(run):
            result.removed.insert(0, ("related", result.kept.pop()))


def clean_paragraphs(
    paragraphs: list[str],
    *,
    headline: str | None = None,
    byline: str | None = None,
    section: str | None = None,
    headings: Callable[[], frozenset[str]] = frozenset,
) -> ParagraphCleanup:
    """Split extracted paragraphs into body, removed boilerplate, captions and metadata lines."""
    result = ParagraphCleanup(kept=[])
    headline_key = collapse(headline).lower()
    byline_names = [n.strip().lower() for n in re.split(r",| and ", byline or "") if n.strip()]
    in_related_list = False
    for raw in paragraphs:
        text = collapse(raw)
        words = word_count(text)
        if not text:
            continue
        near_top = len(result.kept) < 2
        if near_top and text.lower() == headline_key:
            result.removed.append(("headline", text))
            continue
        kind = _boilerplate_kind(text)
        if kind is not None:
            result.removed.append((kind, text))
            in_related_list = kind == "furniture" and text.rstrip(":.… ").lower().split()[0:1] != ["comments"]
            continue
        if in_related_list and _LIST_ITEM.match(text) and words <= 30:
            result.removed.append(("related", text))
            continue
        in_related_list = False
        if words <= 60 and _may_be_credit(text) and CAPTION_CREDIT.search(text) and not text.endswith(('"', "”")):
            result.captions.append(text)
            continue
        if (
            near_top
            and words <= 15
            and BYLINE_LINE.match(text)
            and (not byline_names or any(name in text.lower() for name in byline_names) or words <= 8)
        ):
            result.byline = result.byline or re.sub(r"^\S+\s+", "", text)
            result.removed.append(("byline", text))
            continue
        if near_top and words <= 12 and _is_date_line(text):
            result.dateline = result.dateline or text
            result.removed.append(("dateline", text))
            continue
        result.kept.append(text)
    _drop_trailing_link_list(result)
    if len(result.kept) > 1 and _is_section_label(result.kept[-1], result.kept[-2], section, headings):
        result.removed.append(("section-label", result.kept.pop()))
    return result
