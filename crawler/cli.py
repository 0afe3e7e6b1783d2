"""The ``palimpsest`` command.

Every command that a user can get wrong (a bad URL, an unreachable database, an unknown
article) ends with a one-line message and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from crawler import __version__


class UserError(Exception):
    """A problem the user can fix; printed as one line."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# --- shared plumbing ----------------------------------------------------------------------------


@dataclass
class Archive:
    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    readers: sessionmaker[Session]
    archive_dir: str


def open_archive(args: argparse.Namespace, *, migrate: bool = True) -> Archive:
    """The database (created and migrated on first use) and the archive directory."""
    from storage.db import (
        DatabaseURLError,
        make_engine,
        make_session_factory,
        redact,
        resolve_database_url,
    )
    from storage.migrate import ensure_schema

    url = resolve_database_url(args.db)
    try:
        engine = make_engine(url)
        if migrate:
            ensure_schema(engine)
        else:
            with engine.connect():
                pass
    except DatabaseURLError as exc:
        raise UserError(str(exc), 2) from exc
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise UserError(f"cannot open database {redact(url)}: {reason}") from exc
    except ModuleNotFoundError as exc:
        raise UserError(f"missing database driver ({exc.name}): pip install 'palimpsest[postgres]'") from exc
    archive_dir = args.archive or os.environ.get("PALIMPSEST_ARCHIVE_DIR") or "archive"
    return Archive(url, engine, make_session_factory(engine), make_session_factory(engine, writes=False), archive_dir)


def parse_settings(pairs: Sequence[str]) -> dict[str, str]:
    settings = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UserError(f"-s expects NAME=VALUE, got {pair!r}", 2)
        settings[name.strip()] = value
    return settings


def crawl_settings(args: argparse.Namespace, archive: Archive, extra: dict[str, Any] | None = None) -> Any:
    from crawler.runner import build_settings

    overrides: dict[str, Any] = {
        "PALIMPSEST_DATABASE_URL": archive.url,
        "PALIMPSEST_ARCHIVE_DIR": archive.archive_dir,
        "PALIMPSEST_PROGRESS": not args.quiet,
    }
    overrides.update(extra or {})
    overrides.update(parse_settings(args.setting))
    return build_settings(overrides)


def checked_urls(urls: Sequence[str]) -> list[str]:
    from crawler.extract.urls import BadURLError, normalise_url

    for url in urls:
        try:
            normalise_url(url)
        except BadURLError as exc:
            raise UserError(str(exc), 2) from exc
    return list(urls)


def print_summary(stats: Any) -> None:
    from crawler.report import format_summary

    print(format_summary(stats.counts, stats.problems, stats.seconds), flush=True)
    if stats.internal_errors:
        print(f"  {stats.internal_errors} internal error(s) were logged; run with -v to see them.", flush=True)
    if repaired := stats.extra.get("warc_repaired"):
        print(
            f"  Repaired {repaired} WARC file(s) left open by a crawl that was killed"
            f" ({stats.extra.get('warc_bytes_cut', 0)} bytes of a torn last record cut off).",
            flush=True,
        )
    if stats.database_error:
        not_stored = stats.extra.get("not_stored", 0)
        print(
            f"Stopped: the database became unreachable ({stats.database_error}). {not_stored} page(s) fetched"
            " but not stored; nothing half-written. The next run fetches them again.",
            flush=True,
        )
    elif stats.interrupted:
        print("  Interrupted: pages not yet fetched were left for the next run.", flush=True)


# --- commands ----------------------------------------------------------------------------------


def cmd_crawl(args: argparse.Namespace) -> int:
    from crawler.plans import fetch_plans
    from crawler.runner import run_crawls
    from crawler.spiders.article import ArticleSpider

    urls = checked_urls(args.urls)
    archive = open_archive(args)
    settings = crawl_settings(args, archive)
    with archive.readers() as session:
        plans = fetch_plans(session, urls, verify_every=settings.getint("PALIMPSEST_VERIFY_EVERY"))

    async def main(crawl: Any) -> Any:
        return await crawl(ArticleSpider, urls=urls, story=args.story, plans=plans)

    stats = run_crawls(settings, main, verbose=args.verbose)
    print_summary(stats)
    if args.stats:
        write_stats(args.stats, stats)
    return 1 if stats.internal_errors or stats.database_error else 0


def write_stats(path: str, stats: Any) -> None:
    """The crawl's figures as JSON, for scripts and monitoring."""
    from dataclasses import asdict

    Path(path).write_text(json.dumps(asdict(stats), indent=2, default=str) + "\n", encoding="utf-8")


