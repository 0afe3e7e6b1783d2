"""Group commit: captures stored in batches land exactly as if stored one by one, and one
capture that cannot be stored does not take the rest of its batch with it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from palimpsest.crawler.pipelines import StorePipeline, _Work
from palimpsest.storage.db import make_engine, make_session_factory
from palimpsest.storage.ingest import CaptureJob, ExtractedVersion, FetchRecord, ingest_capture, ingest_captures
from palimpsest.storage.models import Article, ArticleURL, Capture, Version

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


def _fetch(number: int, digest: str, **extra) -> FetchRecord:
    url = f"http://127.0.0.1:9/news/{number}"
    return FetchRecord(
        requested_url=url,
        canonical_url=url,
        outlet_domain="127.0.0.1",
        fetched_at=extra.pop("fetched_at", NOW),
        http_status=200,
        url_variants=((url, "requested"), (url, "canonical")),
        payload_digest=digest,
        **extra,
    )


def _version(number: int, text: str) -> ExtractedVersion:
    return ExtractedVersion(
        headline=f"Story {number}",
        dek=None,
        byline=None,
        text=text,
        content_hash=f"hash-{number}-{text}",
        word_count=len(text.split()),
        extractor="test",
    )


def _first_captures(sessions, count: int) -> dict[int, int]:
    ids = {}
    with sessions() as session, session.begin():
        for number in range(count):
            result = ingest_capture(session, _fetch(number, f"d{number}"), _version(number, "first"), now=NOW)
            ids[number] = result.article_id
    return ids


def _state(session, known: set[int]) -> list[tuple]:
    """Everything a re-check changes, in comparable form. (A new article's id, and so its
    schedule jitter, differs between the two runs on PostgreSQL: sequences do not roll back.)"""
    articles = [
        (a.canonical_url, a.last_checked_at, a.next_check_at if a.id in known else None, a.unchanged_streak,
         a.last_payload_digest)
        for a in session.scalars(select(Article).order_by(Article.canonical_url))
    ]  # fmt: skip
    captures = [
        (c.article_id if c.article_id in known else None, c.outcome, c.payload_digest, c.version_id is None)
        for c in session.scalars(select(Capture).order_by(Capture.id))
    ]
    versions = [
        (v.article_id if v.article_id in known else None, v.seq, v.last_seen_at, v.text)
        for v in session.scalars(select(Version).order_by(Version.seq, Version.text))
    ]
    return [articles, captures, versions]


def test_a_batch_stores_what_one_by_one_stores(sessions, database_url):
    ids = _first_captures(sessions, 6)
    later = NOW + timedelta(hours=3)

    def jobs():
        # unchanged payloads, a changed payload with the same text, a new version, a 304
        return [
            CaptureJob(_fetch(0, "d0", known_article_id=ids[0], fetched_at=later), None, later),
            CaptureJob(_fetch(1, "d1", known_article_id=ids[1], fetched_at=later), None, later),
            CaptureJob(_fetch(2, "d2-ad", known_article_id=ids[2], fetched_at=later), _version(2, "first"), later),
            CaptureJob(_fetch(3, "d3-new", known_article_id=ids[3], fetched_at=later), _version(3, "second"), later),
            CaptureJob(_fetch(4, "d4", known_article_id=ids[4], fetched_at=later, outcome="not_modified"), None, later),
            CaptureJob(_fetch(9, "d9", fetched_at=later), _version(9, "brand new"), later),
        ]

    with sessions() as session, session.begin():
        one_by_one = [ingest_capture(session, job.fetch, job.candidate, now=job.now) for job in jobs()]
        expected = _state(session, set(ids.values()))
        session.rollback()
    with sessions() as session, session.begin():
        batched = ingest_captures(session, jobs())
        got = _state(session, set(ids.values()))

    assert [(r.outcome, r.version_seq) for r in batched] == [(r.outcome, r.version_seq) for r in one_by_one]
    assert [r.outcome for r in batched] == [
        "unchanged",
        "unchanged",
        "unchanged",
        "new_version",
        "not_modified",
        "new_version",
    ]
    assert all(r.capture_id for r in batched)
    assert got == expected


def test_a_capture_that_cannot_be_stored_becomes_an_error_capture(sessions, database_url):
    """Retried once, then stored as an ``error`` capture saying why; the others are unharmed."""
    ids = _first_captures(sessions, 2)
    later = NOW + timedelta(hours=1)
    broken = _version(1, "changed")
    object.__setattr__(broken, "text", None)  # NOT NULL: the insert of this version fails
    engine = make_engine(database_url)
    pipeline = StorePipeline(make_session_factory(engine), retry_seconds=1)
    try:
        stored = pipeline._store_batch(
            [
                _Work(CaptureJob(_fetch(0, "d0", known_article_id=ids[0], fetched_at=later), None, later)),
                _Work(CaptureJob(_fetch(1, "d1-new", known_article_id=ids[1], fetched_at=later), broken, later)),
                _Work(CaptureJob(_fetch(7, "d7", fetched_at=later), _version(7, "fresh"), later)),
            ]
        )
        results = [item if isinstance(item, Exception) else item[0] for item in stored]
    finally:
        pipeline.close()
        engine.dispose()

    assert [type(r).__name__ for r in results] == ["IngestResult"] * 3
    assert results[1].outcome == "error"
    assert results[1].error.startswith("could not be stored: ")
    assert results[2].outcome == "new_version"
    with sessions() as session:
        outcomes = session.execute(
            select(Article.canonical_url, Capture.outcome).join(Capture).where(Capture.fetched_at == later)
        ).all()
        assert sorted(outcomes) == [
            ("http://127.0.0.1:9/news/0", "unchanged"),
            ("http://127.0.0.1:9/news/1", "error"),
            ("http://127.0.0.1:9/news/7", "new_version"),
        ]
        # nothing half-written for the broken one: no capture, no version, no URL beyond its first
        assert session.scalar(select(func.count()).select_from(Version).where(Version.article_id == ids[1])) == 1
        assert session.scalar(select(func.count()).select_from(ArticleURL).where(ArticleURL.article_id == ids[1])) == 1


@pytest.mark.parametrize("size", [1, 3])
def test_batches_never_exceed_their_size(sessions, database_url, size):
    """The pipeline drains what is queued in slices of at most ``max_batch``."""
    engine = make_engine(database_url)
    pipeline = StorePipeline(make_session_factory(engine), retry_seconds=1, max_batch=size)
    seen: list[int] = []
    original = pipeline._store_batch

    def spy(jobs, *rest):
        seen.append(len(jobs))
        return original(jobs, *rest)

    pipeline._store_batch = spy

    async def queue_and_wait() -> list:
        loop = asyncio.get_running_loop()
        futures = []
        for number in range(7):
            future = loop.create_future()
            job = CaptureJob(_fetch(number, f"d{number}"), _version(number, "text"), NOW)
            pipeline.pending.append((_Work(job), future))
            futures.append(future)
        pipeline.draining = loop.create_task(pipeline._drain())
        return await asyncio.gather(*futures)

    try:
        results = asyncio.run(queue_and_wait())
    finally:
        pipeline.close()
        engine.dispose()
    assert max(seen) == size and sum(seen) == 7
    assert [result.outcome for result, _discovered in results] == ["new_version"] * 7


def test_an_articles_links_become_candidates_in_the_transaction_that_stores_it(sessions, database_url):
    """If the crawl dies right after a capture is stored, its links are not forgotten: they are
    candidates already, and the next pass fetches them."""
    from palimpsest.storage import repository as repo
    from palimpsest.storage.models import Story, StoryCandidate
    from palimpsest.storage.stories import FoundURL

    with sessions() as session, session.begin():
        story_id = repo.get_or_create_story(session, "harbor", "Harbor", NOW).id
    links = [FoundURL("http://127.0.0.1:9/news/linked", "link", raw="http://127.0.0.1:9/news/linked?utm_source=x")]
    broken = _version(5, "text")
    object.__setattr__(broken, "text", None)
    engine = make_engine(database_url)
    pipeline = StorePipeline(make_session_factory(engine), retry_seconds=1)
    try:
        stored = pipeline._store_batch(
            [
                _Work(CaptureJob(_fetch(4, "d4"), _version(4, "text"), NOW), (story_id,), links),
                _Work(
                    CaptureJob(_fetch(5, "d5"), broken, NOW), (story_id,), [FoundURL("http://127.0.0.1:9/x", "link")]
                ),
            ]
        )
    finally:
        pipeline.close()
        engine.dispose()

    _result, discovered = stored[0]
    assert [(f.request_url, f.story_slug, f.url) for f in discovered.fetch] == [
        ("http://127.0.0.1:9/news/linked?utm_source=x", "harbor", "http://127.0.0.1:9/news/linked")
    ]
    failed, failed_discovered = stored[1]
    assert failed.outcome == "error" and failed_discovered.fetch == []
    with sessions() as session:
        assert session.scalars(select(Story.slug)).all() == ["harbor"]
        candidates = session.scalars(select(StoryCandidate.url)).all()
    assert candidates == ["http://127.0.0.1:9/news/linked"]  # none from the capture that failed
