"""Tests for the version diff (storage.diffing): what a reader of "v3 -> v4" gets to see."""

from __future__ import annotations

import dataclasses
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from palimpsest.storage.diff_render import render_html, render_text
from palimpsest.storage.diffing import (
    KIND_ORDER,
    SCHEMA,
    ParagraphDiff,
    VersionDiff,
    VersionFields,
    WordOp,
    classify_changes,
    diff_to_json,
    diff_versions,
)

PARAGRAPHS = [
    "The mayor of Springfield resigned on Tuesday after weeks of pressure from the city council.",
    "Officials said the decision came after a long meeting that ran late into the night.",
    "Residents reacted with a mix of surprise and relief, according to local reports.",
    "The council said it expected to spend about $2 million on a special election.",
    "An interim mayor will be appointed by the council next week.",
    "The former mayor did not respond to a request for comment.",
]
BODY = "\n\n".join(PARAGRAPHS)
OLD = VersionFields(
    headline="Springfield mayor resigns",
    dek="The council had demanded his resignation for weeks.",
    byline="By Jane Smith",
    text=BODY,
    access="metered",
    complete=True,
)


def edited(**changes: object) -> VersionFields:
    return dataclasses.replace(OLD, **changes)


def body_with(index: int, paragraph: str) -> str:
    paragraphs = list(PARAGRAPHS)
    paragraphs[index] = paragraph
    return "\n\n".join(paragraphs)


def kinds(new: VersionFields, old: VersionFields = OLD) -> tuple[str, ...]:
    return diff_versions(old, new).kinds


def changed_paragraphs(diff: VersionDiff) -> list[ParagraphDiff]:
    return [p for p in diff.body if p.op != "equal"]


# --- kinds ----------------------------------------------------------------------------------


def test_identical_versions_have_no_kinds_and_full_similarity():
    diff = diff_versions(OLD, edited())
    assert diff.kinds == ()
    assert diff.similarity == 1.0
    assert classify_changes(OLD, edited()) == ((), 1.0)
    assert all(not f.changed for f in diff.fields)
    assert [p.op for p in diff.body] == ["equal"] * len(PARAGRAPHS)


def test_headline_rewrite_is_headline_with_old_and_new_in_json():
    new = edited(headline="Springfield mayor quits amid council revolt")
    diff = diff_versions(OLD, new)
    assert diff.kinds == ("headline",)
    headline = diff_to_json(diff)["fields"]["headline"]
    assert headline["old"] == "Springfield mayor resigns"
    assert headline["new"] == "Springfield mayor quits amid council revolt"
    assert headline["changed"] is True
    assert {"op": "equal", "old": "Springfield mayor ", "new": "Springfield mayor "} in headline["ops"]
    assert 0 < diff.similarity < 1


def test_edited_middle_paragraph_is_body_with_a_word_replace():
    new = edited(text=body_with(2, PARAGRAPHS[2].replace("surprise", "anger")))
    diff = diff_versions(OLD, new)
    assert diff.kinds == ("body",)
    (paragraph,) = changed_paragraphs(diff)
    assert (paragraph.op, paragraph.old_index, paragraph.new_index) == ("replace", 2, 2)
    assert WordOp("replace", "surprise ", "anger ") in paragraph.ops


def test_edited_first_paragraph_is_lede():
    new = edited(text=body_with(0, PARAGRAPHS[0].replace("on Tuesday", "late on Monday")))
    assert "lede" in kinds(new)
    assert "body" not in kinds(new)


def test_paragraph_added_at_the_top_is_lede_and_added_later_is_body():
    added = "Police said an investigation into the council's finances is under way."
    assert kinds(edited(text=added + "\n\n" + BODY)) == ("lede",)
    assert kinds(edited(text=BODY + "\n\n" + added)) == ("body",)
    removed = "\n\n".join(PARAGRAPHS[:3] + PARAGRAPHS[4:])
    assert kinds(edited(text=removed)) == ("body",)


def test_appended_correction_is_correction():
    note = "Correction: An earlier version misstated the day the mayor resigned. It was Tuesday."
    diff = diff_versions(OLD, edited(text=BODY + "\n\n" + note))
    assert diff.kinds == ("correction",)
    (paragraph,) = changed_paragraphs(diff)
    assert paragraph.op == "insert" and paragraph.new == note


def test_correction_together_with_the_fix_reports_both():
    fixed = body_with(3, PARAGRAPHS[3].replace("$2 million", "$3 million"))
    note = "Editor’s Note: This story has been corrected to give the cost of the election."
    assert kinds(edited(text=fixed + "\n\n" + note)) == ("body", "correction")


