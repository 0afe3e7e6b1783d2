"""Paginated, read-only views of the archive for the web view (``palimpsest.web``).

Session first, never commits, never loads an unbounded list: every list is one page of at
most ``MAX_PAGE_SIZE`` rows (LIMIT/OFFSET, one row more than asked to know whether a next page
exists), and lists select the columns they show, not whole versions with their text. Values
are plain dicts (datetimes kept as aware UTC ``datetime``; the caller formats them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Text, and_, cast, func, select
from sqlalchemy.orm import Session, aliased

from palimpsest.storage import repository as repo
from palimpsest.storage.diffing import diff_versions
from palimpsest.storage.history import Comparison, VersionNotFound, version_fields
from palimpsest.storage.models import Article, Capture, Outlet, Story, StoryArticle, StoryCandidate, Version

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Far beyond any real archive; keeps OFFSET within what every backend accepts.
MAX_PAGE_NUMBER = 1_000_000
# Free, complete articles of a story named beside a paywalled one.
FREE_COVERAGE_LIMIT = 20
PAYWALLED = ("hard", "registration")
SEARCH_MAX_LENGTH = 200


class PageError(ValueError):
    """A page number or size out of range."""


@dataclass(frozen=True)
class PageRequest:
    """Which page (1-based) of how many rows."""

    number: int = 1
    size: int = DEFAULT_PAGE_SIZE

    def __post_init__(self) -> None:
        if not 1 <= self.size <= MAX_PAGE_SIZE:
            raise PageError(f"page size must be between 1 and {MAX_PAGE_SIZE}")
        if not 1 <= self.number <= MAX_PAGE_NUMBER:
            raise PageError(f"page must be between 1 and {MAX_PAGE_NUMBER}")

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


@dataclass(frozen=True)
class Page:
    """One page of rows; ``total`` only where counting is cheap."""

    items: list[dict[str, Any]]
    number: int
    size: int
    has_next: bool
    total: int | None = None

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def _fetch_page(session: Session, stmt: Select[Any], request: PageRequest, total: int | None = None) -> Page:
    rows = session.execute(stmt.limit(request.size + 1).offset(request.offset)).mappings().all()
    items = [dict(row) for row in rows[: request.size]]
    return Page(items, request.number, request.size, len(rows) > request.size, total)


# --- stories --------------------------------------------------------------------------------------


def stories_page(session: Session, request: PageRequest) -> Page:
    """Stories by slug, with how many articles and outlets each covers."""
    page = _fetch_page(
        session,
        select(Story.id, Story.slug, Story.title, Story.created_at).order_by(Story.slug, Story.id),
        request,
    )
    ids = [item["id"] for item in page.items]
    counts: dict[int, tuple[int, int]] = {}
    if ids:
        rows = session.execute(
            select(StoryArticle.story_id, func.count(), func.count(Article.outlet_id.distinct()))
            .join(Article, Article.id == StoryArticle.article_id)
            .where(StoryArticle.story_id.in_(ids))
            .group_by(StoryArticle.story_id)
        )
        counts = {story_id: (articles, outlets) for story_id, articles, outlets in rows}
    for item in page.items:
        item["articles"], item["outlets"] = counts.get(item["id"], (0, 0))
    return page


def story_header(session: Session, story: Story) -> dict[str, Any]:
    """What a story page says above its coverage: title, terms, counts of members and candidates."""
    articles = session.scalar(select(func.count()).select_from(StoryArticle).where(StoryArticle.story_id == story.id))
    candidates = session.execute(
        select(StoryCandidate.decision, func.count())
        .where(StoryCandidate.story_id == story.id)
        .group_by(StoryCandidate.decision)
    ).all()
    return {
        "slug": story.slug,
        "title": story.title,
        "match_terms": list(story.match_terms or []),
        "created_at": story.created_at,
        "articles": articles or 0,
        "candidates": {decision: count for decision, count in candidates},
    }


def _latest_versions(session: Session, article_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """article id -> its latest version's summary and version count (no text loaded)."""
    if not article_ids:
        return {}
    latest = (
        select(Version.article_id, func.max(Version.seq).label("seq"), func.count().label("versions"))
        .where(Version.article_id.in_(article_ids))
        .group_by(Version.article_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Version.article_id,
            Version.seq,
            Version.headline,
            Version.first_seen_at,
            Version.change_kinds,
            Version.access,
            Version.complete,
            latest.c.versions,
        ).join(latest, and_(latest.c.article_id == Version.article_id, latest.c.seq == Version.seq))
    ).mappings()
    return {row["article_id"]: dict(row) for row in rows}


