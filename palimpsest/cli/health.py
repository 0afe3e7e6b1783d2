"""``palimpsest health [--json] [--outlet DOMAIN]``: is every outlet still captured and extracted
as it was? Exit status 3 while an alert is open, so cron can mail it."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from palimpsest.cli.common import UserError, open_archive
from palimpsest.cli.output import when

NAME = "health"
HELP = "per outlet: captures, errors, text length, paywalled and suspect shares; exit 3 on an alert"
# Exit status while at least one alert is open (0: none; 1 and 2 as for every command).
ALERT_EXIT = 3


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--outlet", metavar="DOMAIN", help="only this outlet (its registered domain)")


def _share(value: float) -> str:
    return f"{value:.0%}"


def format_health(outlets: list) -> str:
    lines = []
    for health in outlets:
        status = "ALERT" if health.alerts else "ok"
        lines.append(f"{health.domain}{f' ({health.name})' if health.name else ''}: {status}")
        lines.append(
            f"  captures {health.captures_day} today, {health.captures_week} this week;"
            f" errors {health.errors_day} today, {health.errors_week} this week;"
            f" failures in a row {health.failures_in_a_row}; last success {when(health.last_success)}"
        )
        words_now = f"{health.median_words_week:g}" if health.median_words_week is not None else "-"
        words_before = f"{health.median_words_before:g}" if health.median_words_before is not None else "-"
        lines.append(
            f"  median words per new version {words_now} this week, {words_before} before;"
            f" paywalled {_share(health.paywalled_share_week)} (before {_share(health.paywalled_share_before)});"
            f" suspect {_share(health.suspect_share_week)}"
        )
        lines += [f"  alert [{alert['measure']}]: {alert['message']}" for alert in health.alerts]
    return "\n".join(lines) if lines else "no outlets in this archive yet"


def run(args: argparse.Namespace) -> int:
    from palimpsest.crawler.runner import build_settings
    from palimpsest.storage.outlet_health import HealthThresholds, measure_outlets

    thresholds = HealthThresholds.from_settings(build_settings(args.settings))
    archive = open_archive(args)
    with archive.readers() as session:
        outlets = measure_outlets(session, datetime.now(UTC), domain=args.outlet, thresholds=thresholds)
    if args.outlet and not outlets:
        raise UserError(f"no outlet {args.outlet!r} in this archive")
    alerts = sum(len(health.alerts) for health in outlets)
    if args.json:
        print(json.dumps({"alerts": alerts, "outlets": [h.as_dict() for h in outlets]}, indent=2, ensure_ascii=False))
    else:
        print(format_health(outlets))
    return ALERT_EXIT if alerts else 0
