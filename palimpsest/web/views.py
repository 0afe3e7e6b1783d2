"""Pages, their JSON twins (``/api/...``, the same data) and the Atom change feeds."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from palimpsest.storage import browse, revision_rows
from palimpsest.storage import repository as repo
from palimpsest.storage.diff_render import render_html_inline, render_html_table
from palimpsest.storage.history import VersionNotFound, ab_test_summary, diff_payload
from palimpsest.storage.models import ABTest, Article, Capture, Outlet, Story
from palimpsest.storage.outlet_health import measure_outlets
from palimpsest.web.feeds import TAG_PREFIX, ABTestEntry, FeedEntry, build_feed
from palimpsest.web.state import EXTENSION, db_session

web = Blueprint("web", __name__)

# Ids beyond this cannot exist (and SQLite refuses to bind them).
MAX_ID = 2**31 - 1
HEALTH_THRESHOLDS = "PALIMPSEST_HEALTH_THRESHOLDS"  # app.config key: storage.outlet_health.HealthThresholds
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


# The index shows this many recently changed articles and outlets; their own pages list all.
INDEX_ARTICLES = 20
INDEX_OUTLETS = 50
# An article page lists its latest fetches; /articles/ID/captures pages through all of them.
ARTICLE_CAPTURES = 10
# A story page lists the candidates it turned down first; /stories/SLUG/candidates lists all.
STORY_CANDIDATES = 20
CANDIDATE_DECISIONS = ("pending", "joined", "rejected", "failed")


@web.get("/", endpoint="stories")
@web.get("/api/stories", endpoint="api_stories")
def stories() -> Any:
    """The index: stories, then the most recently changed articles (in a story or not) and
    the outlets, so that an archive crawled without stories reads too."""
    session = db_session()
    page = browse.stories_page(session, page_request())
    recent = browse.articles_page(session, browse.PageRequest(1, INDEX_ARTICLES))
    outlets = browse.outlets_page(session, browse.PageRequest(1, INDEX_OUTLETS))
    data = {
        "stories": page.items,
        "pagination": pagination(page),
        "recent_articles": recent.items,
        "outlets": outlets.items,
    }
    return respond("stories.html", data, more_articles=recent.has_next, more_outlets=outlets.has_next)


@web.get("/articles", endpoint="articles")
@web.get("/api/articles", endpoint="api_articles")
def articles() -> Any:
    outlet = request.args.get("outlet") or None
    page = browse.articles_page(db_session(), page_request(), outlet=outlet)
    return respond("articles.html", {"outlet": outlet, "articles": page.items, "pagination": pagination(page)})


@web.get("/outlets", endpoint="outlets")
@web.get("/api/outlets", endpoint="api_outlets")
def outlets() -> Any:
    page = browse.outlets_page(db_session(), page_request())
    return respond("outlets.html", {"outlets": page.items, "pagination": pagination(page)})


@web.get("/stories/<slug>", endpoint="story")
@web.get("/api/stories/<slug>", endpoint="api_story")
def story(slug: str) -> Any:
    session = db_session()
    found = story_or_404(slug)
    page = browse.story_coverage(session, found, page_request())
    turned_down = browse.candidates_page(session, found, browse.PageRequest(1, STORY_CANDIDATES))
    data = {
        "story": browse.story_header(session, found),
        "articles": page.items,
        "pagination": pagination(page),
        "turned_down": turned_down.items,
    }
    return respond("story.html", data, outlets=browse.group_by_outlet(page.items), turned_down_total=turned_down.total)


@web.get("/stories/<slug>/candidates", endpoint="candidates")
@web.get("/api/stories/<slug>/candidates", endpoint="api_candidates")
def candidates(slug: str) -> Any:
    """The URLs a story's sources pointed at, and what was decided about each (and why)."""
    found = story_or_404(slug)
    decision = request.args.get("decision") or None
    if decision is not None and decision not in CANDIDATE_DECISIONS:
        abort(400, f"decision must be one of {', '.join(CANDIDATE_DECISIONS)}")
    decisions = (decision,) if decision else browse.TURNED_DOWN
    page = browse.candidates_page(db_session(), found, page_request(), decisions)
    data = {"story": {"slug": found.slug, "title": found.title}, "decision": decision,
            "candidates": page.items, "pagination": pagination(page)}  # fmt: skip
    return respond("candidates.html", data, decisions=CANDIDATE_DECISIONS)


@web.get("/articles/<int:article_id>", endpoint="article")
@web.get("/api/articles/<int:article_id>", endpoint="api_article")
def article(article_id: int) -> Any:
    session = db_session()
    found = article_or_404(article_id)
    header = browse.article_header(session, found)
    page = browse.article_timeline(session, found, page_request(), total=header["versions"])
    captures = browse.captures_page(session, found, browse.PageRequest(1, ARTICLE_CAPTURES))
    data = {
        "article": header,
        "versions": page.items,
        "pagination": pagination(page),
        "captures": captures.items,
        # A revert can make an earlier version current again; an article flipping is an A/B test.
        "current_seq": found.current_seq or header["latest_seq"],
        "ab_test": ab_test_summary(session.scalar(select(ABTest).where(ABTest.article_id == found.id))),
    }
    return respond("article.html", data)


