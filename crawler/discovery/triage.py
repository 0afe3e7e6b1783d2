"""What found URLs (a feed's entries, a sitemap's, an article's links) mean for a story.

Runs inside the transaction that stores what the URLs were found in (a capture, a source
poll): if the crawl dies a moment later, the candidates are recorded already and the next
pass fetches them, instead of the page's links being forgotten with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from palimpsest.crawler.extract.urls import BadURLError, normalise_url
from palimpsest.crawler.plans import plans_for
from palimpsest.storage import stories
from palimpsest.storage.models import Article, Story
from palimpsest.storage.schedule import SchedulePolicy
from palimpsest.storage.stories import FoundURL


@dataclass(frozen=True)
class CandidateFetch:
    request_url: str  # as found (tracking parameters and all)
    story_slug: str
    how: str
    url: str  # normalised: what the story recorded


@dataclass(frozen=True)
class HintRecheck:
    url: str
    plan: dict[str, Any]
    story_ids: tuple[int, ...]


@dataclass
class Discovered:
    """What the crawl should fetch in this pass because of what was found."""

    fetch: list[CandidateFetch] = field(default_factory=list)
    rechecks: list[HintRecheck] = field(default_factory=list)


def normalised(url: str) -> str | None:
    try:
        return normalise_url(url)
    except BadURLError:
        return None


def found_links(links: list[str], limit: int) -> list[FoundURL]:
    """An article's in-text links, as found URLs (at most ``limit``)."""
    return [FoundURL(url, "link", raw=raw) for raw in links if (url := normalised(raw))][:limit]


def triage_found(
    session: Session,
    story_id: int,
    found: list[FoundURL],
    *,
    now: datetime,
    policy: SchedulePolicy,
    source_id: int | None = None,
    into: Discovered | None = None,
) -> Discovered:
    """Record new candidates for the story, apply re-check hints; what to fetch now. Does not
    commit."""
    discovered = into if into is not None else Discovered()
    story = session.get(Story, story_id)
    if story is None or not found:
        return discovered
    triage = stories.triage(session, story_id, found, now=now, source_id=source_id, policy=policy)
    discovered.fetch += [CandidateFetch(item.raw or item.url, story.slug, item.how, item.url) for item in triage.fetch]
    articles = [article for article_id in triage.recheck if (article := session.get(Article, article_id)) is not None]
    if articles:
        plans = plans_for(session, articles)
        member_of = stories.memberships(session, [article.id for article in articles])
        discovered.rechecks += [
            HintRecheck(article.canonical_url, plans[article.id], tuple(member_of.get(article.id, ())))
            for article in articles
        ]
    return discovered
