"""Extraction on pages nobody tuned it for (issue 14): gated prose kept, unspaced scripts read,
new prompt families removed while the article sentences that resemble them stay."""

from __future__ import annotations

import json

import pytest

from palimpsest.crawler.extract import EXTRACTOR, ExtractionError, extract_article
from palimpsest.crawler.extract.cleanup import boilerplate_kind
from palimpsest.crawler.extract.length import (
    paragraph_characters,
    paragraph_words,
    printed_characters,
    visible_characters,
    word_count,
)
from palimpsest.crawler.extract.paywall import PaywallSignals, decide
from palimpsest.crawler.extract.text import looks_short

URL = "https://news.example.com/2026/11/30/story"

STORY = [
    f"Paragraph {i} of the harbour story says the port authority voted on the dredging budget, "
    f"that the fishermen objected at the hearing, and what the mayor promised afterwards."
    for i in range(16)
]
STORY_WORDS = sum(len(p.split()) for p in STORY)  # 448: above the 400 words of a teaser


def html(body: str, *, jsonld: dict | None = None, title: str = "Harbour vote", lang: str = "en") -> bytes:
    script = f'<script type="application/ld+json">{json.dumps(jsonld)}</script>' if jsonld else ""
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><title>{title}</title>{script}</head>'
        f"<body><nav><a href='/'>Home</a><a href='/world'>World</a></nav>{body}"
        f"<footer>© 2026 Example News</footer></body></html>"
    ).encode()


