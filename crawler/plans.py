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

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from palimpsest.crawler.extract.urls import BadURLError, normalise_url
from palimpsest.crawler.warc import warc_date
from palimpsest.storage import claims, stories
from palimpsest.storage import repository as repo
from palimpsest.storage.models import Article, Capture, Outlet, Story, StoryCandidate, StorySource

DEFAULT_VERIFY_EVERY = 8


def _original_records(session: Session, articles: list[Article]) -> dict[int, tuple[str, str]]:
    """Per article: (target URI, WARC date) of the first archived response with its last
    payload, which a revisit record refers to. One query for all the articles."""
    wanted = {article.id: article.last_payload_digest for article in articles if article.last_payload_digest}
    if not wanted:
        return {}
    first = (
        select(Capture.article_id, func.min(Capture.id).label("id"))
        .where(Capture.article_id.in_(list(wanted)), Capture.warc_file.is_not(None))
        .where(Capture.payload_digest == Article.last_payload_digest, Article.id == Capture.article_id)
        .group_by(Capture.article_id)
        .subquery()
    )
    rows = session.execute(
        select(Capture.article_id, Capture.final_url, Capture.requested_url, Capture.fetched_at).join(
            first, Capture.id == first.c.id
        )
    )
    return {row.article_id: (row.final_url or row.requested_url, warc_date(row.fetched_at)) for row in rows}


def plans_for(
    session: Session, articles: list[Article], *, verify_every: int = DEFAULT_VERIFY_EVERY
) -> dict[int, dict[str, Any]]:
    """Per article id, its plan; a few queries whatever the number of articles."""
    outlets = {
        outlet.id: outlet
        for outlet in session.scalars(select(Outlet).where(Outlet.id.in_({a.outlet_id for a in articles})))
    }
    originals = _original_records(session, articles)
    plans = {}
    for article in articles:
        outlet = outlets.get(article.outlet_id)
        verification_due = verify_every > 0 and article.unchanged_streak % verify_every == verify_every - 1
        conditional = bool(outlet is not None and outlet.validators_trusted and not verification_due)
        plans[article.id] = {
            "article_id": article.id,
            "previous_digest": article.last_payload_digest,
            "revisit_of": originals.get(article.id),
            "etag": article.etag if conditional else None,
            "last_modified": article.last_modified if conditional else None,
        }
    return plans


def plan_for(session: Session, article: Article, *, verify_every: int = DEFAULT_VERIFY_EVERY) -> dict[str, Any]:
    return plans_for(session, [article], verify_every=verify_every)[article.id]


def fetch_plans(
    session: Session, urls: Iterable[str], *, verify_every: int = DEFAULT_VERIFY_EVERY
) -> dict[str, dict[str, Any]]:
    """Per requested URL: the known article's plan (URLs not yet archived get none)."""
    normalised: dict[str, str] = {}
    for url in urls:
        try:
            normalised[url] = normalise_url(url)
        except BadURLError:
            continue
    article_of = repo.articles_by_urls(session, list(set(normalised.values())))
    articles = list({article.id: article for article in article_of.values()}.values())
    plans = plans_for(session, articles, verify_every=verify_every)
    return {url: plans[article_of[n].id] for url, n in normalised.items() if n in article_of}


# --- a pass of `palimpsest run` ---------------------------------------------------------------


# (kind, row id, claim token, lease end as a Unix time): the claimed check a request belongs
# to (storage.claims; checked before sending by crawler.claim_check).
Claim = tuple[str, int, str, float]


@dataclass(frozen=True)
class SourceWork:
    id: int
    story_id: int
    kind: str
    url: str
    plan: dict[str, Any] = field(default_factory=dict)  # the source's own validators
    claim: Claim | None = None


@dataclass(frozen=True)
class SeedWork:
    url: str
    story_slug: str
    story_ids: tuple[int, ...]
    claim: Claim | None = None
    source_id: int | None = None  # its story_sources row, settled after the pass


