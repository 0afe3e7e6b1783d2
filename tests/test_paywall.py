"""The paywall verdict: access, completeness and evidence from the page's own signals."""

from __future__ import annotations

import json

import pytest

from palimpsest.crawler.extract import extract_article, paywall_verdict
from palimpsest.crawler.extract.paywall import parse_accessible_for_free

PARAGRAPHS = [
    f"Paragraph {i} of the council story explains the vote, the budget and what residents said at the hearing."
    for i in range(12)
]  # 12 x 18 = 216 words


def page(*, jsonld=None, head="", body_html=None, paragraphs=PARAGRAPHS) -> bytes:
    script = f'<script type="application/ld+json">{json.dumps(jsonld)}</script>' if jsonld else ""
    body = body_html if body_html is not None else "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="en"><head><title>Council vote</title>{script}{head}</head>'
        f"<body><article>{body}</article></body></html>"
    ).encode()


def article(**extra):
    return {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Council vote", **extra}


def signals(verdict):
    return [item["signal"] for item in verdict.evidence]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        ("True", True),
        ("False", False),
        ("false", False),
        ("yes", True),
        (0, False),
        ("maybe", None),
        (None, None),
    ],
)
def test_is_accessible_for_free_in_all_its_forms(value, expected):
    assert parse_accessible_for_free(value) is expected


def test_no_signal_at_all_is_free_and_complete():
    verdict = paywall_verdict("https://example.com/a", page())
    assert (verdict.access, verdict.complete, verdict.evidence) == ("free", True, ())


def test_declared_free():
    verdict = paywall_verdict("https://example.com/a", page(jsonld=article(isAccessibleForFree=True)))
    assert verdict.access == "free" and signals(verdict) == ["json-ld:isAccessibleForFree"]


@pytest.mark.parametrize("flag", [False, "False", "false"])
def test_declared_not_free_but_full_text_served_is_metered(flag):
    verdict = paywall_verdict("https://example.com/a", page(jsonld=article(isAccessibleForFree=flag)))
    assert (verdict.access, verdict.complete) == ("metered", True)


def test_has_part_selector_protects_the_gated_body_and_counts_what_was_served():
    gated = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[4:])
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[:4]) + f'<div class="paywall">{gated}</div>'
    html = page(
        jsonld=article(
            isAccessibleForFree="False",
            hasPart=[{"@type": "WebPageElement", "isAccessibleForFree": "False", "cssSelector": ".paywall"}],
        ),
        body_html=body,
    )
    extraction = extract_article("https://example.com/a", html)
    # The element the selector names is the gated article text: every paragraph is still there.
    for paragraph in PARAGRAPHS:
        assert paragraph in extraction.text
    assert (extraction.access, extraction.complete) == ("metered", True)
    assert {"signal": "json-ld:hasPart", "detail": ".paywall (not free): 144 words served"} in extraction.evidence


def test_gated_part_missing_from_a_short_page_is_a_hard_paywall():
    html = page(
        jsonld=article(
            isAccessibleForFree=False, hasPart={"isAccessibleForFree": False, "cssSelector": ".article-body--gated"}
        ),
        paragraphs=PARAGRAPHS[:3],
    )
    verdict = paywall_verdict("https://example.com/a", html)
    assert (verdict.access, verdict.complete) == ("hard", False)


def test_text_much_shorter_than_declared_word_count_is_a_teaser():
    html = page(jsonld=article(isAccessibleForFree=False, wordCount=1200), paragraphs=PARAGRAPHS[:5])
    verdict = paywall_verdict("https://example.com/a", html)
    assert (verdict.access, verdict.complete) == ("hard", False)
    assert any(item["signal"] == "length" and "of 1200 words" in item["detail"] for item in verdict.evidence)


def test_length_against_article_body():
    body_text = " ".join(PARAGRAPHS) * 3
    html = page(jsonld=article(articleBody=body_text))
    verdict = paywall_verdict("https://example.com/a", html)
    assert verdict.complete is False  # 216 of 648 words
    assert verdict.access == "unknown"  # shorter than declared, but nothing says gated


@pytest.mark.parametrize("tier", ["metered", "locked", "premium"])
def test_content_tier(tier):
    html = page(head=f'<meta property="article:content_tier" content="{tier}">')
    verdict = paywall_verdict("https://example.com/a", html)
    assert verdict.access == "metered" and "meta:article:content_tier" in signals(verdict)


@pytest.mark.parametrize(
    ("markup", "vendor"),
    [
        ('<div class="tp-modal"><p>Offer</p></div>', "Piano/Tinypass"),
        ('<div id="poool-widget"></div>', "poool"),
        ('<div class="steady-paywall-container"></div>', "Steady"),
        ('<div class="laterpay-connector"></div>', "LaterPay"),
        ('<div data-subscription="premium"></div>', "data-subscription"),
        ('<div data-premium="true"></div>', "data-premium"),
    ],
)
def test_vendor_markup_is_evidence(markup, vendor):
    html = page(body_html="".join(f"<p>{p}</p>" for p in PARAGRAPHS) + markup)
    verdict = paywall_verdict("https://example.com/a", html)
    assert any(item["signal"] == "vendor-markup" and vendor in item["detail"] for item in verdict.evidence)
    assert verdict.access == "unknown"  # software present, but nothing says this article is gated


def test_newsletter_signup_box_is_not_paywall_evidence():
    html = page(
        body_html="".join(f"<p>{p}</p>" for p in PARAGRAPHS)
        + '<div class="newsletter-signup"><p>Sign up for our newsletter</p></div>'
    )
    verdict = paywall_verdict("https://example.com/a", html)
    assert verdict.access == "free" and verdict.evidence == ()


@pytest.mark.parametrize(
    ("prompt", "access"),
    [
        ("You have 4 free articles remaining.", "metered"),
        ("Sie haben noch 2 kostenlose Artikel.", "metered"),
        ("Il vous reste 3 articles gratuits.", "metered"),
        ("Te quedan 2 artículos gratis este mes.", "metered"),
        ("Subscribe to continue reading.", "hard"),
        ("Dieser Artikel ist exklusiv für Abonnenten.", "hard"),
        ("Cet article est réservé aux abonnés.", "hard"),
        ("Contenido exclusivo para suscriptores.", "hard"),
        ("Register for free to continue reading.", "registration"),
        ("Registrieren Sie sich kostenlos und lesen Sie weiter.", "registration"),
        ("Inscrivez-vous gratuitement pour lire la suite.", "registration"),
        ("Regístrate gratis para seguir leyendo.", "registration"),
    ],
)
def test_prompt_wording_in_four_languages(prompt, access):
    html = page(paragraphs=[*PARAGRAPHS[:3], prompt])
    extraction = extract_article("https://example.com/a", html)
    assert prompt not in extraction.text
    assert extraction.access == access
    assert any(item["signal"].startswith("prompt:") for item in extraction.evidence)