def news(**extra) -> dict:
    return {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Harbour vote", **extra}


# --- gated prose is article text ---------------------------------------------------------------


def bloomberg_style(paragraphs: list[str], *, jsonld: dict | None = None) -> bytes:
    body = "".join(f'<p class="paywall">{p}</p>' for p in paragraphs)
    prompt = '<div class="paywall-prompt">You have 3 free articles remaining</div>'
    return html(f"<article><h1>Harbour vote</h1><div class='body-copy'>{body}</div>{prompt}</article>", jsonld=jsonld)


def test_paywall_classed_paragraphs_are_kept_and_the_story_is_metered():
    extraction = extract_article(URL, bloomberg_style(STORY, jsonld=news(isAccessibleForFree=False)))
    for paragraph in STORY:
        assert paragraph in extraction.text
    assert "free articles remaining" not in extraction.text
    assert extraction.access == "metered"
    assert extraction.complete is True
    assert all(kind != "paywall-markup" for kind, _text in extraction.removed)
    assert ("prompt:meter", "You have 3 free articles remaining") in extraction.removed


def test_a_story_far_below_its_declared_length_is_not_complete():
    extraction = extract_article(
        URL, bloomberg_style(STORY[:3], jsonld=news(isAccessibleForFree=False, wordCount=2400))
    )
    assert extraction.complete is False
    assert any(item["signal"] == "length" for item in extraction.evidence)


def test_a_26_word_text_from_a_page_that_shows_2000_words_is_not_complete():
    verdict = decide(PaywallSignals(content_tier="metered"), 26, [], shown_words=2000)
    assert (verdict.access, verdict.complete) == ("metered", False)
    assert {"signal": "length", "detail": "26 of 2000 words the page shows in paragraphs (1%)"} in verdict.evidence
    # A short article on a page that shows little more is complete.
    assert decide(PaywallSignals(), 90, [], shown_words=120).complete is True


def test_a_marked_box_without_sentences_still_goes_by_its_markup():
    page = html(
        "<article>"
        + "".join(f"<p>{p}</p>" for p in STORY)
        + '<div class="paywall">Get the full picture</div></article>'
    )
    extraction = extract_article(URL, page)
    assert "Get the full picture" not in extraction.text
    assert ("paywall-markup", "Get the full picture") in extraction.removed


def test_a_prompt_inside_the_has_part_region_goes_while_the_region_stays():
    region = (
        '<div class="gated-body">'
        + "".join(f"<p>{p}</p>" for p in STORY[2:])
        + '<div class="subscription-prompt">Subscribers can read the full story by logging in</div>'
        + '<p class="inline-promo">View subscription plans</p>'
        + "</div>"
    )
    free = "".join(f"<p>{p}</p>" for p in STORY[:2])
    jsonld = news(
        isAccessibleForFree=False,
        hasPart={"@type": "WebPageElement", "isAccessibleForFree": False, "cssSelector": ".gated-body"},
    )
    extraction = extract_article(URL, html(f"<article>{free}{region}</article>", jsonld=jsonld))
    for paragraph in STORY:
        assert paragraph in extraction.text
    assert "Subscribers can read" not in extraction.text
    assert "View subscription plans" not in extraction.text
    assert ("prompt:hard", "Subscribers can read the full story by logging in") in extraction.removed
    assert extraction.access == "metered" and extraction.complete is True


def test_inside_the_has_part_region_the_dom_pass_removes_named_prompts_only():
    from palimpsest.crawler.extract.cleanup import clean_dom
    from palimpsest.crawler.extract.decode import parse_html

    tree = parse_html(
        "<html><body><article><div class='gated-body'>"
        + "".join(f"<p>{p}</p>" for p in STORY[:4])
        + "<div class='subscribe-box'>Subscribers can read the full story by logging in</div>"
        + "<div class='newsletter-box'>Weekly picks</div>"
        + "</div></article></body></html>"
    )
    dom = clean_dom(tree, [".gated-body"])
    assert dom.removed == [("prompt:hard", "Subscribers can read the full story by logging in")]
    text = tree.text_content()
    assert "Weekly picks" in text  # marked, but not named: inside the region it stays
    assert all(p in text for p in STORY[:4])
    assert tree.find(".//div[@class='gated-body']") is not None


# --- scripts written without spaces -------------------------------------------------------------

CHINESE = (
    "市议会周二以七票对两票通过了港口疏浚预算，渔民在听证会上表示反对，市长随后承诺将设立补偿基金。"
    "港务局表示，工程将于明年春季开始，预计持续十八个月，期间部分航道将暂时关闭。"
)


def test_a_chinese_article_is_extracted_and_counted_by_characters():
    paragraphs = [f"第{i}段：{CHINESE}" for i in range(12)]
    page = html("<article>" + "".join(f"<p>{p}</p>" for p in paragraphs) + "</article>", lang="zh", title="港口")
    extraction = extract_article(URL, page)
    assert paragraphs[0] in extraction.text and paragraphs[-1] in extraction.text
    assert len(extraction.text.split()) < 30  # whitespace words: the old count called this no article
    assert extraction.word_count > 400
    assert extraction.as_dict()["word_count"] == extraction.word_count


def test_a_short_chinese_stub_is_still_no_article():
    with pytest.raises(ExtractionError):
        extract_article(URL, html("<article><p>港口。</p></article>", lang="zh"))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("three plain words", 3),
        ("港口疏浚预算", 3),  # six characters: three words
        ("ท่าเรือลงมติงบประมาณ", 10),  # Thai, 20 characters
        ("Tokyo 東京都庁 news", 4),
    ],
)
def test_word_count_for_every_script(text, words):
    assert word_count(text) == words


def test_page_measures_skip_navigation_and_footer():
    from palimpsest.crawler.extract.decode import parse_html

    tree = parse_html(html("<article>" + "".join(f"<p>{p}</p>" for p in STORY) + "</article>").decode())
    assert paragraph_words(tree) == STORY_WORDS
    story_characters = sum(printed_characters(p) for p in STORY)
    assert paragraph_characters(tree) == story_characters
    assert visible_characters(tree) == story_characters  # navigation and footer are not counted
    assert looks_short(tree, STORY[:2]) is True  # 2 of 16 paragraphs
    assert looks_short(tree, STORY[:12]) is False
    assert looks_short(tree, STORY[:12], declared=5000) is True
    assert looks_short(tree, ["Too short."]) is True


def test_the_extractor_version_moved():
    assert EXTRACTOR.startswith("palimpsest/3 ")


# --- prompt families, each with its trap --------------------------------------------------------

