"""Stories: their sources, their candidates, their members, and what is due. Session first,
never commits (the caller owns the transaction).

A story's sources are polled on their own clock. Every URL they point at becomes a candidate
of the story, fetched at most once; after a crawl pass the candidates that were fetched are
judged (``storage.matching``) and either join the story (with how they were found and a
score) or are rejected with the reason kept.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, delete, func, or_, select
from sqlalchemy.orm import Session

from palimpsest.storage import repository as repo
from palimpsest.storage.models import (
    ABTest,
    Article,
    CandidateText,
    Capture,
    Outlet,
    Story,
    StoryArticle,
    StoryCandidate,
    StorySource,
    Version,
)
from palimpsest.storage.revisions import ab_title
from palimpsest.storage.schedule import CheckOutcome, CheckState, SchedulePolicy, apply_hint, next_check

SOURCE_KINDS = ("seed", "feed", "sitemap")
DEFAULT_POLL_SECONDS = {"seed": 0, "feed": 15 * 60, "sitemap": 30 * 60}
MAX_CANDIDATE_ATTEMPTS = 3
# A turned-down candidate's kept text is judged again by another story without a new fetch
# while it is this fresh.
CANDIDATE_TEXT_FRESH = timedelta(hours=24)
# A seed whose fetch stored nothing at all (no capture, not even an error) is tried again after this.
SEED_RETRY_SECONDS = 300


class StoryExists(ValueError):
    pass


class InvalidStory(ValueError):
    """A story value a user gave cannot be used; the message says what is expected."""


# A slug names the story in URLs (/stories/SLUG) and commands: letters, digits, - _ and .
SLUG_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
MAX_TITLE_LENGTH = 500
MAX_TERM_LENGTH = 200
MIN_POLL_SECONDS = 60
MAX_POLL_SECONDS = 366 * 86_400


def check_slug(slug: str) -> str:
    if not SLUG_PATTERN.fullmatch(slug):
        raise InvalidStory(
            f"slug {slug!r}: use letters, digits, '-', '_' and '.', starting with a letter or digit"
            " (at most 100 characters), e.g. water-sale"
        )
    return slug


def check_story_values(
    slug: str, title: str, terms: Sequence[str], threshold: float | None, poll_seconds: int | None
) -> None:
    """What ``story add`` is given, checked before anything is stored."""
    check_slug(slug)
    if not title.strip() or len(title) > MAX_TITLE_LENGTH:
        raise InvalidStory(f"title: give 1 to {MAX_TITLE_LENGTH} characters")
    for term in terms:
        if not term.strip() or len(term) > MAX_TERM_LENGTH:
            raise InvalidStory(f"match term {term!r}: give 1 to {MAX_TERM_LENGTH} characters")
    if threshold is not None and not (math.isfinite(threshold) and 0 <= threshold <= 1):
        raise InvalidStory(f"similarity {threshold}: expected a share from 0 to 1, e.g. 0.15")
    if poll_seconds is not None and not MIN_POLL_SECONDS <= poll_seconds <= MAX_POLL_SECONDS:
        raise InvalidStory(f"poll {poll_seconds}: expected {MIN_POLL_SECONDS} to {MAX_POLL_SECONDS} seconds")


class StoryNotFound(LookupError):
    pass


@dataclass(frozen=True)
class SourceSpec:
    kind: str  # seed | feed | sitemap
    url: str  # normalised


def create_story(
    session: Session,
    slug: str,
    title: str,
    *,
    sources: Sequence[SourceSpec],
    terms: Sequence[str],
    now: datetime,
    threshold: float | None = None,
    poll_seconds: int | None = None,
) -> Story:
    """A new story with its sources, all due at once. Raises StoryExists for a taken slug."""
    if repo.get_story(session, slug) is not None:
        raise StoryExists(slug)
    story = Story(slug=slug, title=title, match_terms=list(terms), similarity_threshold=threshold, created_at=now)
    session.add(story)
    session.flush()
    for spec in dict.fromkeys(sources):
        session.add(
            StorySource(
                story_id=story.id,
                kind=spec.kind,
                url=spec.url,
                poll_interval_seconds=poll_seconds if poll_seconds is not None else DEFAULT_POLL_SECONDS[spec.kind],
                next_poll_at=now,
                created_at=now,
            )
        )
    session.flush()
    return story


@dataclass(frozen=True)
class Removed:
    """What ``remove_story`` deleted with the story (articles and their versions stay)."""

    members: int
    candidates: int
    sources: int


def remove_story(session: Session, story: Story) -> Removed:
    """Delete the story, its sources, candidates and memberships. The articles stay in the
    archive with every version and capture (and on their re-check schedule)."""
    removed = Removed(
        members=_delete(session, StoryArticle, StoryArticle.story_id == story.id),
        candidates=_delete(session, StoryCandidate, StoryCandidate.story_id == story.id),
        sources=_delete(session, StorySource, StorySource.story_id == story.id),
    )
    session.execute(delete(Story).where(Story.id == story.id))
    return removed


def _delete(session: Session, model: type, condition: Any) -> int:
    count = session.scalar(select(func.count()).select_from(model).where(condition)) or 0
    session.execute(delete(model).where(condition).execution_options(synchronize_session=False))
    return count


def require_story(session: Session, slug: str) -> Story:
    story = repo.get_story(session, slug)
    if story is None:
        raise StoryNotFound(slug)
    return story


def sources_of(session: Session, story: Story) -> Sequence[StorySource]:
    return session.scalars(select(StorySource).where(StorySource.story_id == story.id).order_by(StorySource.id)).all()


# --- what is due ---------------------------------------------------------------------------------


def due_sources(session: Session, now: datetime, story: Story | None = None) -> Sequence[StorySource]:
    query = select(StorySource).where(StorySource.next_poll_at.is_not(None), StorySource.next_poll_at <= now)
    if story is not None:
        query = query.where(StorySource.story_id == story.id)
    return session.scalars(query.order_by(StorySource.next_poll_at, StorySource.id)).all()


def due_articles_query(now: datetime, story: Story | None = None) -> Select[tuple[Article]]:
    """Active articles whose next check has come, oldest due first."""
    query = select(Article).where(
        Article.state == "active", Article.next_check_at.is_not(None), Article.next_check_at <= now
    )
    if story is not None:
        query = query.join(StoryArticle, StoryArticle.article_id == Article.id).where(StoryArticle.story_id == story.id)
    return query.order_by(Article.next_check_at, Article.id)


def due_articles(
    session: Session, now: datetime, story: Story | None = None, limit: int | None = None
) -> Sequence[Article]:
    query = due_articles_query(now, story)
    return session.scalars(query.limit(limit) if limit else query).all()


def awaiting_fetch() -> Any:
    """The condition a candidate meets while it still needs a fetch: pending, fewer than
    ``MAX_CANDIDATE_ATTEMPTS`` tries, and either never fetched (a pass was interrupted) or
    fetched without leaving text to judge (a 500, a timeout, a refusal): a later pass tries
    it again, so a candidate is not stuck "waiting" because its outlet once failed."""
    left_no_text = and_(
        ~select(Version.id).where(Version.article_id == StoryCandidate.article_id).exists(),
        ~select(CandidateText.article_id).where(CandidateText.article_id == StoryCandidate.article_id).exists(),
        ~select(Article.id).where(Article.id == StoryCandidate.article_id, Article.state == "index").exists(),
    )
    return and_(
        StoryCandidate.decision == "pending",
        StoryCandidate.attempts < MAX_CANDIDATE_ATTEMPTS,
        or_(StoryCandidate.article_id.is_(None), left_no_text),
    )


def unfetched_candidates(session: Session, story: Story | None = None) -> Sequence[StoryCandidate]:
    """Candidates to fetch this pass (see ``awaiting_fetch``)."""
    query = select(StoryCandidate).where(awaiting_fetch())
    if story is not None:
        query = query.where(StoryCandidate.story_id == story.id)
    return session.scalars(query.order_by(StoryCandidate.id)).all()


def pending_seeds(
    session: Session, story: Story | None = None, now: datetime | None = None
) -> list[tuple[StorySource, Story]]:
    """Seed sources whose article is not (yet) a member of their story, with the story: a seed
    never fetched, or whose fetch left nothing stored. ``now``: only those due by then (a seed
    whose fetch left no trace is tried again later, see ``settle_seeds``).

    Once its article is a member, a seed is done: the article's own schedule re-checks it,
    and retries a refused or failed first fetch on the error back-off."""
    query = (
        select(StorySource, Story)
        .join(Story, Story.id == StorySource.story_id)
        .where(StorySource.kind == "seed")
        .order_by(StorySource.story_id, StorySource.id)
    )
    if story is not None:
        query = query.where(StorySource.story_id == story.id)
    if now is not None:
        query = query.where(or_(StorySource.next_poll_at.is_(None), StorySource.next_poll_at <= now))
    rows = session.execute(query).all()
    if not rows:
        return []
    found = repo.articles_by_urls(session, sorted({source.url for source, _story in rows}))
    rows_of_members = session.execute(
        select(StoryArticle.story_id, StoryArticle.article_id).where(
            StoryArticle.article_id.in_({article.id for article in found.values()})
        )
    )
    member = {(story_id, article_id) for story_id, article_id in rows_of_members}
    return [
        (source, owner)
        for source, owner in rows
        if source.url not in found or (owner.id, found[source.url].id) not in member
    ]


def settle_seeds(session: Session, source_ids: Iterable[int], now: datetime) -> None:
    """After a pass fetched these seeds: a seed whose article joined its story is done (its
    schedule is the article's now); one whose fetch left nothing stored waits, then is retried."""
    ids = list(source_ids)
    if not ids:
        return
    still_pending = {source.id for source, _story in pending_seeds(session)}
    for source in session.scalars(select(StorySource).where(StorySource.id.in_(ids))):
        source.last_polled_at = now
        if source.id in still_pending:
            source.last_error = "the fetch stored nothing; tried again later"
            source.next_poll_at = now + timedelta(seconds=max(source.poll_interval_seconds, SEED_RETRY_SECONDS))
        else:
            source.last_error = None
            source.next_poll_at = None


def next_due_at(session: Session, story: Story | None = None) -> datetime | None:
    """The earliest moment a source poll, a seed fetch or an article check falls due (None:
    nothing ever). A seed already in its story is not counted: its article's check is."""
    source_query = select(func.min(StorySource.next_poll_at)).where(StorySource.kind != "seed")
    article_query = select(func.min(Article.next_check_at)).where(Article.state == "active")
    if story is not None:
        source_query = source_query.where(StorySource.story_id == story.id)
        article_query = article_query.join(StoryArticle, StoryArticle.article_id == Article.id).where(
            StoryArticle.story_id == story.id
        )
    seeds = [source.next_poll_at or source.created_at for source, _story in pending_seeds(session, story)]
    moments = [m for m in (session.scalar(source_query), session.scalar(article_query), *seeds) if m is not None]
    return min(moments) if moments else None


def due_count(session: Session, now: datetime, story: Story | None = None) -> int:
    """How many source polls, seed fetches and article checks are due at ``now``."""
    sources = (
        select(func.count()).select_from(StorySource).where(StorySource.kind != "seed", StorySource.next_poll_at <= now)
    )
    if story is not None:
        sources = sources.where(StorySource.story_id == story.id)
    articles = due_articles_query(now, story).with_only_columns(func.count()).order_by(None)
    return (session.scalar(sources) or 0) + (session.scalar(articles) or 0) + len(pending_seeds(session, story, now))


def memberships(session: Session, article_ids: Iterable[int]) -> dict[int, list[int]]:
    """article id -> ids of the stories it belongs to."""
    ids = list(set(article_ids))
    result: dict[int, list[int]] = defaultdict(list)
    if ids:
        rows = session.execute(
            select(StoryArticle.article_id, StoryArticle.story_id).where(StoryArticle.article_id.in_(ids))
        )
        for article_id, story_id in rows:
            result[article_id].append(story_id)
    return result


# --- sources and candidates ----------------------------------------------------------------


def record_poll(
    session: Session,
    source: StorySource,
    *,
    now: datetime,
    status: int | None,
    error: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
) -> None:
    """A source was polled: remember the result and when to poll it next."""
    source.last_polled_at = now
    source.last_status = status
    source.last_error = error
    if status == 200:
        source.etag, source.last_modified = etag, last_modified
    if source.kind == "seed":
        source.next_poll_at = None  # a seed is fetched once; its article's schedule does the rest
    else:
        delay = source.poll_interval_seconds if not error else max(source.poll_interval_seconds, 300)
        source.next_poll_at = now + timedelta(seconds=delay)


@dataclass(frozen=True)
class FoundURL:
    url: str  # normalised: the candidate's identity
    how: str  # feed | sitemap | link
    title: str | None = None
    modified_at: datetime | None = None
    raw: str | None = None  # as the source wrote it (tracking parameters and all): what is fetched


@dataclass
class Triage:
    """What to do with URLs a source pointed at."""

    fetch: list[FoundURL] = field(default_factory=list)  # new candidates
    recheck: list[int] = field(default_factory=list)  # known members a hint says moved (article ids)


def triage(
    session: Session,
    story_id: int,
    found: Iterable[FoundURL],
    *,
    now: datetime,
    source_id: int | None = None,
    policy: SchedulePolicy | None = None,
) -> Triage:
    """Record new candidates (once per story and URL), apply re-check hints to known articles."""
    policy = policy or SchedulePolicy()
    result = Triage()
    seeds = set(
        session.scalars(select(StorySource.url).where(StorySource.story_id == story_id, StorySource.kind == "seed"))
    )
    for item in found:
        article = repo.find_article_by_urls(session, [item.url])
        if article is None and item.url in seeds:
            continue  # fetched as a seed in this pass
        if article is not None and is_member(session, story_id, article.id):
            if item.modified_at is not None and _apply_hint(session, article, item.modified_at, now, policy):
                result.recheck.append(article.id)
            continue
        created = repo.insert_ignoring_conflicts(
            session,
            StoryCandidate,
            {
                "story_id": story_id,
                "url": item.url,
                "how": item.how,
                "source_id": source_id,
                "article_id": article.id if article is not None else None,
                "title": item.title,
                "discovered_at": now,
                "decision": "pending",
                "attempts": 0,
            },
        )
        if created and (article is None or _stale_candidate(session, article, now)):
            result.fetch.append(item)
    return result


def _stale_candidate(session: Session, article: Article, now: datetime) -> bool:
    """An article known only as some story's candidate, whose kept text is too old to judge."""
    if article.state not in ("candidate", "rejected"):
        return False
    fetched_at = session.scalar(select(CandidateText.fetched_at).where(CandidateText.article_id == article.id))
    return fetched_at is None or now - fetched_at > CANDIDATE_TEXT_FRESH


def is_member(session: Session, story_id: int, article_id: int) -> bool:
    return (
        session.scalar(
            select(StoryArticle.article_id).where(
                StoryArticle.story_id == story_id, StoryArticle.article_id == article_id
            )
        )
        is not None
    )


def _apply_hint(session: Session, article: Article, hint: datetime, now: datetime, policy: SchedulePolicy) -> bool:
    """A feed/sitemap date newer than what we know of the page makes it due now (once per hint)."""
    if article.state != "active" or (article.last_hint_at is not None and hint <= article.last_hint_at):
        return False
    current = repo.current_version(session, article.id)
    known = current.modified_at if current is not None and current.modified_at else article.last_hint_at
    moved = apply_hint(
        policy,
        check_state(article),
        article.next_check_at or now,
        hint,
        now,
        known_modified_at=known,
    )
    article.last_hint_at = hint
    if moved is not None and moved <= now:
        article.next_check_at = now
        return True
    return False


def link_candidate(
    session: Session,
    story_id: int,
    url: str,
    article: Article,
    *,
    turned_down: str | None = None,
    now: datetime | None = None,
) -> None:
    """The fetched candidate ``url`` turned out to be ``article``; ``turned_down``: the reason
    it cannot join whatever its text says (an index page), decided now."""
    candidate = session.scalar(
        select(StoryCandidate).where(StoryCandidate.story_id == story_id, StoryCandidate.url == url)
    )
    if candidate is not None:
        candidate.article_id = article.id
        candidate.attempts += 1
        if turned_down and candidate.decision == "pending":
            candidate.decision, candidate.reason, candidate.decided_at = "rejected", turned_down, now


def turn_down(
    session: Session, story_id: int, url: str, article: Article, *, how: str, reason: str, now: datetime
) -> None:
    """A page the story named itself (a seed) that cannot be one of its articles: listed with
    the candidates it turned down, with the reason."""
    repo.insert_ignoring_conflicts(
        session,
        StoryCandidate,
        {
            "story_id": story_id, "url": url, "how": how, "article_id": article.id, "discovered_at": now,
            "decided_at": now, "decision": "rejected", "reason": reason, "attempts": 1,
        },
    )  # fmt: skip


# --- scheduling ---------------------------------------------------------------------------------


def check_state(article: Article) -> CheckState:
    return CheckState(
        first_seen_at=article.first_seen_at,
        published_at=article.published_at,
        last_checked_at=article.last_checked_at,
        last_changed_at=article.last_changed_at,
        unchanged_streak=article.unchanged_streak,
        key=article.id,
        error_streak=article.error_streak,
    )


def schedule(article: Article, outcome: CheckOutcome, now: datetime, policy: SchedulePolicy) -> None:
    """Apply the schedule policy after a check made at ``now``."""
    decision = next_check(policy, check_state(article), outcome, now)
    article.next_check_at = decision.next_check_at
    article.check_interval_seconds = int(decision.interval.total_seconds()) if decision.interval else None
    article.unchanged_streak = decision.unchanged_streak
    article.error_streak = decision.error_streak
    if decision.state != "active":
        article.state = decision.state


# --- views ----------------------------------------------------------------------------------------


def list_stories(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Story, func.count(StoryArticle.article_id))
        .outerjoin(StoryArticle, StoryArticle.story_id == Story.id)
        .group_by(Story.id)
        .order_by(Story.slug)
    ).all()
    return [
        {"slug": story.slug, "title": story.title, "articles": count, "created_at": story.created_at.isoformat()}
        for story, count in rows
    ]


