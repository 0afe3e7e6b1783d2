"""Judging a story's fetched candidates: who joins, who is turned down, and why. Session
first, never commits.

A candidate is judged by the story's rules (``storage.matching``: its terms, or its vocabulary
shared with the seed articles) on the text its capture kept (``candidate_texts``) or, for an
article already archived for another reason, on its current version. A joiner becomes a
member, gets its first version and is scheduled; the links it makes become the story's
candidates, one hop, whenever it joined. An index page is turned down whatever it says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from palimpsest.storage import repository as repo
from palimpsest.storage.ingest import UNDECIDED_STATES, version_from_candidate_text
from palimpsest.storage.matching import StoryMatcher
from palimpsest.storage.models import Article, CandidateText, Capture, Story, StoryArticle, StoryCandidate, Version
from palimpsest.storage.schedule import CheckOutcome, SchedulePolicy
from palimpsest.storage.stories import MAX_CANDIDATE_ATTEMPTS, FoundURL, is_member, schedule, triage


def story_matcher(session: Session, story: Story) -> StoryMatcher:
    """Terms and seed texts: the rules candidates are judged by."""
    seed_texts = session.scalars(
        select(Version.text)
        .join(StoryArticle, StoryArticle.article_id == Version.article_id)
        .where(StoryArticle.story_id == story.id, StoryArticle.how == "seed")
        .order_by(Version.article_id, Version.seq.desc())
    ).all()
    return StoryMatcher.build(story.match_terms or [], seed_texts, story.similarity_threshold)


@dataclass
class Evaluation:
    joined: list[tuple[str, str, float | None]] = field(default_factory=list)  # (url, how, score)
    rejected: int = 0
    waiting: int = 0
    linked: int = 0  # new candidates from the joiners' links


def evaluate_candidates(
    session: Session, story: Story, *, now: datetime, policy: SchedulePolicy | None = None
) -> Evaluation:
    """Judge the story's fetched candidates. Joiners become members, are scheduled, get their
    first version from the text their capture kept, and bring the links they make in as the
    story's candidates (one hop from every member, whenever it joined). The turned down keep
    no version: their text stays in ``candidate_texts``."""
    policy = policy or SchedulePolicy()
    matcher = story_matcher(session, story)
    evaluation = Evaluation()
    pending = session.scalars(
        select(StoryCandidate).where(StoryCandidate.story_id == story.id, StoryCandidate.decision == "pending")
    ).all()
    for candidate in pending:
        article = session.get(Article, candidate.article_id) if candidate.article_id else None
        article = article or repo.find_article_by_urls(session, [candidate.url])
        version = repo.current_version(session, article.id) if article is not None else None
        kept = session.get(CandidateText, article.id) if article is not None and version is None else None
        if article is not None and article.state == "index" and version is None:
            candidate.article_id, candidate.decision, candidate.decided_at = article.id, "rejected", now
            candidate.reason = _last_error(session, article) or "index page"
            evaluation.rejected += 1
            continue
        if version is None and kept is None:
            if candidate.attempts >= MAX_CANDIDATE_ATTEMPTS:
                candidate.decision, candidate.decided_at = "failed", now
                candidate.reason = f"no article text after {candidate.attempts} attempts"
            else:
                evaluation.waiting += 1
            continue
        assert article is not None
        candidate.article_id = article.id
        if is_member(session, story.id, article.id):
            candidate.decision, candidate.decided_at, candidate.reason = "joined", now, "already in the story"
            continue
        headline, text = (version.headline, version.text) if version is not None else (kept.headline, kept.text)
        verdict = matcher.judge(headline, text, how=candidate.how)
        candidate.decided_at, candidate.score, candidate.reason = now, verdict.score, verdict.reason
        if not verdict.joined:
            candidate.decision = "rejected"
            if article.state == "candidate":
                article.state = "rejected"
            evaluation.rejected += 1
            continue
        candidate.decision = "joined"
        how = "similar" if verdict.rule == "similar" else candidate.how
        repo.add_to_story(session, story, article, how, verdict.score, now)
        if version is None:
            version = version_from_candidate_text(session, article, kept, now)
        if article.state in UNDECIDED_STATES:
            article.state = "active"
            schedule(article, CheckOutcome(kind="changed"), now, policy)
        evaluation.joined.append((article.canonical_url, how, verdict.score))
        links = [FoundURL(url, "link") for url in version.links or []]
        if links:
            evaluation.linked += len(triage(session, story.id, links, now=now, policy=policy).fetch)
    return evaluation


def _last_error(session: Session, article: Article) -> str | None:
    return session.scalar(
        select(Capture.error)
        .where(Capture.article_id == article.id, Capture.outcome == "not_article")
        .order_by(Capture.fetched_at.desc(), Capture.id.desc())
        .limit(1)
    )
