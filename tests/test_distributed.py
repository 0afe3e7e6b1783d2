"""Many workers on PostgreSQL and Redis: claims never hand one check to two workers, a dead
worker's checks are taken over when its lease ends, and concurrent writes never duplicate.

Real servers only: PostgreSQL from PALIMPSEST_TEST_DATABASE_URL, Redis on 127.0.0.1:6379
(PALIMPSEST_TEST_REDIS_URL to change it); skipped without them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scrapy import Request
from sqlalchemy import and_, func, select, text, update
from warcio.archiveiterator import ArchiveIterator

from palimpsest.crawler.extract.urls import normalise_url
from palimpsest.crawler.frontier import CheckDupeFilter, namespace_for
from palimpsest.newsroom import Newsroom
from palimpsest.storage import claims
from palimpsest.storage.db import make_engine, make_session_factory
from palimpsest.storage.ingest import ExtractedVersion, FetchRecord, ingest_capture
from palimpsest.storage.migrate import ensure_schema
from palimpsest.storage.models import Article, ArticleURL, Capture, Version
from tests.conftest import CLI, LOCAL_CRAWL, LOOPBACK_ONLY

REDIS_URL = os.environ.get("PALIMPSEST_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ARTICLES = 320


@pytest.fixture
def redis_url():
    import redis

    server = redis.Redis.from_url(REDIS_URL)
    try:
        server.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    yield REDIS_URL
    server.close()


@pytest.fixture
def pg_sessions(postgres_url):
    engine = make_engine(postgres_url)
    ensure_schema(engine)
    yield make_session_factory(engine)
    engine.dispose()


def _forget_namespace(redis_url: str, database_url: str) -> None:
    import redis

    server = redis.Redis.from_url(redis_url)
    for key in server.scan_iter(f"{namespace_for(database_url)}:*"):
        server.delete(key)
    server.close()


def _add_articles(sessions, count: int, due_at: datetime) -> list[int]:
    from palimpsest.storage import repository as repo

    with sessions() as session, session.begin():
        outlet = repo.get_or_create_outlet(session, "example.test", None, due_at)
        articles = [
            Article(
                canonical_url=f"http://example.test/a/{n}",
                outlet_id=outlet.id,
                first_seen_at=due_at,
                next_check_at=due_at,
                state="active",
            )
            for n in range(count)
        ]
        session.add_all(articles)
        session.flush()
        return [article.id for article in articles]


def _due(now: datetime):
    return (
        select(Article.id)
        .where(Article.state == "active", Article.next_check_at <= now)
        .order_by(Article.next_check_at, Article.id)
    )


# --- claims ------------------------------------------------------------------------------------


def test_workers_claiming_at_once_take_disjoint_checks(pg_sessions):
    now = datetime.now(UTC)
    ids = _add_articles(pg_sessions, 60, now - timedelta(minutes=1))
    barrier = threading.Barrier(3)
    taken: list[list[int]] = [[], [], []]

    def worker(index: int) -> None:
        lease = claims.Lease(claims.new_token(), now, 60)
        barrier.wait()
        for _ in range(10):
            with pg_sessions() as session, session.begin():
                got = claims.claim(session, "article", _due(now), lease, 7)
            taken[index] += got

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    everything = [article_id for batch in taken for article_id in batch]
    assert sorted(everything) == sorted(ids)  # every due check claimed, none twice
    assert all(taken)  # and all three workers got some


def test_a_lease_that_ran_out_is_taken_over_and_the_old_claim_is_refused(pg_sessions):
    now = datetime.now(UTC)
    [article_id] = _add_articles(pg_sessions, 1, now - timedelta(minutes=1))
    dead = claims.Lease("dead-worker", now, 30)
    with pg_sessions() as session, session.begin():
        assert claims.claim(session, "article", _due(now), dead, 10) == [article_id]
    with pg_sessions() as session, session.begin():  # within the lease: nobody else gets it
        assert claims.claim(session, "article", _due(now), claims.Lease("b", now + timedelta(seconds=5), 30), 10) == []

    later = now + timedelta(seconds=31)
    with pg_sessions() as session, session.begin():
        assert claims.claim(session, "article", _due(later), claims.Lease("b", later, 30), 10) == [article_id]
    with pg_sessions() as session, session.begin():
        assert not claims.renew(session, "article", article_id, "dead-worker", later + timedelta(seconds=30))
        assert claims.renew(session, "article", article_id, "b", later + timedelta(seconds=30))


def test_a_check_stored_meanwhile_is_not_claimed_again(pg_sessions):
    """Worker A stores the check (next check moves on) while B's claim statement waits on the
    row lock: B must re-read the row and find it no longer due."""
    now = datetime.now(UTC)
    [article_id] = _add_articles(pg_sessions, 1, now - timedelta(minutes=1))
    with pg_sessions() as holder:
        holder.begin()
        article = holder.execute(select(Article).where(Article.id == article_id).with_for_update()).scalar_one()
        article.next_check_at = now + timedelta(minutes=15)
        holder.flush()
        result: list[list[int]] = []

        def claim_meanwhile() -> None:
            with pg_sessions() as session, session.begin():
                session.execute(text("SET LOCAL lock_timeout = '10s'"))
                # Without SKIP LOCKED this would wait; with it the locked row is skipped now,
                # and after the commit it is no longer due: either way, not claimed.
                result.append(claims.claim(session, "article", _due(now), claims.Lease("b", now, 30), 10))

        thread = threading.Thread(target=claim_meanwhile)
        thread.start()
        thread.join()
        holder.commit()
    with pg_sessions() as session, session.begin():
        assert claims.claim(session, "article", _due(now), claims.Lease("c", now, 30), 10) == []
    assert result == [[]]


def test_storing_a_capture_releases_the_claim(pg_sessions):
    now = datetime.now(UTC)
    url = "http://example.test/released"
    with pg_sessions() as session, session.begin():
        _store(session, url, now)
    with pg_sessions() as session, session.begin():
        session.execute(update(Article).values(next_check_at=now - timedelta(seconds=1)))
        lease = claims.Lease("w", now, 60)
        [article_id] = claims.claim(session, "article", _due(now), lease, 10)
    with pg_sessions() as session, session.begin():
        _store(session, url, now + timedelta(seconds=2))
    with pg_sessions() as session:
        article = session.get(Article, article_id)
        assert (article.claim_token, article.claimed_until) == (None, None)
        assert article.next_check_at > now


def test_a_request_whose_claim_moved_on_is_dropped_before_it_is_sent(pg_sessions):
    import asyncio

    from palimpsest.crawler.claim_check import ClaimCheckMiddleware, ClaimLost

    now = datetime.now(UTC)
    [article_id] = _add_articles(pg_sessions, 1, now - timedelta(minutes=10))
    old = claims.Lease("old-worker", now - timedelta(seconds=120), 60)  # expired a minute ago
    with pg_sessions() as session, session.begin():
        assert claims.claim(session, "article", _due(old.now), old, 1) == [article_id]
    middleware = ClaimCheckMiddleware(pg_sessions, lease_seconds=60)

    def request(lease: claims.Lease) -> Request:
        claim = ("article", article_id, lease.token, lease.until.timestamp())
        return Request("http://example.test/a", meta={"palimpsest_claim": claim})

    # Not taken over yet: the late request renews the claim and goes out.
    assert asyncio.run(middleware.process_request(request(old))) is None
    with pg_sessions() as session:
        assert session.get(Article, article_id).claimed_until > now
    # Taken over by another worker once the renewed lease ran out: the old request is dropped.
    later = now + timedelta(seconds=61)
    new = claims.Lease("new-worker", later, 60)
    with pg_sessions() as session, session.begin():
        assert claims.claim(session, "article", _due(later), new, 1) == [article_id]
    with pytest.raises(ClaimLost):
        asyncio.run(middleware.process_request(request(old)))
    assert asyncio.run(middleware.process_request(request(new))) is None  # fresh: no round trip


# --- the shared duplicate filter ------------------------------------------------------------


def test_the_dupefilter_keeps_checks_apart_and_forgets_them(redis_url):
    import redis

    server = redis.Redis.from_url(redis_url)
    key = f"palimpsest:test-{os.getpid()}-{time.monotonic_ns()}:checks"
    dupefilter = CheckDupeFilter(server, key, ttl=30)
    try:
        first = Request("http://example.test/a", meta={"palimpsest_claim": ("article", 1, "t1", 0.0)})
        again = Request("http://example.test/a", meta={"palimpsest_claim": ("article", 1, "t1", 0.0)})
        next_check = Request("http://example.test/a", meta={"palimpsest_claim": ("article", 1, "t2", 0.0)})
        hop = Request("http://example.test/b", meta={**first.meta, "redirect_urls": ["http://example.test/a"]})

        assert not dupefilter.request_seen(first)
        assert dupefilter.request_seen(again)  # the same check, pushed twice: once
        assert not dupefilter.request_seen(next_check)  # a re-check is never swallowed
        assert not dupefilter.request_seen(hop)  # a redirect hop of an admitted check
        ttls = [server.ttl(k) for k in server.scan_iter(f"{key}:*")]
        assert len(ttls) == 2 and all(0 < ttl <= 30 for ttl in ttls)  # nothing kept forever
    finally:
        dupefilter.clear()
        server.close()


# --- concurrent writes ----------------------------------------------------------------------


def _store(session, url: str, when: datetime, text: str = "The same text.") -> int:
    fetch = FetchRecord(
        requested_url=url,
        canonical_url=normalise_url(url),
        outlet_domain="example.test",
        fetched_at=when,
        http_status=200,
        url_variants=((url, "requested"), (normalise_url(url), "canonical")),
        payload_digest=f"sha1:{hash(text)}",
    )
    version = ExtractedVersion(
        headline="Headline", dek=None, byline=None, text=text, content_hash=f"hash-{text}",
        word_count=len(text.split()), extractor="test",
    )  # fmt: skip
    return ingest_capture(session, fetch, version, now=when).article_id


def test_two_workers_storing_the_same_new_article_make_one_article(pg_sessions):
    """Both see no article for the URL, both insert: the loser retries and joins the winner."""
    from palimpsest.crawler.pipelines import retry_transaction

    now = datetime.now(UTC)
    url = "http://example.test/story?utm_source=a"
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def store(body: str) -> None:
        def attempt() -> None:
            with pg_sessions() as session, session.begin():
                barrier_wait()
                _store(session, url, now, body)

        try:
            retry_transaction(attempt, 10)
        except BaseException as exc:  # reported below
            errors.append(exc)

    waited = threading.local()

    def barrier_wait() -> None:
        if not getattr(waited, "done", False):
            waited.done = True
            barrier.wait()

    threads = [threading.Thread(target=store, args=(body,)) for body in ("First text.", "Second text.")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with pg_sessions() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 1
        assert session.scalar(select(func.count()).select_from(Capture)) == 2
        seqs = session.scalars(select(Version.seq).order_by(Version.seq)).all()
        assert seqs == [1, 2]  # two different texts: two versions, numbered once each
        assert session.scalar(select(func.count()).select_from(ArticleURL).where(ArticleURL.url == url)) <= 1


# --- three worker processes, one SIGKILLed ----------------------------------------------------


def _popen_worker(database_url: str, archive: Path, redis_url: str, cwd: Path, lease: int, batch: int):
    env = dict(
        os.environ,
        PALIMPSEST_DATABASE_URL=database_url,
        PALIMPSEST_ARCHIVE_DIR=str(archive),
        PALIMPSEST_ALLOW_PRIVATE_ADDRESSES=LOOPBACK_ONLY,
        PYTHONWARNINGS="ignore",
    )
    command = [
        sys.executable, "-m", "palimpsest", "run", "--redis", redis_url, "--until-idle", "--max-sleep", "2",
        *LOCAL_CRAWL, "-s", f"PALIMPSEST_CLAIM_LEASE_SECONDS={lease}", "-s", f"PALIMPSEST_CLAIM_BATCH={batch}",
        "-s", "PALIMPSEST_EXTRACT_WORKERS=1",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_until(predicate, timeout=120.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _captures_per_article(sessions) -> Counter:
    with sessions() as session:
        return Counter(session.scalars(select(Capture.article_id)))


def _held_by(token_prefix: str):
    """Due articles claimed under a token of this worker."""
    return and_(Article.next_check_at <= func.now(), Article.claim_token.startswith(token_prefix))


@pytest.mark.slow
def test_three_workers_check_every_article_once_and_survive_a_sigkill(postgres_url, redis_url, tmp_path):
    engine = make_engine(postgres_url)
    sessions = make_session_factory(engine)
    cli = CLI(database_url=postgres_url, archive_dir=tmp_path / "first", cwd=tmp_path)
    try:
        with Newsroom(generated=ARTICLES) as newsroom:
            urls = newsroom.generated_urls()
            cli.crawl(*urls)  # the first capture of every article
            edited = newsroom.generated_keys[::8]
            for key in edited:
                newsroom.revise(key, headline=f"Updated: {newsroom.articles[key].current.headline}")
            with sessions() as session, session.begin():
                session.execute(update(Article).values(next_check_at=datetime.now(UTC) - timedelta(seconds=1)))
            newsroom.request_log.clear()

            def captures() -> int:
                with sessions() as session:
                    return session.scalar(select(func.count()).select_from(Capture))

            archive = tmp_path / "workers"
            workers = [_popen_worker(postgres_url, archive, redis_url, tmp_path, lease=6, batch=20) for _ in range(3)]
            victim = f"{socket.gethostname()[:12]}.{workers[0].pid}."

            def victim_holds_checks() -> bool:
                with sessions() as session:
                    return bool(session.scalar(select(func.count()).where(_held_by(victim))))

            assert _wait_until(lambda: captures() >= ARTICLES + 60), "the workers never got going"
            assert _wait_until(victim_holds_checks), "the first worker never claimed anything"
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait()
            with sessions() as session:  # the dead worker's claimed and unfinished checks
                unfinished = set(session.scalars(select(Article.id).where(_held_by(victim))))
            outputs = [worker.communicate(timeout=240)[0] for worker in workers]
            fetched = Counter(path for _outlet, path, _headers in newsroom.request_log if path.startswith("/gen/"))
            warc_files = sorted(archive.glob("*.warc.gz"))
            per_article_after_first = _captures_per_article(sessions)

            # The next check of every article goes through the same shared duplicate filter,
            # whose keys from this check have not expired yet: they must not swallow it.
            with sessions() as session, session.begin():
                session.execute(update(Article).values(next_check_at=datetime.now(UTC) - timedelta(seconds=1)))
            again = _popen_worker(postgres_url, archive, redis_url, tmp_path, lease=60, batch=400)
            again_output = again.communicate(timeout=240)[0]
    finally:
        _forget_namespace(redis_url, postgres_url)

    for worker, output in zip(workers[1:], outputs[1:], strict=True):
        assert worker.returncode == 0, output
    assert workers[0].returncode == -signal.SIGKILL
    assert unfinished  # the dead worker held claims: others took them over after the lease
    assert sorted(set(per_article_after_first.values())) == [2]  # first crawl + exactly one stored check each
    assert all(per_article_after_first[article_id] == 2 for article_id in unfinished)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == ARTICLES  # no duplicate articles
        versions = Counter(session.scalars(select(Version.article_id)))
        edited_urls = {normalise_url(newsroom.article_url(key)) for key in edited}
        for article in session.scalars(select(Article)):
            assert versions[article.id] == (2 if article.canonical_url in edited_urls else 1), article.canonical_url
        assert session.scalar(select(func.count()).select_from(Article).where(Article.claim_token.is_not(None))) == 0
    assert again.returncode == 0, again_output
    assert sorted(set(_captures_per_article(sessions).values())) == [3]
    engine.dispose()
    # Every article was fetched for this check; only what the dead worker had in flight twice.
    assert len(fetched) == ARTICLES
    assert sum(fetched.values()) <= ARTICLES + 40
    # Each worker wrote its own WARC files; the survivors' read to the end.
    pids = {path.name.rsplit("-", 1)[1].split(".")[0] for path in warc_files}
    assert len(pids) == 3
    survivors = {str(worker.pid) for worker in workers[1:]}
    for path in warc_files:
        if path.name.rsplit("-", 1)[1].split(".")[0] in survivors:
            with path.open("rb") as stream:
                assert sum(1 for _ in ArchiveIterator(stream)) > 0
