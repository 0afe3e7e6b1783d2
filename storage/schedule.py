"""Adaptive re-check schedule for archived articles.

Articles are edited most while they are young (headline rewrites, silent
corrections), so the archiver re-fetches them often at first and ever more
rarely as they age, until it retires them. The default tiers follow NewsDiffs:
every 15 min for the first 3 h, hourly up to a day, every 3 h up to a week,
daily up to a month, weekly up to 90 days, then stop.

Everything here is pure: no I/O, no clock, no randomness. The caller passes the
current time (timezone-aware; naive datetimes raise ValueError) and gets back a
`Decision` to persist. Jitter is derived from a caller-supplied integer key
(e.g. the article id) so two runs agree and many articles still spread out.

`next_check` applies its rules in this order (first match wins for 1-2):

1. gone: outcome kind "gone", or HTTP 404/410 whatever the kind -> state
   "gone", no next check.
2. retire: age >= retire_after and no change within the last tier's interval
   (a "changed" outcome counts as a change now) -> state "retired". This also
   applies to errors: an old article that errors is not worth retrying.
3. base interval: the interval of the first tier whose age limit exceeds the
   age; past the last tier, the last tier's interval.
4. outcome adjustment:
   - "changed": base x change_speedup, unchanged streak reset to 0;
   - "unchanged"/"paywalled": streak + 1; once the streak reaches
     backoff_after, x backoff_factor ** (streak - backoff_after + 1), capped at
     backoff_cap x base and at the next tier's interval (so a young article is
     never checked less often than an older one);
   - "error": streak kept, error streak + 1; retry after
     error_retry_base x 2 ** (error_streak - 1), capped at the base interval.
5. jitter: x (1 + f), f in [-jitter, +jitter] fixed per key.
6. Retry-After (any outcome): a floor on the interval.
7. clamp to [min_interval, max_interval] (max wins even over Retry-After, as a
   guard against absurd headers).
8. next_check_at = now + interval, which is always after now.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = [
    "DEFAULT_TIERS",
    "OUTCOME_KINDS",
    "CheckOutcome",
    "CheckState",
    "Decision",
    "SchedulePolicy",
    "apply_hint",
    "article_age",
    "first_check",
    "is_due",
    "next_check",
    "parse_duration",
]

Tiers = tuple[tuple[timedelta, timedelta], ...]

DEFAULT_TIERS: Tiers = (
    (timedelta(hours=3), timedelta(minutes=15)),
    (timedelta(days=1), timedelta(hours=1)),
    (timedelta(days=7), timedelta(hours=3)),
    (timedelta(days=30), timedelta(days=1)),
    (timedelta(days=90), timedelta(days=7)),
)

OUTCOME_KINDS = frozenset({"changed", "unchanged", "gone", "error", "paywalled"})
GONE_HTTP_STATUSES = frozenset({404, 410})

STATE_ACTIVE = "active"
STATE_RETIRED = "retired"
STATE_GONE = "gone"

SETTINGS_PREFIX = "PALIMPSEST_SCHEDULE_"

_UNIT_SECONDS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_DURATION_RE = re.compile(r"(?:\d+(?:\.\d+)?[wdhms])+")
_DURATION_PART_RE = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")


def parse_duration(text: str) -> timedelta:
    """Parse "90s", "15m", "3h", "2d", "1w" (or compounds like "1h30m").

    Units are lower-case only so "1M" cannot be mistaken for a month.
    """
    if not isinstance(text, str):
        raise ValueError(f"duration must be a string like '15m', got {text!r}")
    cleaned = text.strip()
    if not _DURATION_RE.fullmatch(cleaned):
        raise ValueError(f"invalid duration {text!r}: expected a number and unit s/m/h/d/w, e.g. '15m'")
    seconds = sum(float(number) * _UNIT_SECONDS[unit] for number, unit in _DURATION_PART_RE.findall(cleaned))
    try:
        return timedelta(seconds=seconds)
    except OverflowError as exc:
        raise ValueError(f"duration {text!r} is too large") from exc


def _format_duration(delta: timedelta, parts: int = 2) -> str:
    """Compact "1d3h" form for human-readable reasons (truncated, not rounded)."""
    remaining = int(delta.total_seconds())
    if remaining <= 0:
        return "0s"
    pieces: list[str] = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        count, remaining = divmod(remaining, size)
        if count:
            pieces.append(f"{count}{unit}")
    return "".join(pieces[:parts])


def _require_utc(value: datetime, name: str) -> datetime:
    """Reject naive datetimes (ambiguous) and normalise aware ones to UTC."""
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value!r}")
    return value.astimezone(UTC)


def _optional_utc(value: datetime | None, name: str) -> datetime | None:
    return None if value is None else _require_utc(value, name)


def _require_finite(value: float, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")


def _require_count(value: int, name: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _require_positive_timedelta(value: timedelta, name: str) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ValueError(f"{name} must be a positive timedelta, got {value!r}")


@dataclass(frozen=True)
class SchedulePolicy:
    """How often to re-check an article; defaults follow NewsDiffs."""

    tiers: Tiers = DEFAULT_TIERS
    retire_after: timedelta = timedelta(days=90)
    change_speedup: float = 0.5
    backoff_factor: float = 1.5
    backoff_after: int = 3
    backoff_cap: float = 4.0
    error_retry_base: timedelta = timedelta(minutes=5)
    min_interval: timedelta = timedelta(minutes=5)
    max_interval: timedelta = timedelta(days=30)
    jitter: float = 0.1

    def __post_init__(self) -> None:
        """Fail at start-up on a bad configuration rather than mid-crawl."""
        try:
            tiers = tuple(tuple(tier) for tier in self.tiers)
        except TypeError as exc:
            message = f"tiers must be (age limit, interval) pairs, got {self.tiers!r}"
            raise ValueError(message) from exc
        if not tiers:
            raise ValueError("tiers must not be empty")
        previous_limit = previous_interval = timedelta(0)
        for index, tier in enumerate(tiers):
            if len(tier) != 2:
                raise ValueError(f"tier {index} must be an (age limit, interval) pair, got {tier!r}")
            limit, interval = tier
            _require_positive_timedelta(limit, f"tier {index} age limit")
            _require_positive_timedelta(interval, f"tier {index} interval")
            if limit <= previous_limit:
                raise ValueError(
                    f"tier age limits must be strictly increasing: tier {index} "
                    f"({_format_duration(limit)}) is not after {_format_duration(previous_limit)}"
                )
            if interval < previous_interval:
                raise ValueError(
                    f"tier intervals must not shrink with age: tier {index} "
                    f"({_format_duration(interval)}) < {_format_duration(previous_interval)}"
                )
            previous_limit, previous_interval = limit, interval
        object.__setattr__(self, "tiers", tiers)

        _require_positive_timedelta(self.retire_after, "retire_after")
        _require_positive_timedelta(self.error_retry_base, "error_retry_base")
        _require_positive_timedelta(self.min_interval, "min_interval")
        _require_positive_timedelta(self.max_interval, "max_interval")
        if self.max_interval < self.min_interval:
            raise ValueError("max_interval must be >= min_interval")
        _require_finite(self.change_speedup, "change_speedup")
        if not 0 < self.change_speedup <= 1:
            raise ValueError(f"change_speedup must be in (0, 1], got {self.change_speedup}")
        _require_finite(self.backoff_factor, "backoff_factor")
        if self.backoff_factor < 1:
            raise ValueError(f"backoff_factor must be >= 1, got {self.backoff_factor}")
        _require_finite(self.backoff_cap, "backoff_cap")
        if self.backoff_cap < 1:
            raise ValueError(f"backoff_cap must be >= 1, got {self.backoff_cap}")
        _require_count(self.backoff_after, "backoff_after", minimum=1)
        _require_finite(self.jitter, "jitter")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"jitter must be in [0, 1), got {self.jitter}")

    @property
    def retire_grace(self) -> timedelta:
        """A change this recent keeps an old article active: the last tier's interval."""
        return self.tiers[-1][1]

    def interval_for_age(self, age: timedelta) -> timedelta:
        """The tier interval for an article of this age (last tier's past the end)."""
        return self._tier_intervals(age)[0]

    def _tier_intervals(self, age: timedelta) -> tuple[timedelta, timedelta | None]:
        """(this tier's interval, next tier's interval or None) for an age."""
        for index, (limit, interval) in enumerate(self.tiers):
            if age < limit:
                following = self.tiers[index + 1][1] if index + 1 < len(self.tiers) else None
                return interval, following
        return self.tiers[-1][1], None

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> SchedulePolicy:
        """Build a policy from string settings (env vars, Scrapy settings).

        Recognised keys (all optional; empty values mean "use the default"):
        PALIMPSEST_SCHEDULE_TIERS ("3h=15m,1d=1h,..."), _RETIRE_AFTER,
        _CHANGE_SPEEDUP, _BACKOFF_FACTOR, _BACKOFF_AFTER, _BACKOFF_CAP,
        _ERROR_RETRY_BASE, _MIN_INTERVAL, _MAX_INTERVAL, _JITTER.
        Unknown PALIMPSEST_SCHEDULE_* keys raise ValueError so typos are not
        silently ignored; other keys are ignored.
        """
        parsers = {
            "TIERS": ("tiers", _parse_tiers),
            "RETIRE_AFTER": ("retire_after", parse_duration),
            "CHANGE_SPEEDUP": ("change_speedup", float),
            "BACKOFF_FACTOR": ("backoff_factor", float),
            "BACKOFF_AFTER": ("backoff_after", int),
            "BACKOFF_CAP": ("backoff_cap", float),
            "ERROR_RETRY_BASE": ("error_retry_base", parse_duration),
            "MIN_INTERVAL": ("min_interval", parse_duration),
            "MAX_INTERVAL": ("max_interval", parse_duration),
            "JITTER": ("jitter", float),
        }
        overrides: dict[str, object] = {}
        for key, raw in settings.items():
            if not key.startswith(SETTINGS_PREFIX):
                continue
            suffix = key[len(SETTINGS_PREFIX) :]
            if suffix not in parsers:
                known = ", ".join(SETTINGS_PREFIX + name for name in parsers)
                raise ValueError(f"unknown schedule setting {key!r}; known: {known}")
            if raw is None or not str(raw).strip():
                continue
            field_name, parse = parsers[suffix]
            try:
                overrides[field_name] = parse(str(raw).strip())
            except ValueError as exc:
                raise ValueError(f"{key}={raw!r}: {exc}") from exc
        try:
            return cls(**overrides)  # type: ignore[arg-type]
        except ValueError as exc:
            raise ValueError(f"invalid schedule settings: {exc}") from exc


