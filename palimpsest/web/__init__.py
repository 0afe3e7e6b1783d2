"""The read-only web view of the archive: stories, articles, versions, diffs, change feeds.

``create_app(database_url)`` builds the Flask app; ``palimpsest serve`` runs it under waitress.
Archived text is untrusted: Jinja escapes everything, the diff fragments escape their text,
and every response forbids scripts outright (Content-Security-Policy). The database is opened
read-only (``storage.db.make_engine(read_only=True)``) and never migrated from here.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask, Response, g
from jinja2 import StrictUndefined
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from palimpsest.storage.db import make_engine, make_session_factory
from palimpsest.storage.outlet_health import HealthThresholds
from palimpsest.web.origin import PUBLIC_URL, fixed_origin
from palimpsest.web.state import EXTENSION, WebState
from palimpsest.web.views import HEALTH_THRESHOLDS, web, when

SECURITY_HEADERS = {
    # No script of any origin, inline or not: archived text can never run.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

# Archived bytes, shown as text; should a browser render them anyway, nothing runs or loads.
RAW_CAPTURE_POLICY = "default-src 'none'; sandbox; frame-ancestors 'none'"

__all__ = ["SECURITY_HEADERS", "WebState", "build_app", "create_app"]


def create_app(database_url: str, archive_dir: str = "archive") -> Flask:
    """The web app on the archive at ``database_url``, opened read-only; ``archive_dir``
    holds its WARC files (for the raw captures)."""
    return build_app(make_engine(database_url, read_only=True), archive_dir)


def build_app(
    engine: Engine,
    archive_dir: str = "archive",
    public_url: str | None = None,
    *,
    health: HealthThresholds | None = None,
) -> Flask:
    """The web app on an engine opened read-only (see storage.opening.open_for_reading).
    ``public_url``: where readers reach it, the base of its absolute links (web.origin);
    ``health``: the outlet-health alert thresholds (the defaults unless given)."""
    app = Flask(__name__)
    app.config[PUBLIC_URL] = public_url
    app.config[HEALTH_THRESHOLDS] = health or HealthThresholds()
    fixed_origin(app)
    app.extensions[EXTENSION] = WebState(engine, make_session_factory(engine, writes=False), archive_dir)
    app.jinja_env.undefined = StrictUndefined
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["iso"] = lambda value: value.isoformat() if isinstance(value, datetime) else ""
    app.register_blueprint(web)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        if response.headers.pop("X-Raw-Capture", None):
            response.headers["Content-Security-Policy"] = RAW_CAPTURE_POLICY
        return response

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.close()

    return app
