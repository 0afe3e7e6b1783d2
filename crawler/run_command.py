"""``palimpsest run [--once] [--until-idle] [--story SLUG] [--redis URL]``: the scheduler.

Each pass polls the sources that are due, fetches new candidates, re-checks the articles
that are due, then judges the candidates fetched. Between passes it sleeps until the next
thing falls due. Everything it needs to resume is in the database, so a killed run picks up
where it stopped; Ctrl-C or SIGTERM stops it after the pages in flight are stored.

With ``--redis`` any number of such workers share the work: each pass claims a batch of what
is due (storage.claims), queues it in the shared frontier in Redis (crawler.frontier) and
fetches whatever is queued, whoever claimed it.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from crawler.pipelines import schedule_policy
from crawler.plans import pass_work
from crawler.runner import Crawls, run_crawls
from crawler.spiders.story import StorySpider
from storage import claims, stories
from storage.models import Story, StoryCandidate

# How often a worker with nothing to claim looks again while other workers hold due checks.
IDLE_WORKER_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class SharedFrontier:
    """This worker's share of a many-worker crawl: the Redis frontier and its claim settings."""

    redis_url: str
    database_url: str
    lease_seconds: float
    batch: int

    def queued(self) -> int:
        from crawler.frontier import queued_requests

        return queued_requests(self.redis_url, self.database_url, StorySpider.name)


def shared_frontier_settings(redis_url: str, database_url: str, user_error: type[Exception]) -> dict[str, Any]:
    """The settings of a worker of ``run --redis``, once its servers are known to be usable."""
    from sqlalchemy.engine import make_url

    if make_url(database_url).get_backend_name() != "postgresql":
        raise user_error(
            "run --redis needs a PostgreSQL archive that every worker can reach (--db postgresql://...);"
            " SQLite is one machine's file"
        )
    try:
        import redis

        from crawler.frontier import frontier_settings
    except ModuleNotFoundError as exc:
        raise user_error(f"missing {exc.name}: pip install 'palimpsest[redis]'") from exc
    server = redis.Redis.from_url(redis_url, socket_connect_timeout=5)
    try:
        server.ping()
    except (redis.RedisError, ValueError) as exc:
        raise user_error(f"cannot reach Redis at {redis_url}: {exc}") from exc
    finally:
        server.close()
    return frontier_settings(redis_url, database_url)


def run(args: argparse.Namespace, archive: Any, settings: Any, user_error: type[Exception]) -> int:
    policy = schedule_policy(settings)
    verify_every = settings.getint("PALIMPSEST_VERIFY_EVERY")
    shared = None
    if settings.getbool("PALIMPSEST_CLAIMS"):
        shared = SharedFrontier(
            settings["REDIS_URL"],
            archive.url,
            settings.getfloat("PALIMPSEST_CLAIM_LEASE_SECONDS"),
            args.limit or settings.getint("PALIMPSEST_CLAIM_BATCH"),
        )
    with archive.readers() as session:
        try:
            story_id = stories.require_story(session, args.story).id if args.story else None
        except stories.StoryNotFound as exc:
            raise user_error(f"no story {args.story!r} (see: palimpsest story list)") from exc

    async def main(crawls: Crawls) -> int:
        number, last_held = 0, 0
        while True:
            number += 1
            stats = await run_pass(
                crawls, archive, story_id, policy=policy, verify_every=verify_every, limit=args.limit, number=number,
                shared=shared, report_idle=not last_held,
            )  # fmt: skip
            if args.once or crawls.stopping:
                return 0
            if shared is not None and stats is not None:
                continue  # there may be more to claim, or more queued by other workers: go on
            now = datetime.now(UTC)
            with archive.readers() as session:
                story = session.get(Story, story_id) if story_id else None
                due = stories.next_due_at(session, story)
                held, first_lease_ends = claims.held_elsewhere(session, now) if shared else (0, None)
            if args.until_idle and (due is None or due > now):
                print("Nothing is due: stopping (--until-idle).", flush=True)
                return 0
            wait = args.max_sleep if due is None else (due - now).total_seconds()
            if held and first_lease_ends is not None:
                # Look again soon: the holders may queue work to share, or finish; a dead
                # worker's claims are free when the first lease ends.
                lease_left = (first_lease_ends - now).total_seconds()
                wait = min(lease_left, IDLE_WORKER_POLL_SECONDS)
                if held != last_held:
                    print(
                        f"{held} due check(s) are claimed by other workers; if a worker died, its claims"
                        f" are taken over when the lease ends (in {max(lease_left, 0):.0f}s).",
                        flush=True,
                    )
            last_held = held
            wait = min(max(wait, 1.0), args.max_sleep)
            if not held:
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
    shared: SharedFrontier | None = None,
    report_idle: bool = True,
) -> Any:
    """Poll what is due, fetch, re-check, judge candidates; print what happened.

    Returns the crawl's stats (None when nothing was due)."""
    from crawler.cli import print_summary as default_summary

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
            evaluation = stories.evaluate_candidates(session, story, now=now, policy=policy)
            for url, how, score in evaluation.joined:
                score_text = f" {score:.2f}" if score is not None else ""
                print(f"  joined {story.slug}: {url} ({how}{score_text})", flush=True)
            if evaluation.rejected:
                print(
                    f"  {evaluation.rejected} candidate(s) of {story.slug} did not match"
                    f" (see: palimpsest story show {story.slug})"
                )