def _parse_tiers(text: str) -> Tiers:
    """Parse "3h=15m,1d=1h" into ((3h, 15m), (1d, 1h))."""
    tiers = []
    for item in text.split(","):
        if not item.strip():
            continue
        limit, separator, interval = item.partition("=")
        if not separator:
            raise ValueError(f"tier {item.strip()!r} must look like 'AGE=INTERVAL', e.g. '3h=15m'")
        tiers.append((parse_duration(limit), parse_duration(interval)))
    if not tiers:
        raise ValueError("no tiers given")
    return tuple(tiers)


@dataclass(frozen=True)
class CheckState:
    """What the schedule needs to remember about one article between checks."""

    first_seen_at: datetime
    published_at: datetime | None = None
    last_checked_at: datetime | None = None
    last_changed_at: datetime | None = None
    unchanged_streak: int = 0
    key: int = 0
    error_streak: int = 0

    def __post_init__(self) -> None:
        for name in ("first_seen_at", "published_at", "last_checked_at", "last_changed_at"):
            object.__setattr__(self, name, _optional_utc(getattr(self, name), name))
        if self.first_seen_at is None:
            raise ValueError("first_seen_at is required")
        _require_count(self.unchanged_streak, "unchanged_streak", minimum=0)
        _require_count(self.error_streak, "error_streak", minimum=0)
        if isinstance(self.key, bool) or not isinstance(self.key, int):
            raise ValueError(f"key must be an integer, got {self.key!r}")


