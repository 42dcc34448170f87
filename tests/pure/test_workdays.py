"""Working-day SLA clocks (distribution_sync/core/workdays.py)."""

from datetime import date, datetime, timedelta

import pytest

from distribution_sync.core import workdays

MON_FRI = {0, 1, 2, 3, 4}
FRIDAY = datetime(2026, 11, 27, 10, 0)  # a Friday


def test_hours_skip_the_weekend():
    assert workdays.due_at(FRIDAY, 24, MON_FRI, set()) == datetime(2026, 11, 30, 10)


def test_within_the_same_day():
    assert workdays.due_at(FRIDAY, 4, MON_FRI, set()) == datetime(2026, 11, 27, 14)


def test_holiday_stops_the_clock():
    holidays = {date(2026, 11, 30)}
    assert workdays.due_at(FRIDAY, 24, MON_FRI, holidays) == datetime(2026, 12, 1, 10)


def test_start_on_a_day_off_counts_from_the_next_working_day():
    saturday = datetime(2026, 11, 28, 15, 0)
    assert workdays.due_at(saturday, 2, MON_FRI, set()) == datetime(2026, 11, 30, 2)


def test_no_working_weekday_means_every_day_works():
    assert workdays.due_at(FRIDAY, 24, set(), set()) == FRIDAY + timedelta(hours=24)


def test_exact_day_end_is_the_next_working_day_start():
    start = datetime(2026, 11, 27, 0, 0)
    assert workdays.due_at(start, 24, MON_FRI, set()) == datetime(2026, 11, 30)


def _due_from_table(start, hours, weekdays, holidays):
    """The lookup the database does, written out."""
    rows = workdays.day_table(
        start.date(), start.date() + timedelta(days=60), weekdays, holidays
    )
    by_day = {day: (working, before) for day, working, before in rows}
    working, before = by_day[start.date()]
    since_midnight = start - datetime.combine(start.date(), datetime.min.time())
    elapsed = before + (since_midnight.total_seconds() / 3600 if working else 0)
    target = elapsed + hours
    for day, working, before in rows:
        if working and before <= target < before + workdays.DAY_HOURS:
            return datetime.combine(day, datetime.min.time()) + timedelta(
                hours=target - before
            )
    raise AssertionError("table too short")


@pytest.mark.parametrize("hours", [0, 1, 7.5, 24, 30, 48, 72, 100, 24 * 30])
@pytest.mark.parametrize("day_offset", range(7))
@pytest.mark.parametrize("hour", [0, 9, 23])
def test_table_lookup_agrees_with_due_at(hours, day_offset, hour):
    holidays = {date(2026, 12, 25), date(2026, 12, 28)}
    start = datetime(2026, 12, 21, hour) + timedelta(days=day_offset)
    assert _due_from_table(start, hours, MON_FRI, holidays) == workdays.due_at(
        start, hours, MON_FRI, holidays
    )


def test_day_table_counts_only_working_days():
    rows = workdays.day_table(date(2026, 11, 27), date(2026, 11, 30), MON_FRI, set())
    assert rows == [
        (date(2026, 11, 27), True, 0.0),
        (date(2026, 11, 28), False, 24.0),
        (date(2026, 11, 29), False, 24.0),
        (date(2026, 11, 30), True, 24.0),
    ]