@pytest.mark.parametrize(
    "note",
    [
        "Clarification: The council did not vote on the resignation.",
        "*Editor's note: This article has been updated with comment from the council.",
        "This article has been updated to include a statement from the mayor.",
        "An earlier version of this article gave the wrong date for the election.",
        "Korrektur: In einer früheren Version hieß es, der Rücktritt sei am Montag erfolgt.",
        "Anmerkung der Redaktion: Der Artikel wurde um eine Stellungnahme ergänzt.",
        "Rectificatif : une précédente version de cet article indiquait une date erronée.",
        "Correctif : le maire a démissionné mardi, et non lundi.",
        "Fe de errores: el alcalde dimitió el martes.",
        "Corrección: una versión anterior de este artículo indicaba otra fecha.",
        "Nota del editor: se ha añadido la respuesta del ayuntamiento.",
    ],
)
def test_correction_notes_in_several_languages(note):
    assert "correction" in kinds(edited(text=BODY + "\n\n" + note))


def test_ordinary_prose_mentioning_corrections_is_not_a_note():
    text = BODY + "\n\nCorrection officers at the county jail were not involved, police said."
    assert kinds(edited(text=text)) == ("body",)


def test_byline_change_is_byline():
    assert kinds(edited(byline="By John Doe and Jane Smith")) == ("byline",)


def test_whitespace_and_curly_quote_differences_are_no_change():
    # Decision: what normalisation removes (whitespace, quote and dash style, NFC) is not a
    # change at all, so kinds is () and similarity 1.0.
    old = edited(headline='Mayor\'s "final" day - a look back')
    new = edited(
        headline="Mayor’s  “final” day — a look back ",
        text=BODY.replace(" the ", "  the ").replace("\n\n", "\n \n\n"),
    )
    diff = diff_versions(old, new)
    assert diff.kinds == ()
    assert diff.similarity == 1.0
    assert not diff.fields[0].changed


def test_punctuation_case_and_typo_fixes_are_minor():
    assert kinds(edited(text=body_with(2, PARAGRAPHS[2].replace("relief,", "relief;")))) == ("minor",)
    assert kinds(edited(headline="Springfield Mayor Resigns")) == ("minor",)
    typo = edited(text=body_with(2, PARAGRAPHS[2].replace("surprise", "suprise")))
    assert kinds(typo) == ("minor",)
    assert kinds(edited(byline="By Jane Smyth")) == ("minor",)


def test_changed_figure_or_added_word_is_never_minor():
    figure = edited(text=body_with(3, PARAGRAPHS[3].replace("$2 million", "$20 million")))
    assert kinds(figure) == ("body",)
    negated = edited(text=body_with(5, PARAGRAPHS[5].replace("did not", "did")))
    assert kinds(negated) == ("body",)


def test_minor_is_reported_beside_real_changes():
    new = edited(
        headline="Springfield mayor quits amid council revolt",
        text=body_with(2, PARAGRAPHS[2].replace("surprise", "suprise")),
    )
    assert kinds(new) == ("headline", "minor")


def test_split_paragraph_with_the_same_words_is_minor():
    split = PARAGRAPHS[1].replace("meeting that", "meeting.\n\nThat")
    diff = diff_versions(OLD, edited(text=body_with(1, split)))
    assert diff.kinds == ("minor",)


def test_access_flip_to_hard_with_teaser_is_access_only():
    teaser = PARAGRAPHS[0] + "\n\n" + PARAGRAPHS[1][:40] + "…\n\nSubscribe to continue reading."
    new = edited(text=teaser, access="hard", complete=False)
    diff = diff_versions(OLD, new)
    assert diff.kinds == ("access",)
    assert "body" not in diff.kinds and "extraction" not in diff.kinds
    # The diff itself still shows what the teaser lacks.
    assert any(p.op == "delete" for p in diff.body)


def test_access_restored_with_full_text_is_access_only():
    teaser = edited(text=PARAGRAPHS[0][:60], access="hard", complete=False)
    assert kinds(edited(access="free"), old=teaser) == ("access",)


def test_teaser_with_a_rewritten_lede_still_reports_the_lede():
    lede = PARAGRAPHS[0].replace("on Tuesday after weeks", "on Monday after months")
    new = edited(text=lede + "\n\n" + PARAGRAPHS[1][:30], access="hard", complete=False)
    assert kinds(new) == ("lede", "access")


