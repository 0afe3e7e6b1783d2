"""Outlet health: is each outlet still captured and extracted as it was? Measures and alerts.

A template change, a new consent wall or a paywall switched on shows first as a shift in an
outlet's numbers (text length halves, failures repeat, free pages turn paywalled, captures
turn suspect) long before anyone reads a diff. ``measure_outlets`` reads them (session first,
read-only); ``alerts_for`` is pure: it says which measures moved past a threshold, and why.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from palimpsest.storage.models import Article, Capture, Outlet, Version

DAY, WEEK = timedelta(days=1), timedelta(days=7)
# The weeks before the last one that "before" measures are taken over.
HISTORY = timedelta(days=35)
FAILED = frozenset({"error", "refused"})
PAYWALLED_ACCESS = frozenset({"hard", "registration"})


@dataclass(frozen=True)
class HealthThresholds:
    """When a measure raises an alert."""

    length_ratio: float = 0.5  # median words per new version this week below this share of before
    failures_in_a_row: int = 3  # the outlet's latest captures all failed
    paywall_before_max: float = 0.1  # "free": at most this share of captures paywalled before
    paywall_now_min: float = 0.5  # "turned paywalled": at least this share this week
    min_captures: int = 3  # fewer captures this week than this: no share-based alert


@dataclass
class OutletHealth:
    domain: str
    name: str | None
    captures_day: int = 0
    captures_week: int = 0
    errors_day: int = 0
    errors_week: int = 0
    median_words_week: float | None = None
    median_words_before: float | None = None
    paywalled_share_week: float = 0.0
    paywalled_share_before: float = 0.0
    suspect_share_week: float = 0.0
    open_suspects: int = 0  # articles whose last capture is suspect
    failures_in_a_row: int = 0
    last_success: datetime | None = None
    alerts: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["last_success"] = self.last_success.isoformat() if self.last_success else None
        for key in ("paywalled_share_week", "paywalled_share_before", "suspect_share_week"):
            data[key] = round(data[key], 4)
        return data


def alerts_for(health: OutletHealth, thresholds: HealthThresholds) -> list[dict[str, str]]:
    """Which measures moved past a threshold: [{"measure", "message"}] (pure)."""
    alerts = []
    now, before = health.median_words_week, health.median_words_before
    if now is not None and before and now < thresholds.length_ratio * before:
        alerts.append(
            {
                "measure": "length",
                "message": f"median words per new version fell to {now:g} from {before:g} in the weeks before",
            }
        )
    if health.failures_in_a_row >= thresholds.failures_in_a_row:
        alerts.append({"measure": "failures", "message": f"the last {health.failures_in_a_row} captures all failed"})
    if (
        health.captures_week >= thresholds.min_captures
        and health.paywalled_share_before <= thresholds.paywall_before_max
        and health.paywalled_share_week >= thresholds.paywall_now_min
    ):
        alerts.append(
            {
                "measure": "paywall",
                "message": f"{health.paywalled_share_week:.0%} of this week's captures are paywalled, "
                f"{health.paywalled_share_before:.0%} before",
            }
        )
    if health.open_suspects:
        alerts.append(
            {
                "measure": "suspect",
                "message": f"{health.open_suspects} article(s) whose last capture looks like broken extraction",
            }
        )
    return alerts


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def measure_outlets(
    session: Session, now: datetime, *, domain: str | None = None, thresholds: HealthThresholds | None = None
) -> list[OutletHealth]:
    """Every outlet's (or one's) measures and alerts as of ``now``, by domain."""
    thresholds = thresholds or HealthThresholds()
    outlets_stmt = select(Outlet).order_by(Outlet.domain)
    if domain is not None:
        outlets_stmt = outlets_stmt.where(Outlet.domain == domain)
    outlets = {o.id: OutletHealth(o.domain, o.name) for o in session.scalars(outlets_stmt)}
    if not outlets:
        return []
    since = now - HISTORY
    rows = session.execute(
        select(Article.outlet_id, Capture.article_id, Capture.fetched_at, Capture.outcome, Version.access)
        .join(Article, Article.id == Capture.article_id)
        .outerjoin(Version, Version.id == Capture.version_id)
        .where(Article.outlet_id.in_(list(outlets)), Capture.fetched_at >= since, Capture.fetched_at <= now)
        .order_by(Capture.fetched_at, Capture.id)
    ).all()
    counted: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    last_by_article: dict[int, str] = {}
    streak: dict[int, int] = defaultdict(int)
    for outlet_id, article_id, fetched_at, outcome, access in rows:
        health, count = outlets[outlet_id], counted[outlet_id]
        recent = fetched_at >= now - WEEK
        period = "week" if recent else "before"
        failed = outcome in FAILED
        count[f"{period}_all"] += 1
        count[f"{period}_paywalled"] += outcome == "paywalled" or access in PAYWALLED_ACCESS
        if recent:
            health.captures_week += 1
            health.errors_week += failed
            count["week_suspect"] += outcome == "suspect"
            if fetched_at >= now - DAY:
                health.captures_day += 1
                health.errors_day += failed
        streak[outlet_id] = streak[outlet_id] + 1 if failed else 0
        if not failed and outcome != "suspect":
            health.last_success = fetched_at
        last_by_article[article_id] = outcome
    suspect_articles = [article_id for article_id, outcome in last_by_article.items() if outcome == "suspect"]
    if suspect_articles:
        for outlet_id, count_ in session.execute(
            select(Article.outlet_id, func.count()).where(Article.id.in_(suspect_articles)).group_by(Article.outlet_id)
        ):
            outlets[outlet_id].open_suspects = count_
    words: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for outlet_id, first_seen, word_count in session.execute(
        select(Article.outlet_id, Version.first_seen_at, Version.word_count)
        .join(Article, Article.id == Version.article_id)
        .where(Article.outlet_id.in_(list(outlets)), Version.first_seen_at >= since, Version.first_seen_at <= now)
    ):
        words[outlet_id]["week" if first_seen >= now - WEEK else "before"].append(word_count)
    for outlet_id, health in outlets.items():
        count = counted[outlet_id]
        health.paywalled_share_week = _share(count["week_paywalled"], count["week_all"])
        health.paywalled_share_before = _share(count["before_paywalled"], count["before_all"])
        health.suspect_share_week = _share(count["week_suspect"], count["week_all"])
        health.failures_in_a_row = streak[outlet_id]
        if words[outlet_id]["week"]:
            health.median_words_week = statistics.median(words[outlet_id]["week"])
        if words[outlet_id]["before"]:
            health.median_words_before = statistics.median(words[outlet_id]["before"])
        health.alerts = alerts_for(health, thresholds)
    return list(outlets.values())