@dataclass(frozen=True)
class CheckOutcome:
    """The result of the check just made."""

    kind: str
    http_status: int | None = None
    retry_after: timedelta | None = None
    hint_modified_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.kind not in OUTCOME_KINDS:
            raise ValueError(f"kind must be one of {sorted(OUTCOME_KINDS)}, got {self.kind!r}")
        if self.http_status is not None and (
            isinstance(self.http_status, bool)
            or not isinstance(self.http_status, int)
            or not 100 <= self.http_status <= 599
        ):
            raise ValueError(f"http_status must be an HTTP status code, got {self.http_status!r}")
        if self.retry_after is not None and (
            not isinstance(self.retry_after, timedelta) or self.retry_after < timedelta(0)
        ):
            raise ValueError(f"retry_after must be a non-negative timedelta, got {self.retry_after!r}")
        object.__setattr__(self, "hint_modified_at", _optional_utc(self.hint_modified_at, "hint_modified_at"))

    @property
    def is_gone(self) -> bool:
        """A 404/410 means gone even if the fetcher labelled it an error."""
        return self.kind == "gone" or self.http_status in GONE_HTTP_STATUSES


@dataclass(frozen=True)
class Decision:
    """When to check next and what to persist; next_check_at is None when stopped."""

    next_check_at: datetime | None
    interval: timedelta | None
    state: str
    unchanged_streak: int
    reason: str
    error_streak: int = 0


