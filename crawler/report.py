"""What a crawl tells its user: a line per page while it runs, a summary at the end.

The extension counts outcomes into the crawler's stats (``palimpsest/outcome/<name>``) and
keeps the pages that went wrong (``palimpsest/problems``), so the command line can print the
summary after the reactor stops.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from scrapy import signals
from scrapy.crawler import Crawler

from palimpsest.crawler.items import FetchedPage

# In summary order, with the words a user reads.
OUTCOME_LABELS = {
    "new_version": ("new version", "new versions"),
    "unchanged": ("unchanged", "unchanged"),
    "revert": ("revert to an earlier version", "reverts to earlier versions"),
    "suspect": ("suspect (extraction broken?)", "suspect (extraction broken?)"),
    "not_modified": ("not modified (304)", "not modified (304)"),
    "paywalled": ("paywalled", "paywalled"),
    "candidate": ("to be judged", "to be judged"),
    "not_article": ("not an article", "not articles"),
    "gone": ("gone (404/410)", "gone (404/410)"),
    "refused": ("refused", "refused"),
    "error": ("error", "errors"),
}
PROBLEM_OUTCOMES = ("gone", "refused", "error")


def outcome_counts(stats: Mapping[str, Any]) -> dict[str, int]:
    prefix = "palimpsest/outcome/"
    return {key[len(prefix) :]: value for key, value in stats.items() if key.startswith(prefix)}


def describe_result(item: FetchedPage) -> str:
    result = item.result
    if result.outcome == "new_version":
        kinds = f": {', '.join(result.change_kinds)}" if result.change_kinds else ""
        return f"new version v{result.version_seq}{kinds}"
    if result.outcome == "revert":
        return f"revert to v{result.version_seq}"
    label = OUTCOME_LABELS.get(result.outcome, (result.outcome,))[0]
    return f"{label}: {result.error}" if result.error else label


def format_summary(counts: Mapping[str, int], problems: Sequence[tuple[str, str, str]], seconds: float) -> str:
    """'Fetched 4 pages in 1.2s: 2 new versions, 1 unchanged, 1 error' plus one line per problem."""
    total = sum(counts.values())
    parts = []
    for outcome, (singular, plural) in OUTCOME_LABELS.items():
        if count := counts.get(outcome, 0):
            parts.append(f"{count} {singular if count == 1 else plural}")
    head = f"Fetched {total} page{'s' if total != 1 else ''} in {seconds:.1f}s"
    lines = [f"{head}: {', '.join(parts)}." if parts else f"{head}."]
    for outcome, url, error in problems:
        lines.append(f"  {outcome}: {url} ({error})")
    return "\n".join(lines)


class CrawlReport:
    def __init__(self, stats: Any, stream: TextIO | None, show_progress: bool) -> None:
        self.stats = stats
        self.stream = stream or sys.stderr
        self.show_progress = show_progress
        self.seen = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlReport:
        extension = cls(crawler.stats, None, crawler.settings.getbool("PALIMPSEST_PROGRESS", True))
        crawler.signals.connect(extension.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(extension.internal_error, signal=signals.item_error)
        crawler.signals.connect(extension.internal_error, signal=signals.spider_error)
        return extension

    def internal_error(self, *args: Any, **kwargs: Any) -> None:
        """A pipeline or callback raised: a bug of ours, not a fault of the page."""
        self.stats.inc_value("palimpsest/internal_errors")

    def item_scraped(self, item: Any, response: Any = None, spider: Any = None) -> None:
        if not isinstance(item, FetchedPage) or item.result is None:
            return
        result = item.result
        self.seen += 1
        self.stats.inc_value(f"palimpsest/outcome/{result.outcome}")
        if result.outcome in PROBLEM_OUTCOMES:
            problems = self.stats.get_value("palimpsest/problems") or []
            problems.append((result.outcome, item.requested_url, result.error or ""))
            self.stats.set_value("palimpsest/problems", problems)
        if self.show_progress:
            print(f"[{self.seen:>4}] {describe_result(item):<40} {item.requested_url}", file=self.stream, flush=True)
