"""Request limits of an outside system, pure: when the next request may go.

A system that allows at most ``per_window`` requests in any ``window``
seconds and ``max_concurrent`` at once (QuickBooks Online: 500 a minute, 10
at once, per company) is shared by every worker and server, so the Odoo side
keeps the times of the requests sent in the database
(``distribution.sync.request.slot``); this module only decides from them,
over a sliding window: a request sent at ``t`` counts until ``t + window``.
"""

from datetime import datetime, timedelta, timezone

WINDOW_SECONDS = 60.0
# How often to look again when only the number of requests under way stops
# one more: nobody says when one of them ends.
CONCURRENCY_POLL = 0.05


def _utc(moment):
    if not isinstance(moment, datetime):
        raise TypeError(f"Expected a datetime, got {moment!r}.")
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _positive(value, name, kind=int):
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(f"{name} is a number, got {value!r}.")
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}.")
    return value


def in_window(timestamps, now, window=WINDOW_SECONDS) -> list[datetime]:
    """The request times that still count at ``now``, oldest first (aware
    UTC; naive datetimes are UTC). A time after ``now`` (another worker's
    clock, or a reserved slot) counts too."""
    now = _utc(now)
    kept = []
    for moment in timestamps or ():
        moment = _utc(moment)
        if (now - moment).total_seconds() < window:
            kept.append(moment)
    return sorted(kept)


def next_slot(timestamps, now, per_minute=500, window=WINDOW_SECONDS) -> float:
    """Seconds to wait at ``now`` before one more request keeps at most
    ``per_minute`` requests in any ``window`` seconds (60 unless told),
    given the times of the requests sent (any order); 0.0 when one may go
    now."""
    _positive(per_minute, "per_minute")
    _positive(window, "window", (int, float))
    counted = in_window(timestamps, now, window)
    excess = len(counted) - per_minute
    if excess < 0:
        return 0.0
    # The slot frees when enough of the oldest requests leave the window.
    # Datetime arithmetic is exact to the microsecond: adding floats could
    # give back a wait a microsecond short.
    freed = counted[excess] + timedelta(seconds=window)
    return max(0.0, (freed - _utc(now)).total_seconds())


def concurrency_free(running: int, max_concurrent=10) -> bool:
    """True when one more request may start while ``running`` are under way."""
    return running < max_concurrent


def wait_before_request(
    timestamps,
    running,
    now,
    per_window=None,
    window=WINDOW_SECONDS,
    max_concurrent=None,
) -> float:
    """Seconds to wait at ``now`` before one more request (0.0: go now):
    the rate first (``per_window`` in ``window`` seconds over ``timestamps``,
    the times of the requests sent), then the number ``running`` under way
    (at most ``max_concurrent``; when full, look again shortly). A limit of
    ``None`` or 0 is no limit."""
    wait = 0.0
    if per_window:
        wait = next_slot(timestamps, now, per_window, window)
    if not wait and max_concurrent and not concurrency_free(running, max_concurrent):
        wait = CONCURRENCY_POLL
    return wait
