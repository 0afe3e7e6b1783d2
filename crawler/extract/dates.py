"""Publication dates as publishers write them, turned into aware UTC.

Pages write dates as ISO 8601 (JSON-LD, ``article:published_time``), RFC 2822 (feeds), or
prose ("June 5, 2018"). A date without an offset is taken as UTC; the raw string is always
kept next to the parsed value so that nothing is lost in the interpretation.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

_PROSE_FORMATS = (
    "%B %d, %Y",
    "%b %d, %Y",
    "%b. %d, %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d, %Y %I:%M %p",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M",
    "%d.%m.%Y",
    "%Y%m%d",
)
_SPACES = re.compile(r"\s+")
# Drop a weekday prefix ("Tuesday, June 5, 2018") and "Updated"/"Published" labels.
_PREFIX = re.compile(
    r"^(?:(?:updated|published|posted|last updated|modified)\s*:?\s*)?"
    r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?",
    re.I,
)
# Timezone names some US sites print after a time; offsets we can apply.
_TZ_SUFFIX = re.compile(r"\s+(UTC|GMT|Z|EST|EDT|CST|CDT|PST|PDT)$", re.I)
_TZ_OFFSETS = {"UTC": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "PST": -8, "PDT": -7}
_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_date(raw: str | None) -> datetime | None:
    """Aware UTC for a date string, or None when it cannot be read or is implausible."""
    if not raw or not isinstance(raw, str):
        return None
    text = _SPACES.sub(" ", raw).strip()
    if not text or len(text) > 80:
        return None
    parsed = _parse(text)
    if parsed is None or parsed < _EARLIEST or parsed.year > 2100:
        return None
    return parsed


def _parse(text: str) -> datetime | None:
    iso = text.replace("Z", "+00:00") if text.endswith("Z") else text
    try:
        return _to_utc(datetime.fromisoformat(iso))
    except ValueError:
        pass
    try:
        return _to_utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        pass
    text = _PREFIX.sub("", text)
    offset_hours = 0
    if match := _TZ_SUFFIX.search(text):
        offset_hours = _TZ_OFFSETS[match.group(1).upper()]
        text = text[: match.start()]
    text = text.replace(" at ", " ").replace("a.m.", "AM").replace("p.m.", "PM")
    for fmt in _PROSE_FORMATS:
        try:
            value = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return (value.replace(tzinfo=UTC) - timedelta(hours=offset_hours)).astimezone(UTC)
    return None


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A Retry-After header (seconds, or an HTTP date) as seconds from ``now``."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - now).total_seconds())