def free_coverage(session: Session, story: Story, limit: int = FREE_COVERAGE_LIMIT) -> list[dict[str, Any]]:
    """The story's articles whose latest version is free and complete: what to read instead."""
    latest = (
        select(Version.article_id, func.max(Version.seq).label("seq"))
        .join(StoryArticle, StoryArticle.article_id == Version.article_id)
        .where(StoryArticle.story_id == story.id)
        .group_by(Version.article_id)
        .subquery()
    )
    rows = session.execute(
        select(Article.id.label("article_id"), Article.canonical_url.label("url"), Outlet.domain.label("outlet"))
        .add_columns(Version.headline)
        .join(latest, latest.c.article_id == Article.id)
        .join(Version, and_(Version.article_id == Article.id, Version.seq == latest.c.seq))
        .join(Outlet, Outlet.id == Article.outlet_id)
        .where(Version.access == "free", Version.complete.is_(True))
        .order_by(Outlet.domain, Article.id)
        .limit(limit)
    ).mappings()
    return [dict(row) for row in rows]


def story_coverage(session: Session, story: Story, request: PageRequest) -> Page:
    """One page of the story's articles, by outlet: latest headline, access, versions, last change.

    A hard- or registration-walled article lists the story's free coverage.
    """
    stmt = (
        select(
            Article.id.label("article_id"),
            Article.canonical_url.label("url"),
            Article.state,
            Article.based_on_url,
            Outlet.domain.label("outlet"),
            Outlet.name.label("outlet_name"),
            StoryArticle.how,
            StoryArticle.score,
            StoryArticle.joined_at,
        )
        .join(Article, Article.id == StoryArticle.article_id)
        .join(Outlet, Outlet.id == Article.outlet_id)
        .where(StoryArticle.story_id == story.id)
        .order_by(Outlet.domain, StoryArticle.joined_at, Article.id)
    )
    total = session.scalar(select(func.count()).select_from(StoryArticle).where(StoryArticle.story_id == story.id))
    page = _fetch_page(session, stmt, request, total)
    _with_latest_versions(session, page.items)
    free: list[dict[str, Any]] | None = None
    for item in page.items:
        item["free_alternatives"] = []
        if item["access"] in PAYWALLED:
            free = free_coverage(session, story) if free is None else free
            item["free_alternatives"] = [f for f in free if f["article_id"] != item["article_id"]]
    return page