def test_access_flip_without_text_change_is_access():
    assert kinds(edited(access="free")) == ("access",)


def test_collapsed_body_with_same_access_is_extraction():
    words = BODY.split()
    collapsed = " ".join(words[: len(words) // 10])
    diff = diff_versions(OLD, edited(text=collapsed))
    assert "extraction" in diff.kinds
    assert diff.kinds == ("extraction",)
    assert kinds(edited(text="")) == ("extraction",)


def test_kinds_follow_the_fixed_order():
    new = edited(
        headline="Springfield mayor quits",
        dek="A new dek.",
        byline="By John Doe",
        text="Editor's note: updated.\n\n"
        + body_with(0, "A new first paragraph entirely.")
        + "\n\nA new closing paragraph about the election timetable and costs.",
        access="free",
    )
    result = kinds(new)
    assert list(result) == sorted(result, key=KIND_ORDER.index)
    assert result == ("headline", "dek", "byline", "lede", "body", "correction", "access")


def test_missing_field_appearing_is_a_change():
    assert kinds(edited(dek=None), old=edited()) == ("dek",)
    assert kinds(edited(byline=""), old=edited(byline=None)) == ()


def test_version_fields_validate_access_and_are_keyword_only():
    with pytest.raises(ValueError):
        edited(access="paywalled")
    with pytest.raises(TypeError):
        VersionFields("h", "d", "b", "text")  # type: ignore[misc]


# --- ops rebuild the texts --------------------------------------------------------------


def rebuild(ops: tuple[WordOp, ...], side: str) -> str:
    return "".join(getattr(op, side) for op in ops)


def test_ops_rebuild_both_texts_exactly():
    new = edited(
        headline="Springfield’s mayor  resigns!",
        text=body_with(2, PARAGRAPHS[2].replace("a mix of", "mixed")) + "\n\nNew end.",
    )
    diff = diff_versions(OLD, new)
    for f in diff.fields:
        assert rebuild(f.ops, "old") == (f.old or "")
        assert rebuild(f.ops, "new") == (f.new or "")
    for p in diff.body:
        assert rebuild(p.ops, "old") == p.old
        assert rebuild(p.ops, "new") == p.new


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("ab cé\u0301’'\"—-.,\n\u00ad\u200b\u00a0X1"), max_size=40),
    st.text(alphabet=st.sampled_from("ab cé\u0301’'\"—-.,\n\u00ad\u200b\u00a0X1"), max_size=40),
)
def test_ops_rebuild_any_text(old_headline, new_headline):
    diff = diff_versions(edited(headline=old_headline), edited(headline=new_headline))
    headline = diff.fields[0]
    assert rebuild(headline.ops, "old") == old_headline
    assert rebuild(headline.ops, "new") == new_headline
    assert 0.0 <= diff.similarity <= 1.0


# --- JSON ---------------------------------------------------------------------------------


def test_diff_to_json_round_trips_and_has_the_documented_shape():
    new = edited(
        headline="Springfield mayor quits",
        text=body_with(2, PARAGRAPHS[2].replace("surprise", "anger")),
        access="hard",
    )
    data = diff_to_json(diff_versions(OLD, new))
    assert json.loads(json.dumps(data)) == data
    assert data["schema"] == SCHEMA == "palimpsest.diff/1"
    assert data["kinds"] == ["headline", "body", "access"]
    assert list(data["fields"]) == ["headline", "dek", "byline", "body"]
    assert data["access"] == {"old": "metered", "new": "hard", "changed": True}
    body = data["fields"]["body"]
    assert body["old"] == OLD.text and body["new"] == new.text and body["changed"] is True
    paragraph = body["paragraphs"][2]
    assert set(paragraph) == {"op", "old_index", "new_index", "old", "new", "ops"}
    assert paragraph["op"] == "replace"
    assert {"op": "replace", "old": "surprise ", "new": "anger "} in paragraph["ops"]


def test_same_input_gives_the_same_output():
    new = edited(
        headline="Springfield mayor quits",
        text=body_with(1, "A different account of the meeting.") + "\n\nCorrection: fixed.",
    )
    first, second = diff_versions(OLD, new), diff_versions(OLD, new)
    assert first == second
    assert json.dumps(diff_to_json(first)) == json.dumps(diff_to_json(second))
    assert render_text(first, color=True) == render_text(second, color=True)
    title = "t"
    assert render_html(first, title=title, old_label="a", new_label="b") == render_html(
        second, title=title, old_label="a", new_label="b"
    )