def _last_captures(session: Session, article_ids: list[int]) -> dict[int, Capture]:
    """article id -> its latest capture, for the few articles that have no version."""
    if not article_ids:
        return {}
    latest = (
        select(func.max(Capture.id)).where(Capture.article_id.in_(article_ids)).group_by(Capture.article_id)
    ).scalar_subquery()
    return {capture.article_id: capture for capture in session.scalars(select(Capture).where(Capture.id.in_(latest)))}


def story_view(session: Session, story: Story) -> dict[str, Any]:
    """The story per outlet: each article's latest headline, versions, last change, access.

    An article behind a hard or registration wall lists the story's free coverage.
    """
    latest = (
        select(Version.article_id, func.max(Version.seq).label("seq"), func.count().label("count"))
        .group_by(Version.article_id)
        .subquery()
    )
    rows = session.execute(
        select(StoryArticle, Article, Outlet, Version, latest.c.count)
        .join(Article, Article.id == StoryArticle.article_id)
        .join(Outlet, Outlet.id == Article.outlet_id)
        .outerjoin(latest, latest.c.article_id == Article.id)
        .outerjoin(Version, and_(Version.article_id == Article.id, Version.seq == latest.c.seq))
        .where(StoryArticle.story_id == story.id)
        .order_by(Outlet.domain, StoryArticle.joined_at, Article.id)
    ).all()
    unfetched = [article.id for _member, article, _outlet, version, _count in rows if version is None]
    last_tries = _last_captures(session, unfetched)
    articles = []
    for member, article, outlet, version, count in rows:
        last_try = last_tries.get(article.id)
        articles.append(
            {
                "url": article.canonical_url,
                "outlet": outlet.domain,
                "outlet_name": outlet.name,
                "how": member.how,
                "score": member.score,
                "joined_at": member.joined_at.isoformat(),
                "headline": version.headline if version else None,
                "versions": count or 0,
                "last_change": (version.first_seen_at.isoformat() if version else None),
                "change_kinds": list(version.change_kinds or []) if version else [],
                "access": version.access if version else None,
                "complete": version.complete if version else None,
                "state": article.state,
                "next_check_at": article.next_check_at.isoformat() if article.next_check_at else None,
                "based_on_url": article.based_on_url,
                # Why an article has no text yet: its last fetch's outcome and error.
                "last_outcome": last_try.outcome if last_try else None,
                "last_error": last_try.error if last_try else None,
            }
        )
    # Articles A/B-testing their headlines (storage.revisions): the variants, not one per flip.
    tests = {
        test.article_id: test
        for test in session.scalars(select(ABTest).where(ABTest.article_id.in_([a.id for _m, a, *_ in rows])))
    }
    for (_member, article, *_rest), item in zip(rows, articles, strict=True):
        test = tests.get(article.id)
        item["ab_test"] = ab_title(v["headline"] for v in test.variants) if test is not None else None
    free = [a["url"] for a in articles if a["access"] == "free" and a["complete"]]
    for item in articles:
        item["free_alternatives"] = (
            [url for url in free if url != item["url"]] if item["access"] in ("hard", "registration") else []
        )
    by_outlet: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in articles:
        by_outlet[item["outlet"]].append(item)
    candidates = session.execute(
        select(StoryCandidate.decision, func.count())
        .where(StoryCandidate.story_id == story.id)
        .group_by(StoryCandidate.decision)
    ).all()
    rejected = turned_down(session, story)
    return {
        "slug": story.slug,
        "title": story.title,
        "match_terms": list(story.match_terms or []),
        "created_at": story.created_at.isoformat(),
        "sources": [
            {
                "kind": source.kind,
                "url": source.url,
                "poll_interval_seconds": source.poll_interval_seconds,
                "last_polled_at": source.last_polled_at.isoformat() if source.last_polled_at else None,
                "last_status": source.last_status,
                "last_error": source.last_error,
                "next_poll_at": source.next_poll_at.isoformat() if source.next_poll_at else None,
            }
            for source in sources_of(session, story)
        ],
        "outlets": [{"outlet": outlet, "articles": items} for outlet, items in by_outlet.items()],
        "candidates": dict(candidates),
        "rejected": rejected,
    }


def turned_down(session: Session, story: Story) -> list[dict[str, Any]]:
    """The candidates the story turned down, one entry per article (its AMP page, a short link
    and the canonical URL are one candidate), with every URL it was found under."""
    rows = session.execute(
        select(StoryCandidate, Article.canonical_url)
        .outerjoin(Article, Article.id == StoryCandidate.article_id)
        .where(StoryCandidate.story_id == story.id, StoryCandidate.decision.in_(("rejected", "failed")))
        .order_by(StoryCandidate.id)
    ).all()
    entries: dict[Any, dict[str, Any]] = {}
    for candidate, canonical in rows:
        key = candidate.article_id or candidate.url
        entry = entries.get(key)
        if entry is None:
            entry = entries[key] = {
                "url": canonical or candidate.url,
                "how": candidate.how,
                "score": candidate.score,
                "reason": candidate.reason,
                "decision": candidate.decision,
                "found_as": [],
            }
        if candidate.url not in entry["found_as"]:
            entry["found_as"].append(candidate.url)
    return list(entries.values())
