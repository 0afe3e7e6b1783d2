"""Every setting parsed and checked once, at start: from ``-s NAME=VALUE`` or the environment.

A bad value stops the command before anything runs, with one line that names the setting and
what it expects, instead of a traceback from deep inside a crawl (or a crawl that hangs).

A setting declared in ``crawler/settings.py`` is checked with no extra code: its default's type
(whole number, number, true/false, text) says what a value must parse as, and numbers must not
be negative. ``RULES`` adds bounds and choices where the type is not enough;
``PALIMPSEST_SCHEDULE_*`` is checked as a whole by ``storage.schedule.SchedulePolicy``. Scrapy's
own numeric and true/false settings are type-checked the same way (from Scrapy's defaults).

The environment provides ``PALIMPSEST_*`` settings declared in ``crawler/settings.py`` (other
``PALIMPSEST_*`` variables, e.g. the test suite's, are not settings and are left alone); ``-s``
wins over the environment, and ``-s PALIMPSEST_...`` with an unknown name is an error.

This module parses and checks; it does not import the settings module (which uses it to read
the environment): ``crawler.runner.command_line_settings`` brings the two together.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PREFIX = "PALIMPSEST_"
SCHEDULE_PREFIX = "PALIMPSEST_SCHEDULE_"
# Far beyond any sensible count or size, and within what every database and C API accepts.
LARGEST_WHOLE_NUMBER = 2**53
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class SettingError(ValueError):
    """A setting's value cannot be used; the message names the setting and what it expects."""


@dataclass(frozen=True)
class Bounds:
    """A number's allowed range (inclusive)."""

    minimum: float = 0
    maximum: float = LARGEST_WHOLE_NUMBER

    def check(self, value: float) -> str | None:
        if self.minimum <= value <= self.maximum:
            return None
        if self.maximum >= LARGEST_WHOLE_NUMBER:
            return f"at least {self.minimum:g}"
        return f"from {self.minimum:g} to {self.maximum:g}"


@dataclass(frozen=True)
class Choice:
    """One of a few words."""

    values: tuple[str, ...]

    def check(self, value: str) -> str | None:
        return None if value in self.values else "one of " + ", ".join(repr(v) for v in self.values)


def _allowed_addresses(value: str) -> str | None:
    from palimpsest.crawler.addresses import parse_allowance

    try:
        parse_allowance(value)
    except ValueError as exc:
        reason = str(exc).removeprefix("PALIMPSEST_ALLOW_PRIVATE_ADDRESSES: ")
        return f"'true', 'false' or networks such as 127.0.0.0/8,10.1.0.0/16 ({reason})"
    return None


def _database_url(value: str) -> str | None:
    from palimpsest.storage.db import DatabaseURLError, normalise_database_url

    try:
        normalise_database_url(value)
    except DatabaseURLError as exc:
        return f"a sqlite:/// or postgresql:// URL ({exc})"
    return None


def _http_url(value: str) -> str | None:
    return None if value.startswith(("http://", "https://")) and len(value) > 8 else "an http:// or https:// URL"


# What a type alone does not say. A rule returns None when the value is fine, else what is expected.
RULES: dict[str, Bounds | Choice | Callable[[str], str | None]] = {
    "PALIMPSEST_STORE_BATCH": Bounds(1, 100_000),
    "PALIMPSEST_EXTRACT_WORKERS": Bounds(1, 256),
    "PALIMPSEST_EXTRACT_TIME_LIMIT": Bounds(0.1),
    "PALIMPSEST_EXTRACT_MEMORY_MB": Bounds(16),
    "PALIMPSEST_WARC_MAX_SIZE": Bounds(1),
    "PALIMPSEST_MAX_CANDIDATES_PER_SOURCE": Bounds(1),
    "PALIMPSEST_CLAIM_LEASE_SECONDS": Bounds(1),
    "PALIMPSEST_CLAIM_BATCH": Bounds(1, 100_000),
    "PALIMPSEST_AB_WINDOW_HOURS": Bounds(0.01, 24 * 365),
    "PALIMPSEST_AB_MIN_REVERTS": Bounds(1, 1000),
    "PALIMPSEST_SUSPECT_TEXT_RATIO": Bounds(0, 1),
    "PALIMPSEST_SUSPECT_BODY_OVERLAP": Bounds(0, 1),
    "PALIMPSEST_SUSPECT_MIN_WORDS": Bounds(0, 1_000_000),
    "PALIMPSEST_HEALTH_LENGTH_RATIO": Bounds(0, 1),
    "PALIMPSEST_HEALTH_FAILURES_IN_A_ROW": Bounds(1, 1000),
    "PALIMPSEST_HEALTH_PAYWALL_BEFORE": Bounds(0, 1),
    "PALIMPSEST_HEALTH_PAYWALL_NOW": Bounds(0, 1),
    "PALIMPSEST_HEALTH_MIN_CAPTURES": Bounds(1, 1_000_000),
    "PALIMPSEST_WARC_UNCHANGED": Choice(("revisit", "none")),
    "PALIMPSEST_ALLOW_PRIVATE_ADDRESSES": _allowed_addresses,
    "PALIMPSEST_DATABASE_URL": _database_url,
    "PALIMPSEST_BACKFILL_DELAY": Bounds(0, 3600),
    "PALIMPSEST_BACKFILL_CDX": _http_url,
}


def parse_bool(text: str) -> bool | None:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None


