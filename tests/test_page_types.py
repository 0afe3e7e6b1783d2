"""Stories hold articles only: index pages are turned down with their reason, candidates that are
turned down stay light (no versions, one entry per article), and every member's links are
followed one hop, whenever it joined."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from palimpsest.crawler.extract import extract_article
from palimpsest.crawler.extract.decode import parse_html
from palimpsest.crawler.extract.pagetype import judge_page, text_weight
from palimpsest.newsroom.content import GAZETTE_PATH, LEDGER_PATH, NUMBERS_PATH
from palimpsest.newsroom.feeds import INDEX_PAGE_PATHS, SECTIONS_SITEMAP_PATH
from palimpsest.storage import judging, stories
from palimpsest.storage.export import snapshot_session, start_export
from palimpsest.storage.ingest import ExtractedVersion, FetchRecord, StoryLink, ingest_capture
from palimpsest.storage.models import Article, CandidateText, Capture, Story, StoryArticle, StoryCandidate, Version
from palimpsest.storage.stories import FoundURL, SourceSpec
from palimpsest.storage.versioning import VersionContent
from tests.conftest import LOCAL_CRAWL

T0 = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)
TERMS = ["--match", "water utility", "--match", "Tidewater"]
PROSE = (
    "The council met on Tuesday evening to debate the plan, which would change how the city pays for "
    "its roads, its schools and its parks over the next ten years, officials said in a statement."
)


def _page(title: str, body: str, *, head: str = "") -> bytes:
    return f"<html><head><title>{title}</title>{head}</head><body>{body}</body></html>".encode()


def _article_page() -> bytes:
    paragraphs = "".join(f"<p>{PROSE} Paragraph {n} adds its own detail to the account.</p>" for n in range(8))
    head = (
        '<meta property="og:type" content="article">'
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Council backs a ten-year '
        'plan for roads, schools and parks", "datePublished": "2026-11-04T10:00:00Z"}</script>'
    )
    return _page(
        "Council backs a ten-year plan for roads, schools and parks",
        f"<nav><a href='/'>Home</a><a href='/metro/'>Metro</a></nav><article><h1>Council backs a ten-year plan "
        f"for roads, schools and parks</h1><p class='byline'>By Ana Ruiz</p>{paragraphs}</article>",
        head=head,
    )


def _section_page() -> bytes:
    teasers = "".join(
        f"<article class='teaser'><h2><a href='/2026/11/0{n % 9 + 1}/metro/story-number-{n}-about-the-city.html'>"
        f"Story number {n} about the city council and its budget</a></h2><p>A short standfirst.</p></article>"
        for n in range(20)
    )
    return _page("Metro", f"<header><a href='/'>Home</a></header><main><h1>Metro</h1>{teasers}</main>")


def test_an_article_and_index_pages_are_told_apart_with_evidence():
    article = extract_article("https://news.example/2026/11/04/metro/council-backs-ten-year-plan.html", _article_page())
    assert article.page_type == "article" and article.page_kind is None
    assert any(item["signal"] == "json-ld" and "newsarticle" in item["detail"] for item in article.page_evidence)

    section = extract_article("https://news.example/section/metro/", _section_page())
    assert section.page_type == "index" and section.page_kind == "section"
    assert section.page_reason.startswith("index page (section): ")
    assert "/section/ in the URL" in section.page_reason
    negatives = [item for item in section.page_evidence if float(item["points"]) < 0]
    assert {item["signal"] for item in negatives} >= {"url", "teasers"}

    front = extract_article("https://news.example/", _section_page())
    assert (front.page_type, front.page_kind) == ("index", "front")


def test_a_chinese_article_is_judged_like_any_other():
    sentence = "市议会周二晚间投票通过了出售城市供水系统的计划，反对者表示水费可能在十年内上涨百分之四十。"
    headline = "市议会通过出售供水系统的计划"
    paragraphs = [sentence * 2] * 10
    body = "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    tree = parse_html(_page(headline, f"<article><h1>{headline}</h1>{body}</article>").decode())
    judgement = judge_page(
        tree,
        "https://news.example.cn/2026/11/04/water-utility-sale.html",
        declared=frozenset(),
        headline=headline,
        published=False,
        byline=False,
        paragraphs=paragraphs,
    )
    assert judgement.page_type == "article"
    assert text_weight(sentence) > 2.5 * len(sentence)  # a character weighs about a short word


def test_extract_json_reports_the_page_type(cli, tmp_path):
    section = tmp_path / "metro.html"
    section.write_bytes(_section_page())
    result = cli("extract", str(section), "--url", "https://news.example/section/metro/", "--json", check=True)
    row = json.loads(result.stdout)
    assert row["page_type"] == "index" and row["page_kind"] == "section"
    assert row["page_evidence"] and all({"signal", "detail", "points"} <= item.keys() for item in row["page_evidence"])


def test_index_pages_in_a_sitemap_never_join_and_are_listed_as_turned_down(newsroom, cli, sessions):
    cli(
        "story", "add", "pages", "--title", "Harbor City water sale", "--seed", newsroom.seed_url(),
        "--sitemap", newsroom.url("ledger", SECTIONS_SITEMAP_PATH), *TERMS, check=True,
    )  # fmt: skip
    first = cli("run", "--once", *LOCAL_CRAWL, check=True)
    assert "not article" in first.stdout, first.stdout

    index_urls = {newsroom.url("ledger", path) for path in INDEX_PAGE_PATHS}
    with sessions() as session:
        members = set(
            session.scalars(
                select(Article.canonical_url).join(StoryArticle, StoryArticle.article_id == Article.id)
            ).all()
        )
        index_articles = session.scalars(select(Article).where(Article.canonical_url.in_(index_urls))).all()
        versions = session.scalar(
            select(func.count(Version.id)).where(Version.article_id.in_([a.id for a in index_articles]))
        )
        outcomes = set(
            session.scalars(select(Capture.outcome).where(Capture.article_id.in_([a.id for a in index_articles]))).all()
        )
    # The front page's teasers name both story terms: it still does not join.
    assert index_urls.isdisjoint(members) and newsroom.url("ledger", LEDGER_PATH) in members
    assert len(index_articles) == len(INDEX_PAGE_PATHS) and versions == 0
    assert outcomes == {"not_article"}  # the captures are kept, with their outcome
    assert all(a.state == "index" and a.next_check_at is None for a in index_articles)

    view = json.loads(cli("story", "show", "pages", "--json", check=True).stdout)
    turned_down = {item["url"]: item for item in view["rejected"]}
    assert set(turned_down) == index_urls
    assert all(item["reason"].startswith("index page") for item in turned_down.values())
    assert turned_down[newsroom.url("ledger", "/")]["reason"].startswith("index page (front)")
    assert "index page" in cli("story", "show", "pages", check=True).stdout

    # Not re-checked as articles: a second pass fetches none of them again.
    cli("run", "--once", *LOCAL_CRAWL, check=True)
    with sessions() as session:
        captures = session.scalar(
            select(func.count(Capture.id)).where(Capture.article_id.in_([a.id for a in index_articles]))
        )
    assert captures == len(INDEX_PAGE_PATHS)


def test_a_link_of_a_feed_candidate_joins_on_the_next_pass_once(newsroom, cli, sessions):
    cli(
        "story", "add", "hop", "--title", "Harbor City water sale", "--seed", newsroom.seed_url(),
        "--feed", newsroom.feed_url("gazette"), *TERMS, check=True,
    )  # fmt: skip
    numbers = newsroom.url("gazette", NUMBERS_PATH)

    first = cli("run", "--once", *LOCAL_CRAWL, check=True)
    assert f"joined hop: {newsroom.url('gazette', GAZETTE_PATH)}" in first.stdout
    assert "new candidate(s) of hop from the links of those who joined" in first.stdout
    assert numbers not in _members(sessions, "hop")

    second = cli("run", "--once", *LOCAL_CRAWL, check=True)
    assert f"joined hop: {numbers} (link" in second.stdout
    assert _members(sessions, "hop")[numbers] == "link"
    with sessions() as session:
        found = session.scalars(select(Article).where(Article.canonical_url.like("%by-the-numbers%"))).all()
        versions = session.scalars(select(Version).where(Version.article_id == found[0].id)).all()
    assert [a.canonical_url for a in found] == [numbers]  # exactly once, under its canonical URL
    assert [v.seq for v in versions] == [1]


def _members(sessions, slug):
    with sessions() as session:
        story = session.scalars(select(Story).where(Story.slug == slug)).one()
        rows = session.execute(
            select(Article.canonical_url, StoryArticle.how)
            .join(StoryArticle, StoryArticle.article_id == Article.id)
            .where(StoryArticle.story_id == story.id)
        ).all()
    return dict(rows)


# --- turned-down candidates are light and one identity (storage, no HTTP) ------------------------

CANONICAL = "https://gazette.example/local/farmers-market-moves-indoors"
AMP = "https://gazette.example/amp/local/farmers-market-moves-indoors"


def _candidate_text() -> ExtractedVersion:
    headline = "Farmers market moves indoors for the winter"
    text = "Northfield's farmers market will move into the old armory on Saturdays from December through March."
    content = VersionContent.of(headline, None, None, text)
    return ExtractedVersion(
        headline=headline, dek=None, byline=None, text=text, content_hash=content.content_hash,
        word_count=len(text.split()), extractor="test", links=("https://gazette.example/local/armory-reopens",),
    )  # fmt: skip


def _fetch_candidate(session, slug: str, requested: str, at: datetime) -> None:
    fetch = FetchRecord(
        requested_url=requested, canonical_url=CANONICAL, outlet_domain="gazette.example", fetched_at=at,
        http_status=200, url_variants=((requested, "requested"), (CANONICAL, "canonical")),
    )  # fmt: skip
    result = ingest_capture(session, fetch, _candidate_text(), now=at, story=StoryLink(slug, candidate_url=requested))
    assert result.outcome == "candidate"


@pytest.fixture
def two_stories(sessions):
    with sessions() as session, session.begin():
        for slug, terms in (("armory", ["armory"]), ("ferry", ["ferry"])):
            stories.create_story(
                session, slug, slug, sources=[SourceSpec("feed", f"https://x.example/{slug}.xml")], terms=terms, now=T0
            )
    return sessions


def test_a_turned_down_candidate_is_one_light_entry_and_another_story_can_take_it(two_stories):
    sessions = two_stories
    with sessions() as session, session.begin():
        ferry = stories.require_story(session, "ferry")
        stories.triage(session, ferry.id, [FoundURL(AMP, "feed"), FoundURL(CANONICAL, "sitemap")], now=T0)
        _fetch_candidate(session, "ferry", AMP, T0)
        _fetch_candidate(session, "ferry", CANONICAL, T0 + timedelta(seconds=1))
        evaluation = judging.evaluate_candidates(session, ferry, now=T0 + timedelta(minutes=1))
        assert evaluation.rejected == 2 and not evaluation.joined
    with sessions() as session:
        view = stories.story_view(session, stories.require_story(session, "ferry"))
        article = session.scalars(select(Article)).one()
        assert article.state == "rejected" and article.next_check_at is None
        assert session.scalar(select(func.count(Version.id))) == 0  # light: no version rows
        assert session.get(CandidateText, article.id) is not None
    assert _export(sessions) == []
    with_rejected = _export(sessions, include_rejected=True)
    assert [entry["url"] for entry in view["rejected"]] == [CANONICAL]
    assert view["rejected"][0]["found_as"] == [AMP, CANONICAL]
    assert [row["url"] for row in with_rejected] == [CANONICAL]
    assert with_rejected[0]["version_id"] is None and with_rejected[0]["turned_down"].startswith("ferry: ")

    # Another story that wants it judges it from the kept text: no new fetch, then a version.
    with sessions() as session, session.begin():
        armory = stories.require_story(session, "armory")
        triage = stories.triage(session, armory.id, [FoundURL(CANONICAL, "feed")], now=T0 + timedelta(hours=1))
        assert triage.fetch == []  # fresh enough: judged from its capture
        evaluation = judging.evaluate_candidates(session, armory, now=T0 + timedelta(hours=1))
        assert [url for url, _how, _score in evaluation.joined] == [CANONICAL]
        assert evaluation.linked == 1  # its link is now a candidate of the story
    with sessions() as session:
        article = session.scalars(select(Article)).one()
        version = session.scalars(select(Version)).one()
        captures = session.scalars(select(Capture).order_by(Capture.id)).all()
        assert article.state == "active" and article.next_check_at is not None
        assert version.seq == 1 and version.first_seen_at == T0 + timedelta(seconds=1)  # when it was fetched
        assert [c.outcome for c in captures] == ["candidate", "new_version"]
        assert captures[1].version_id == version.id
        assert session.get(CandidateText, article.id) is None
    assert [row["url"] for row in _export(sessions)] == [CANONICAL]


def _export(sessions, **options):
    with snapshot_session(sessions.kw["bind"]) as session:
        return list(start_export(session, **options).rows)


def test_a_candidate_whose_fetch_failed_is_fetched_again_then_given_up(two_stories):
    sessions = two_stories
    failed = FetchRecord(
        requested_url=CANONICAL, canonical_url=CANONICAL, outlet_domain="gazette.example", fetched_at=T0,
        http_status=500, outcome="error", error="HTTP 500",
    )  # fmt: skip
    with sessions() as session, session.begin():
        ferry = stories.require_story(session, "ferry")
        stories.triage(session, ferry.id, [FoundURL(CANONICAL, "feed")], now=T0)
        assert [c.url for c in stories.unfetched_candidates(session, ferry)] == [CANONICAL]
        ingest_capture(session, failed, None, now=T0, story=StoryLink("ferry", candidate_url=CANONICAL))
        assert judging.evaluate_candidates(session, ferry, now=T0).waiting == 1
        # The outlet failed once: the next pass tries the candidate again.
        assert [c.url for c in stories.unfetched_candidates(session, ferry)] == [CANONICAL]
        _fetch_candidate(session, "ferry", CANONICAL, T0 + timedelta(minutes=15))
        assert stories.unfetched_candidates(session, ferry) == []  # text kept: judged, not fetched
    with sessions() as session, session.begin():
        armory = stories.require_story(session, "armory")
        stories.triage(session, armory.id, [FoundURL("https://gazette.example/local/down", "feed")], now=T0)
        for attempt in range(3):
            url, at = "https://gazette.example/local/down", T0 + timedelta(hours=attempt)
            down = replace(failed, requested_url=url, canonical_url=url, fetched_at=at)
            ingest_capture(
                session, down, None, now=down.fetched_at, story=StoryLink("armory", candidate_url=down.requested_url)
            )
        assert stories.unfetched_candidates(session, armory) == []  # three tries: given up
        judging.evaluate_candidates(session, armory, now=T0 + timedelta(hours=3))
        candidate = session.scalars(select(StoryCandidate).where(StoryCandidate.story_id == armory.id)).one()
        assert (candidate.decision, candidate.reason) == ("failed", "no article text after 3 attempts")
