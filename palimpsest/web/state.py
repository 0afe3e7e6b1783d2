"""Per-app and per-request state of the web view: the read-only engine and this request's session."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

EXTENSION = "palimpsest"


@dataclass(frozen=True)
class WebState:
    """What the app keeps in ``app.extensions["palimpsest"]``: dispose ``engine`` when done."""

    engine: Engine
    sessions: sessionmaker[Session]
    archive_dir: str = "archive"  # the WARC files, for /captures/ID/raw


def db_session() -> Session:
    """This request's session: one read-only transaction, closed when the request ends."""
    if "db_session" not in g:
        g.db_session = current_app.extensions[EXTENSION].sessions()
    return g.db_session
