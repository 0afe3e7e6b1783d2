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
from datetime import UTC, datetime
from typing import Any

from palimpsest.cli.common import UserError, bounded_float, bounded_int, crawl_exit_code, crawl_settings, open_archive
from palimpsest.cli.passes import SharedFrontier, run_pass
from palimpsest.crawler.pipelines import schedule_policy
from palimpsest.crawler.runner import Crawls, run_crawls
from palimpsest.storage import claims, stories
from palimpsest.storage.models import Story

# How often a worker with nothing to claim looks again while other workers hold due checks.
IDLE_WORKER_POLL_SECONDS = 1.0
# The shortest nap between passes, and the nap after a pass that left what was due still due.
MIN_SLEEP_SECONDS = 1.0
STUCK_WAIT_SECONDS = 60.0


def shared_frontier_settings(redis_url: str, database_url: str) -> dict[str, Any]:
    """The settings of a worker of ``run --redis``, once its servers are known to be usable."""
    from urllib.parse import urlsplit

    from sqlalchemy.engine import make_url

    if urlsplit(redis_url).scheme not in ("redis", "rediss", "unix"):
        raise UserError(f"--redis: not a Redis URL: {redis_url!r}; e.g. redis://host:6379/0", 2)
    if make_url(database_url).get_backend_name() != "postgresql":
        raise UserError(
            "run --redis needs a PostgreSQL archive that every worker can reach (--db postgresql://...);"
            " SQLite is one machine's file"
        )
    try:
        import redis

        from palimpsest.crawler.frontier import frontier_settings
    except ModuleNotFoundError as exc:
        raise UserError(f"missing {exc.name}: pip install 'palimpsest[redis]'") from exc
    try:
        server = redis.Redis.from_url(redis_url, socket_connect_timeout=5)
    except ValueError as exc:
        raise UserError(f"--redis: not a Redis URL ({exc}); e.g. redis://host:6379/0", 2) from exc
    try:
        server.ping()
    except (redis.RedisError, ValueError) as exc:
        raise UserError(f"cannot reach Redis at {redis_url}: {exc}") from exc
    finally:
        server.close()
    return frontier_settings(redis_url, database_url)


def scheduler(args: argparse.Namespace, archive: Any, settings: Any) -> int:
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
            raise UserError(f"no story {args.story!r} (see: palimpsest story list)") from exc

    passes: list[Any] = []

    async def main(crawls: Crawls) -> int:
        number, last_held = 0, 0
        while True:
            number += 1
            started = datetime.now(UTC)
            with archive.readers() as session:
                due_before = stories.due_count(session, started, _story(session, story_id))
            stats = await run_pass(
                crawls, archive, story_id, policy=policy, verify_every=verify_every, limit=args.limit, number=number,
                shared=shared, report_idle=not last_held,
            )  # fmt: skip
            if stats is not None:
                passes.append(stats)
            if args.once or crawls.stopping:
                return crawl_exit_code(passes, crawls.stop_signal)
            if stats is not None and stats.archive_error:
                return crawl_exit_code(passes, crawls.stop_signal)  # the WARC folder failed: no more passes
            if shared is not None and stats is not None:
                continue  # there may be more to claim, or more queued by other workers: go on
            now = datetime.now(UTC)
            with archive.readers() as session:
                story = _story(session, story_id)
                due = stories.next_due_at(session, story)
                held, first_lease_ends = claims.held_elsewhere(session, now) if shared else (0, None)
                # Of what was due when the pass started, nothing was done: wait, do not spin.
                still_due = stories.due_count(session, started, story) if stats is not None and due_before else 0
                stuck = due_before > 0 and still_due >= due_before
            if args.until_idle and (due is None or due > now or stuck):
                if stuck:
                    print("Stopping (--until-idle): a check stayed due after a pass that tried it.", flush=True)
                else:
                    print("Nothing is due: stopping (--until-idle).", flush=True)
                return crawl_exit_code(passes, crawls.stop_signal) or (1 if stuck else 0)
            wait = args.max_sleep if due is None else (due - now).total_seconds()
            if stuck:
                wait = STUCK_WAIT_SECONDS
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
            wait = min(max(wait, MIN_SLEEP_SECONDS), args.max_sleep)
            if not held:
                print(f"Sleeping {wait:.0f}s until the next check is due (Ctrl-C to stop).", flush=True)
            if not await crawls.sleep(wait):
                return crawl_exit_code(passes, crawls.stop_signal)

    return run_crawls(settings, main, verbose=args.verbose)


def _story(session: Any, story_id: int | None) -> Story | None:
    return session.get(Story, story_id) if story_id else None


NAME = "run"
HELP = "the scheduler: poll sources, re-check due articles"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("--once", action="store_true", help="one pass, then exit (for cron)")
    parser.add_argument("--story", metavar="SLUG", help="only this story's sources and articles")
    parser.add_argument(
        "--max-sleep",
        type=bounded_float(0.01, 30 * 86400),
        default=300,
        metavar="SECONDS",
        help="longest nap between passes",
    )
    parser.add_argument("--limit", type=bounded_int(1), metavar="N", help="at most N due articles per pass")
    parser.add_argument(
        "--until-idle", action="store_true", help="exit when nothing is due instead of sleeping until it is"
    )
    parser.add_argument(
        "--redis",
        metavar="URL",
        help="share the crawl with other workers: frontier in this Redis (e.g. redis://host:6379/0),"
        " archive in the PostgreSQL --db; start one such command per worker",
    )


def run(args: argparse.Namespace) -> int:
    archive = open_archive(args, write=True)
    extra: dict[str, Any] = {}
    if args.redis:
        extra = shared_frontier_settings(args.redis, archive.url)
    return scheduler(args, archive, crawl_settings(args, archive, extra))
