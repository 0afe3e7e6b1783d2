"""Pages, their JSON twins (``/api/...``, the same data) and the Atom change feeds."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from flask import Blueprint, Response, abort, jsonify, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from palimpsest.storage import browse
from palimpsest.storage import repository as repo
from palimpsest.storage.diff_render import render_html_inline, render_html_table
from palimpsest.storage.history import VersionNotFound, diff_payload
from palimpsest.storage.models import Article, Outlet, Story
from palimpsest.web.feeds import TAG_PREFIX, FeedEntry, build_feed
from palimpsest.web.state import db_session

web = Blueprint("web", __name__)

# Ids beyond this cannot exist (and SQLite refuses to bind them).
MAX_ID = 2**31 - 1
FEED_PAGE_SIZE = 50
_INTEGER_RE = re.compile(r"-?[0-9]{1,18}")


def when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value is not None else "-"


def is_http_url(value: object) -> bool:
    """Only http(s) URLs become links (an archived ``javascript:`` URL stays text)."""
    return isinstance(value, str) and urlsplit(value).scheme.lower() in ("http", "https")


web.add_app_template_test(is_http_url, "http_url")


def jsonable(value: Any) -> Any:
    """Datetimes as ISO 8601 (Flask's default would be an HTTP date), recursively."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value


def wants_json() -> bool:
    return request.path.startswith("/api/")


# --- query parameters ---------------------------------------------------------------------------


def int_arg(name: str, default: int | None, *, minimum: int = 1, maximum: int = MAX_ID) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not _INTEGER_RE.fullmatch(raw):  # int() would also take "1_0", " 7" and non-ASCII digits
        abort(400, f"{name} must be a whole number")
    value = int(raw)
    if not minimum <= value <= maximum:
        abort(400, f"{name} must be between {minimum} and {maximum}")
    return value


def page_request(default_size: int = browse.DEFAULT_PAGE_SIZE) -> browse.PageRequest:
    number = int_arg("page", 1, maximum=browse.MAX_PAGE_NUMBER)
    size = int_arg("per_page", default_size, maximum=browse.MAX_PAGE_SIZE)
    return browse.PageRequest(number or 1, size or default_size)


def current_url(endpoint: str | None = None, *, external: bool = False, **overrides: Any) -> str:
    """This request's URL (or its twin at ``endpoint``) with its query, ``overrides`` applied
    (None removes a key).

    Query keys that name a path part or a ``url_for`` option are dropped, not passed on.
    """
    view_args = request.view_args or {}
    args = {k: v for k, v in request.args.items() if k not in view_args and not k.startswith("_")}
    args.update(overrides)
    args = {k: v for k, v in args.items() if v is not None}
    return url_for(endpoint or request.endpoint or "web.stories", **view_args, **args, _external=external)


def twin_url() -> str:
    """The JSON twin of this page (or the page of this JSON)."""
    endpoint = request.endpoint or "web.stories"
    name = endpoint.removeprefix("web.")
    twin = name.removeprefix("api_") if name.startswith("api_") else f"api_{name}"
    return current_url(f"web.{twin}")


web.add_app_template_global(twin_url, "twin_url")


def page_url(number: int, *, external: bool = False) -> str:
    return current_url(external=external, page=number if number > 1 else None)


def pagination(page: browse.Page) -> dict[str, Any]:
    return {
        "page": page.number,
        "per_page": page.size,
        "total": page.total,
        "next": page_url(page.number + 1) if page.has_next else None,
        "previous": page_url(page.number - 1) if page.has_previous else None,
    }


def respond(template: str, data: dict[str, Any], **extra: Any) -> Any:
    """The JSON twin under /api/, else the page (which gets ``extra`` for presentation only)."""
    if wants_json():
        return jsonify(jsonable(data))
    return render_template(template, **data, **extra)


# --- lookups ---------------------------------------------------------------------------------------


def story_or_404(slug: str) -> Story:
    story = repo.get_story(db_session(), slug)
    if story is None:
        abort(404, f"no story {slug!r}")
    return story


def article_or_404(article_id: int) -> Article:
    article = db_session().get(Article, article_id) if 0 < article_id <= MAX_ID else None
    if article is None:
        abort(404, f"no article {article_id}")
    return article


# --- pages -----------------------------------------------------------------------------------------


@web.get("/healthz")
def healthz() -> Response:
    try:
        db_session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        return Response("database unavailable\n", 503, mimetype="text/plain")
    return Response("ok\n", mimetype="text/plain")


@web.get("/", endpoint="stories")
@web.get("/api/stories", endpoint="api_stories")
def stories() -> Any:
    page = browse.stories_page(db_session(), page_request())
    return respond("stories.html", {"stories": page.items, "pagination": pagination(page)})


@web.get("/stories/<slug>", endpoint="story")
@web.get("/api/stories/<slug>", endpoint="api_story")
def story(slug: str) -> Any:
    session = db_session()
    found = story_or_404(slug)
    page = browse.story_coverage(session, found, page_request())
    data = {
        "story": browse.story_header(session, found),
        "articles": page.items,
        "pagination": pagination(page),
    }
    return respond("story.html", data, outlets=browse.group_by_outlet(page.items))


@web.get("/articles/<int:article_id>", endpoint="article")
@web.get("/api/articles/<int:article_id>", endpoint="api_article")
def article(article_id: int) -> Any:
    session = db_session()
    found = article_or_404(article_id)
    header = browse.article_header(session, found)
    page = browse.article_timeline(session, found, page_request(), total=header["versions"])
    data = {"article": header, "versions": page.items, "pagination": pagination(page)}
    return respond("article.html", data)


@web.get("/articles/<int:article_id>/diff", endpoint="diff")
@web.get("/api/articles/<int:article_id>/diff", endpoint="api_diff")
def diff(article_id: int) -> Any:
    session = db_session()
    found = article_or_404(article_id)
    from_seq = int_arg("from", None)
    to_seq = int_arg("to", None)
    try:
        comparison = browse.compare(session, found, from_seq, to_seq)
    except VersionNotFound as exc:
        abort(404, str(exc))
    if wants_json():
        return jsonify(diff_payload(comparison))
    old, new = comparison.old, comparison.new
    latest = browse.latest_seq(session, found.id) or new.seq
    old_label = f"v{old.seq}, seen {when(old.first_seen_at)}"
    new_label = f"v{new.seq}, seen {when(new.first_seen_at)}"
    return render_template(
        "diff.html",
        article=found,
        outlet=session.get(Outlet, found.outlet_id),
        old=old,
        new=new,
        latest=latest,
        kinds=list(comparison.diff.kinds),
        similarity=comparison.diff.similarity,
        side_by_side=Markup(render_html_table(comparison.diff, old_label=old_label, new_label=new_label)),
        inline=Markup(render_html_inline(comparison.diff)),
    )


@web.get("/search", endpoint="search")
@web.get("/api/search", endpoint="api_search")
def search() -> Any:
    query = (request.args.get("q") or "").strip()
    if len(query) > browse.SEARCH_MAX_LENGTH:
        abort(400, f"q must be at most {browse.SEARCH_MAX_LENGTH} characters")
    if not query:
        if wants_json():
            abort(400, "q is required")
        return render_template("search.html", query="", results=[], pagination=None)
    page = browse.search_headlines(db_session(), query, page_request())
    return respond("search.html", {"query": query, "results": page.items, "pagination": pagination(page)})


# --- Atom feeds ---------------------------------------------------------------------------------


def _feed_response(page: browse.Page, *, feed_id: str, title: str, alternate: str, updated: datetime) -> Response:
    entries = [
        FeedEntry(
            row=row,
            diff_url=url_for(
                "web.diff", article_id=row["article_id"], _external=True, **{"from": row["seq"] - 1, "to": row["seq"]}
            ),
            article_page=url_for("web.article", article_id=row["article_id"], _external=True),
        )
        for row in page.items
    ]
    document = build_feed(
        feed_id=feed_id,
        title=title,
        self_url=page_url(page.number, external=True),
        alternate_url=alternate,
        first_url=page_url(1, external=True),
        next_url=page_url(page.number + 1, external=True) if page.has_next else None,
        previous_url=page_url(page.number - 1, external=True) if page.has_previous else None,
        updated=page.items[0]["first_seen_at"] if page.items else updated,
        entries=entries,
    )
    return Response(document, mimetype="application/atom+xml")


@web.get("/changes.atom", endpoint="changes_feed")
def changes_feed() -> Response:
    page = browse.changes_page(db_session(), page_request(FEED_PAGE_SIZE))
    return _feed_response(
        page,
        feed_id=f"{TAG_PREFIX}changes",
        title="palimpsest: every change in the archive",
        alternate=url_for("web.stories", _external=True),
        updated=datetime.now(UTC),
    )


@web.get("/stories/<slug>/changes.atom", endpoint="story_feed")
def story_feed(slug: str) -> Response:
    found = story_or_404(slug)
    page = browse.changes_page(db_session(), page_request(FEED_PAGE_SIZE), story=found)
    return _feed_response(
        page,
        feed_id=f"{TAG_PREFIX}stories/{quote(found.slug, safe='')}/changes",
        title=f"palimpsest: changes in {found.title}",
        alternate=url_for("web.story", slug=found.slug, _external=True),
        updated=found.created_at,
    )


# --- errors ---------------------------------------------------------------------------------------


@web.app_errorhandler(HTTPException)
def http_error(exc: HTTPException) -> Any:
    code = exc.code or 500
    message = exc.description or exc.name
    if wants_json():
        response = jsonify({"error": message, "status": code})
    else:
        response = Response(
            render_template("error.html", code=code, name=exc.name, message=message), mimetype="text/html"
        )
    response.status_code = code
    return response


__all__ = ["web", "when"]
