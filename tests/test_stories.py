"""Stories end to end: add, discover with `run --once`, re-check what is due, resume after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from palimpsest.newsroom.content import (
    COURIER_PATH,
    EXPLAINER_PATH,
    GAZETTE_PATH,
    LEDGER_PATH,
    NUMBERS_PATH,
    WIRE_PATH,
)
from palimpsest.storage.models import Article, ArticleURL, Capture, StoryArticle, StoryCandidate, Version
from tests.conftest import LOCAL_CRAWL, LOOPBACK_ONLY

TERMS = ["--match", "water utility", "--match", "Tidewater"]


def add_story(cli, newsroom, slug="water", *extra):
    return cli(
        "story", "add", slug, "--title", "Harbor City water sale",
        "--seed", newsroom.seed_url(),
        "--feed", newsroom.feed_url("courier"),
        "--feed", newsroom.feed_url("gazette"),
        "--sitemap", newsroom.sitemap_url(),
        *TERMS, *extra, check=True,
    )  # fmt: skip


def run_once(cli, *extra):
    return cli("run", "--once", *LOCAL_CRAWL, *extra, check=True)


def members(sessions, slug="water"):
    from palimpsest.storage.models import Story

    with sessions() as session:
        story = session.scalars(select(Story).where(Story.slug == slug)).one()
        rows = session.execute(
            select(Article.canonical_url, StoryArticle.how, StoryArticle.score)
            .join(StoryArticle, StoryArticle.article_id == Article.id)
            .where(StoryArticle.story_id == story.id)
        ).all()
    return {url: (how, score) for url, how, score in rows}


def test_story_add_list_show_and_mistakes(newsroom, cli):
    added = add_story(cli, newsroom)
    assert "Added story 'water': 1 seed(s), 2 feed(s), 1 sitemap(s)" in added.stdout

    assert "water" in cli("story", "list", check=True).stdout
    listed = json.loads(cli("story", "list", "--json", check=True).stdout)
    assert listed == [
        {"slug": "water", "title": "Harbor City water sale", "articles": 0, "created_at": listed[0]["created_at"]}
    ]
    view = json.loads(cli("story", "show", "water", "--json", check=True).stdout)
    assert [(s["kind"], s["poll_interval_seconds"]) for s in view["sources"]] == [
        ("seed", 0), ("feed", 900), ("feed", 900), ("sitemap", 1800)
    ]  # fmt: skip
    assert view["match_terms"] == ["water utility", "Tidewater"]

    again = cli("story", "add", "water", "--title", "x", "--seed", newsroom.seed_url())
    assert again.returncode == 1 and "exists already" in again.stderr
    nothing = cli("story", "add", "empty", "--title", "x")
    assert nothing.returncode == 2 and "at least one --seed" in nothing.stderr
    bad = cli("story", "add", "bad", "--title", "x", "--feed", "ftp://x/feed")
    assert bad.returncode == 2 and "--feed" in bad.stderr and "Traceback" not in bad.stderr
    unknown = cli("story", "show", "nope")
    assert unknown.returncode == 1 and "no story 'nope'" in unknown.stderr


def test_run_once_discovers_every_related_article_once_and_nothing_else(newsroom, cli, sessions):
    add_story(cli, newsroom)

    result = run_once(cli)

    assert "polled 3 source(s)" in result.stdout
    found = members(sessions)
    expected = {
        newsroom.url("ledger", LEDGER_PATH): "seed",
        newsroom.url("ledger", EXPLAINER_PATH): "link",
        newsroom.url("courier", COURIER_PATH): "feed",
        newsroom.url("gazette", GAZETTE_PATH): "similar",
        newsroom.url("gazette", WIRE_PATH): "feed",
    }
    assert {url: how for url, (how, _score) in found.items()} == expected
    assert found[newsroom.url("gazette", GAZETTE_PATH)][1] > 0.15  # shares vocabulary, no terms
    assert found[newsroom.url("courier", COURIER_PATH)][1] == 0.5  # one of two terms
    assert set(found).isdisjoint(newsroom.unrelated_urls())

    with sessions() as session:
        variants = {
            url: session.get(Article, aid).canonical_url
            for url, aid in session.execute(select(ArticleURL.url, ArticleURL.article_id))
        }
        candidates = session.scalars(select(StoryCandidate)).all()
        wire = session.scalars(select(Article).where(Article.canonical_url == newsroom.url("gazette", WIRE_PATH))).one()
        rejected_articles = session.scalars(select(Article).where(Article.state == "rejected")).all()
        rejected_versions = session.scalar(
            select(func.count(Version.id)).where(Version.article_id.in_([a.id for a in rejected_articles]))
        )
    # AMP, redirect and tracking-parameter variants collapse onto the canonical article.
    assert variants[newsroom.url("gazette", "/amp" + GAZETTE_PATH)] == newsroom.url("gazette", GAZETTE_PATH)
    assert variants[newsroom.url("courier", "/go/water-vote")] == newsroom.url("courier", COURIER_PATH)
    tracked = newsroom.url("ledger", EXPLAINER_PATH) + "?utm_source=ledger&utm_medium=related"
    assert variants[tracked] == newsroom.url("ledger", EXPLAINER_PATH)
    # A syndicated copy is recorded as such.
    assert wire.based_on_url == newsroom.url("courier", COURIER_PATH)
    # Every unrelated article was judged, with its reason, and is not followed.
    rejected = [c for c in candidates if c.decision == "rejected"]
    assert len(rejected) == len(newsroom.unrelated_urls()) == 7
    assert all("similarity" in c.reason for c in rejected)
    assert len(rejected_articles) == 7 and all(a.next_check_at is None for a in rejected_articles)
    # Turned down, they are light: no version rows, so nothing of them in the export.
    assert rejected_versions == 0

    text = cli("story", "show", "water", check=True).stdout
    assert "5 article(s) from 3 outlet(s)" in text and "joined by similar" in text and "a copy of" in text


def test_run_rechecks_only_due_articles(newsroom, cli, sessions):
    add_story(cli, newsroom)
    run_once(cli)
    courier = newsroom.url("courier", COURIER_PATH)
    with sessions() as session, session.begin():
        session.execute(
            update(Article)
            .where(Article.canonical_url == courier)
            .values(next_check_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    newsroom.request_log.clear()

    result = run_once(cli)

    assert "0 source(s) to poll" in result.stdout and "1 article(s) due" in result.stdout
    fetched = [path for _outlet, path, _headers in newsroom.request_log if path != "/robots.txt"]
    # The due article, and the one candidate a joiner's link left for this pass: nothing else.
    assert sorted(fetched) == sorted([COURIER_PATH, NUMBERS_PATH])
    with sessions() as session:
        article = session.scalars(select(Article).where(Article.canonical_url == courier)).one()
        assert article.next_check_at > datetime.now(UTC)  # scheduled again
        assert article.check_interval_seconds > 0


def test_a_revision_between_passes_is_version_two_on_the_second_pass(newsroom, cli, sessions):
    # A schedule with second-long intervals stands in for the clock: both passes are real.
    fast = [
        "-s",
        "PALIMPSEST_SCHEDULE_TIERS=3h=2s,1d=2s,7d=2s,30d=2s,90d=2s",
        "-s",
        "PALIMPSEST_SCHEDULE_MIN_INTERVAL=1s",
    ]
    add_story(cli, newsroom)
    run_once(cli, *fast)
    newsroom.publish()
    time.sleep(2.5)

    result = run_once(cli, *fast)

    assert "5 article(s) due" in result.stdout and "0 source(s) to poll" in result.stdout
    with sessions() as session:
        ledger = session.scalars(select(Article).where(Article.canonical_url == newsroom.seed_url())).one()
        versions = session.scalars(select(Version).where(Version.article_id == ledger.id).order_by(Version.seq)).all()
    assert [v.seq for v in versions] == [1, 2]
    assert versions[1].headline.startswith("Harbor City Council Approves")


def test_hard_paywalled_article_points_to_free_coverage(newsroom, cli):
    newsroom.revise(newsroom.key_for(newsroom.seed_url()), access="hard")
    add_story(cli, newsroom)
    run_once(cli)

    view = json.loads(cli("story", "show", "water", "--json", check=True).stdout)
    ledger = next(a for group in view["outlets"] for a in group["articles"] if a["url"] == newsroom.seed_url())
    assert (ledger["access"], ledger["complete"]) == ("hard", False)
    assert newsroom.url("courier", COURIER_PATH) in ledger["free_alternatives"]
    text = cli("story", "show", "water", check=True).stdout
    assert f"paywalled: free coverage of this story at {newsroom.url('courier', COURIER_PATH)}" in text


def test_requests_say_who_we_are(newsroom, cli):
    add_story(cli, newsroom)
    run_once(cli)
    agents = {headers.get("user-agent", "") for _outlet, _path, headers in newsroom.request_log}
    assert agents and all(agent.startswith("palimpsest/") and "news archiver" in agent for agent in agents)
    assert any(path == "/robots.txt" for _outlet, path, _headers in newsroom.request_log)


def _start_run(cli, *extra):
    env = dict(
        os.environ,
        PALIMPSEST_DATABASE_URL=cli.database_url,
        PALIMPSEST_ARCHIVE_DIR=str(cli.archive_dir),
        PALIMPSEST_ALLOW_PRIVATE_ADDRESSES=LOOPBACK_ONLY,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "palimpsest", "run", "--max-sleep", "1", *extra],
        cwd=cli.cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for_captures(sessions, count, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sessions() as session:
            if len(session.scalars(select(Capture.id)).all()) >= count:
                return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} captures after {timeout}s")


def test_a_killed_run_resumes_where_it_left(newsroom, cli, sessions):
    add_story(cli, newsroom)
    # Slow enough (per-domain delay) that the kill lands mid-pass.
    process = _start_run(
        cli, "-s", "DOWNLOAD_DELAY=0.4", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"
    )
    try:
        _wait_for_captures(sessions, 2)
        process.send_signal(signal.SIGKILL)
    finally:
        process.communicate(timeout=30)  # reaps it and closes the pipe
    with sessions() as session:
        interrupted_at = len(session.scalars(select(Capture.id)).all())
    assert interrupted_at < 13  # it really was cut short

    run_once(cli)

    assert set(members(sessions)) == set(newsroom.story_urls())
    with sessions() as session:
        per_article = session.execute(select(Version.article_id, Version.seq)).all()
        pending = session.scalars(select(StoryCandidate).where(StoryCandidate.decision == "pending")).all()
    assert sorted(seq for _aid, seq in per_article) == [1] * len(per_article)  # nothing stored twice
    # Only what a joiner's links brought in waits, for the next pass.
    assert {candidate.url for candidate in pending} <= set(newsroom.second_hop_urls())


def test_sigterm_stops_cleanly_with_nothing_half_written(newsroom, cli, sessions):
    add_story(cli, newsroom)
    process = _start_run(
        cli, "-s", "DOWNLOAD_DELAY=0.3", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"
    )
    try:
        _wait_for_captures(sessions, 2)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 128 + signal.SIGTERM, output  # cut short: cron can tell
    assert "Stopping" in output and "Traceback" not in output
    with sessions() as session:
        versions = session.scalars(select(Version)).all()
        capture_versions = {
            c.version_id for c in session.scalars(select(Capture).where(Capture.outcome == "new_version"))
        }
    assert {v.id for v in versions} == capture_versions  # every version came with its capture


@pytest.mark.parametrize("flag", ["--once", ""])
def test_run_with_no_stories_does_nothing_politely(cli, sessions, flag):
    result = cli("run", *([flag] if flag else ["--once"]), check=True)
    assert "nothing due" in result.stdout