PROMPTS = {
    "meter": [
        "This is your 2nd of 5 complimentary articles",
        "You're reading your 3rd free article this month.",
        "2/5 free articles read",
        "Dies ist Ihr 2. von 5 kostenlosen Artikeln",
        "Ceci est votre 2e article gratuit sur 5",
        "Este es tu artículo gratuito 2 de 5",
    ],
    "member-only": [
        "Members only",
        "Member-only story",
        "This post is for paid members only",
        "Nur für Mitglieder",
        "Réservé aux membres",
        "Solo para socios",
    ],
    "registration": [
        "Sign up free to unlock more stories each month",
        "Create a free account to get unlimited access",
        "Kostenlos registrieren und mehr Artikel lesen",
        "Inscrivez-vous gratuitement et débloquez plus d'articles",
        "Regístrate gratis y desbloquea más artículos",
    ],
    "support": [
        "Our journalism depends on readers like you: chip in",
        "Donate now",
        "If you value our reporting, please consider making a contribution.",
        "Unterstützen Sie unseren Journalismus",
        "Soutenez notre journalisme",
        "Apoya nuestro periodismo",
    ],
    "link-offer": [
        "View subscription plans",
        "See all plans",
        "Alle Abo-Angebote ansehen",
        "Découvrez nos offres",
        "Ver planes de suscripción",
    ],
    "hard-wall": [
        "Subscribers can read the full story by logging in",
        "Only subscribers can read this article",
        "The full article is available to subscribers.",
        "Abonnenten können den vollständigen Artikel lesen",
        "Les abonnés peuvent lire la suite",
        "Los suscriptores pueden leer el artículo completo",
    ],
}
EXPECTED_KIND = {
    "meter": "prompt:meter",
    "member-only": "prompt:hard",
    "registration": "prompt:registration",
    "support": "promo",
    "link-offer": "promo",
    "hard-wall": "prompt:hard",
}
TRAPS = {
    "meter": [
        "Only 3 of 10 articles published in the journal were peer reviewed.",
        "This is your first chance to see the comet since 1997, astronomers said.",
    ],
    "member-only": [
        "Members only had two days to vote on the proposal, the union said.",
        "Die Mitglieder stimmten am Montag für den neuen Vorstand.",
        "Los socios del club votaron a favor del nuevo estadio.",
    ],
    "registration": [
        "Sign up free for the marathon opened on Monday, organizers said.",
        "Readers who register for free can comment, the paper said of its new policy.",
    ],
    "support": [
        "The station depends on listeners like you, its director said, as pledges fell by a third.",
        "Donate blood at the Red Cross center on Main Street this weekend.",
        "Supporters of the bill said it would help local journalism survive.",
    ],
    "link-offer": [
        "View plans for the new stadium were released on Tuesday.",
        "Voir les offres d'emploi publiées par la mairie sur son site.",
        "Les abonnés au service ont augmenté de 10 % en un an.",
    ],
    "hard-wall": [
        "Netflix subscribers can watch the full season from Friday.",
        "Subscribers can expect higher prices next year, the company said in a filing.",
    ],
}


@pytest.mark.parametrize(("family", "line"), [(f, line) for f, lines in PROMPTS.items() for line in lines])
def test_new_prompt_family_is_recognised(family, line):
    assert boilerplate_kind(line) == EXPECTED_KIND[family]


@pytest.mark.parametrize(("family", "line"), [(f, line) for f, lines in TRAPS.items() for line in lines])
def test_article_sentence_resembling_a_family_is_not_a_prompt(family, line):
    assert boilerplate_kind(line) is None


@pytest.mark.parametrize("family", sorted(PROMPTS))
def test_each_family_leaves_the_page_while_its_traps_stay(family):
    body = [STORY[0], *TRAPS[family], STORY[1], PROMPTS[family][0], *STORY[2:6]]
    extraction = extract_article(URL, html("<article>" + "".join(f"<p>{p}</p>" for p in body) + "</article>"))
    assert PROMPTS[family][0] not in extraction.text.split("\n\n")
    for trap in TRAPS[family]:
        assert trap in extraction.text
    assert (EXPECTED_KIND[family], PROMPTS[family][0]) in extraction.removed
