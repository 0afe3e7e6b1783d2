"""The rows behind storage.revisions' decisions: what a revert, an A/B test and a version's
sentence actions leave in the archive. Session first, never commits (storage.ingest calls
these inside the capture's transaction).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from palimpsest.storage.models import ABTest, Article, Capture, Outlet, SentenceAction, StoryArticle, Version
from palimpsest.storage.revisions import RevisionPolicy, detect_ab_test
from palimpsest.storage.sentence_actions import sentence_actions


def earlier_hashes(session: Session, article_id: int, current_seq: int) -> dict[str, int]:
    """Content hash -> seq of the article's versions other than the current one (the latest
    seq for a hash seen twice)."""
    with session.no_autoflush:
        rows = session.execute(
            select(Version.content_hash, Version.seq)
            .where(Version.article_id == article_id, Version.seq != current_seq)
            .order_by(Version.seq)
        )
    return {content_hash: seq for content_hash, seq in rows}


def latest_seq(session: Session, article_id: int) -> int:
    return session.scalar(select(func.max(Version.seq)).where(Version.article_id == article_id)) or 0


def pending_suspect_hash(session: Session, article_id: int) -> str | None:
    """The content hash of the article's last capture, when that capture was suspect."""
    last = session.execute(
        select(Capture.outcome, Capture.content_hash)
        .where(Capture.article_id == article_id)
        .order_by(Capture.fetched_at.desc(), Capture.id.desc())
        .limit(1)
    ).first()
    return last.content_hash if last is not None and last.outcome == "suspect" else None


def record_revert(
    session: Session,
    article: Article,
    left: Version,
    target: Version,
    now: datetime,
    policy: RevisionPolicy,
) -> ABTest | None:
    """The article shows ``target`` again; mark (or extend) an A/B test when it keeps flipping."""
    article.current_seq = target.seq
    target.last_seen_at = max(target.last_seen_at, now)
    since = now - policy.ab_window
    earlier = session.execute(
        select(Capture.fetched_at, Version.seq)
        .join(Version, Version.id == Capture.version_id)
        .where(Capture.article_id == article.id, Capture.outcome == "revert", Capture.fetched_at >= since)
    ).all()
    found = detect_ab_test([*((when, seq) for when, seq in earlier), (now, target.seq)], left.seq, now, policy)
    if found is None:
        return None
    test = session.scalar(select(ABTest).where(ABTest.article_id == article.id))
    if test is None:
        test = ABTest(
            article_id=article.id,
            detected_at=now,
            first_flip_at=found.first_flip_at,
            last_flip_at=now,
            reverts=found.reverts,
            variants=[],
        )
        session.add(test)
        known: set[int] = set()
    else:
        known = {variant["seq"] for variant in test.variants}
    seqs = sorted(known | set(found.variant_seqs))
    rows = session.execute(
        select(Version.seq, Version.headline).where(Version.article_id == article.id, Version.seq.in_(seqs))
    )
    headlines = {seq: headline for seq, headline in rows}
    test.variants = [{"seq": seq, "headline": headlines.get(seq)} for seq in seqs]
    test.last_flip_at = now
    if known:
        test.reverts += 1
    return test


def record_sentence_actions(session: Session, previous: Version, version: Version) -> int:
    """Store the sentence actions that made ``version`` out of ``previous``; how many."""
    actions = sentence_actions(previous.text, version.text)
    for action in actions:
        session.add(
            SentenceAction(
                version_id=version.id,
                article_id=version.article_id,
                old_seq=previous.seq,
                new_seq=version.seq,
                action=action.action,
                old_index=action.old_index,
                new_index=action.new_index,
                old_sentence=action.old_sentence,
                new_sentence=action.new_sentence,
                word_diff=action.as_dict()["word_diff"],
            )
        )
    return len(actions)


def replace_sentence_actions(session: Session, previous: Version, version: Version) -> int:
    """``version`` now follows ``previous`` (an older capture was placed before it): its
    sentence actions are taken again against its new predecessor."""
    session.execute(delete(SentenceAction).where(SentenceAction.version_id == version.id))
    return record_sentence_actions(session, previous, version)


def shift_sentence_action_seqs(session: Session, article_id: int, first: int, by: int) -> None:
    """The article's versions from ``first`` on move ``by`` places up: so do the seqs its
    sentence actions name."""
    for column in (SentenceAction.old_seq, SentenceAction.new_seq):
        session.execute(
            update(SentenceAction)
            .where(SentenceAction.article_id == article_id, column >= first)
            .values({column: column + by})
            .execution_options(synchronize_session=False)
        )


def ab_tests(session: Session, story_id: int | None = None) -> list[dict[str, object]]:
    """Every A/B test (newest flip first) with its article's URL and outlet, for feeds and pages."""
    stmt = (
        select(ABTest, Article.canonical_url, Outlet.domain, Outlet.name)
        .join(Article, Article.id == ABTest.article_id)
        .join(Outlet, Outlet.id == Article.outlet_id)
        .order_by(ABTest.last_flip_at.desc(), ABTest.id.desc())
    )
    if story_id is not None:
        stmt = stmt.join(
            StoryArticle, (StoryArticle.article_id == ABTest.article_id) & (StoryArticle.story_id == story_id)
        )
    return [
        {
            "article_id": test.article_id,
            "url": url,
            "outlet": domain,
            "outlet_name": name,
            "variants": list(test.variants),
            "reverts": test.reverts,
            "first_flip_at": test.first_flip_at,
            "last_flip_at": test.last_flip_at,
        }
        for test, url, domain, name in session.execute(stmt)
    ]
