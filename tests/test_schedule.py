"""Tests for the adaptive re-check schedule (storage.schedule).

The "clock" is just fixed datetimes passed in; jitter is 0 wherever exact
intervals are asserted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from palimpsest.storage.schedule import (
    DEFAULT_TIERS,
    CheckOutcome,
    CheckState,
    SchedulePolicy,
    apply_hint,
    article_age,
    first_check,
    is_due,
    next_check,
    parse_duration,
)

UTC = UTC
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
EXACT = SchedulePolicy(jitter=0.0)

UNCHANGED = CheckOutcome("unchanged", http_status=200)
CHANGED = CheckOutcome("changed", http_status=200)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def days(n: float) -> timedelta:
    return timedelta(days=n)


def article(age: timedelta, **fields: object) -> CheckState:
    """An article first seen `age` ago and last checked a little before NOW."""
    fields.setdefault("last_checked_at", NOW - minutes(15))
    return CheckState(first_seen_at=NOW - age, **fields)  # type: ignore[arg-type]


# --- tiers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (minutes(10), minutes(15)),
        (hours(5), hours(1)),
        (days(3), hours(3)),
        (days(10), days(1)),
        (days(40), days(7)),
    ],
)
def test_tier_interval_by_age(age: timedelta, expected: timedelta) -> None:
    decision = next_check(EXACT, article(age), UNCHANGED, NOW)
    assert decision.state == "active"
    assert decision.interval == expected
    assert decision.next_check_at == NOW + expected
    assert decision.unchanged_streak == 1
    assert decision.reason.startswith("age ")


def test_reason_names_age_and_interval() -> None:
    decision = next_check(EXACT, article(hours(2)), UNCHANGED, NOW)
    assert decision.reason == "age 2h: every 15m"


def test_tier_boundary_belongs_to_next_tier() -> None:
    assert next_check(EXACT, article(hours(3)), UNCHANGED, NOW).interval == hours(1)
    assert EXACT.interval_for_age(hours(3) - timedelta(seconds=1)) == minutes(15)


def test_age_counts_from_published_at_when_known() -> None:
    state = article(minutes(10), published_at=NOW - days(3))
    assert article_age(state, NOW) == days(3)
    assert next_check(EXACT, state, UNCHANGED, NOW).interval == hours(3)


def test_future_published_at_is_ignored() -> None:
    state = article(hours(5), published_at=NOW + days(1))
    assert article_age(state, NOW) == hours(5)


def test_first_seen_in_future_counts_as_age_zero() -> None:
    state = CheckState(first_seen_at=NOW + hours(1))
    assert article_age(state, NOW) == timedelta(0)
    assert next_check(EXACT, state, UNCHANGED, NOW).interval == minutes(15)


# --- changes and back-off --------------------------------------------------


def test_change_speeds_up_and_resets_streak() -> None:
    state = article(hours(5), unchanged_streak=7)
    decision = next_check(EXACT, state, CHANGED, NOW)
    assert decision.interval == minutes(30)
    assert decision.unchanged_streak == 0
    assert "changed: sooner (x0.5)" in decision.reason


def test_no_backoff_before_backoff_after() -> None:
    for streak in (0, 1):
        decision = next_check(EXACT, article(hours(5), unchanged_streak=streak), UNCHANGED, NOW)
        assert decision.interval == hours(1)
        assert decision.unchanged_streak == streak + 1


def test_backoff_after_three_unchanged_checks() -> None:
    decision = next_check(EXACT, article(hours(5), unchanged_streak=2), UNCHANGED, NOW)
    assert decision.unchanged_streak == 3
    assert decision.interval == hours(1.5)
    assert "3 unchanged checks: backing off x1.5" in decision.reason

    decision = next_check(EXACT, article(hours(5), unchanged_streak=3), UNCHANGED, NOW)
    assert decision.interval == hours(1) * 1.5**2


def test_backoff_grows_monotonically_then_caps() -> None:
    intervals = [next_check(EXACT, article(days(10), unchanged_streak=s), UNCHANGED, NOW).interval for s in range(30)]
    assert intervals == sorted(intervals)
    # 10 days old: tier 1d, next tier 7d, so the 4x cap (4d) binds.
    assert intervals[-1] == days(4)
    assert "(capped)" in next_check(EXACT, article(days(10), unchanged_streak=29), UNCHANGED, NOW).reason


def test_backoff_never_exceeds_next_tier_interval() -> None:
    # 5 h old: tier 1h, next tier 3h < 4x1h.
    decision = next_check(EXACT, article(hours(5), unchanged_streak=50), UNCHANGED, NOW)
    assert decision.interval == hours(3)


def test_backoff_in_last_tier_uses_cap_only() -> None:
    decision = next_check(EXACT, article(days(40), unchanged_streak=50), UNCHANGED, NOW)
    assert decision.interval == days(28)


def test_huge_streak_does_not_overflow() -> None:
    policy = SchedulePolicy(jitter=0.0, backoff_factor=1000.0)
    decision = next_check(policy, article(days(40), unchanged_streak=10**6), UNCHANGED, NOW)
    assert decision.interval == days(28)


def test_paywalled_counts_as_unchanged() -> None:
    outcome = CheckOutcome("paywalled", http_status=200)
    decision = next_check(EXACT, article(hours(5), unchanged_streak=2), outcome, NOW)
    assert decision.unchanged_streak == 3
    assert decision.interval == hours(1.5)
    assert "paywalled" in decision.reason


# --- retirement ------------------------------------------------------------


def test_retire_after_retire_after() -> None:
    decision = next_check(EXACT, article(days(91)), UNCHANGED, NOW)
    assert decision.state == "retired"
    assert decision.next_check_at is None
    assert decision.interval is None
    assert decision.reason == "age 91d: retired"


def test_not_retired_just_before_retire_after() -> None:
    decision = next_check(EXACT, article(days(89)), UNCHANGED, NOW)
    assert decision.state == "active"
    assert decision.interval == days(7)


def test_change_now_keeps_old_article_active() -> None:
    decision = next_check(EXACT, article(days(100)), CHANGED, NOW)
    assert decision.state == "active"
    assert decision.interval == days(3.5)


def test_recent_change_keeps_old_article_active_until_grace_ends() -> None:
    recent = article(days(100), last_changed_at=NOW - days(2))
    assert next_check(EXACT, recent, UNCHANGED, NOW).state == "active"
    stale = article(days(100), last_changed_at=NOW - days(8))
    assert next_check(EXACT, stale, UNCHANGED, NOW).state == "retired"


def test_old_article_that_errors_is_retired() -> None:
    outcome = CheckOutcome("error", http_status=503)
    assert next_check(EXACT, article(days(95)), outcome, NOW).state == "retired"


def test_custom_retire_after() -> None:
    policy = SchedulePolicy(jitter=0.0, retire_after=days(14))
    assert next_check(policy, article(days(15)), UNCHANGED, NOW).state == "retired"


# --- gone ------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410])
def test_gone_statuses_stop_checking(status: int) -> None:
    decision = next_check(EXACT, article(hours(1)), CheckOutcome("gone", http_status=status), NOW)
    assert decision.state == "gone"
    assert decision.next_check_at is None
    assert decision.interval is None
    assert decision.reason == f"HTTP {status}: gone"


def test_404_labelled_error_is_still_gone() -> None:
    decision = next_check(EXACT, article(hours(1)), CheckOutcome("error", http_status=404), NOW)
    assert decision.state == "gone"
    assert decision.next_check_at is None


def test_gone_without_status() -> None:
    decision = next_check(EXACT, article(hours(1)), CheckOutcome("gone"), NOW)
    assert decision.state == "gone"
    assert decision.reason == "gone"


# --- errors and Retry-After ------------------------------------------------


def test_503_with_retry_after_waits_at_least_that_long() -> None:
    outcome = CheckOutcome("error", http_status=503, retry_after=hours(2))
    decision = next_check(EXACT, article(minutes(10), unchanged_streak=2), outcome, NOW)
    assert decision.next_check_at == NOW + hours(2)
    assert decision.unchanged_streak == 2
    assert "Retry-After 2h" in decision.reason


def test_retry_after_floor_holds_with_jitter() -> None:
    outcome = CheckOutcome("error", http_status=503, retry_after=hours(2))
    for key in range(200):
        decision = next_check(SchedulePolicy(), article(minutes(10), key=key), outcome, NOW)
        assert decision.next_check_at is not None
        assert decision.next_check_at >= NOW + hours(2)


def test_retry_after_applies_to_non_errors_too() -> None:
    outcome = CheckOutcome("unchanged", http_status=429, retry_after=hours(6))
    decision = next_check(EXACT, article(hours(5)), outcome, NOW)
    assert decision.interval == hours(6)


def test_short_retry_after_does_not_delay_a_later_check() -> None:
    outcome = CheckOutcome("unchanged", retry_after=minutes(1))
    assert next_check(EXACT, article(hours(5)), outcome, NOW).interval == hours(1)


def test_errors_back_off_exponentially_capped_at_tier_interval() -> None:
    outcome = CheckOutcome("error", http_status=500)
    young = [next_check(EXACT, article(minutes(10), error_streak=n), outcome, NOW).interval for n in range(4)]
    assert young == [minutes(5), minutes(10), minutes(15), minutes(15)]
    older = [next_check(EXACT, article(days(10), error_streak=n), outcome, NOW).interval for n in (0, 3, 20)]
    assert older == [minutes(5), minutes(40), days(1)]


def test_error_keeps_unchanged_streak_and_counts_errors() -> None:
    decision = next_check(EXACT, article(hours(5), unchanged_streak=4, error_streak=1), CheckOutcome("error"), NOW)
    assert decision.unchanged_streak == 4
    assert decision.error_streak == 2
    assert "error #2" in decision.reason


def test_success_resets_error_streak() -> None:
    decision = next_check(EXACT, article(hours(5), error_streak=5), UNCHANGED, NOW)
    assert decision.error_streak == 0


def test_max_interval_caps_even_retry_after() -> None:
    outcome = CheckOutcome("error", http_status=503, retry_after=days(365))
    decision = next_check(EXACT, article(hours(1)), outcome, NOW)
    assert decision.interval == days(30)
    assert "capped at max" in decision.reason


def test_min_interval_floor() -> None:
    policy = SchedulePolicy(jitter=0.0, change_speedup=0.1)
    decision = next_check(policy, article(minutes(10)), CHANGED, NOW)
    assert decision.interval == minutes(5)
    assert "raised to min 5m" in decision.reason


# --- hints -----------------------------------------------------------------


def test_hint_newer_than_last_check_makes_article_due_now() -> None:
    state = article(days(3), last_checked_at=NOW - hours(1))
    scheduled = NOW + hours(2)
    due = apply_hint(EXACT, state, scheduled, NOW - minutes(20), NOW)
    assert due == NOW
    assert is_due(due, NOW)


def test_hint_older_than_last_check_keeps_schedule() -> None:
    state = article(days(3), last_checked_at=NOW - hours(1))
    scheduled = NOW + hours(2)
    assert apply_hint(EXACT, state, scheduled, NOW - hours(3), NOW) == scheduled
    assert apply_hint(EXACT, state, scheduled, NOW - hours(1), NOW) == scheduled


def test_hint_does_not_postpone_an_overdue_check() -> None:
    state = article(days(3), last_checked_at=NOW - hours(5))
    overdue = NOW - hours(1)
    assert apply_hint(EXACT, state, overdue, NOW - hours(2), NOW) == overdue


def test_hint_without_previous_check_makes_due_now() -> None:
    state = CheckState(first_seen_at=NOW - hours(1))
    assert apply_hint(EXACT, state, NOW + hours(1), NOW - minutes(5), NOW) == NOW


def test_hint_passes_none_through_for_stopped_articles() -> None:
    state = article(days(100), last_checked_at=NOW - days(8))
    assert apply_hint(EXACT, state, None, NOW - minutes(1), NOW) is None


def test_no_hint_keeps_schedule() -> None:
    scheduled = NOW + hours(2)
    assert apply_hint(EXACT, article(days(3)), scheduled, None, NOW) == scheduled


# --- time-zone discipline --------------------------------------------------

NAIVE = datetime(2024, 5, 1, 12, 0)


def test_naive_now_rejected_everywhere() -> None:
    state = article(hours(1))
    with pytest.raises(ValueError, match="timezone-aware"):
        next_check(EXACT, state, UNCHANGED, NAIVE)
    with pytest.raises(ValueError, match="timezone-aware"):
        apply_hint(EXACT, state, NOW, NOW, NAIVE)
    with pytest.raises(ValueError, match="timezone-aware"):
        first_check(EXACT, NAIVE)
    with pytest.raises(ValueError, match="timezone-aware"):
        is_due(NOW, NAIVE)
    with pytest.raises(ValueError, match="timezone-aware"):
        is_due(NAIVE, NOW)


def test_naive_fields_rejected() -> None:
    with pytest.raises(ValueError, match="first_seen_at"):
        CheckState(first_seen_at=NAIVE)
    with pytest.raises(ValueError, match="published_at"):
        CheckState(first_seen_at=NOW, published_at=NAIVE)
    with pytest.raises(ValueError, match="last_checked_at"):
        CheckState(first_seen_at=NOW, last_checked_at=NAIVE)
    with pytest.raises(ValueError, match="last_changed_at"):
        CheckState(first_seen_at=NOW, last_changed_at=NAIVE)
    with pytest.raises(ValueError, match="hint_modified_at"):
        CheckOutcome("unchanged", hint_modified_at=NAIVE)
    with pytest.raises(ValueError, match="hint_modified_at"):
        apply_hint(EXACT, article(hours(1)), NOW, NAIVE, NOW)
    with pytest.raises(ValueError, match="next_check_at"):
        apply_hint(EXACT, article(hours(1)), NAIVE, NOW, NOW)


def test_other_timezones_are_normalised_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    local_now = NOW.astimezone(plus_two)
    state = CheckState(first_seen_at=(NOW - hours(5)).astimezone(plus_two))
    decision = next_check(EXACT, state, UNCHANGED, local_now)
    assert decision.next_check_at == NOW + hours(1)
    assert decision.next_check_at.tzinfo == UTC
    assert state.first_seen_at.tzinfo == UTC


# --- input validation ------------------------------------------------------


def test_outcome_validation() -> None:
    with pytest.raises(ValueError, match="kind"):
        CheckOutcome("moved")
    with pytest.raises(ValueError, match="http_status"):
        CheckOutcome("error", http_status=999)
    with pytest.raises(ValueError, match="retry_after"):
        CheckOutcome("error", retry_after=timedelta(seconds=-1))


def test_state_validation() -> None:
    with pytest.raises(ValueError, match="unchanged_streak"):
        CheckState(first_seen_at=NOW, unchanged_streak=-1)
    with pytest.raises(ValueError, match="key"):
        CheckState(first_seen_at=NOW, key="abc")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"tiers": ()}, "empty"),
        ({"tiers": (hours(3),)}, "pairs"),
        ({"tiers": ((hours(3), minutes(15), hours(1)),)}, "pair"),
        ({"tiers": ((hours(3), minutes(15)), (hours(1), hours(1)))}, "strictly increasing"),
        ({"tiers": ((hours(3), timedelta(0)),)}, "interval"),
        ({"tiers": ((timedelta(0), minutes(15)),)}, "age limit"),
        ({"tiers": ((hours(3), hours(1)), (days(1), minutes(15)))}, "shrink"),
        ({"change_speedup": 0.0}, "change_speedup"),
        ({"change_speedup": 1.5}, "change_speedup"),
        ({"change_speedup": float("nan")}, "change_speedup"),
        ({"backoff_factor": 0.5}, "backoff_factor"),
        ({"backoff_after": 0}, "backoff_after"),
        ({"backoff_cap": 0.5}, "backoff_cap"),
        ({"jitter": 1.0}, "jitter"),
        ({"jitter": -0.1}, "jitter"),
        ({"min_interval": timedelta(0)}, "min_interval"),
        ({"min_interval": days(2), "max_interval": days(1)}, "max_interval"),
        ({"retire_after": timedelta(0)}, "retire_after"),
    ],
)
def test_policy_validation(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SchedulePolicy(**overrides)  # type: ignore[arg-type]


def test_policy_accepts_list_tiers_and_stays_hashable() -> None:
    as_lists = [[hours(1), minutes(10)], [days(1), hours(2)]]
    policy = SchedulePolicy(tiers=as_lists)  # type: ignore[arg-type]
    assert policy.tiers == ((hours(1), minutes(10)), (days(1), hours(2)))
    hash(policy)


# --- parse_duration and from_settings --------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", minutes(15)),
        ("3h", hours(3)),
        ("2d", days(2)),
        ("1w", days(7)),
        ("1h30m", minutes(90)),
        ("1.5h", minutes(90)),
        ("  15m ", minutes(15)),
        ("0s", timedelta(0)),
    ],
)
def test_parse_duration_good(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "   ", "15", "m", "-5m", "15 m", "15 minutes", "1M", "abc", "1.5.3h", "3h=", None, 15],
)
def test_parse_duration_bad(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)  # type: ignore[arg-type]


def test_parse_duration_overflow_is_value_error() -> None:
    with pytest.raises(ValueError, match="too large"):
        parse_duration("99999999999w")


def test_from_settings_defaults() -> None:
    assert SchedulePolicy.from_settings({}) == SchedulePolicy()
    assert SchedulePolicy.from_settings({"PATH": "/bin", "PALIMPSEST_DB": "x"}) == SchedulePolicy()
    assert SchedulePolicy.from_settings({"PALIMPSEST_SCHEDULE_JITTER": " "}) == SchedulePolicy()


def test_from_settings_default_tiers_string_round_trips() -> None:
    policy = SchedulePolicy.from_settings({"PALIMPSEST_SCHEDULE_TIERS": "3h=15m,1d=1h,7d=3h,30d=1d,90d=7d"})
    assert policy.tiers == DEFAULT_TIERS


def test_from_settings_overrides() -> None:
    policy = SchedulePolicy.from_settings(
        {
            "PALIMPSEST_SCHEDULE_TIERS": "1h=10m, 2d=2h",
            "PALIMPSEST_SCHEDULE_RETIRE_AFTER": "14d",
            "PALIMPSEST_SCHEDULE_CHANGE_SPEEDUP": "0.25",
            "PALIMPSEST_SCHEDULE_BACKOFF_FACTOR": "2",
            "PALIMPSEST_SCHEDULE_BACKOFF_AFTER": "5",
            "PALIMPSEST_SCHEDULE_BACKOFF_CAP": "8",
            "PALIMPSEST_SCHEDULE_ERROR_RETRY_BASE": "1m",
            "PALIMPSEST_SCHEDULE_MIN_INTERVAL": "1m",
            "PALIMPSEST_SCHEDULE_MAX_INTERVAL": "1w",
            "PALIMPSEST_SCHEDULE_JITTER": "0",
        }
    )
    assert policy == SchedulePolicy(
        tiers=((hours(1), minutes(10)), (days(2), hours(2))),
        retire_after=days(14),
        change_speedup=0.25,
        backoff_factor=2.0,
        backoff_after=5,
        backoff_cap=8.0,
        error_retry_base=minutes(1),
        min_interval=minutes(1),
        max_interval=days(7),
        jitter=0.0,
    )
    assert next_check(policy, article(minutes(30)), UNCHANGED, NOW).interval == minutes(10)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"PALIMPSEST_SCHEDULE_RETIRE_AFTER": "ninety days"}, "RETIRE_AFTER"),
        ({"PALIMPSEST_SCHEDULE_TIERS": "3h:15m"}, "TIERS"),
        ({"PALIMPSEST_SCHEDULE_TIERS": "1d=1h,3h=15m"}, "strictly increasing"),
        ({"PALIMPSEST_SCHEDULE_JITTER": "lots"}, "JITTER"),
        ({"PALIMPSEST_SCHEDULE_BACKOFF_AFTER": "2.5"}, "BACKOFF_AFTER"),
        ({"PALIMPSEST_SCHEDULE_CHANGE_SPEEDUP": "3"}, "change_speedup"),
        ({"PALIMPSEST_SCHEDULE_RETIRE": "90d"}, "unknown schedule setting"),
    ],
)
def test_from_settings_rejects_bad_values(settings: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SchedulePolicy.from_settings(settings)


# --- jitter ----------------------------------------------------------------


def test_jitter_is_deterministic_per_key() -> None:
    policy = SchedulePolicy()
    first = next_check(policy, article(hours(5), key=42), UNCHANGED, NOW)
    again = next_check(SchedulePolicy(), article(hours(5), key=42), UNCHANGED, NOW)
    assert first == again


def test_jitter_spreads_keys_within_bounds() -> None:
    policy = SchedulePolicy()
    times = [next_check(policy, article(hours(5), key=key), UNCHANGED, NOW).next_check_at for key in range(100)]
    assert len(set(times)) > 90
    offsets = [t - NOW for t in times if t is not None]
    assert all(hours(0.9) <= offset <= hours(1.1) for offset in offsets)
    assert min(offsets) < hours(0.95)
    assert max(offsets) > hours(1.05)


def test_zero_jitter_is_exact_for_any_key() -> None:
    intervals = {next_check(EXACT, article(hours(5), key=key), UNCHANGED, NOW).interval for key in (-7, 0, 1, 10**30)}
    assert intervals == {hours(1)}


# --- never in the past -----------------------------------------------------


@given(
    age_seconds=st.integers(min_value=0, max_value=200 * 86_400),
    kind=st.sampled_from(["changed", "unchanged", "error", "paywalled"]),
    unchanged_streak=st.integers(min_value=0, max_value=100),
    error_streak=st.integers(min_value=0, max_value=100),
    key=st.integers(min_value=-(2**63), max_value=2**63),
    retry_after_seconds=st.none() | st.integers(min_value=0, max_value=400 * 86_400),
    changed_ago_seconds=st.none() | st.integers(min_value=-86_400, max_value=200 * 86_400),
)
def test_next_check_is_never_in_the_past(
    age_seconds: int,
    kind: str,
    unchanged_streak: int,
    error_streak: int,
    key: int,
    retry_after_seconds: int | None,
    changed_ago_seconds: int | None,
) -> None:
    policy = SchedulePolicy()
    state = CheckState(
        first_seen_at=NOW - timedelta(seconds=age_seconds),
        last_checked_at=NOW - hours(1),
        last_changed_at=(None if changed_ago_seconds is None else NOW - timedelta(seconds=changed_ago_seconds)),
        unchanged_streak=unchanged_streak,
        error_streak=error_streak,
        key=key,
    )
    retry_after = None if retry_after_seconds is None else timedelta(seconds=retry_after_seconds)
    decision = next_check(policy, state, CheckOutcome(kind, retry_after=retry_after), NOW)
    if decision.next_check_at is None:
        assert decision.state == "retired"
        return
    assert decision.state == "active"
    assert decision.next_check_at > NOW
    assert decision.interval is not None
    assert policy.min_interval <= decision.interval <= policy.max_interval
    assert decision.next_check_at == NOW + decision.interval
    if retry_after is not None and retry_after <= policy.max_interval:
        assert decision.next_check_at >= NOW + retry_after


# --- first_check / is_due --------------------------------------------------


def test_first_check_is_due_now() -> None:
    assert first_check(EXACT, NOW) == NOW
    assert first_check(SchedulePolicy(), NOW, key=99) == NOW
    assert is_due(first_check(EXACT, NOW), NOW)


def test_is_due() -> None:
    assert is_due(NOW - minutes(1), NOW)
    assert is_due(NOW, NOW)
    assert not is_due(NOW + minutes(1), NOW)
    assert not is_due(None, NOW)