@web.get("/articles/<int:article_id>/v/<int:seq>", endpoint="version")
@web.get("/api/articles/<int:article_id>/v/<int:seq>", endpoint="api_version")
def version(article_id: int, seq: int) -> Any:
    """One version's text, as archived: what the article said then."""
    session = db_session()
    found = article_or_404(article_id)
    if seq > MAX_ID:
        abort(404, f"no version {seq}")
    try:
        data = browse.version_page(session, found, seq)
    except VersionNotFound as exc:
        abort(404, str(exc))
    outlet = session.get(Outlet, found.outlet_id)
    return respond("version.html", {"version": data}, outlet=outlet)


@web.get("/articles/<int:article_id>/captures", endpoint="captures")
@web.get("/api/articles/<int:article_id>/captures", endpoint="api_captures")
def captures(article_id: int) -> Any:
    session = db_session()
    found = article_or_404(article_id)
    page = browse.captures_page(session, found, page_request())
    header = browse.article_header(session, found)
    return respond("captures.html", {"article": header, "captures": page.items, "pagination": pagination(page)})


@web.get("/captures/<int:capture_id>", endpoint="capture")
@web.get("/api/captures/<int:capture_id>", endpoint="api_capture")
def capture(capture_id: int) -> Any:
    """One fetch: what was asked, what came back, where its record is in the WARC files."""
    from palimpsest.captures import CaptureNotFound, capture_details

    if not 0 < capture_id <= MAX_ID:
        abort(404, f"no capture {capture_id}")
    try:
        details = capture_details(db_session(), capture_id)
    except CaptureNotFound as exc:
        abort(404, str(exc))
    found = db_session().get(Capture, capture_id)
    return respond("capture.html", {"capture": {**details, "article_id": found.article_id if found else None}})


@web.get("/captures/<int:capture_id>/raw", endpoint="raw_capture")
def raw_capture(capture_id: int) -> Response:
    """The page bytes a capture archived, read back from the WARC file, shown as text: archived
    markup is never rendered here (and could not run: no script is allowed anywhere)."""
    from palimpsest.captures import CaptureNotFound, archived_payload

    state = current_app.extensions[EXTENSION]
    if not 0 < capture_id <= MAX_ID:
        abort(404, f"no capture {capture_id}")
    try:
        payload = archived_payload(db_session(), state.archive_dir, capture_id)
    except CaptureNotFound as exc:
        abort(404, str(exc))
    found = db_session().get(Capture, capture_id)
    charset = _charset(found.content_type if found else None)
    response = Response(payload, mimetype="text/plain")
    response.headers["Content-Type"] = f"text/plain; charset={charset}"
    response.headers["Content-Disposition"] = f'inline; filename="capture-{capture_id}.html"'
    response.headers["X-Raw-Capture"] = "1"  # the CSP below, not the page one
    return response


def _charset(content_type: str | None) -> str:
    """The charset the page was served with (text/plain is shown in it), else UTF-8."""
    match = re.search(r"charset=\"?([A-Za-z0-9._-]{1,40})", content_type or "")
    return match.group(1) if match else "utf-8"


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


@web.get("/health", endpoint="health")
@web.get("/api/health", endpoint="api_health")
def health() -> Any:
    """Per outlet: captures, errors, text length, paywalled and suspect shares, open alerts."""
    thresholds = current_app.config[HEALTH_THRESHOLDS]
    measured = measure_outlets(
        db_session(), datetime.now(UTC), domain=request.args.get("outlet"), thresholds=thresholds
    )
    outlets = [h.as_dict() for h in measured]
    return respond("health.html", {"alerts": sum(len(o["alerts"]) for o in outlets), "outlets": outlets})


# --- Atom feeds ---------------------------------------------------------------------------------


def _feed_response(
    page: browse.Page, *, feed_id: str, title: str, alternate: str, updated: datetime, story_id: int | None = None
) -> Response:
    # An A/B-tested article is one entry for all its flips, not one per variant version.
    every_test = revision_rows.ab_tests(db_session(), story_id)
    tests = every_test if page.number == 1 else []
    variants = {(test["article_id"], variant["seq"]) for test in every_test for variant in test["variants"]}
    ab_entries = [
        ABTestEntry(test, url_for("web.article", article_id=test["article_id"], _external=True)) for test in tests
    ]
    entries = [
        FeedEntry(
            row=row,
            diff_url=url_for(
                "web.diff", article_id=row["article_id"], _external=True, **{"from": row["seq"] - 1, "to": row["seq"]}
            ),
            article_page=url_for("web.article", article_id=row["article_id"], _external=True),
        )
        for row in page.items
        if (row["article_id"], row["seq"]) not in variants
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
        ab_tests=ab_entries,
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
        story_id=found.id,
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
