"""``palimpsest run [--once] [--story SLUG]``: the scheduler.

Each pass polls the sources that are due, fetches new candidates, re-checks the articles
that are due, then judges the candidates fetched. Between passes it sleeps until the next
thing falls due. Everything it needs to resume is in the database, so a killed run picks up
where it stopped; Ctrl-C or SIGTERM stops it after the pages in flight are stored.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from crawler.pipelines import schedule_policy
from crawler.plans import pass_work
from crawler.runner import Crawls, run_crawls
from crawler.spiders.story import StorySpider
from storage import stories
from storage.models import Story, StoryCandidate


def run(args: argparse.Namespace, archive: Any, settings: Any, user_error: type[Exception]) -> int:
    policy = schedule_policy(settings)
    verify_every = settings.getint("PALIMPSEST_VERIFY_EVERY")
    with archive.readers() as session:
        try:
            story_id = stories.require_story(session, args.story).id if args.story else None
        except stories.StoryNotFound as exc:
            raise user_error(f"no story {args.story!r} (see: palimpsest story list)") from exc

    async def main(crawls: Crawls) -> int:
        number = 0
        while True:
            number += 1
            await run_pass(
                crawls, archive, story_id, policy=policy, verify_every=verify_every, limit=args.limit, number=number
            )
            if args.once or crawls.stopping:
                return 0
            with archive.readers() as session:
                story = session.get(Story, story_id) if story_id else None
                due = stories.next_due_at(session, story)
            wait = args.max_sleep if due is None else (due - datetime.now(UTC)).total_seconds()
            wait = min(max(wait, 1.0), args.max_sleep)
            print(f"Sleeping {wait:.0f}s until the next check is due (Ctrl-C to stop).", flush=True)
            if not await crawls.sleep(wait):
                return 0

    return run_crawls(settings, main, verbose=args.verbose)


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
) -> Any:
    """Poll what is due, fetch, re-check, judge candidates; print what happened.

    Returns the crawl's stats (None when nothing was due)."""
    from crawler.cli import print_summary as default_summary

    now = datetime.now(UTC)
    with archive.readers() as session:
        story = session.get(Story, story_id) if story_id else None
        work = pass_work(session, now, story=story, verify_every=verify_every, article_limit=limit)
    stats = None
    if work.empty:
        print(f"Pass {number}: nothing due.", flush=True)
    else:
        print(f"Pass {number}: {work.describe()}.", flush=True)
        stats = await crawls(StorySpider, work=work)
        (print_summary or default_summary)(stats)
        discovered = stats.extra.get("candidates_new", 0)
        if stats.extra.get("sources_polled") or discovered:
            print(
                f"  polled {stats.extra.get('sources_polled', 0)} source(s); {discovered} new candidate(s);"
                f" {stats.extra.get('hint_rechecks', 0)} re-check(s) brought forward by feed/sitemap dates",
                flush=True,
            )
    if stats is None or not stats.database_error:
        _judge_candidates(archive, story_id, policy)
    return stats


def _judge_candidates(archive: Any, story_id: int | None, policy: Any) -> None:
    """Judge every story's fetched candidates; print who joined."""
    now = datetime.now(UTC)
    with archive.sessions() as session, session.begin():
        ids = session.scalars(
            select(StoryCandidate.story_id).where(StoryCandidate.decision == "pending").distinct()
        ).all()
        for sid in ids:
            if story_id is not None and sid != story_id:
                continue
            story = session.get(Story, sid)
            evaluation = stories.evaluate_candidates(session, story, now=now, policy=policy)
            for url, how, score in evaluation.joined:
                score_text = f" {score:.2f}" if score is not None else ""
                print(f"  joined {story.slug}: {url} ({how}{score_text})", flush=True)
            if evaluation.rejected:
                print(
                    f"  {evaluation.rejected} candidate(s) of {story.slug} did not match"
                    f" (see: palimpsest story show {story.slug})"
                )