def group_by_outlet(items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive rows of one outlet together, in page order (pages are sorted by outlet)."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    names: dict[str, str | None] = {}
    for item in items:
        groups[item["outlet"]].append(item)
        names.setdefault(item["outlet"], item.get("outlet_name"))
    return [{"outlet": outlet, "outlet_name": names[outlet], "articles": rows} for outlet, rows in groups.items()]


# --- articles -------------------------------------------------------------------------------------


def article_header(session: Session, article: Article) -> dict[str, Any]:
    """An article's identity and counts: outlet, stories, versions, captures, latest headline."""
    outlet = session.get(Outlet, article.outlet_id)
    stories = session.execute(
        select(Story.slug, Story.title, StoryArticle.how, StoryArticle.score)
        .join(StoryArticle, StoryArticle.story_id == Story.id)
        .where(StoryArticle.article_id == article.id)
        .order_by(Story.slug)
        .limit(MAX_PAGE_SIZE)
    ).mappings()
    versions, latest_seq = session.execute(
        select(func.count(), func.max(Version.seq)).where(Version.article_id == article.id)
    ).one()
    latest = repo.version_by_seq(session, article.id, latest_seq) if latest_seq is not None else None
    last = repo.last_capture(session, article.id)
    return {
        "id": article.id,
        "url": article.canonical_url,
        "outlet": outlet.domain if outlet else None,
        "outlet_name": outlet.name if outlet else None,
        "state": article.state,
        "first_seen_at": article.first_seen_at,
        "published_at": article.published_at,
        "last_checked_at": article.last_checked_at,
        "next_check_at": article.next_check_at,
        "based_on_url": article.based_on_url,
        "stories": [dict(row) for row in stories],
        "versions": versions or 0,
        "latest_seq": latest_seq,
        "headline": latest.headline if latest else None,
        "byline": latest.byline if latest else None,
        "dek": latest.dek if latest else None,
        "captures": session.scalar(select(func.count()).select_from(Capture).where(Capture.article_id == article.id))
        or 0,
        "last_outcome": last.outcome if last else None,
        "last_error": last.error if last else None,
        "gone_since": gone_since(session, [article.id]).get(article.id) if article.state == "gone" else None,
    }


def article_timeline(session: Session, article: Article, request: PageRequest, total: int | None = None) -> Page:
    """One page of an article's versions, newest first, without their text."""
    stmt = (
        select(
            Version.seq,
            Version.first_seen_at,
            Version.last_seen_at,
            Version.headline,
            Version.byline,
            Version.word_count,
            Version.access,
            Version.complete,
            Version.change_kinds,
            Version.similarity,
        )
        .where(Version.article_id == article.id)
        .order_by(Version.seq.desc())
    )
    page = _fetch_page(session, stmt, request, total)
    for item in page.items:
        item["change_kinds"] = list(item["change_kinds"] or [])
    _add_archive_origins(session, article, page.items)
    return page


def _add_archive_origins(session: Session, article: Article, items: list[dict[str, Any]]) -> None:
    """Each version's ``origin`` (the archive its first sighting came from, or None when
    palimpsest fetched it) and, for an archived one, ``edited_after``: the previous version's
    last sighting. The edit happened between that and ``first_seen_at``, not at the capture."""
    seqs = [item["seq"] for item in items]
    if not seqs:
        return
    rows = session.execute(
        select(Version.seq, Capture.origin)
        .join(Capture, Capture.version_id == Version.id)
        .where(Version.article_id == article.id, Version.seq.in_(seqs))
        .order_by(Version.seq, Capture.fetched_at, Capture.id)
    ).all()
    origins: dict[int, str | None] = {}
    for seq, origin in rows:
        origins.setdefault(seq, origin)
    before = dict(
        session.execute(
            select(Version.seq, Version.last_seen_at).where(
                Version.article_id == article.id, Version.seq.in_([seq - 1 for seq in seqs])
            )
        ).all()
    )
    for item in items:
        item["origin"] = origins.get(item["seq"])
        item["edited_after"] = before.get(item["seq"] - 1) if item["origin"] else None


def latest_seq(session: Session, article_id: int) -> int | None:
    """The article's newest version number (None: no version yet)."""
    return session.scalar(select(func.max(Version.seq)).where(Version.article_id == article_id))


def compare(session: Session, article: Article, from_seq: int | None = None, to_seq: int | None = None) -> Comparison:
    """As ``storage.history.compare_versions``, loading only the two versions compared."""
    latest = latest_seq(session, article.id)
    if latest is None or (latest < 2 and (from_seq is None or to_seq is None)):
        raise VersionNotFound(f"only {latest or 0} version(s) archived: nothing to compare")
    to_seq = to_seq if to_seq is not None else latest
    from_seq = from_seq if from_seq is not None else to_seq - 1
    old = repo.version_by_seq(session, article.id, from_seq)
    new = repo.version_by_seq(session, article.id, to_seq)
    for seq, version in ((to_seq, new), (from_seq, old)):  # the one asked for first
        if version is None:
            raise VersionNotFound(f"no version {seq} (versions 1..{latest})")
    assert old is not None and new is not None
    return Comparison(article, old, new, diff_versions(version_fields(old), version_fields(new)))


# --- search and change feeds ---------------------------------------------------------------------


def search_headlines(session: Session, query: str, request: PageRequest) -> Page:
    """Versions whose headline contains ``query`` (any case; % and _ match themselves), newest first."""
    stmt = (
        select(
            Version.id.label("version_id"),
            Version.article_id,
            Version.seq,
            Version.first_seen_at,
            Version.headline,
            Version.access,
            Version.change_kinds,
            Article.canonical_url.label("url"),
            Outlet.domain.label("outlet"),
            Outlet.name.label("outlet_name"),
        )
        .join(Article, Article.id == Version.article_id)
        .join(Outlet, Outlet.id == Article.outlet_id)
        .where(Version.headline.icontains(query, autoescape=True))
        .order_by(Version.first_seen_at.desc(), Version.id.desc())
    )
    page = _fetch_page(session, stmt, request)
    for item in page.items:
        item["change_kinds"] = list(item["change_kinds"] or [])
    return page


def _has_change_kinds(session: Session) -> Any:
    length = func.jsonb_array_length if session.get_bind().dialect.name == "postgresql" else func.json_array_length
    return length(Version.change_kinds) > 0


def _reextracted(previous: Any) -> Any:
    """A version ``palimpsest reextract`` made (kinds exactly ["extraction"], another extractor
    than the version before): the extractor changed, not the article, so it is no change here."""
    kinds = func.coalesce(cast(Version.change_kinds, Text), "")
    return and_(kinds == '["extraction"]', Version.extractor != func.coalesce(previous.extractor, Version.extractor))


def changes_page(session: Session, request: PageRequest, story: Story | None = None) -> Page:
    """Classified changes (versions 2.. with change kinds), newest first, with the headline before."""
    previous = aliased(Version)
    stmt = (
        select(
            Version.id.label("version_id"),
            Version.article_id,
            Version.seq,
            Version.first_seen_at,
            Version.headline,
            Version.byline,
            Version.access,
            Version.change_kinds,
            Version.similarity,
            previous.headline.label("previous_headline"),
            previous.access.label("previous_access"),
            Article.canonical_url.label("url"),
            Outlet.domain.label("outlet"),
            Outlet.name.label("outlet_name"),
        )
        .join(Article, Article.id == Version.article_id)
        .join(Outlet, Outlet.id == Article.outlet_id)
        .outerjoin(previous, and_(previous.article_id == Version.article_id, previous.seq == Version.seq - 1))
        .where(Version.seq >= 2, _has_change_kinds(session), ~_reextracted(previous))
        .order_by(Version.first_seen_at.desc(), Version.id.desc())
    )
    if story is not None:
        stmt = stmt.join(
            StoryArticle, and_(StoryArticle.article_id == Version.article_id, StoryArticle.story_id == story.id)
        )
    page = _fetch_page(session, stmt, request)
    for item in page.items:
        item["change_kinds"] = list(item["change_kinds"] or [])
    return page


# --- the index: recent articles and outlets -------------------------------------------------------


def gone_since(session: Session, article_ids: Sequence[int]) -> dict[int, Any]:
    """article id -> when it was first found gone (404/410) since it last answered."""
    if not article_ids:
        return {}
    answered = aliased(Capture)
    last_answer = (
        select(func.coalesce(func.max(answered.id), 0))
        .where(answered.article_id == Capture.article_id, answered.outcome != "gone")
        .scalar_subquery()
    )
    rows = session.execute(
        select(Capture.article_id, func.min(Capture.fetched_at))
        .where(Capture.article_id.in_(article_ids), Capture.outcome == "gone", Capture.id > last_answer)
        .group_by(Capture.article_id)
    )
    return {article_id: moment for article_id, moment in rows}


def _with_latest_versions(session: Session, items: list[dict[str, Any]]) -> None:
    """Each row (with ``article_id`` and ``state``) gets its latest version's summary and, for
    a gone article, since when."""
    ids = [item["article_id"] for item in items]
    latest = _latest_versions(session, ids)
    gone = gone_since(session, [item["article_id"] for item in items if item["state"] == "gone"])
    for item in items:
        version = latest.get(item["article_id"], {})
        item.update(
            headline=version.get("headline"),
            versions=version.get("versions", 0),
            latest_seq=version.get("seq"),
            last_change=version.get("first_seen_at"),
            change_kinds=list(version.get("change_kinds") or []),
            access=version.get("access"),
            complete=version.get("complete"),
            gone_since=gone.get(item["article_id"]),
        )


def articles_page(session: Session, request: PageRequest, outlet: str | None = None) -> Page:
    """Every article, most recently changed (or first seen) first, whether in a story or not."""
    activity = func.coalesce(Article.last_changed_at, Article.first_seen_at)
    stmt = (
        select(
            Article.id.label("article_id"),
            Article.canonical_url.label("url"),
            Article.state,
            Article.first_seen_at,
            Article.last_checked_at,
            Outlet.domain.label("outlet"),
            Outlet.name.label("outlet_name"),
        )
        .join(Outlet, Outlet.id == Article.outlet_id)
        .where(Article.state != "candidate")  # fetched only to be judged for a story, and turned down
        .order_by(activity.desc(), Article.id.desc())
    )
    if outlet is not None:
        stmt = stmt.where(Outlet.domain == outlet)
    page = _fetch_page(session, stmt, request)
    _with_latest_versions(session, page.items)
    return page


def outlets_page(session: Session, request: PageRequest) -> Page:
    """Outlets by domain, with how many articles of each are archived."""
    stmt = (
        select(
            Outlet.domain.label("outlet"),
            Outlet.name.label("outlet_name"),
            func.count(Article.id).label("articles"),
            func.max(Article.last_changed_at).label("last_change"),
        )
        .join(Article, Article.outlet_id == Outlet.id)
        .where(Article.state != "candidate")
        .group_by(Outlet.id, Outlet.domain, Outlet.name)
        .order_by(Outlet.domain)
    )
    return _fetch_page(session, stmt, request)


# --- an article's versions and captures -----------------------------------------------------------


def version_page(session: Session, article: Article, seq: int) -> dict[str, Any]:
    """One version in full: its text, metadata, paywall evidence, and its neighbours."""
    version = repo.version_by_seq(session, article.id, seq)
    latest = latest_seq(session, article.id)
    if version is None:
        raise VersionNotFound(f"no version {seq} (versions 1..{latest or 0})")
    return {
        "article_id": article.id,
        "url": article.canonical_url,
        "seq": version.seq,
        "latest_seq": latest,
        "first_seen_at": version.first_seen_at,
        "last_seen_at": version.last_seen_at,
        "headline": version.headline,
        "dek": version.dek,
        "byline": version.byline,
        "published_at": version.published_at,
        "modified_at": version.modified_at,
        "language": version.language,
        "text": version.text,
        "paragraphs": [part for part in version.text.split("\n\n") if part.strip()],
        "captions": version.captions,
        "word_count": version.word_count,
        "access": version.access,
        "complete": version.complete,
        "paywall_evidence": list(version.paywall_evidence or []),
        "change_kinds": list(version.change_kinds or []),
        "similarity": version.similarity,
        "content_hash": version.content_hash,
        "extractor": version.extractor,
        "captures": session.scalars(
            select(Capture.id).where(Capture.version_id == version.id).order_by(Capture.id).limit(MAX_PAGE_SIZE)
        ).all(),
    }


def captures_page(session: Session, article: Article, request: PageRequest) -> Page:
    """One page of an article's fetches, newest first: what each got back, and the version seen."""
    stmt = (
        select(
            Capture.id.label("capture_id"),
            Capture.fetched_at,
            Capture.requested_url,
            Capture.final_url,
            Capture.http_status,
            Capture.outcome,
            Capture.error,
            Capture.reason,
            Capture.duration_ms,
            Capture.warc_file,
            Version.seq.label("version"),
        )
        .outerjoin(Version, Version.id == Capture.version_id)
        .where(Capture.article_id == article.id)
        .order_by(Capture.fetched_at.desc(), Capture.id.desc())
    )
    total = session.scalar(select(func.count()).select_from(Capture).where(Capture.article_id == article.id))
    page = _fetch_page(session, stmt, request, total)
    for item in page.items:
        item["archived"] = item.pop("warc_file") is not None
    return page


# --- a story's candidates -------------------------------------------------------------------------

TURNED_DOWN = ("rejected", "failed")


def candidates_page(
    session: Session, story: Story, request: PageRequest, decisions: Sequence[str] = TURNED_DOWN
) -> Page:
    """A story's candidates with these decisions (default: those turned down), with the reason."""
    stmt = (
        select(
            StoryCandidate.url,
            StoryCandidate.how,
            StoryCandidate.decision,
            StoryCandidate.score,
            StoryCandidate.reason,
            StoryCandidate.title,
            StoryCandidate.discovered_at,
            StoryCandidate.decided_at,
            StoryCandidate.article_id,
        )
        .where(StoryCandidate.story_id == story.id, StoryCandidate.decision.in_(list(decisions)))
        .order_by(StoryCandidate.decided_at.desc(), StoryCandidate.id.desc())
    )
    total = session.scalar(
        select(func.count())
        .select_from(StoryCandidate)
        .where(StoryCandidate.story_id == story.id, StoryCandidate.decision.in_(list(decisions)))
    )
    return _fetch_page(session, stmt, request, total)
