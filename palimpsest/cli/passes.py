"""One pass of the scheduler, as ``run`` and ``demo`` print it.

Poll the sources that are due, fetch new candidates, re-check the articles that are due, then
judge the candidates fetched. With a shared frontier (``run --redis``) the pass first claims
this worker's share of what is due (storage.claims) and queues it in Redis (crawler.frontier).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from palimpsest.cli.common import print_summary as default_summary
from palimpsest.crawler.plans import pass_work
from palimpsest.crawler.runner import Crawls
from palimpsest.crawler.spiders.story import StorySpider
from palimpsest.storage import claims, judging, stories
from palimpsest.storage.models import Story, StoryCandidate


@dataclass(frozen=True)
class SharedFrontier:
    """This worker's share of a many-worker crawl: the Redis frontier and its claim settings."""

    redis_url: str
    database_url: str
    lease_seconds: float
    batch: int

    def queued(self) -> int:
        from palimpsest.crawler.frontier import queued_requests

        return queued_requests(self.redis_url, self.database_url, StorySpider.name)


async def run_pass(
    crawls: Crawls,
    archive: Any,
    story_id: int | None,
    *,
    policy: Any,
    verify_every: int,
    limit: int | None = None,
    number: int = 1,
    print_summary: Any = None,
    shared: SharedFrontier | None = None,
    report_idle: bool = True,
) -> Any:
    """Poll what is due, fetch, re-check, judge candidates; print what happened.

    Returns the crawl's stats (None when nothing was due)."""
    now = datetime.now(UTC)
    if shared is None:
        with archive.readers() as session:
            story = session.get(Story, story_id) if story_id else None
            work = pass_work(session, now, story=story, verify_every=verify_every, article_limit=limit)
        queued = 0
    else:  # claim this worker's share, and commit the claims before queueing the requests
        lease = claims.Lease(claims.new_token(), now, shared.lease_seconds)
        with archive.sessions() as session, session.begin():
            story = session.get(Story, story_id) if story_id else None
            work = pass_work(
                session, now, story=story, verify_every=verify_every, article_limit=shared.batch, lease=lease
            )
        queued = shared.queued()
    stats = None
    if work.empty and not queued:
        if report_idle:
            print(f"Pass {number}: nothing due.", flush=True)
    else:
        claimed = "claimed " if shared is not None else ""
        waiting = f"; {queued} request(s) queued by workers" if shared is not None else ""
        print(f"Pass {number}: {claimed}{work.describe()}{waiting}.", flush=True)
        stats = await crawls(StorySpider, work=work)
        (print_summary or default_summary)(stats)
        discovered = stats.extra.get("candidates_new", 0)
        if stats.extra.get("sources_polled") or discovered:
            print(
                f"  polled {stats.extra.get('sources_polled', 0)} source(s); {discovered} new candidate(s);"
                f" {stats.extra.get('hint_rechecks', 0)} re-check(s) brought forward by feed/sitemap dates",
                flush=True,
            )
    if stats is not None and not stats.database_error and not stats.interrupted:
        seeds = [seed.source_id for seed in work.seeds if seed.source_id is not None]
        with archive.sessions() as session, session.begin():
            stories.settle_seeds(session, seeds, datetime.now(UTC))
    if stats is None or not stats.database_error:
        _judge_candidates(archive, story_id, policy)
    return stats


def _judge_candidates(archive: Any, story_id: int | None, policy: Any) -> None:
    """Judge every story's fetched candidates; print who joined. A story another worker is
    judging at the same moment is left to it."""
    now = datetime.now(UTC)
    with archive.sessions() as session, session.begin():
        ids = session.scalars(
            select(StoryCandidate.story_id).where(StoryCandidate.decision == "pending").distinct()
        ).all()
        for sid in ids:
            if story_id is not None and sid != story_id:
                continue
            if not claims.try_lock_story(session, sid):
                continue
            story = session.get(Story, sid)
            evaluation = judging.evaluate_candidates(session, story, now=now, policy=policy)
            for url, how, score in evaluation.joined:
                score_text = f" {score:.2f}" if score is not None else ""
                print(f"  joined {story.slug}: {url} ({how}{score_text})", flush=True)
            if evaluation.linked:
                print(f"  {evaluation.linked} new candidate(s) of {story.slug} from the links of those who joined")
            if evaluation.rejected:
                print(
                    f"  {evaluation.rejected} candidate(s) of {story.slug} did not match"
                    f" (see: palimpsest story show {story.slug})"
                )