def article_age(state: CheckState, now: datetime) -> timedelta:
    """Age from publication when known and not in the future, else from discovery.

    Never negative, so a skewed first_seen_at cannot push an article below tier 0.
    """
    now = _require_utc(now, "now")
    published = state.published_at
    born = published if published is not None and published <= now else state.first_seen_at
    return max(now - born, timedelta(0))


def _jitter_fraction(policy: SchedulePolicy, key: int) -> float:
    """Fixed per-key fraction in [-jitter, +jitter]: stable across runs and processes."""
    if policy.jitter == 0:
        return 0.0
    digest = hashlib.blake2b(str(key).encode("ascii"), digest_size=8).digest()
    unit = int.from_bytes(digest, "big") / 2**64  # uniform in [0, 1)
    return (2 * unit - 1) * policy.jitter


def _backoff_multiplier(
    policy: SchedulePolicy, streak: int, base: timedelta, next_tier: timedelta | None
) -> tuple[float, bool]:
    """(multiplier, capped) for an unchanged streak; 1.0 before backoff_after."""
    if streak < policy.backoff_after:
        return 1.0, False
    exponent = streak - policy.backoff_after + 1
    try:
        multiplier = policy.backoff_factor**exponent
    except OverflowError:
        multiplier = math.inf
    cap = policy.backoff_cap
    if next_tier is not None:
        cap = min(cap, next_tier.total_seconds() / base.total_seconds())
    if multiplier >= cap:
        return cap, True
    return multiplier, False


def _gone_reason(outcome: CheckOutcome) -> str:
    if outcome.http_status is not None:
        return f"HTTP {outcome.http_status}: gone"
    return "gone"


