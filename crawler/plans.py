"""What the archive knows about URLs before fetching them, handed to the spider as plans.

A plan carries the previous payload digest (an identical payload skips extraction and is
archived as a WARC revisit of the record that holds it) and the validators for a conditional
request. Conditional requests go only to outlets whose validators have never lied, and every
``verify_every``-th unchanged re-check is sent without them, to catch a server whose 304s lie.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.extract.urls import BadURLError, normalise_url
from crawler.warc import warc_date
from storage import repository as repo
from storage import stories
from storage.models import Article, Capture, Outlet, Story

DEFAULT_VERIFY_EVERY = 8


def _original_record(session: Session, article: Article) -> tuple[str, str] | None:
    """(target URI, WARC date) of the first archived response with the article's last payload."""
    if not article.last_payload_digest:
        return None
    row = session.execute(
        select(Capture.final_url, Capture.requested_url, Capture.fetched_at)
        .where(
            Capture.article_id == article.id,
            Capture.payload_digest == article.last_payload_digest,
            Capture.warc_file.is_not(None),
        )
        .order_by(Capture.id)
        .limit(1)
    ).first()
    if row is None:
        return None
    return row.final_url or row.requested_url, warc_date(row.fetched_at)


def plan_for(session: Session, article: Article, *, verify_every: int = DEFAULT_VERIFY_EVERY) -> dict[str, Any]:
    outlet = session.get(Outlet, article.outlet_id)
    verification_due = verify_every > 0 and article.unchanged_streak % verify_every == verify_every - 1
    conditional = bool(outlet is not None and outlet.validators_trusted and not verification_due)
    return {
        "article_id": article.id,
        "previous_digest": article.last_payload_digest,
        "revisit_of": _original_record(session, article),
        "etag": article.etag if conditional else None,
        "last_modified": article.last_modified if conditional else None,
    }


def fetch_plans(
    session: Session, urls: Iterable[str], *, verify_every: int = DEFAULT_VERIFY_EVERY
) -> dict[str, dict[str, Any]]:
    """Per requested URL: the known article's plan (URLs not yet archived get none)."""
    plans: dict[str, dict[str, Any]] = {}
    for url in urls:
        try:
            normalised = normalise_url(url)
        except BadURLError:
            continue
        article = repo.find_article_by_urls(session, [normalised])
        if article is not None:
            plans[url] = plan_for(session, article, verify_every=verify_every)
    return plans


# --- a pass of `palimpsest run` ---------------------------------------------------------------


@dataclass(frozen=True)
class SourceWork:
    id: int
    story_id: int
    kind: str
    url: str
    plan: dict[str, Any] = field(default_factory=dict)  # the source's own validators


@dataclass(frozen=True)
class SeedWork:
    url: str
    story_slug: str
    story_ids: tuple[int, ...]


@dataclass(frozen=True)
class ArticleWork:
    url: str
    plan: dict[str, Any]
    story_ids: tuple[int, ...]


@dataclass(frozen=True)
class CandidateWork:
    url: str
    story_slug: str
    how: str


@dataclass(frozen=True)
class PassWork:
    """Everything one pass will fetch, decided from the database before the crawl starts."""

    sources: list[SourceWork] = field(default_factory=list)
    seeds: list[SeedWork] = field(default_factory=list)
    articles: list[ArticleWork] = field(default_factory=list)
    candidates: list[CandidateWork] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.sources or self.seeds or self.articles or self.candidates)

    def describe(self) -> str:
        return (
            f"{len(self.sources)} source(s) to poll, {len(self.seeds)} seed(s), "
            f"{len(self.articles)} article(s) due, {len(self.candidates)} candidate(s) left over"
        )


def pass_work(
    session: Session,
    now: datetime,
    *,
    story: Story | None = None,
    verify_every: int = DEFAULT_VERIFY_EVERY,
    article_limit: int | None = None,
) -> PassWork:
    story_filter = [story] if story is not None else list(session.scalars(select(Story).order_by(Story.id)))
    slugs = {s.id: s.slug for s in story_filter}
    work = PassWork()
    for source in stories.due_sources(session, now, story):
        if source.kind == "seed" or source.story_id not in slugs:
            continue
        plan = {"etag": source.etag, "last_modified": source.last_modified}
        work.sources.append(SourceWork(source.id, source.story_id, source.kind, source.url, plan))
    for item in story_filter:
        for source in stories.sources_of(session, item):
            if source.kind != "seed":
                continue
            article = repo.find_article_by_urls(session, [source.url])
            members = stories.memberships(session, [article.id]).get(article.id, []) if article else []
            if item.id not in members:
                work.seeds.append(SeedWork(source.url, item.slug, (item.id,)))
    due = stories.due_articles(session, now, story, limit=article_limit)
    member_of = stories.memberships(session, [a.id for a in due])
    for article in due:
        work.articles.append(
            ArticleWork(
                article.canonical_url,
                plan_for(session, article, verify_every=verify_every),
                tuple(member_of.get(article.id, ())),
            )
        )
    for candidate in stories.unfetched_candidates(session, story):
        if candidate.story_id in slugs:
            work.candidates.append(CandidateWork(candidate.url, slugs[candidate.story_id], candidate.how))
    return work


def load_pass_work(settings: Any, story_slug: str | None = None) -> PassWork:
    """The pass work for `scrapy crawl story`: opens the database named in the settings."""
    from datetime import UTC

    from storage.db import make_engine, make_session_factory
    from storage.migrate import ensure_schema

    engine = make_engine(settings["PALIMPSEST_DATABASE_URL"])
    ensure_schema(engine)
    try:
        with make_session_factory(engine, writes=False)() as session:
            story = stories.require_story(session, story_slug) if story_slug else None
            return pass_work(
                session, datetime.now(UTC), story=story, verify_every=settings.getint("PALIMPSEST_VERIFY_EVERY")
            )
    finally:
        engine.dispose()
