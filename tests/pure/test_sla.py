from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from distribution_sync.core.sla import (
    age_bucket,
    age_hours,
    deadline_status,
    sla_status,
)

NOW = datetime(2024, 6, 1, 12, 0)


def test_age_hours():
    assert age_hours(NOW - timedelta(minutes=90), NOW) == 1.5
    assert age_hours(NOW + timedelta(hours=1), NOW) == 0


def test_age_mixes_naive_utc_and_aware():
    created = datetime(2024, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert age_hours(created, NOW) == 2


@pytest.mark.parametrize(
    ("age", "sla", "expected"),
    [
        (timedelta(hours=1), 4, "on_time"),
        (timedelta(hours=3), 4, "on_time"),
        (timedelta(hours=3, seconds=1), 4, "due_soon"),
        (timedelta(hours=4), 4, "due_soon"),
        (timedelta(hours=4, seconds=1), 4, "overdue"),
        (timedelta(days=30), 0, "on_time"),
        (timedelta(days=30), -1, "on_time"),
    ],
)
def test_sla_status(age, sla, expected):
    assert sla_status(NOW - age, NOW, sla) == expected


@pytest.mark.parametrize(
    ("age", "bucket"),
    [
        (timedelta(minutes=59), "lt_1h"),
        (timedelta(hours=1), "lt_1d"),
        (timedelta(hours=23, minutes=59), "lt_1d"),
        (timedelta(days=1), "lt_1w"),
        (timedelta(days=6, hours=23), "lt_1w"),
        (timedelta(days=7), "older"),
        (timedelta(hours=-5), "lt_1h"),
    ],
)
def test_age_bucket(age, bucket):
    assert age_bucket(NOW - age, NOW) == bucket


@given(
    seconds=st.integers(0, 10**8),
    sla=st.floats(min_value=0.1, max_value=1000),
)
def test_sla_status_monotonic(seconds, sla):
    order = ["on_time", "due_soon", "overdue"]
    created = NOW - timedelta(seconds=seconds)
    later = NOW + timedelta(hours=1)
    assert order.index(sla_status(created, NOW, sla)) <= order.index(
        sla_status(created, later, sla)
    )


@pytest.mark.parametrize(
    ("now_hours", "expected"),
    [
        (0, "on_time"),
        (50, "on_time"),
        (73, "due_soon"),
        (96, "due_soon"),
        (97, "overdue"),
    ],
)
def test_deadline_status_counts_the_time_the_deadline_allowed(now_hours, expected):
    # Opened on a Friday noon with 24 working hours: due Monday noon (96 h).
    created = datetime(2026, 11, 27, 12, 0)
    deadline = created + timedelta(hours=96)
    assert deadline_status(created, created + timedelta(hours=now_hours), deadline) == (
        expected
    )


def test_deadline_status_mixes_naive_utc_and_aware():
    created = datetime(2026, 12, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    deadline = datetime(2026, 12, 2, 10, 0)  # naive: UTC, 24 h later
    assert deadline_status(created, datetime(2026, 12, 2, 11, 0), deadline) == "overdue"
    assert deadline_status(created, datetime(2026, 12, 1, 12, 0), deadline) == "on_time"