def _parse_whole(text: str) -> int | None:
    cleaned = text.strip()
    if not cleaned.lstrip("+-").isascii() or not cleaned.lstrip("+-").isdigit() or len(cleaned) > 20:
        return None
    return int(cleaned)


def _parse_number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _typed(name: str, raw: Any, default: Any, own: bool) -> tuple[Any, str | None]:
    """(the value as its type, or None and what was expected)."""
    if not isinstance(raw, str):
        return raw, None  # set from Python (a test, the demo): trusted as given
    if isinstance(default, bool):
        parsed = parse_bool(raw)
        return parsed, None if parsed is not None else "true or false"
    if isinstance(default, int) and own:
        whole = _parse_whole(raw)
        if whole is None:
            return None, "a whole number"
        return whole, None
    if isinstance(default, int | float):
        # Scrapy reads many of its whole-number defaults as numbers (DOWNLOAD_DELAY=0.5).
        number = _parse_number(raw)
        if number is None:
            boolean = parse_bool(raw) if isinstance(default, int) else None
            return (boolean, None) if boolean is not None else (None, "a number")
        return (int(number) if number.is_integer() and isinstance(default, int) else number), None
    return raw, None


def check_value(name: str, raw: Any, default: Any, *, own: bool = True) -> Any:
    """The value of one setting, parsed as its default's type and checked; SettingError if not."""
    value, expected = _typed(name, raw, default, own)
    rule = RULES.get(name)
    if expected is None and own and isinstance(value, int | float) and not isinstance(value, bool):
        expected = (rule if isinstance(rule, Bounds) else Bounds()).check(value)
    elif expected is None and isinstance(value, str) and rule is not None and not isinstance(rule, Bounds):
        expected = rule.check(value) if isinstance(rule, Choice) else rule(value)
    if expected is not None:
        raise SettingError(f"{name}={raw!r}: expected {expected}")
    return value


def _check_schedule(values: Mapping[str, Any]) -> None:
    from palimpsest.storage.schedule import SchedulePolicy

    try:
        SchedulePolicy.from_settings({name: str(value) for name, value in values.items()})
    except ValueError as exc:
        raise SettingError(str(exc)) from exc


def _suggest(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean {close[0]}?" if close else f"; see {len(known)} known in palimpsest/crawler/settings.py"


def _scrapy_defaults() -> dict[str, Any]:
    from scrapy.settings import default_settings

    return {name: getattr(default_settings, name) for name in dir(default_settings) if name.isupper()}


def check_settings(
    declared: Mapping[str, Any],
    given: Mapping[str, Any],
    *,
    source: str,
    strict: bool = True,
) -> dict[str, Any]:
    """``given`` (name -> raw value) parsed and checked against ``declared`` (name -> default).

    ``strict``: an unknown ``PALIMPSEST_`` name is an error (for ``-s``); otherwise it is left
    out (for the environment). ``source`` says where the values came from, for messages.
    """
    checked: dict[str, Any] = {}
    schedule: dict[str, Any] = {}
    scrapy = None
    own_names = sorted(name for name in declared if name.startswith(PREFIX))
    try:
        for name, raw in given.items():
            if name.startswith(SCHEDULE_PREFIX):
                schedule[name] = checked[name] = raw
            elif name in declared and name.startswith(PREFIX):
                checked[name] = check_value(name, raw, declared[name])
            elif name.startswith(PREFIX):
                if strict:
                    raise SettingError(f"unknown setting {name}{_suggest(name, own_names)}")
            else:
                scrapy = scrapy if scrapy is not None else _scrapy_defaults()
                default = declared.get(name, scrapy.get(name))
                checked[name] = check_value(name, raw, default, own=False)
        if schedule:
            _check_schedule(schedule)
    except SettingError as exc:
        raise SettingError(f"{exc} ({source})") from exc
    return checked


def parse_pairs(pairs: Sequence[str]) -> dict[str, str]:
    """``-s NAME=VALUE`` arguments as a dict (the last one of a name wins)."""
    settings: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise SettingError(f"-s expects NAME=VALUE, got {pair!r}")
        settings[name.strip()] = value
    return settings


def merged(declared: Mapping[str, Any], pairs: Sequence[str], environ: Mapping[str, str]) -> dict[str, Any]:
    """``-s NAME=VALUE`` settings, checked, once the environment's ``PALIMPSEST_*`` settings
    were checked too (``crawler/settings.py`` applies those; ``-s`` wins over them)."""
    environment = from_environment(declared, environ)
    given = check_settings(declared, parse_pairs(pairs), source="from -s")
    schedule = {name: value for name, value in {**environment, **given}.items() if name.startswith(SCHEDULE_PREFIX)}
    if schedule:
        _check_schedule(schedule)  # the environment's and -s values together
    return given


def from_environment(
    declared: Mapping[str, Any], environ: Mapping[str, str], *, lenient: bool = False
) -> dict[str, Any]:
    """The declared ``PALIMPSEST_*`` settings (and the schedule's) the environment sets, checked.

    ``lenient``: leave out what does not pass instead of raising (for ``crawler/settings.py``,
    which is imported before anything can report an error; the check at start reports it).
    """
    given = {
        name: value
        for name, value in environ.items()
        if name.startswith(SCHEDULE_PREFIX) or (name.startswith(PREFIX) and name in declared)
    }
    if not lenient:
        return check_settings(declared, given, source="from the environment", strict=False)
    kept = {}
    for name, value in given.items():
        try:
            kept.update(check_settings(declared, {name: value}, source="from the environment", strict=False))
        except SettingError:
            continue
    return kept
