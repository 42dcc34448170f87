"""QuickBooks Online request limits, pure: when the next request may go.

QuickBooks allows per company (realm) and app at most 10 requests at once
and 500 a minute, and answers ``429`` beyond (then wait 60 s). Every worker
shares the limit, so the Odoo side keeps the times of the requests sent in
the database; this module only decides from them, over a sliding 60-second
window: a request sent at ``t`` counts until ``t + 60 s``.
"""

from datetime import datetime, timedelta, timezone

MAX_CONCURRENT = 10
MAX_PER_MINUTE = 500
WINDOW_SECONDS = 60.0
# After a 429 QuickBooks asks for a minute's pause.
THROTTLED_WAIT = 60.0


def _utc(moment):
    if not isinstance(moment, datetime):
        raise TypeError(f"Expected a datetime, got {moment!r}.")
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


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


def next_slot(timestamps, now, per_minute=MAX_PER_MINUTE) -> float:
    """Seconds to wait at ``now`` before one more request keeps at most
    ``per_minute`` in any 60 seconds, given the times of the requests sent
    (any order); 0.0 when one may go now."""
    if isinstance(per_minute, bool) or not isinstance(per_minute, int):
        raise TypeError(f"per_minute is an integer, got {per_minute!r}.")
    if per_minute < 1:
        raise ValueError(f"per_minute must be at least 1, got {per_minute}.")
    counted = in_window(timestamps, now)
    excess = len(counted) - per_minute
    if excess < 0:
        return 0.0
    # The slot frees when enough of the oldest requests leave the window.
    # Datetime arithmetic is exact to the microsecond: adding floats could
    # give back a wait a microsecond short.
    freed = counted[excess] + timedelta(seconds=WINDOW_SECONDS)
    return max(0.0, (freed - _utc(now)).total_seconds())


def concurrency_free(running: int, max_concurrent=MAX_CONCURRENT) -> bool:
    """True when one more request may start while ``running`` are under way."""
    return running < max_concurrent
