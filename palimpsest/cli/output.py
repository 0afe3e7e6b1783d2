"""Human-readable renderings of archive data for the terminal."""

from __future__ import annotations

from datetime import datetime

from palimpsest.storage.history import ArticleHistory


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "-"


def format_history(history: ArticleHistory) -> str:
    article, outlet = history.article, history.outlet
    count = len(history.versions)
    lines = [
        article.canonical_url,
        f"{outlet.name or outlet.domain} ({outlet.domain}) · {count} version{'s' if count != 1 else ''}"
        f" · {history.capture_count} capture{'s' if history.capture_count != 1 else ''}"
        f" · published {when(article.published_at)} · {article.state}",
    ]
    if history.last_outcome in ("error", "refused", "gone"):
        lines.append(f"last capture: {history.last_outcome}: {history.last_error}")
    if history.ab_test is not None:
        test = history.ab_test
        lines.append(
            f"{len(test.variants)}-way headline A/B test, {test.reverts} reverts since {when(test.first_flip_at)}:"
        )
        lines += [f"  v{variant['seq']}: {variant['headline'] or '(no headline)'}" for variant in test.variants]
    if history.current_seq is not None and history.versions and history.current_seq != history.versions[-1].seq:
        lines.append(f"current version: v{history.current_seq} (reverted to)")
    lines += format_fetches(history)
    origins = history.origins()
    for version in history.versions:
        access = version.access + ("" if version.complete else ", incomplete")
        changes = ", ".join(version.change_kinds or []) or ("first version" if version.seq == 1 else "-")
        lines.append("")
        lines.append(
            f"v{version.seq}  seen {when(version.first_seen_at)} .. {when(version.last_seen_at)}"
            f"  {version.word_count} words  access: {access}  changes: {changes}"
        )
        if origin := origins.get(version.id):
            between = history.changed_between(version)
            edited = f", edited between {when(between[0])} and {when(between[1])}" if between else ""
            lines.append(f"    from {origin} (archived capture){edited}")
        lines.append(f"    {version.headline or '(no headline)'}")
        if version.byline:
            lines.append(f"    by {version.byline}")
    return "\n".join(lines)


# The text history lists the latest fetches; --json lists all of them.
FETCHES_SHOWN = 10


def format_fetches(history: ArticleHistory) -> list[str]:
    """The latest fetches with their capture ids (what ``palimpsest capture ID`` takes)."""
    fetches = history.capture_summaries()
    if not fetches:
        return []
    shown = fetches[-FETCHES_SHOWN:]
    earlier = len(fetches) - len(shown)
    lines = ["", f"fetches (latest {len(shown)} of {len(fetches)}; --json lists all):" if earlier else "fetches:"]
    for item in shown:
        status = item["http_status"] if item["http_status"] is not None else "-"
        version = f" v{item['version']}" if item["version"] else ""
        error = f"  ({item['error']})" if item["error"] else (f"  ({item['reason']})" if item["reason"] else "")
        error += f"  from {item['origin']}" if item.get("origin") else ""
        fetched = when(datetime.fromisoformat(item["fetched_at"]))
        lines.append(
            f"  capture {item['capture_id']:<6} {fetched}  HTTP {status:<3}  {item['outcome']}{version}{error}"
        )
    return lines
