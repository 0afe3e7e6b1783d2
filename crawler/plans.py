"""What the archive knows about URLs before fetching them, handed to the spider as plans.

A plan carries the previous payload digest (an identical payload skips extraction and is
archived as a WARC revisit of the record that holds it) and the validators for a conditional
request. Conditional requests go only to outlets whose validators have never lied, and every
``verify_every``-th unchanged re-check is sent without them, to catch a server whose 304s lie.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.extract.urls import BadURLError, normalise_url
from crawler.warc import warc_date
from storage import repository as repo
from storage.models import Article, Capture, Outlet

DEFAULT_VERIFY_EVERY = 8


def _original_record(session: Session, article: Article) -> tuple[str, str] | None:
    """(target URI, WARC date) of the first archived response with the article's last payload."""
    if not article.last_payload_digest:
        return None
    row = session.execute(
        select(Capture.final_url, Capture.requested_url, Capture.fetched_at)
        .where(
            Capture.article_id == article.id,
            Capture.payload_digest == article.last_payload_digest,
            Capture.warc_file.is_not(None),
        )
        .order_by(Capture.id)
        .limit(1)
    ).first()
    if row is None:
        return None
    return row.final_url or row.requested_url, warc_date(row.fetched_at)


def plan_for(session: Session, article: Article, *, verify_every: int = DEFAULT_VERIFY_EVERY) -> dict[str, Any]:
    outlet = session.get(Outlet, article.outlet_id)
    verification_due = verify_every > 0 and article.unchanged_streak % verify_every == verify_every - 1
    conditional = bool(outlet is not None and outlet.validators_trusted and not verification_due)
    return {
        "article_id": article.id,
        "previous_digest": article.last_payload_digest,
        "revisit_of": _original_record(session, article),
        "etag": article.etag if conditional else None,
        "last_modified": article.last_modified if conditional else None,
    }


def fetch_plans(
    session: Session, urls: Iterable[str], *, verify_every: int = DEFAULT_VERIFY_EVERY
) -> dict[str, dict[str, Any]]:
    """Per requested URL: the known article's plan (URLs not yet archived get none)."""
    plans: dict[str, dict[str, Any]] = {}
    for url in urls:
        try:
            normalised = normalise_url(url)
        except BadURLError:
            continue
        article = repo.find_article_by_urls(session, [normalised])
        if article is not None:
            plans[url] = plan_for(session, article, verify_every=verify_every)
    return plans
