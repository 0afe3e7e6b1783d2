"""``palimpsest story add | list | show | remove``."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from palimpsest.cli.common import UserError, open_archive
from palimpsest.cli.output import when
from palimpsest.crawler.extract.urls import BadURLError, normalise_url
from palimpsest.storage import stories
from palimpsest.storage.stories import SourceSpec


def _sources(args: argparse.Namespace) -> list[SourceSpec]:
    specs = []
    for kind, urls in (("seed", args.seed), ("feed", args.feed), ("sitemap", args.sitemap)):
        for url in urls:
            try:
                specs.append(SourceSpec(kind, normalise_url(url)))
            except BadURLError as exc:
                raise UserError(f"--{kind}: {exc}", 2) from exc
    return specs


def add(args: argparse.Namespace) -> int:
    specs = _sources(args)
    if not specs:
        raise UserError("a story needs at least one --seed, --feed or --sitemap", 2)
    try:
        stories.check_story_values(args.slug, args.title, args.match, args.similarity, args.poll)
    except stories.InvalidStory as exc:
        raise UserError(str(exc), 2) from exc
    archive = open_archive(args, create=True)  # checked first: a mistake creates no archive
    with archive.sessions() as session, session.begin():
        try:
            story = stories.create_story(
                session,
                args.slug,
                args.title,
                sources=specs,
                terms=args.match,
                threshold=args.similarity,
                poll_seconds=args.poll,
                now=datetime.now(UTC),
            )
        except stories.StoryExists as exc:
            raise UserError(f"story {args.slug!r} exists already") from exc
        slug = story.slug
    counts = {kind: sum(1 for s in specs if s.kind == kind) for kind in ("seed", "feed", "sitemap")}
    print(
        f"Added story {slug!r}: {counts['seed']} seed(s), {counts['feed']} feed(s), {counts['sitemap']} sitemap(s)"
        + (f", match terms: {', '.join(args.match)}" if args.match else "")
        + f". Fetch it with: palimpsest run --once --story {slug}"
    )
    return 0


def remove(args: argparse.Namespace) -> int:
    archive = open_archive(args, write=True)
    with archive.sessions() as session, session.begin():
        try:
            removed = stories.remove_story(session, stories.require_story(session, args.slug))
        except stories.StoryNotFound as exc:
            raise UserError(f"no story {args.slug!r} (see: palimpsest story list)") from exc
    print(
        f"Removed story {args.slug!r}: {removed.sources} source(s), {removed.candidates} candidate(s),"
        f" {removed.members} membership(s). Its articles stay in the archive, with every version,"
        " and are still re-checked on their schedule."
    )
    return 0


def list_(args: argparse.Namespace, archive: Any) -> int:
    with archive.readers() as session:
        rows = stories.list_stories(session)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    elif not rows:
        print("No stories yet. Add one: palimpsest story add SLUG --title T --seed URL")
    else:
        width = max(len(r["slug"]) for r in rows)
        for row in rows:
            print(f"{row['slug']:<{width}}  {row['articles']:>4} article(s)  {row['title']}")
    return 0


def show(args: argparse.Namespace, archive: Any) -> int:
    with archive.readers() as session:
        try:
            view = stories.story_view(session, stories.require_story(session, args.slug))
        except stories.StoryNotFound as exc:
            raise UserError(f"no story {args.slug!r} (see: palimpsest story list)") from exc
    if args.json:
        print(json.dumps(view, indent=2, ensure_ascii=False))
    else:
        print(format_story(view))
    return 0


def format_story(view: dict[str, Any]) -> str:
    lines = [f"{view['title']} ({view['slug']})"]
    if view["match_terms"]:
        lines.append(f"match terms: {', '.join(view['match_terms'])}")
    for source in view["sources"]:
        if source["kind"] == "seed":
            lines.append(f"  seed    {source['url']}")
            continue
        polled = (
            f"last polled {when(_parse(source['last_polled_at']))}" if source["last_polled_at"] else "not polled yet"
        )
        error = f", error: {source['last_error']}" if source["last_error"] else ""
        lines.append(f"  {source['kind']:<7} {source['url']}  ({polled}{error})")
    total = sum(len(group["articles"]) for group in view["outlets"])
    lines.append(f"\n{total} article(s) from {len(view['outlets'])} outlet(s):")
    for group in view["outlets"]:
        name = group["articles"][0]["outlet_name"] or group["outlet"]
        lines.append(f"\n{name} ({group['outlet']})")
        for item in group["articles"]:
            access = item["access"] or "-"
            if item["complete"] is False:
                access += ", incomplete"
            score = f" {item['score']:.2f}" if item["score"] is not None else ""
            lines.append(f"  {item['headline'] or _no_text_yet(item)}")
            lines.append(
                f"    {item['url']}\n    joined by {item['how']}{score} · {item['versions']} version(s)"
                f" · last change {when(_parse(item['last_change']))} · access: {access}"
            )
            if item.get("ab_test"):
                lines.append(f"    {item['ab_test']}")
            if item["based_on_url"]:
                lines.append(f"    a copy of {item['based_on_url']}")
            for url in item["free_alternatives"]:
                lines.append(f"    paywalled: free coverage of this story at {url}")
    candidates = view["candidates"]
    if candidates:
        summary = ", ".join(f"{count} {decision}" for decision, count in sorted(candidates.items()))
        lines.append(f"\ncandidates: {summary}")
        for item in view["rejected"][:10]:
            lines.append(f"  not in the story: {item['url']} ({item['how']}: {item['reason']})")
    return "\n".join(lines)


def _no_text_yet(item: dict[str, Any]) -> str:
    """What a member without a version shows instead of a headline: why, and when it is tried again."""
    if item["last_outcome"] is None:
        return "(not fetched yet)"
    outcome, error = item["last_outcome"], item["last_error"] or ""
    reason = error if error.startswith(outcome) else f"{outcome}: {error}".rstrip(": ")
    retry = f"; next try {when(_parse(item['next_check_at']))}" if item["next_check_at"] else ""
    return f"(no text yet: {reason}{retry})"


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


NAME = "story"
HELP = "stories: add, list, show, remove"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="story_action", required=True, metavar="ACTION")
    story_add = actions.add_parser("add", parents=[common], help="a new story and its sources")
    story_add.add_argument("slug", metavar="SLUG")
    story_add.add_argument("--title", required=True, metavar="T")
    story_add.add_argument("--seed", action="append", default=[], metavar="URL", help="an article of the story")
    story_add.add_argument("--feed", action="append", default=[], metavar="URL", help="an RSS or Atom feed to poll")
    story_add.add_argument("--sitemap", action="append", default=[], metavar="URL", help="a (news) sitemap or index")
    story_add.add_argument("--match", action="append", default=[], metavar="TERM", help="a word or phrase of the story")
    story_add.add_argument(
        "--similarity", type=float, metavar="X", help="vocabulary share (0 to 1) with the seeds to join (default 0.15)"
    )
    story_add.add_argument(
        "--poll", type=int, metavar="SECONDS", help="poll feeds/sitemaps this often, at least 60 (default 900/1800)"
    )
    story_list = actions.add_parser("list", parents=[common], help="all stories")
    story_list.add_argument("--json", action="store_true")
    story_show = actions.add_parser("show", parents=[common], help="a story's coverage, per outlet")
    story_show.add_argument("slug", metavar="SLUG")
    story_show.add_argument("--json", action="store_true")
    story_remove = actions.add_parser(
        "remove", parents=[common], help="delete a story and its memberships (its articles stay archived)"
    )
    story_remove.add_argument("slug", metavar="SLUG")


def run(args: argparse.Namespace) -> int:
    if args.story_action == "add":
        return add(args)
    if args.story_action == "remove":
        return remove(args)
    archive = open_archive(args)
    if args.story_action == "list":
        return list_(args, archive)
    return show(args, archive)