def next_check(policy: SchedulePolicy, state: CheckState, outcome: CheckOutcome, now: datetime) -> Decision:
    """Decide when to check an article again after a check made at `now`.

    Rules are applied in the order given in the module docstring. The returned
    streaks replace the ones in `state`; the caller also sets last_checked_at
    (and last_changed_at on "changed") to `now`. outcome.hint_modified_at is
    not used here: pass it to `apply_hint` on the resulting next_check_at.
    """
    now = _require_utc(now, "now")

    if outcome.is_gone:
        return Decision(None, None, STATE_GONE, state.unchanged_streak, _gone_reason(outcome))

    if outcome.kind == "changed":
        unchanged_streak, error_streak = 0, 0
    elif outcome.kind == "error":
        unchanged_streak, error_streak = state.unchanged_streak, state.error_streak + 1
    else:  # unchanged, paywalled
        unchanged_streak, error_streak = state.unchanged_streak + 1, 0

    age = article_age(state, now)
    age_text = _format_duration(age, parts=1)
    changed_recently = outcome.kind == "changed" or (
        state.last_changed_at is not None and now - state.last_changed_at < policy.retire_grace
    )
    if age >= policy.retire_after and not changed_recently:
        return Decision(None, None, STATE_RETIRED, unchanged_streak, f"age {age_text}: retired", error_streak)

    base, next_tier = policy._tier_intervals(age)
    seconds = base.total_seconds()
    reasons = [f"age {age_text}: every {_format_duration(base)}"]

    if outcome.kind == "changed":
        seconds *= policy.change_speedup
        reasons.append(f"changed: sooner (x{policy.change_speedup:g})")
    elif outcome.kind == "error":
        label = f"HTTP {outcome.http_status}" if outcome.http_status is not None else "error"
        retry_seconds = policy.error_retry_base.total_seconds() * 2.0 ** min(error_streak - 1, 64)
        seconds = min(retry_seconds, seconds)
        retry_text = _format_duration(timedelta(seconds=seconds))
        reasons.append(f"{label}: error #{error_streak}, retry in {retry_text}")
    else:
        if outcome.kind == "paywalled":
            reasons.append("paywalled: counts as unchanged")
        multiplier, capped = _backoff_multiplier(policy, unchanged_streak, base, next_tier)
        if multiplier > 1:
            seconds *= multiplier
            reasons.append(
                f"{unchanged_streak} unchanged checks: backing off x{multiplier:.3g}" + (" (capped)" if capped else "")
            )

    seconds *= 1 + _jitter_fraction(policy, state.key)

    if outcome.retry_after is not None and seconds < outcome.retry_after.total_seconds():
        seconds = outcome.retry_after.total_seconds()
        reasons.append(f"Retry-After {_format_duration(outcome.retry_after)}: waiting")

    interval = timedelta(seconds=round(seconds))
    if interval < policy.min_interval:
        interval = policy.min_interval
        reasons.append(f"raised to min {_format_duration(interval)}")
    if interval > policy.max_interval:
        interval = policy.max_interval
        reasons.append(f"capped at max {_format_duration(interval)}")

    return Decision(
        next_check_at=now + interval,
        interval=interval,
        state=STATE_ACTIVE,
        unchanged_streak=unchanged_streak,
        reason="; ".join(reasons),
        error_streak=error_streak,
    )


def apply_hint(
    policy: SchedulePolicy,
    state: CheckState,
    next_check_at: datetime | None,
    hint_modified_at: datetime | None,
    now: datetime,
    *,
    known_modified_at: datetime | None = None,
) -> datetime | None:
    """Pull the next check forward to `now` when a feed/sitemap says the page moved.

    The hint is compared with what we already know of the page's modification time
    (`known_modified_at`: the JSON-LD dateModified of the version we hold, or the last hint
    acted upon), else with our last check: publishers' clocks and ours need not agree, their
    own dates do. Retired/gone articles (next_check_at None) stay stopped. A hint that is not
    newer leaves next_check_at alone; an already overdue next_check_at is kept (it is earlier
    than now). `policy` is accepted so the call site matches `next_check`.
    """
    now = _require_utc(now, "now")
    hint = _optional_utc(hint_modified_at, "hint_modified_at")
    known = _optional_utc(known_modified_at, "known_modified_at")
    if next_check_at is None:
        return None
    next_check_at = _require_utc(next_check_at, "next_check_at")
    if hint is None:
        return next_check_at
    reference = known if known is not None else state.last_checked_at
    if reference is not None and hint <= reference:
        return next_check_at
    return min(next_check_at, now)


def first_check(policy: SchedulePolicy, now: datetime, key: int = 0) -> datetime:
    """A newly discovered article is due at once: its first version is the baseline.

    `policy` and `key` are accepted so a later spread of first checks needs no
    call-site change; today the answer is always `now`.
    """
    return _require_utc(now, "now")


def is_due(next_check_at: datetime | None, now: datetime) -> bool:
    """True when a check is scheduled at or before `now`; stopped articles never are."""
    now = _require_utc(now, "now")
    if next_check_at is None:
        return False
    return _require_utc(next_check_at, "next_check_at") <= now
