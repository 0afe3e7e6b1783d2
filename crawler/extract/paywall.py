"""The paywall verdict: how much of the article an anonymous reader was served, and why we think so.

``access``: ``free`` (no gating signal, or declared free), ``metered`` (declared gated or a
meter prompt, but the full text was served), ``registration`` (a registration wall cut the
text), ``hard`` (a subscription wall: only a teaser was served), ``unknown`` (signals that
contradict or cannot be read). ``complete``: the stored text is the whole article as far as
the evidence tells (declared length, the gated part's presence, a wall prompt). Every
conclusion comes with its evidence, so a reader of the archive can check it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml.etree import XPath
from lxml.html import HtmlElement

from palimpsest.crawler.extract.cleanup import classify_markup, select, word_count
from palimpsest.crawler.extract.markers import (
    CONTENT_TIER_FREE,
    CONTENT_TIER_GATED,
    PAYWALL_CONTAINER_TOKEN,
    VENDOR_DATA_ATTRIBUTES,
    VENDOR_SCRIPT_HOST,
    VENDOR_TOKEN,
)
from palimpsest.crawler.extract.metadata import PageMetadata

ACCESS_LEVELS = ("free", "metered", "registration", "hard", "unknown")
# Served text below this share of the declared length is a teaser, not the article.
TEASER_RATIO = 0.6
# Below this share the text is incomplete, even when not a teaser.
COMPLETE_RATIO = 0.8
# A gated part with fewer words than this was not really served.
GATED_PART_SERVED_WORDS = 40
# A wall prompt, or a declared gated part missing from the page, over a text this short
# means the text stops at the wall. (Sites often mark the gated part client-side, so a
# missing part alone, over a long text, says nothing.)
TEASER_WORDS = 400
# A text this short holding under this share of the words the page shows in paragraphs is
# not the whole article, declared or not (a 26-word "article" from a 2,000-word page).
SHOWN_RATIO = 0.25

_VENDORS = (
    ("tp-", "Piano/Tinypass"),
    ("piano", "Piano"),
    ("tinypass", "Piano/Tinypass"),
    ("poool", "poool"),
    ("steady", "Steady"),
    ("laterpay", "LaterPay"),
    ("lp_", "LaterPay"),
)


@dataclass(frozen=True)
class PaywallVerdict:
    access: str = "free"
    complete: bool = True
    evidence: tuple[dict[str, str], ...] = ()


@dataclass
class PaywallSignals:
    """What the page says about gating, read from the raw tree before any cleanup."""

    declared_free: bool | None = None
    declared_free_raw: str | None = None
    gated_selectors: list[str] = field(default_factory=list)
    gated_words_served: int | None = None
    content_tier: str | None = None
    vendors: list[str] = field(default_factory=list)
    declared_words: int | None = None
    declared_words_source: str | None = None


def parse_accessible_for_free(value: Any) -> bool | None:
    """JSON-LD isAccessibleForFree: booleans, "True"/"False", "yes"/"no", 1/0."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "yes", "1", "https://schema.org/true", "http://schema.org/true"):
            return True
        if lowered in ("false", "no", "0", "https://schema.org/false", "http://schema.org/false"):
            return False
    return None