# --- rendering ----------------------------------------------------------------------------


def test_render_text_plain_uses_wdiff_markers_and_no_ansi():
    new = edited(
        headline="Springfield mayor quits",
        text=body_with(4, PARAGRAPHS[4].replace("next week", "on Friday")),
    )
    text = render_text(diff_versions(OLD, new), color=False)
    assert text.splitlines()[0].startswith("changes: headline, body")
    assert "[-resigns-]{+quits+}" in text
    assert "[-next week-]{+on Friday+}" in text
    assert "\x1b" not in text
    assert "… 3 unchanged paragraphs …" in text  # paragraphs 1-3; 4 is context
    assert PARAGRAPHS[3] in text and PARAGRAPHS[5] in text  # one paragraph of context each side
    assert PARAGRAPHS[0] not in text


def test_render_text_color_uses_ansi():
    text = render_text(diff_versions(OLD, edited(headline="Springfield mayor quits")), color=True)
    assert "\x1b[" in text
    assert "[-" not in text


def test_render_text_neutralises_terminal_escapes_in_article_text():
    new = edited(headline="Mayor \x1b[2J\x1b]0;pwned\x07 resigns")
    for color in (False, True):
        text = render_text(diff_versions(OLD, new), color=color)
        assert "\x1b[2J" not in text and "\x07" not in text
        assert "\\x1b[2J" in text


def test_render_text_without_changes_says_so():
    assert render_text(diff_versions(OLD, OLD), color=False).startswith("changes: none")


def test_render_html_escapes_untrusted_article_text():
    new = edited(
        headline="<script>alert(1)</script> Mayor resigns",
        text=body_with(2, 'Residents <img src=x onerror=alert(1)> reacted "loudly".'),
    )
    page = render_html(
        diff_versions(OLD, new),
        title="Springfield <b>v3</b> → v4",
        old_label='v3 "old"',
        new_label="<i>v4</i>",
    )
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<b>v3</b>" not in page and "<i>v4</i>" not in page
    assert "&lt;i&gt;v4&lt;/i&gt;" in page
    assert "v3 &quot;old&quot;" in page


def test_render_html_is_one_self_contained_page():
    new = edited(text=body_with(2, PARAGRAPHS[2].replace("surprise", "anger")))
    page = render_html(diff_versions(OLD, new), title="Diff", old_label="v3", new_label="v4")
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in page
    assert (
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
    ) in page
    assert "<del>surprise </del>" in page and "<ins>anger </ins>" in page
    assert "<table" in page and "<style>" in page
    lowered = page.lower()
    assert "<script" not in lowered and "<link" not in lowered and "src=" not in lowered
    assert "http://" not in lowered and "https://" not in lowered


# --- size ---------------------------------------------------------------------------------


def long_pair(words: int = 5000) -> tuple[VersionFields, VersionFields]:
    rng = random.Random(0)
    vocabulary = [f"w{n}" for n in range(2000)] + ["the", "of", "and", "said"] * 50
    paragraphs = [" ".join(rng.choice(vocabulary) for _ in range(100)) + "." for _ in range(words // 100)]
    new_paragraphs = []
    for index, paragraph in enumerate(paragraphs):
        if index in (10, 30):
            continue
        if index % 5 == 2:
            paragraph = paragraph.replace(" the ", " a ", 1) + " Added words here."
        new_paragraphs.append(paragraph)
        if index in (20, 40):
            new_paragraphs.append(" ".join(rng.choice(vocabulary) for _ in range(100)) + ".")
    old = edited(text="\n\n".join(paragraphs))
    return old, edited(text="\n\n".join(new_paragraphs))


def test_five_thousand_word_diff_completes():
    old, new = long_pair()
    diff = diff_versions(old, new)
    assert diff.kinds == ("body",)
    ops = [p.op for p in diff.body]
    assert ops.count("insert") == 2 and ops.count("delete") == 2
    assert ops.count("replace") == 10
    assert 0.8 < diff.similarity < 1.0


def test_access_flip_does_not_hide_a_new_correction_or_an_appended_paragraph():
    note = "Correction: An earlier version misstated the date."
    assert kinds(edited(text=BODY + "\n\n" + note, access="hard")) == ("correction", "access")
    teaser = PARAGRAPHS[0][:50] + "…\n\n" + note
    assert kinds(edited(text=teaser, access="hard", complete=False)) == ("correction", "access")
    added = "A new closing paragraph about the election timetable."
    assert kinds(edited(text=BODY + "\n\n" + added, access="hard")) == ("body", "access")
