"""Which versions an older extractor made, and recording what the current one reads instead.

Extraction improves; the archive keeps every payload it fetched, so an article's current text
can be re-read from the bytes. A different result is not an edit by the outlet: the new
version's change kinds are exactly ``["extraction"]`` and it names the extractor that made
it, so history, diff and export tell the two apart. Only the current version of an article
is re-read: it is what the next crawl compares against (an extractor upgrade must not show up
as an edit there), while older versions stay as they were read at the time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from palimpsest.storage.ingest import ExtractedVersion, _new_version
from palimpsest.storage.models import Article, Capture, Outlet, Story, StoryArticle, Version

EXTRACTION_KIND = "extraction"


@dataclass(frozen=True)
class Target:
    """An article whose current version an older extractor made, and the capture to re-read."""

    article_id: int
    url: str
    version_id: int
    capture_id: int


def targets(
    session: Session,
    extractor: str,
    *,
    story: str | None = None,
    outlet: str | None = None,
    since: datetime | None = None,
) -> list[Target]:
    """Articles whose current version was made by another extractor than ``extractor`` (and
    last seen at or after ``since``), each with the latest archived capture that saw it."""
    latest = select(Version.article_id, func.max(Version.seq).label("seq")).group_by(Version.article_id).subquery()
    query = (
        select(Article.id, Article.canonical_url, Version.id)
        .join(latest, latest.c.article_id == Article.id)
        .join(Version, and_(Version.article_id == Article.id, Version.seq == latest.c.seq))
        .where(Version.extractor != extractor)
        .order_by(Article.id)
    )
    if story is not None:
        query = query.join(StoryArticle, StoryArticle.article_id == Article.id).join(
            Story, and_(Story.id == StoryArticle.story_id, Story.slug == story)
        )
    if outlet is not None:
        query = query.join(Outlet, and_(Outlet.id == Article.outlet_id, Outlet.domain == outlet))
    if since is not None:
        query = query.where(Version.last_seen_at >= since)
    found = []
    for article_id, url, version_id in session.execute(query):
        capture_id = session.scalar(
            select(Capture.id)
            .where(Capture.version_id == version_id, Capture.warc_file.is_not(None))
            .order_by(Capture.fetched_at.desc(), Capture.id.desc())
            .limit(1)
        )
        if capture_id is not None:
            found.append(Target(article_id, url, version_id, capture_id))
    return found


def record_reextraction(session: Session, target: Target, candidate: ExtractedVersion) -> Version | None:
    """A new current version with what the current extractor read from the capture, or None
    when the text is the same (nothing to record). Does not commit."""
    current = session.get(Version, target.version_id)
    capture = session.get(Capture, target.capture_id)
    article = session.get(Article, target.article_id)
    assert current is not None and capture is not None and article is not None
    newest = session.scalar(select(func.max(Version.seq)).where(Version.article_id == article.id))
    if newest != current.seq:
        return None  # a crawl added a version since the targets were listed: nothing stale left
    if candidate.content_hash == current.content_hash:
        return None
    version = _new_version(session, article, current, candidate, capture.fetched_at)
    version.change_kinds = [EXTRACTION_KIND]
    session.flush()
    return version
