"""The scheduler as cron and a person run it: it idles honestly, retries what failed, and its
exit code tells what happened (0 all fine, 1 pages failed, 2 usage, 128 + signal when stopped)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

from sqlalchemy import select

from palimpsest.storage import stories
from palimpsest.storage.models import Article, StorySource, Version
from tests.conftest import LOCAL_CRAWL, LOOPBACK_ONLY
from tests.test_stories import add_story

# Seconds instead of minutes, so that the schedule can be watched in a test.
SHORT_SCHEDULE = [
    "-s", "PALIMPSEST_SCHEDULE_TIERS=3h=4s,1d=4s,7d=4s,30d=4s,90d=4s",
    "-s", "PALIMPSEST_SCHEDULE_MIN_INTERVAL=1s",
    "-s", "PALIMPSEST_SCHEDULE_ERROR_RETRY_BASE=1s",
]  # fmt: skip
NO_PRIVATE_ADDRESSES = ["-s", "PALIMPSEST_ALLOW_PRIVATE_ADDRESSES="]


def test_until_idle_on_a_fresh_story_exits_by_itself(newsroom, cli, sessions):
    add_story(cli, newsroom)

    started = time.monotonic()
    result = cli("run", "--until-idle", *LOCAL_CRAWL, timeout=120)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Nothing is due: stopping (--until-idle)." in result.stdout
    assert time.monotonic() - started < 120
    assert result.stdout.count("Pass ") == 1  # one pass did everything that was due
    with sessions() as session:
        seed = session.scalars(select(StorySource).where(StorySource.kind == "seed")).one()
        assert seed.next_poll_at is None  # the seed is its article's now: nothing keeps it due
        assert stories.due_count(session, datetime.now(UTC)) == 0


def test_a_refused_seed_is_retried_on_the_error_backoff_and_succeeds_once_allowed(newsroom, cli, sessions):
    add_story(cli, newsroom)

    refused = cli("run", "--once", *LOCAL_CRAWL, *SHORT_SCHEDULE, *NO_PRIVATE_ADDRESSES)

    assert refused.returncode == 1, refused.stdout + refused.stderr  # every fetch was refused
    assert "refused" in refused.stdout
    shown = cli("story", "show", "water", check=True).stdout
    assert "(no text yet: refused: 127.0.0.1 is a loopback address" in shown and "next try" in shown
    with sessions() as session:
        seed = session.scalars(select(Article).where(Article.canonical_url == newsroom.seed_url())).one()
        assert seed.next_check_at is not None and seed.error_streak == 1  # on the error back-off

    time.sleep(1.5)  # the back-off: 1 s here
    fixed = cli("run", "--until-idle", *LOCAL_CRAWL, *SHORT_SCHEDULE, timeout=120)

    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    with sessions() as session:
        seed = session.scalars(select(Article).where(Article.canonical_url == newsroom.seed_url())).one()
        versions = session.scalars(select(Version).where(Version.article_id == seed.id)).all()
    assert len(versions) == 1 and versions[0].headline


def test_run_sleeps_until_the_next_check_is_due_and_sigterm_exits_143(newsroom, cli, sessions):
    add_story(cli, newsroom)
    env = dict(
        os.environ,
        PALIMPSEST_DATABASE_URL=cli.database_url,
        PALIMPSEST_ARCHIVE_DIR=str(cli.archive_dir),
        PALIMPSEST_ALLOW_PRIVATE_ADDRESSES=LOOPBACK_ONLY,
        PYTHONWARNINGS="ignore",
    )
    command = [sys.executable, "-m", "palimpsest", "run", "-q", "--max-sleep", "60", *LOCAL_CRAWL, *SHORT_SCHEDULE]
    lines: list[tuple[float, str]] = []
    with subprocess.Popen(
        command, cwd=cli.cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            deadline = time.monotonic() + 150
            while time.monotonic() < deadline:
                line = process.stdout.readline()
                if not line:
                    break
                lines.append((time.monotonic(), line.rstrip()))
                if line.startswith("Pass 2"):
                    break
            process.send_signal(signal.SIGTERM)  # as the second pass starts: the crawl is opening
            _out, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()

    text = "\n".join(line for _at, line in lines)
    sleeps = [(at, line) for at, line in lines if line.startswith("Sleeping")]
    passes = [(at, line) for at, line in lines if line.startswith("Pass 2")]
    assert sleeps and passes, text
    # One nap, as long as the wait for the articles' next check (2 s, a changed article is
    # checked twice as often as its 4 s tier): no pass that finds nothing due, no spinning.
    seconds = int(sleeps[0][1].split()[1].rstrip("s"))
    assert 1 <= seconds <= 5, text
    assert "nothing due" not in text
    assert "article(s) due" in passes[0][1] and not passes[0][1].startswith("Pass 2: 0 source(s) to poll, 0 seed(s), 0")
    assert passes[0][0] - sleeps[0][0] >= seconds - 0.5
    assert process.returncode == 128 + signal.SIGTERM, (process.returncode, err)


def test_a_crawl_cut_short_by_sigterm_exits_143(newsroom, cli):
    slow = newsroom.url("courier", "/faults/slow")
    env = dict(
        os.environ,
        PALIMPSEST_DATABASE_URL=cli.database_url,
        PALIMPSEST_ARCHIVE_DIR=str(cli.archive_dir),
        PALIMPSEST_ALLOW_PRIVATE_ADDRESSES=LOOPBACK_ONLY,
        PYTHONWARNINGS="ignore",
    )
    command = [sys.executable, "-m", "palimpsest", "crawl", *LOCAL_CRAWL, "-s", "DOWNLOAD_TIMEOUT=5", slow]
    with subprocess.Popen(
        command, cwd=cli.cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            deadline = time.monotonic() + 60
            while not any(path == "/faults/slow" for _outlet, path, _headers in newsroom.request_log):
                assert time.monotonic() < deadline and process.poll() is None, "the crawl did not start"
                time.sleep(0.1)
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 128 + signal.SIGTERM, (out, err)
    assert "Interrupted" in out


def test_crawl_exits_1_when_every_page_failed_and_0_when_all_is_well(newsroom, cli):
    url = newsroom.seed_url()
    refused = cli("crawl", *LOCAL_CRAWL, *NO_PRIVATE_ADDRESSES, url)
    assert refused.returncode == 1 and "1 refused" in refused.stdout
    fine = cli("crawl", *LOCAL_CRAWL, url)
    assert fine.returncode == 0 and "1 new version" in fine.stdout


def test_seed_bookkeeping_and_next_due_time(sessions):
    """What makes the scheduler idle: a seed in its story is not due; one not yet in it is."""
    from palimpsest.storage.ingest import FetchRecord, StoryLink, ingest_capture
    from palimpsest.storage.stories import SourceSpec

    now = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    seed_url = "https://example.com/news/seed"
    with sessions() as session, session.begin():
        story = stories.create_story(
            session, "s", "S", sources=[SourceSpec("seed", seed_url)], terms=[], now=now, poll_seconds=None
        )
        assert [source.url for source, _story in stories.pending_seeds(session, story, now)] == [seed_url]
        assert stories.next_due_at(session, story) == now
        # The seed's fetch was refused: a capture, the article joins the story, on the back-off.
        fetch = FetchRecord(seed_url, seed_url, "example.com", now, outcome="refused", error="refused: robots.txt")
        ingest_capture(session, fetch, None, now=now, story=StoryLink("s", "seed"))
        stories.settle_seeds(session, [source.id for source in stories.sources_of(session, story)], now)
        article = session.scalars(select(Article)).one()
        assert stories.pending_seeds(session, story) == []
        assert article.next_check_at is not None and article.next_check_at > now
        assert stories.next_due_at(session, story) == article.next_check_at  # not the seed's creation time