def cmd_history(args: argparse.Namespace) -> int:
    from crawler.extract.urls import BadURLError, normalise_url
    from crawler.output import format_history
    from storage.history import ArticleNotFound, find_article, history_of

    try:
        url = normalise_url(args.url)
    except BadURLError as exc:
        raise UserError(str(exc), 2) from exc
    archive = open_archive(args)
    with archive.readers() as session:
        try:
            history = history_of(session, find_article(session, [url, args.url]))
        except ArticleNotFound as exc:
            raise UserError(f"no archived article for {args.url} (crawl it first: palimpsest crawl URL)") from exc
        if args.json:
            print(json.dumps(history.as_dict(), indent=2, ensure_ascii=False))
        else:
            print(format_history(history))
    return 0


def _article_for(session: Any, url: str) -> Any:
    from crawler.extract.urls import BadURLError, normalise_url
    from storage.history import ArticleNotFound, find_article

    try:
        normalised = normalise_url(url)
    except BadURLError as exc:
        raise UserError(str(exc), 2) from exc
    try:
        return find_article(session, [normalised, url])
    except ArticleNotFound as exc:
        raise UserError(f"no archived article for {url} (crawl it first: palimpsest crawl URL)") from exc


def cmd_diff(args: argparse.Namespace) -> int:
    from crawler.output import diff_payload, when
    from storage.diff_render import render_html, render_text
    from storage.history import VersionNotFound, compare_versions

    archive = open_archive(args)
    with archive.readers() as session:
        article = _article_for(session, args.url)
        try:
            comparison = compare_versions(session, article, args.from_seq, args.to_seq)
        except VersionNotFound as exc:
            raise UserError(f"{args.url}: {exc}") from exc
    old, new = comparison.old, comparison.new
    if args.format == "json":
        print(json.dumps(diff_payload(comparison), indent=2, ensure_ascii=False))
    elif args.format == "html":
        print(
            render_html(
                comparison.diff,
                title=f"{new.headline or article.canonical_url} — v{old.seq} → v{new.seq}",
                old_label=f"v{old.seq}, seen {when(old.first_seen_at)}",
                new_label=f"v{new.seq}, seen {when(new.first_seen_at)}",
            )
        )
    else:
        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        print(
            f"{article.canonical_url}\nv{old.seq} ({when(old.first_seen_at)}) → v{new.seq} ({when(new.first_seen_at)})"
        )
        print(render_text(comparison.diff, color=color))
    return 0


