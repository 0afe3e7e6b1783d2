"""Prompt removal keeps the article whole: false-positive traps, metadata lines, captions."""

from __future__ import annotations

import pytest

from palimpsest.crawler.extract import extract_article
from palimpsest.crawler.extract.cleanup import boilerplate_kind, clean_paragraphs

ARTICLE_SENTENCES_ABOUT_SUBSCRIPTIONS = [
    "Netflix added 2 million subscribers in the quarter, beating its own forecast.",
    "Readers who subscribe to the newsletter said they wanted more local coverage.",
    "The newspaper said it had 300,000 digital subscribers and would raise its price.",
    "Subscribers to the streaming service will pay $2 more a month from January.",
    "She asked the council to register the objection before the vote.",
    "Die Zeitung gewann 40.000 neue Abonnenten, sagte der Verlag.",
    "Le journal compte désormais 500 000 abonnés numériques.",
    "El diario superó los 100.000 suscriptores digitales este año.",
    "You have to read the fine print, the mayor said of the contract.",
    "The app asks users to sign in before they can read their messages.",
]


@pytest.mark.parametrize("sentence", ARTICLE_SENTENCES_ABOUT_SUBSCRIPTIONS)
def test_article_sentences_about_subscriptions_are_not_boilerplate(sentence):
    assert boilerplate_kind(sentence) is None


def test_traps_survive_a_full_extraction_in_order():
    paragraphs = [*ARTICLE_SENTENCES_ABOUT_SUBSCRIPTIONS, "Advertisement", "Continue reading the main story"]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    html = f"<html><head><title>t</title></head><body><article>{body}</article></body></html>".encode()
    extraction = extract_article("https://example.com/a", html)
    assert extraction.text.split("\n\n") == ARTICLE_SENTENCES_ABOUT_SUBSCRIPTIONS


@pytest.mark.parametrize(
    "line",
    [
        "You have 4 free articles remaining.",
        "Subscribe to The Times",
        "Already a subscriber? Log in",
        "This article is for subscribers only.",
        "Subscribe now",
        "Sign up for our Morning Briefing newsletter",
        "Get the latest headlines delivered to your inbox every morning.",
        "Advertisement",
        "ADVERTISEMENT",
        "Continue reading the main story",
        "Story continues below advertisement",
        "Anzeige",
        "Publicité",
        "Publicidad",
        "Jetzt abonnieren",
        "Abonnez-vous",
        "Suscríbete",
        "Weiterlesen mit Z+",
        "Déjà abonné ? Se connecter",
        "¿Ya eres suscriptor? Inicia sesión",
    ],
)
def test_prompts_promos_and_furniture_are_recognised(line):
    assert boilerplate_kind(line) is not None


def test_byline_and_dateline_lines_become_metadata_and_captions_go_apart():
    cleaned = clean_paragraphs(
        [
            "By Ann Lee and Bo Park",
            "June 5, 2018",
            "The first paragraph of the article has plenty of words in it to be body text.",
            "The bridge at dusk. Jane Doe/Associated Press",
            "The last paragraph closes the article.",
        ],
        headline="A headline",
    )
    assert cleaned.byline == "Ann Lee and Bo Park"
    assert cleaned.dateline == "June 5, 2018"
    assert cleaned.captions == ["The bridge at dusk. Jane Doe/Associated Press"]
    assert cleaned.kept == [
        "The first paragraph of the article has plenty of words in it to be body text.",
        "The last paragraph closes the article.",
    ]


def test_trailing_section_label_is_not_body_text_but_a_sign_off_sentence_is():
    paragraphs = ["Body text that ends properly.", "Nicholas Confessore contributed reporting.", "The Switch"]
    cleaned = clean_paragraphs(paragraphs, headings=lambda: frozenset({"the switch"}))
    assert cleaned.kept == paragraphs[:2]
    assert ("section-label", "The Switch") in cleaned.removed
    # Not a heading on the page: a short last line stays.
    assert clean_paragraphs(paragraphs, headings=frozenset).kept == paragraphs


def test_a_tweet_link_is_not_a_photo_credit():
    cleaned = clean_paragraphs(["I urge all residents to use them whenever needed pic.twitter.com/MYwRz9euaq"])
    assert cleaned.captions == [] and len(cleaned.kept) == 1


def test_split_article_body_is_merged():
    part = "<p>{} of the story is long enough to count as a real paragraph here.</p>"
    html = (
        "<html><body><main>"
        f'<div class="wrap"><div class="article__body">{part.format("One")}{part.format("Two")}</div></div>'
        '<div class="ad">Advertisement</div><aside>Related: something else entirely</aside>'
        f'<div class="wrap"><div class="article__body">{part.format("Three")}{part.format("Four")}</div></div>'
        "</main></body></html>"
    ).encode()
    text = extract_article("https://example.com/a", html).text
    assert [line.split()[0] for line in text.split("\n\n")] == ["One", "Two", "Three", "Four"]


def test_hover_cards_do_not_run_into_the_sentence():
    html = (
        "<html><body><article><p>A man threatened Rep. "
        '<span class="rollover-people"><a href="/people/x">Jane Roe</a><span class="rollover-people-block">'
        "<a>Jane Roe</a><a>Other headline about her</a></span></span> (D-Minn.), prosecutors said on Tuesday "
        "in a statement that ran to several pages.</p>"
        + "<p>More article text follows here with enough words to be kept as body.</p>" * 3
        + "</article></body></html>"
    ).encode()
    text = extract_article("https://example.com/a", html).text
    assert "A man threatened Rep. Jane Roe (D-Minn.), prosecutors said" in text
    assert "Other headline" not in text
