"""Paywall awareness through real HTTP: stored verdicts, teasers that are not edits."""

from __future__ import annotations

import json

from sqlalchemy import select

from palimpsest.newsroom.content import COURIER_PATH, LEDGER_PATH, build_articles
from palimpsest.storage.models import Capture, Version


def test_metered_article_is_stored_whole_without_the_prompt(newsroom, cli, sessions):
    url = newsroom.url("ledger", LEDGER_PATH)
    cli.crawl(url)

    with sessions() as session:
        version = session.scalars(select(Version)).one()
    paragraphs = version.text.split("\n\n")
    expected = list(build_articles()[f"ledger:{LEDGER_PATH}"].current.paragraphs)
    assert paragraphs == expected  # every paragraph, in order
    assert "free articles remaining" not in version.text and "Subscribe" not in version.text
    assert "Advertisement" not in version.text
    assert version.captions.startswith("The Northgate pumping station, built in 1921")
    assert (version.access, version.complete) == ("metered", True)
    signals = {item["signal"] for item in version.paywall_evidence}
    assert {"json-ld:isAccessibleForFree", "json-ld:hasPart", "prompt:meter", "length"} <= signals


def test_free_outlet_is_free_and_complete(newsroom, cli, sessions):
    cli.crawl(newsroom.url("courier", COURIER_PATH))
    with sessions() as session:
        version = session.scalars(select(Version)).one()
    assert (version.access, version.complete) == ("free", True)


def test_teaser_behind_a_new_hard_paywall_is_not_an_edit(newsroom, cli, sessions):
    url = newsroom.url("ledger", LEDGER_PATH)
    cli.crawl(url)
    newsroom.revise(newsroom.key_for(url), access="hard")

    result = cli.crawl(url)

    assert "1 paywalled" in result.stdout
    with sessions() as session:
        versions = session.scalars(select(Version)).all()
        captures = session.scalars(select(Capture).order_by(Capture.id)).all()
    assert len(versions) == 1 and versions[0].access == "metered"
    assert [c.outcome for c in captures] == ["new_version", "paywalled"]
    assert captures[1].version_id == versions[0].id
    history = json.loads(cli("history", url, "--json", check=True).stdout)
    assert [(v["seq"], v["access"], v["complete"]) for v in history["versions"]] == [(1, "metered", True)]
    assert history["last_outcome"] == "paywalled"


def test_teaser_seen_first_is_stored_as_an_incomplete_version(newsroom, cli, sessions):
    url = newsroom.url("ledger", LEDGER_PATH)
    newsroom.revise(newsroom.key_for(url), access="registration")

    cli.crawl(url)

    with sessions() as session:
        version = session.scalars(select(Version)).one()
    assert (version.access, version.complete) == ("registration", False)
    assert version.word_count < 100
    assert "Register for free" not in version.text
    text = cli("history", url, check=True).stdout
    assert "access: registration, incomplete" in text


def test_extract_json_shows_access_completeness_and_evidence(newsroom, cli):
    record = json.loads(cli("extract", newsroom.url("ledger", LEDGER_PATH), "--json", check=True).stdout)
    assert record["access"] == "metered" and record["complete"] is True
    assert any(item["signal"] == "prompt:meter" for item in record["evidence"])
    assert {
        "kind": "prompt:meter",
        "text": "You have 3 free articles remaining. Subscribe to The Harbor Ledger",
    } in record["removed"]
