"""Reading and writing archive rows. Every function takes the session first and never commits:
the caller owns the transaction (``with factory() as s, s.begin(): ...``).

Rows that two writers may create at once (outlets, articles, URL variants, story membership)
are inserted with ON CONFLICT DO NOTHING and read back, so a race ends with one row, not an
integrity error.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from palimpsest.storage.models import Article, ArticleURL, Capture, Outlet, Story, StoryArticle, Version


def insert_ignoring_conflicts(session: Session, model: type, values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when the row was inserted.

    RETURNING tells, on both backends (an ORM session reports no rowcount on PostgreSQL).
    """
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    key = next(iter(model.__table__.primary_key.columns))
    result = session.execute(insert(model).values(**values).on_conflict_do_nothing().returning(key))
    return result.first() is not None


def get_or_create_outlet(
    session: Session, domain: str, name: str | None, now: datetime, known_ids: dict[str, int] | None = None
) -> Outlet:
    """``known_ids``: a caller's cache of domain -> id (outlets are never deleted)."""
    if known_ids is not None and domain in known_ids:
        outlet = session.get(Outlet, known_ids[domain])
        if outlet is not None:
            if name and not outlet.name:
                outlet.name = name
            return outlet
    outlet = _get_or_create_outlet(session, domain, name, now)
    if known_ids is not None:
        known_ids[domain] = outlet.id
    return outlet


def _get_or_create_outlet(session: Session, domain: str, name: str | None, now: datetime) -> Outlet:
    outlet = session.scalar(select(Outlet).where(Outlet.domain == domain))
    if outlet is None:
        insert_ignoring_conflicts(
            session, Outlet, {"domain": domain, "name": name, "validators_trusted": True, "created_at": now}
        )
        outlet = session.scalars(select(Outlet).where(Outlet.domain == domain)).one()
    if name and not outlet.name:
        outlet.name = name
    return outlet


def find_article_by_urls(session: Session, urls: Iterable[str]) -> Article | None:
    """The article any of these (normalised) URLs is already known as, canonical or variant
    (one query: every canonical URL is also recorded as a variant)."""
    urls = [u for u in dict.fromkeys(urls) if u]
    if not urls:
        return None
    by_variant = select(ArticleURL.article_id).where(ArticleURL.url.in_(urls))
    by_canonical = select(Article.id).where(Article.canonical_url.in_(urls))
    return session.scalar(select(Article).where(Article.id.in_(by_variant.union(by_canonical))).limit(1))


def articles_by_urls(session: Session, urls: list[str], chunk: int = 500) -> dict[str, Article]:
    """For each (normalised) URL that is known, canonical or variant, its article; a query
    per ``chunk`` URLs."""
    found: dict[str, Article] = {}
    for start in range(0, len(urls), chunk):
        part = urls[start : start + chunk]
        rows = session.execute(
            select(ArticleURL.url, Article)
            .join(Article, Article.id == ArticleURL.article_id)
            .where(ArticleURL.url.in_(part))
        ).all()
        rows += session.execute(select(Article.canonical_url, Article).where(Article.canonical_url.in_(part))).all()
        for url, article in rows:
            found.setdefault(url, article)
    return found


def get_or_create_article(session: Session, canonical_url: str, outlet: Outlet, now: datetime) -> tuple[Article, bool]:
    """The article for ``canonical_url``; True when this call created it (the caller looked
    for it already, so the insert comes first)."""
    created = insert_ignoring_conflicts(
        session,
        Article,
        {
            "canonical_url": canonical_url,
            "outlet_id": outlet.id,
            "first_seen_at": now,
            "state": "active",
            "unchanged_streak": 0,
        },
    )
    article = session.scalars(select(Article).where(Article.canonical_url == canonical_url)).one()
    return article, created


def record_url_variants(
    session: Session,
    article: Article,
    variants: Iterable[tuple[str, str]],
    now: datetime,
    known: set[str] | None = None,
) -> None:
    """Remember every URL the article was seen under, with how it was seen: one query for
    what is known, one insert for what is new (usually nothing, on a re-check).

    ``known``: URLs a caller already knows are recorded (no query then); kept up to date."""
    wanted = {url: kind for url, kind in variants if url}
    if not wanted:
        return
    if known is None:
        known = set(session.scalars(select(ArticleURL.url).where(ArticleURL.url.in_(list(wanted)))))
    elif wanted.keys() <= known:
        return
    rows = [
        {"url": url, "article_id": article.id, "kind": kind, "first_seen_at": now}
        for url, kind in wanted.items()
        if url not in known
    ]
    if rows:
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(insert(ArticleURL).values(rows).on_conflict_do_nothing())
        known.update(row["url"] for row in rows)


def current_version(session: Session, article_id: int) -> Version | None:
    """The latest version, or the earlier one a revert made current again (``current_seq``)."""
    shown = select(Article.current_seq).where(Article.id == article_id).scalar_subquery()
    return session.scalar(
        select(Version)
        .where(Version.article_id == article_id)
        .order_by(case((Version.seq == shown, 0), else_=1), Version.seq.desc())
        .limit(1)
    )


def versions_of(session: Session, article_id: int) -> Sequence[Version]:
    return session.scalars(select(Version).where(Version.article_id == article_id).order_by(Version.seq)).all()


def version_by_seq(session: Session, article_id: int, seq: int) -> Version | None:
    return session.scalar(select(Version).where(Version.article_id == article_id, Version.seq == seq))


def captures_of(session: Session, article_id: int) -> Sequence[Capture]:
    return session.scalars(
        select(Capture).where(Capture.article_id == article_id).order_by(Capture.fetched_at, Capture.id)
    ).all()


def last_capture(session: Session, article_id: int) -> Capture | None:
    return session.scalar(
        select(Capture)
        .where(Capture.article_id == article_id)
        .order_by(Capture.fetched_at.desc(), Capture.id.desc())
        .limit(1)
    )


def capture_count(session: Session, article_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Capture).where(Capture.article_id == article_id)) or 0


def get_story(session: Session, slug: str) -> Story | None:
    return session.scalar(select(Story).where(Story.slug == slug))


def get_or_create_story(session: Session, slug: str, title: str | None, now: datetime) -> Story:
    story = get_story(session, slug)
    if story is None:
        insert_ignoring_conflicts(
            session, Story, {"slug": slug, "title": title or slug, "match_terms": [], "created_at": now}
        )
        story = session.scalars(select(Story).where(Story.slug == slug)).one()
    return story


def add_to_story(
    session: Session, story: Story, article: Article, how: str, score: float | None, now: datetime
) -> bool:
    """Put the article in the story unless it is there already; True when it joined now."""
    exists = session.scalar(
        select(StoryArticle).where(StoryArticle.story_id == story.id, StoryArticle.article_id == article.id)
    )
    if exists is not None:
        return False
    insert_ignoring_conflicts(
        session,
        StoryArticle,
        {"story_id": story.id, "article_id": article.id, "how": how, "score": score, "joined_at": now},
    )
    return True
