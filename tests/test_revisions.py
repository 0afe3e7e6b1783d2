"""Revisions through the newsroom: each kind of edit is classified; diffs in three formats."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from palimpsest.newsroom.content import COURIER_PATH, LEDGER_PATH
from palimpsest.storage.models import Version

CORRECTION = (
    "Correction: An earlier version of this article misstated the number of utility workers. It is 240, not 420."
)


def _paragraphs(newsroom, key):
    return list(newsroom.articles[key].current.paragraphs)


def _edits(newsroom, key):
    paragraphs = _paragraphs(newsroom, key)
    current = newsroom.articles[key].current
    split = paragraphs[2].split(". ", 1)
    return {
        "headline rewrite": ({"headline": current.headline + " After Late-Night Vote"}, ["headline"]),
        "edited paragraph": (
            {"paragraphs": (*paragraphs[:3], paragraphs[3].replace("ten years", "twelve years"), *paragraphs[4:])},
            ["body"],
        ),
        "appended correction": ({"correction": CORRECTION}, ["correction"]),
        "byline change": ({"authors": ("Mara Ellison",)}, ["byline"]),
        "paragraph split (whitespace only)": (
            {"paragraphs": (*paragraphs[:2], split[0] + ".", split[1], *paragraphs[3:])},
            ["minor"],
        ),
        "edited lede": (
            {"paragraphs": (paragraphs[0].replace("$410 million", "$415 million"), *paragraphs[1:])},
            ["lede"],
        ),
    }


@pytest.mark.parametrize(
    "edit",
    [
        "headline rewrite",
        "edited paragraph",
        "appended correction",
        "byline change",
        "paragraph split (whitespace only)",
        "edited lede",
    ],
)
def test_each_edit_gets_its_kind(newsroom, cli, sessions, edit):
    url = newsroom.url("ledger", LEDGER_PATH)
    key = newsroom.key_for(url)
    changes, kinds = _edits(newsroom, key)[edit]
    cli.crawl(url)
    newsroom.revise(key, **changes)

    cli.crawl(url)

    with sessions() as session:
        versions = session.scalars(select(Version).order_by(Version.seq)).all()
    assert len(versions) == 2
    assert versions[1].change_kinds == kinds
    assert 0 < versions[1].similarity <= 1  # a re-broken paragraph matches fully
    history = json.loads(cli("history", url, "--json", check=True).stdout)
    assert history["versions"][1]["change_kinds"] == kinds


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"template_nonce": 9}, id="template churn"),
        pytest.param("spaces", id="extra spaces inside a paragraph"),
    ],
)
def test_invisible_changes_make_no_version(newsroom, cli, sessions, changes):
    url = newsroom.url("courier", COURIER_PATH)
    key = newsroom.key_for(url)
    if changes == "spaces":
        paragraphs = _paragraphs(newsroom, key)
        changes = {"paragraphs": (*paragraphs[:2], paragraphs[2].replace(" ", "  "), *paragraphs[3:])}
    cli.crawl(url)
    newsroom.revise(key, **changes)

    result = cli.crawl(url)

    assert "unchanged" in result.stdout
    with sessions() as session:
        assert len(session.scalars(select(Version)).all()) == 1


def test_diff_formats_of_the_revised_article(newsroom, cli):
    url = newsroom.url("ledger", LEDGER_PATH)
    cli.crawl(url)
    newsroom.publish()
    cli.crawl(url)

    payload = json.loads(cli("diff", url, "--format", "json", check=True).stdout)
    assert payload["schema"] == "palimpsest.diff/1"
    assert (payload["from"]["seq"], payload["to"]["seq"]) == (1, 2)
    assert payload["fields"]["headline"]["old"] == "Harbor City to Sell Its Water Utility to a Private Operator"
    assert (
        payload["fields"]["headline"]["new"]
        == "Harbor City Council Approves $410 Million Sale of Water Utility Amid Protests"
    )
    assert payload["kinds"] == ["headline", "body"]
    edited = [p for p in payload["fields"]["body"]["paragraphs"] if p["op"] == "replace"]
    assert any(op["op"] in ("replace", "insert") and "7 to 4" in op["new"] for p in edited for op in p["ops"])

    text = cli("diff", url, check=True).stdout  # piped: plain markers, no colour
    assert "[-to Sell Its-]" in text and "{+Council Approves $410 Million Sale of+}" in text
    assert "\x1b[" not in text

    html = cli("diff", url, "--format", "html", "--from", "1", "--to", "2", check=True).stdout
    assert html.startswith("<!DOCTYPE html>") and "<del>" in html and "<ins>" in html
    assert "<script" not in html.lower()


def test_diff_needs_two_versions(newsroom, cli):
    url = newsroom.url("courier", COURIER_PATH)
    cli.crawl(url)
    result = cli("diff", url)
    assert result.returncode == 1 and "nothing to compare" in result.stderr and "Traceback" not in result.stderr
    assert "no version 5" in cli("diff", url, "--from", "1", "--to", "5").stderr


def test_teaser_then_full_text_is_an_access_change_not_deleted_paragraphs(newsroom, cli, sessions):
    url = newsroom.url("ledger", LEDGER_PATH)
    key = newsroom.key_for(url)
    newsroom.revise(key, access="registration")
    cli.crawl(url)
    newsroom.revise(key, access=None)  # the wall comes down

    cli.crawl(url)

    with sessions() as session:
        teaser, full = session.scalars(select(Version).order_by(Version.seq)).all()
    assert (teaser.access, teaser.complete, full.access, full.complete) == ("registration", False, "metered", True)
    assert full.change_kinds == ["access"]
    payload = json.loads(cli("diff", url, "--format", "json", check=True).stdout)
    assert payload["kinds"] == ["access"]
    assert payload["access"] == {"old": "registration", "new": "metered", "changed": True}