def cmd_capture(args: argparse.Namespace) -> int:
    from crawler.capture_command import CaptureNotFound, archived_payload, capture_details

    archive = open_archive(args)
    with archive.readers() as session:
        try:
            if args.raw:
                payload = archived_payload(session, archive.archive_dir, args.id)
            else:
                details = capture_details(session, args.id)
        except CaptureNotFound as exc:
            raise UserError(str(exc)) from exc
    if args.raw:
        sys.stdout.buffer.write(payload)
        sys.stdout.flush()
    elif args.json:
        print(json.dumps(details, indent=2, ensure_ascii=False))
    else:
        for key, value in details.items():
            if isinstance(value, dict):
                value = f"{value['file']} @ {value['offset']} (+{value['length']} bytes)"
            print(f"{key:>15}: {'-' if value is None else value}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from crawler.export_command import run_export

    archive = open_archive(args)
    try:
        return run_export(
            archive.engine,
            fmt=args.format,
            since=args.since,
            story=args.story,
            out=args.out,
            quiet=args.quiet,
            user_error=UserError,
        )
    finally:
        archive.engine.dispose()


def cmd_story(args: argparse.Namespace) -> int:
    from crawler import story_command

    archive = open_archive(args)
    if args.story_action == "add":
        return story_command.add(args, archive, UserError)
    if args.story_action == "list":
        return story_command.list_(args, archive)
    return story_command.show(args, archive, UserError)


def cmd_run(args: argparse.Namespace) -> int:
    from crawler.run_command import run

    if args.max_sleep <= 0:
        raise UserError("--max-sleep must be positive", 2)
    archive = open_archive(args)
    extra: dict[str, Any] = {}
    if args.redis:
        from crawler.run_command import shared_frontier_settings

        extra = shared_frontier_settings(args.redis, archive.url, UserError)
    return run(args, archive, crawl_settings(args, archive, extra), UserError)


def cmd_serve(args: argparse.Namespace) -> int:
    from palimpsest.web.server import serve

    return serve(args.db, host=args.host, port=args.port, user_error=UserError)


def cmd_extract(args: argparse.Namespace) -> int:
    from crawler.extract_command import run_extract

    return run_extract(
        args.inputs, url=args.url, as_json=args.json, out_dir=args.out, jobs=args.jobs, user_error=UserError
    )


def cmd_db(args: argparse.Namespace) -> int:
    from storage import migrate
    from storage.db import redact

    archive = open_archive(args, migrate=args.action == "upgrade")
    try:
        if args.action == "upgrade":
            print(f"{redact(archive.url)}: at revision {migrate.current_revision(archive.engine)} (head)")
            return 0
        if args.action == "current":
            current = migrate.current_revision(archive.engine)
            head = migrate.head_revision()
            state = "up to date" if current == head else f"behind head {head}; run: palimpsest db upgrade"
            print(f"{redact(archive.url)}: revision {current or 'none (empty database)'} ({state})")
            return 0
        result = migrate.check(archive.engine)
    except SQLAlchemyError as exc:
        raise UserError(f"database error: {exc}") from exc
    if result.ok:
        print(f"{redact(archive.url)}: at head {result.head}; models and database agree")
        return 0
    if result.current != result.head:
        print(f"{redact(archive.url)}: at revision {result.current or 'none'}, head is {result.head}")
    for difference in result.differences:
        print(f"  differs: {difference}")
    return 1


def cmd_demo(args: argparse.Namespace) -> int:
    from crawler.demo import run_demo

    return run_demo(args)


def cmd_newsroom(args: argparse.Namespace) -> int:
    from newsroom.__main__ import serve

    serve(args.port)
    return 0


# --- parser ------------------------------------------------------------------------------------


def _common_options(*, for_subcommand: bool) -> argparse.ArgumentParser:
    """Global options, accepted before or after the command name.

    On subcommands they default to SUPPRESS, so that ``palimpsest --db X crawl`` keeps X.
    """
    default = (lambda value: argparse.SUPPRESS) if for_subcommand else (lambda value: value)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        metavar="URL",
        default=default(None),
        help="database URL (default: $PALIMPSEST_DATABASE_URL or sqlite:///palimpsest.db)",
    )
    common.add_argument(
        "--archive",
        metavar="DIR",
        default=default(None),
        help="WARC directory (default: $PALIMPSEST_ARCHIVE_DIR or ./archive)",
    )
    common.add_argument("-v", "--verbose", action="store_true", default=default(False), help="show Scrapy's own log")
    common.add_argument("-q", "--quiet", action="store_true", default=default(False), help="no per-page progress lines")
    common.add_argument(
        "-s",
        "--setting",
        action="append",
        default=default([]),
        metavar="NAME=VALUE",
        help="override a Scrapy or PALIMPSEST_ setting",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common_options(for_subcommand=True)
    parser = argparse.ArgumentParser(
        prog="palimpsest",
        description="A paywall-aware news archiver: every revision of every article, and what changed.",
        parents=[_common_options(for_subcommand=False)],
    )
    parser.add_argument("--version", action="version", version=f"palimpsest {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    crawl = commands.add_parser("crawl", parents=[common], help="fetch URLs now; store captures and versions")
    crawl.add_argument("urls", nargs="+", metavar="URL")
    crawl.add_argument("--story", metavar="SLUG", help="file the articles under this story (created if new)")
    crawl.add_argument("--stats", metavar="FILE", help="also write the crawl's figures (outcomes, seconds) as JSON")
    crawl.set_defaults(handler=cmd_crawl)

    story = commands.add_parser("story", parents=[common], help="stories: add, list, show")
    story_actions = story.add_subparsers(dest="story_action", required=True, metavar="ACTION")
    story_add = story_actions.add_parser("add", parents=[common], help="a new story and its sources")
    story_add.add_argument("slug", metavar="SLUG")
    story_add.add_argument("--title", required=True, metavar="T")
    story_add.add_argument("--seed", action="append", default=[], metavar="URL", help="an article of the story")
    story_add.add_argument("--feed", action="append", default=[], metavar="URL", help="an RSS or Atom feed to poll")
    story_add.add_argument("--sitemap", action="append", default=[], metavar="URL", help="a (news) sitemap or index")
    story_add.add_argument("--match", action="append", default=[], metavar="TERM", help="a word or phrase of the story")
    story_add.add_argument(
        "--similarity", type=float, metavar="X", help="vocabulary share with the seeds to join (default 0.15)"
    )
    story_add.add_argument(
        "--poll", type=int, metavar="SECONDS", help="poll feeds/sitemaps this often (default 900/1800)"
    )
    story_list = story_actions.add_parser("list", parents=[common], help="all stories")
    story_list.add_argument("--json", action="store_true")
    story_show = story_actions.add_parser("show", parents=[common], help="a story's coverage, per outlet")
    story_show.add_argument("slug", metavar="SLUG")
    story_show.add_argument("--json", action="store_true")
    story.set_defaults(handler=cmd_story)

    run = commands.add_parser("run", parents=[common], help="the scheduler: poll sources, re-check due articles")
    run.add_argument("--once", action="store_true", help="one pass, then exit (for cron)")
    run.add_argument("--story", metavar="SLUG", help="only this story's sources and articles")
    run.add_argument("--max-sleep", type=float, default=300, metavar="SECONDS", help="longest nap between passes")
    run.add_argument("--limit", type=int, metavar="N", help="at most N due articles per pass")
    run.add_argument(
        "--until-idle", action="store_true", help="exit when nothing is due instead of sleeping until it is"
    )
    run.add_argument(
        "--redis",
        metavar="URL",
        help="share the crawl with other workers: frontier in this Redis (e.g. redis://host:6379/0),"
        " archive in the PostgreSQL --db; start one such command per worker",
    )
    run.set_defaults(handler=cmd_run)

    history = commands.add_parser("history", parents=[common], help="versions of one article")
    history.add_argument("url", metavar="URL")
    history.add_argument("--json", action="store_true", help="machine-readable output")
    history.set_defaults(handler=cmd_history)

    diff = commands.add_parser("diff", parents=[common], help="what changed between two versions of an article")
    diff.add_argument("url", metavar="URL")
    diff.add_argument(
        "--from", dest="from_seq", type=int, metavar="N", help="old version (default: the one before --to)"
    )
    diff.add_argument("--to", dest="to_seq", type=int, metavar="M", help="new version (default: the latest)")
    diff.add_argument("--format", choices=["text", "json", "html"], default="text")
    diff.set_defaults(handler=cmd_diff)

    capture = commands.add_parser("capture", parents=[common], help="one capture's metadata, or its archived page")
    capture.add_argument("id", type=int, metavar="ID")
    capture.add_argument("--raw", action="store_true", help="print the archived page bytes (from the WARC file)")
    capture.add_argument("--json", action="store_true", help="metadata as JSON")
    capture.set_defaults(handler=cmd_capture)

    serve = commands.add_parser("serve", parents=[common], help="the read-only web view of the archive, and its feeds")
    serve.add_argument("--host", default="127.0.0.1", help="listen address (default: 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000; 0 picks a free one)")
    serve.set_defaults(handler=cmd_serve)

    export = commands.add_parser(
        "export", parents=[common], help="stream versions (JSON Lines or CSV) since a cursor, for analysis jobs"
    )
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl", help="JSON Lines (default) or CSV")
    export.add_argument(
        "--since", metavar="CURSOR", help="only versions after this cursor (from the last export; @PATH reads a file)"
    )
    export.add_argument("--story", metavar="SLUG", help="only versions of articles in this story")
    export.add_argument(
        "--out", metavar="FILE", help="write FILE (atomically) and the next cursor to FILE.cursor (default: stdout)"
    )
    export.set_defaults(handler=cmd_export)

    extract = commands.add_parser("extract", parents=[common], help="extraction only, no database")
    extract.add_argument("inputs", nargs="+", metavar="PATH_OR_URL", help=".html / .html.gz files, or http(s) URLs")
    extract.add_argument("--url", help="the URL a file was fetched from (for canonical links and metadata)")
    extract.add_argument("--json", action="store_true", help="one JSON object per input (JSON Lines)")
    extract.add_argument("--out", metavar="DIR", help="write <name>.txt (the article body) per input into DIR")
    extract.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: all cores)")
    extract.set_defaults(handler=cmd_extract)

    db = commands.add_parser("db", parents=[common], help="schema migrations")
    db.add_argument("action", choices=["upgrade", "current", "check"])
    db.set_defaults(handler=cmd_db)

    demo = commands.add_parser("demo", parents=[common], help="the whole loop against the local newsroom, offline")
    demo.add_argument("--dir", help="keep the demo's database and archive here (default: a temporary directory)")
    demo.set_defaults(handler=cmd_demo)

    newsroom = commands.add_parser("newsroom", parents=[common], help="serve the local test newsroom")
    newsroom.add_argument("--port", type=int, default=0)
    newsroom.set_defaults(handler=cmd_newsroom)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except UserError as exc:
        print(f"palimpsest: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("palimpsest: interrupted", file=sys.stderr)
        return 130
