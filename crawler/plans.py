"""What the archive knows about URLs before fetching them, handed to the spider as plans.

A plan carries the previous payload digest (an identical payload skips extraction) and, in
later stages, the validators for a conditional request.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from crawler.extract.urls import BadURLError, normalise_url
from storage import repository as repo


def fetch_plans(session: Session, urls: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Per requested URL: the known article's previous digest and validators (if any)."""
    plans: dict[str, dict[str, Any]] = {}
    for url in urls:
        try:
            normalised = normalise_url(url)
        except BadURLError:
            continue
        article = repo.find_article_by_urls(session, [normalised])
        if article is None:
            continue
        plans[url] = {
            "article_id": article.id,
            "previous_digest": article.last_payload_digest,
            "etag": article.etag,
            "last_modified": article.last_modified,
            "validators_trusted": article.validators_trusted,
        }
    return plans
