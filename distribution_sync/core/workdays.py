"""Service-level clocks that run on working days only.

A step's SLA of ``hours`` runs 24 hours a day on working days and stands still
on the days the company does not work (weekends, public holidays): 24 h from
Friday 10:00 is Monday 10:00. ``day_table`` turns a calendar into rows that a
database query joins against, so that thousands of due dates are one query;
``due_at`` is the same rule for one date (and the reference for the query).
"""

from datetime import date, datetime, time, timedelta

DAY_HOURS = 24.0


def is_working(day: date, weekdays, holidays) -> bool:
    """``weekdays``: working days as ``date.weekday()`` numbers (Monday 0);
    ``holidays``: dates off. No working weekday at all means every day works
    (a calendar nobody filled in must not stop every clock)."""
    if not weekdays:
        return True
    return day.weekday() in weekdays and day not in holidays


def day_table(first: date, last: date, weekdays, holidays):
    """``[(day, working, hours before the day)]`` from ``first`` to ``last``
    inclusive: the working hours elapsed between ``first`` 00:00 and the day's
    start. A due date ``target`` hours after ``first`` falls on the working
    row with ``before <= target < before + 24``."""
    rows = []
    before = 0.0
    day = first
    while day <= last:
        working = is_working(day, weekdays, holidays)
        rows.append((day, working, before))
        if working:
            before += DAY_HOURS
        day += timedelta(days=1)
    return rows


def due_at(start: datetime, hours: float, weekdays, holidays) -> datetime:
    """The moment ``hours`` working-day hours after ``start``. A start on a
    day off counts from the next working day's start."""
    if not is_working(start.date(), weekdays, holidays):
        day = start.date() + timedelta(days=1)
        while not is_working(day, weekdays, holidays):
            day += timedelta(days=1)
        start = datetime.combine(day, time.min, start.tzinfo)
    left = timedelta(hours=hours)
    day_end = datetime.combine(start.date() + timedelta(days=1), time.min, start.tzinfo)
    current = start
    # Exactly at a day's end is the next working day's start, as in the table.
    while left >= day_end - current:
        left -= day_end - current
        day = day_end.date()
        while not is_working(day, weekdays, holidays):
            day += timedelta(days=1)
        current = datetime.combine(day, time.min, start.tzinfo)
        day_end = current + timedelta(days=1)
    return current + left
