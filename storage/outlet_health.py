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

from sqlalchemy import and_, case, func, or_, select
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

    @classmethod
    def from_settings(cls, settings: Any) -> HealthThresholds:
        """From the ``PALIMPSEST_HEALTH_*`` settings (crawler/settings.py)."""
        return cls(
            length_ratio=settings.getfloat("PALIMPSEST_HEALTH_LENGTH_RATIO"),
            failures_in_a_row=settings.getint("PALIMPSEST_HEALTH_FAILURES_IN_A_ROW"),
            paywall_before_max=settings.getfloat("PALIMPSEST_HEALTH_PAYWALL_BEFORE"),
            paywall_now_min=settings.getfloat("PALIMPSEST_HEALTH_PAYWALL_NOW"),
            min_captures=settings.getint("PALIMPSEST_HEALTH_MIN_CAPTURES"),
        )


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
    """Every outlet's (or one's) measures and alerts as of ``now``, by domain. Five aggregate
    queries whatever the archive's size (no capture row is loaded)."""
    thresholds = thresholds or HealthThresholds()
    outlets_stmt = select(Outlet).order_by(Outlet.domain)
    if domain is not None:
        outlets_stmt = outlets_stmt.where(Outlet.domain == domain)
    outlets = {o.id: OutletHealth(o.domain, o.name) for o in session.scalars(outlets_stmt)}
    if not outlets:
        return []
    ids = list(outlets)
    since, week, day = now - HISTORY, now - WEEK, now - DAY
    in_outlets = Article.outlet_id.in_(ids)
    counted: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    recent = case((Capture.fetched_at >= week, 1), else_=0).label("recent")
    today = case((Capture.fetched_at >= day, 1), else_=0).label("today")
    walled = case((Capture.outcome == "paywalled", 1), (Version.access.in_(PAYWALLED_ACCESS), 1), else_=0)
    for outlet_id, is_recent, is_today, outcome, is_walled, count in session.execute(
        select(Article.outlet_id, recent, today, Capture.outcome, walled.label("walled"), func.count())
        .select_from(Capture)
        .join(Article, Article.id == Capture.article_id)
        .outerjoin(Version, Version.id == Capture.version_id)
        .where(in_outlets, Capture.fetched_at >= since, Capture.fetched_at <= now)
        .group_by(Article.outlet_id, recent, today, Capture.outcome, walled)
    ):
        health, tally, failed = outlets[outlet_id], counted[outlet_id], outcome in FAILED
        period = "week" if is_recent else "before"
        tally[f"{period}_all"] += count
        tally[f"{period}_paywalled"] += count if is_walled else 0
        if is_recent:
            health.captures_week += count
            health.errors_week += count if failed else 0
            tally["week_suspect"] += count if outcome == "suspect" else 0
            if is_today:
                health.captures_day += count
                health.errors_day += count if failed else 0
    succeeded = (
        select(Article.outlet_id, func.max(Capture.fetched_at).label("at"))
        .select_from(Capture)
        .join(Article, Article.id == Capture.article_id)
        .where(in_outlets, Capture.fetched_at <= now, Capture.outcome.not_in([*FAILED, "suspect"]))
        .group_by(Article.outlet_id)
        .subquery()
    )
    for outlet_id, at in session.execute(select(succeeded.c.outlet_id, succeeded.c.at)):
        outlets[outlet_id].last_success = at
    for outlet_id, count in session.execute(
        select(Article.outlet_id, func.count())
        .select_from(Capture)
        .join(Article, Article.id == Capture.article_id)
        .outerjoin(succeeded, succeeded.c.outlet_id == Article.outlet_id)
        .where(
            in_outlets,
            Capture.fetched_at <= now,
            Capture.outcome.in_(FAILED),
            or_(succeeded.c.at.is_(None), Capture.fetched_at > succeeded.c.at),
        )
        .group_by(Article.outlet_id)
    ):
        outlets[outlet_id].failures_in_a_row = count
    suspected = (
        select(Capture.article_id)
        .join(Article, Article.id == Capture.article_id)
        .where(in_outlets, Capture.outcome == "suspect", Capture.fetched_at >= since, Capture.fetched_at <= now)
        .distinct()
    )
    latest = (
        select(Capture.article_id, func.max(Capture.fetched_at).label("at"))
        .where(Capture.article_id.in_(suspected), Capture.fetched_at <= now)
        .group_by(Capture.article_id)
        .subquery()
    )
    for outlet_id, count in session.execute(
        select(Article.outlet_id, func.count(func.distinct(Capture.article_id)))
        .select_from(Capture)
        .join(latest, and_(latest.c.article_id == Capture.article_id, latest.c.at == Capture.fetched_at))
        .join(Article, Article.id == Capture.article_id)
        .where(Capture.outcome == "suspect")
        .group_by(Article.outlet_id)
    ):
        outlets[outlet_id].open_suspects = count
    words: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for outlet_id, first_seen, word_count in session.execute(
        select(Article.outlet_id, Version.first_seen_at, Version.word_count)
        .select_from(Version)
        .join(Article, Article.id == Version.article_id)
        .where(in_outlets, Version.first_seen_at >= since, Version.first_seen_at <= now)
    ):
        words[outlet_id]["week" if first_seen >= week else "before"].append(word_count)
    for outlet_id, health in outlets.items():
        tally = counted[outlet_id]
        health.paywalled_share_week = _share(tally["week_paywalled"], tally["week_all"])
        health.paywalled_share_before = _share(tally["before_paywalled"], tally["before_all"])
        health.suspect_share_week = _share(tally["week_suspect"], tally["week_all"])
        if words[outlet_id]["week"]:
            health.median_words_week = statistics.median(words[outlet_id]["week"])
        if words[outlet_id]["before"]:
            health.median_words_before = statistics.median(words[outlet_id]["before"])
        health.alerts = alerts_for(health, thresholds)
    return list(outlets.values())
