"""The walking skeleton through real HTTP: crawl the newsroom, store versions, re-crawl."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import func, select

from palimpsest.newsroom.content import COURIER_PATH, LEDGER_PATH
from palimpsest.storage.models import Article, Capture, Outlet, Story, StoryArticle, Version


def _versions(sessions, url):
    with sessions() as session:
        article = session.scalars(select(Article).where(Article.canonical_url == url)).one()
        return session.scalars(select(Version).where(Version.article_id == article.id).order_by(Version.seq)).all()


def _count(sessions, model):
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_first_crawl_stores_both_outlets_with_metadata_and_text(newsroom, cli, sessions):
    ledger, courier = newsroom.url("ledger", LEDGER_PATH), newsroom.url("courier", COURIER_PATH)

    result = cli.crawl(ledger, courier, "--story", "water-sale")

    assert "Fetched 2 pages" in result.stdout and "2 new versions" in result.stdout
    [ledger_v1] = _versions(sessions, ledger)
    assert ledger_v1.headline == "Harbor City to Sell Its Water Utility to a Private Operator"
    assert ledger_v1.byline == "Mara Ellison and Tomas Reyes"
    assert ledger_v1.published_at == datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    assert ledger_v1.published_raw == "2026-11-03T09:00:00+00:00"
    assert ledger_v1.published_source == "json-ld:datePublished"
    assert ledger_v1.text.startswith("Harbor City plans to sell its municipal water utility")
    assert "The sale would still require approval from the state utility commission" in ledger_v1.text
    assert ledger_v1.language == "en-US"

    [courier_v1] = _versions(sessions, courier)
    assert courier_v1.headline == "Harbor City weighs selling water system; residents fear higher bills"
    assert courier_v1.byline == "Dana Whitfield"
    assert courier_v1.published_at == datetime(2026, 11, 4, 14, 15, tzinfo=UTC)
    assert "Luis Ortega, who has run a laundromat on Bay Street" in courier_v1.text

    with sessions() as session:
        outlets = {o.domain: o.name for o in session.scalars(select(Outlet))}
        assert outlets == {"127.0.0.1": "The Harbor Ledger", "127.0.0.2": "Bayside Courier"}
        story = session.scalars(select(Story).where(Story.slug == "water-sale")).one()
        members = session.scalars(select(StoryArticle).where(StoryArticle.story_id == story.id)).all()
        assert sorted(m.how for m in members) == ["seed", "seed"]
        captures = session.scalars(select(Capture)).all()
        assert sorted(c.outcome for c in captures) == ["new_version", "new_version"]
        assert all(c.http_status == 200 and c.payload_digest.startswith("sha1:") for c in captures)


def test_recrawl_of_unchanged_page_adds_a_capture_and_no_version(newsroom, cli, sessions):
    url = newsroom.url("courier", COURIER_PATH)
    cli.crawl(url)

    result = cli.crawl(url)  # the newsroom answers the conditional request with a 304

    assert "1 not modified (304)" in result.stdout
    assert _count(sessions, Capture) == 2
    assert _count(sessions, Version) == 1
    with sessions() as session:
        captures = session.scalars(select(Capture).order_by(Capture.id)).all()
        assert [c.outcome for c in captures] == ["new_version", "not_modified"]
        assert captures[1].http_status == 304


def test_identical_payload_skips_extraction_without_conditional_requests(newsroom, cli, sessions):
    url = newsroom.url("courier", COURIER_PATH)
    cli.crawl(url)

    result = cli.crawl(url, "-s", "PALIMPSEST_CONDITIONAL_REQUESTS=False")

    assert "1 unchanged" in result.stdout
    assert _count(sessions, Version) == 1
    with sessions() as session:
        captures = session.scalars(select(Capture).order_by(Capture.id)).all()
        assert [c.outcome for c in captures] == ["new_version", "unchanged"]
        assert captures[0].payload_digest == captures[1].payload_digest


def test_template_only_change_is_not_a_new_version(newsroom, cli, sessions):
    url = newsroom.url("ledger", LEDGER_PATH)
    cli.crawl(url)
    newsroom.revise(newsroom.key_for(url), template_nonce=7)  # new ad slot id, new script URL

    cli.crawl(url)

    assert _count(sessions, Version) == 1
    with sessions() as session:
        digests = [c.payload_digest for c in session.scalars(select(Capture).order_by(Capture.id))]
        assert digests[0] != digests[1]  # the bytes differ; the article does not


def test_revised_article_becomes_version_two_and_history_lists_both(newsroom, cli, sessions):
    url = newsroom.url("ledger", LEDGER_PATH)
    cli.crawl(url)
    newsroom.publish()

    result = cli.crawl(url)

    assert "new version v2" in result.stderr
    v1, v2 = _versions(sessions, url)
    assert v2.headline == "Harbor City Council Approves $410 Million Sale of Water Utility Amid Protests"
    assert "headline" in v2.change_kinds
    history = json.loads(cli("history", url, "--json", check=True).stdout)
    assert [v["seq"] for v in history["versions"]] == [1, 2]
    assert history["versions"][0]["headline"] == v1.headline
    assert history["versions"][1]["headline"] == v2.headline
    assert history["captures"] == 2
    text = cli("history", url, check=True).stdout
    assert "v1" in text and "v2" in text and "headline" in text


def test_url_variants_with_tracking_parameters_find_the_same_article(newsroom, cli, sessions):
    url = newsroom.url("courier", COURIER_PATH)
    cli.crawl(url + "?utm_source=newsletter&utm_medium=email")

    history = json.loads(cli("history", url + "?fbclid=abc", "--json", check=True).stdout)

    assert history["url"] == url
    assert _count(sessions, Article) == 1


def test_missing_page_is_recorded_as_gone_and_the_crawl_goes_on(newsroom, cli, sessions):
    missing = newsroom.url("courier", "/news/no-such-story")
    present = newsroom.url("courier", COURIER_PATH)

    result = cli.crawl(missing, present)

    assert "1 new version" in result.stdout and "1 gone" in result.stdout
    assert "HTTP 404" in result.stdout
    with sessions() as session:
        gone = session.scalars(select(Capture).where(Capture.outcome == "gone")).one()
        assert gone.http_status == 404
        assert gone.version_id is None
        assert session.get(Article, gone.article_id).state == "gone"