def _parts(article: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    parts = article.get("hasPart")
    if isinstance(parts, Mapping):
        parts = [parts]
    if isinstance(parts, list):
        yield from (p for p in parts if isinstance(p, Mapping))


def gated_selectors(article: Mapping[str, Any]) -> list[str]:
    """CSS selectors of the parts JSON-LD marks as not free (the gated body, usually)."""
    selectors: list[str] = []
    for part in _parts(article):
        if parse_accessible_for_free(part.get("isAccessibleForFree")) is False:
            value = part.get("cssSelector")
            for selector in [value] if isinstance(value, str) else value if isinstance(value, list) else []:
                if isinstance(selector, str) and selector.strip():
                    selectors.append(selector.strip())
    return selectors


_SCRIPTS = XPath("//script[@src]")
_DATA_ATTRIBUTES = XPath("//*[" + " or ".join(f"@{attribute}" for attribute in VENDOR_DATA_ATTRIBUTES) + "]")


def _vendor_markup(tree: HtmlElement, marked: list[HtmlElement]) -> list[str]:
    found: dict[str, str] = {}
    for script in _SCRIPTS(tree):
        if match := VENDOR_SCRIPT_HOST.search(script.get("src", "")):
            found.setdefault(match.group(0).lower(), f"script {script.get('src')[:80]}")
    for element in marked[:20]:
        for token in (element.get("class", "") + " " + element.get("id", "")).split():
            if VENDOR_TOKEN.match(token) or PAYWALL_CONTAINER_TOKEN.search(token):
                name = next((n for prefix, n in _VENDORS if token.lower().startswith(prefix)), "paywall markup")
                found.setdefault(name, f"{element.tag}.{token}")
    for element in _DATA_ATTRIBUTES(tree)[:20]:
        for attribute in VENDOR_DATA_ATTRIBUTES:
            if element.get(attribute) not in (None, "", "false", "0"):
                found.setdefault(attribute, f"{element.tag}[{attribute}={element.get(attribute)!r}]")
    return [f"{name}: {detail}" for name, detail in list(found.items())[:6]]


def _describe_json_value(value: Any) -> str | None:
    """How the page wrote a JSON-LD value: false, "False" (a string), 0."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}" (a string)'
    return str(value)


def read_signals(tree: HtmlElement, metadata: PageMetadata, marked: list[HtmlElement] | None = None) -> PaywallSignals:
    """What the page says about gating. ``marked``: its vendor/prompt markup, if already known."""
    article = metadata.article_jsonld
    signals = PaywallSignals()
    raw = article.get("isAccessibleForFree")
    signals.declared_free = parse_accessible_for_free(raw)
    signals.declared_free_raw = _describe_json_value(raw)
    signals.gated_selectors = gated_selectors(article)
    if signals.gated_selectors:
        signals.gated_words_served = sum(
            word_count(" ".join(element.itertext()))
            for selector in signals.gated_selectors
            for element in select(tree, selector)
        )
    signals.content_tier = (metadata.content_tier or "").lower() or None
    signals.vendors = _vendor_markup(tree, marked if marked is not None else classify_markup(tree).paywall_marked)
    word_value = article.get("wordCount")
    body_value = article.get("articleBody")
    if isinstance(word_value, (int, str)) and str(word_value).strip().isdigit() and int(word_value) > 0:
        signals.declared_words, signals.declared_words_source = int(word_value), "wordCount"
    elif isinstance(body_value, str) and word_count(body_value) >= 50:
        signals.declared_words, signals.declared_words_source = word_count(body_value), "articleBody"
    return signals


def decide(
    signals: PaywallSignals,
    extracted_words: int,
    prompts: Iterable[tuple[str, str]],
    shown_words: int | None = None,
) -> PaywallVerdict:
    """The verdict from the page's signals, the extracted length and the prompts removed.

    ``shown_words``: the words the page shows in paragraphs, when the text is short enough
    for it to matter (under ``TEASER_WORDS``).
    """
    evidence: list[dict[str, str]] = []
    prompt_kinds: dict[str, str] = {}
    for kind, text in prompts:
        if kind.startswith("prompt:"):
            prompt_kinds.setdefault(kind.split(":", 1)[1], text)
    if signals.declared_free is not None:
        evidence.append({"signal": "json-ld:isAccessibleForFree", "detail": f"{signals.declared_free_raw}"})
    for selector in signals.gated_selectors:
        evidence.append(
            {"signal": "json-ld:hasPart", "detail": f"{selector} (not free): {signals.gated_words_served} words served"}
        )
    if signals.content_tier:
        evidence.append({"signal": "meta:article:content_tier", "detail": signals.content_tier})
    for vendor in signals.vendors:
        evidence.append({"signal": "vendor-markup", "detail": vendor})
    for kind, text in prompt_kinds.items():
        evidence.append({"signal": f"prompt:{kind}", "detail": text[:200]})

    ratio = None
    if signals.declared_words:
        ratio = extracted_words / signals.declared_words
        evidence.append(
            {
                "signal": "length",
                "detail": f"{extracted_words} of {signals.declared_words} words declared in "
                f"{signals.declared_words_source} ({ratio:.0%})",
            }
        )

    declared_gated = (
        signals.declared_free is False
        or bool(signals.gated_selectors)
        or (signals.content_tier in CONTENT_TIER_GATED if signals.content_tier else False)
    )
    gated_part_missing = bool(signals.gated_selectors) and (signals.gated_words_served or 0) < GATED_PART_SERVED_WORDS
    wall_prompt = "hard" in prompt_kinds or "registration" in prompt_kinds
    teaser = (ratio is not None and ratio < TEASER_RATIO) or (
        ratio is None and (gated_part_missing or wall_prompt) and extracted_words < TEASER_WORDS
    )
    if teaser and "registration" in prompt_kinds:
        access = "registration"
    elif teaser and (declared_gated or wall_prompt):
        access = "hard"
    elif "meter" in prompt_kinds or declared_gated or wall_prompt:
        access = "metered"
    elif signals.declared_free is True or (
        signals.content_tier in CONTENT_TIER_FREE if signals.content_tier else False
    ):
        access = "free"
    elif signals.vendors:
        access = "unknown"  # paywall software on the page, but nothing says this article is gated
    elif teaser:
        access = "unknown"  # shorter than declared, with no gating signal: maybe an extraction problem
    else:
        access = "free"
    shown_short = (
        shown_words is not None and extracted_words < TEASER_WORDS and extracted_words < SHOWN_RATIO * shown_words
    )
    if shown_short:
        evidence.append(
            {
                "signal": "length",
                "detail": f"{extracted_words} of {shown_words} words the page shows in paragraphs "
                f"({extracted_words / shown_words:.0%})",
            }
        )
    complete = not teaser and not shown_short and (ratio is None or ratio >= COMPLETE_RATIO)
    return PaywallVerdict(access=access, complete=complete, evidence=tuple(evidence))
