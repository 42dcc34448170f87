"""Age and service-level status of inbox items.

Naive datetimes are taken as UTC (that is how Odoo stores them), so naive and aware
values can be mixed.
"""

from datetime import datetime, timezone

SLA_STATUSES = [
    ("on_time", "On time"),
    ("due_soon", "Due soon"),
    ("overdue", "Overdue"),
]
AGE_BUCKETS = [
    ("lt_1h", "Less than an hour"),
    ("lt_1d", "Less than a day"),
    ("lt_1w", "Less than a week"),
    ("older", "Older"),
]
DUE_SOON_RATIO = 0.75


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def age_hours(created: datetime, now: datetime) -> float:
    """Hours elapsed since ``created``; never negative (clock skew counts as 0)."""
    return max(0.0, (_utc(now) - _utc(created)).total_seconds() / 3600)


def sla_status(created: datetime, now: datetime, sla_hours: float) -> str:
    """Return "overdue" past the SLA, "due_soon" past 75% of it, else "on_time".

    An SLA of zero or less means "no SLA" and is always "on_time".
    """
    if not sla_hours or sla_hours <= 0:
        return "on_time"
    age = age_hours(created, now)
    if age > sla_hours:
        return "overdue"
    if age > DUE_SOON_RATIO * sla_hours:
        return "due_soon"
    return "on_time"


def deadline_status(created: datetime, now: datetime, deadline: datetime) -> str:
    """Status against a deadline set at ``created`` (working days already in
    it): "overdue" past it, "due_soon" past 75% of the time it allowed."""
    created, now, deadline = _utc(created), _utc(now), _utc(deadline)
    if now > deadline:
        return "overdue"
    if now > created + (deadline - created) * DUE_SOON_RATIO:
        return "due_soon"
    return "on_time"


def age_bucket(created: datetime, now: datetime) -> str:
    """Group key by age: "lt_1h", "lt_1d", "lt_1w" or "older"."""
    age = age_hours(created, now)
    if age < 1:
        return "lt_1h"
    if age < 24:
        return "lt_1d"
    if age < 24 * 7:
        return "lt_1w"
    return "older"