@dataclass(frozen=True)
class ArticleWork:
    url: str
    plan: dict[str, Any]
    story_ids: tuple[int, ...]
    claim: Claim | None = None


@dataclass(frozen=True)
class CandidateWork:
    url: str
    story_slug: str
    how: str
    claim: Claim | None = None


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
    lease: claims.Lease | None = None,
) -> PassWork:
    """What is due now. With a ``lease`` (many workers), only what this call claimed: at most
    ``article_limit`` of each kind, none of it held by another worker; the caller commits."""
    story_filter = [story] if story is not None else list(session.scalars(select(Story).order_by(Story.id)))
    slugs = {s.id: s.slug for s in story_filter}

    def claimed(kind: str, rows: list[Any], order: list[Any], *still_due: Any) -> tuple[list[Any], dict[int, Claim]]:
        """With a lease: the rows this call claimed (``still_due`` is re-checked under the row
        lock), and their claims."""
        if lease is None or not rows:
            return rows, {}
        model = claims.CLAIMABLE[kind]
        due = select(model.id).where(model.id.in_([row.id for row in rows]), *still_due).order_by(*order)
        ids = set(claims.claim(session, kind, due, lease, article_limit or len(rows)))
        return [row for row in rows if row.id in ids], {
            row_id: (kind, row_id, lease.token, lease.until.timestamp()) for row_id in ids
        }

    work = PassWork()
    sources = [s for s in stories.due_sources(session, now, story) if s.kind != "seed" and s.story_id in slugs]
    sources, source_claims = claimed(
        "source", sources, [StorySource.next_poll_at, StorySource.id], StorySource.next_poll_at <= now
    )
    for source in sources:
        plan = {"etag": source.etag, "last_modified": source.last_modified}
        work.sources.append(
            SourceWork(source.id, source.story_id, source.kind, source.url, plan, source_claims.get(source.id))
        )
    seeds = [(source, item) for source, item in stories.pending_seeds(session, story, now) if item.id in slugs]
    claimed_seeds, seed_claims = claimed("source", [source for source, _ in seeds], [StorySource.id])
    kept = {source.id for source in claimed_seeds}
    for source, item in seeds:
        if source.id in kept:
            work.seeds.append(SeedWork(source.url, item.slug, (item.id,), seed_claims.get(source.id), source.id))
    if lease is None:
        due = list(stories.due_articles(session, now, story, limit=article_limit))
        article_claims: dict[int, Claim] = {}
    else:
        ids = claims.claim(
            session, "article", stories.due_articles_query(now, story).with_only_columns(Article.id), lease,
            article_limit or 1000,
        )  # fmt: skip
        due = list(session.scalars(select(Article).where(Article.id.in_(ids)).order_by(Article.next_check_at)))
        article_claims = {
            article_id: ("article", article_id, lease.token, lease.until.timestamp()) for article_id in ids
        }
    member_of = stories.memberships(session, [a.id for a in due])
    plans = plans_for(session, due, verify_every=verify_every)
    for article in due:
        work.articles.append(
            ArticleWork(
                article.canonical_url, plans[article.id], tuple(member_of.get(article.id, ())),
                article_claims.get(article.id),
            )
        )  # fmt: skip
    candidates = [c for c in stories.unfetched_candidates(session, story) if c.story_id in slugs]
    candidates, candidate_claims = claimed(
        "candidate", candidates, [StoryCandidate.id], stories.awaiting_fetch()
    )  # fmt: skip
    for candidate in candidates:
        work.candidates.append(
            CandidateWork(candidate.url, slugs[candidate.story_id], candidate.how, candidate_claims.get(candidate.id))
        )
    return work


def load_pass_work(settings: Any, story_slug: str | None = None) -> PassWork:
    """The pass work for `scrapy crawl story`: opens the database named in the settings."""
    from datetime import UTC

    from palimpsest.storage.db import make_engine, make_session_factory
    from palimpsest.storage.migrate import ensure_schema

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
