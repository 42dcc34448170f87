"""Canonical tracking updates, channel-neutral: what every carrier parser produces.

A tracking update (``parse_tracking_update`` documents its keys) carries the
carrier's scans as ``events``; ``scan_key`` names one scan so that a scan sent by
many webhooks is stored once, and ``next_status`` decides whether an update moves
a shipment's status (never backwards: late, repeated or vague updates change
nothing).

Times are aware UTC datetimes truncated to the second: a database datetime keeps
no more, and carriers scan to the minute or the second (the milliseconds a
tracking service adds are its own bookkeeping and would split one scan in two).
"""

from datetime import datetime, timezone

from .canonical import (
    _error,
    _list,
    _normalise,
    _object,
    clean_bool,
    clean_datetime,
    clean_identifier,
    clean_long_text,
    clean_text,
    parse_datetime,
)
from .errors import PayloadError
from .idempotency import canonical_json, sha256_hex

STATUSES = (
    ("pre_transit", "Pre-transit"),
    ("in_transit", "In transit"),
    ("out_for_delivery", "Out for delivery"),
    ("available_for_pickup", "Available for pickup"),
    ("delivered", "Delivered"),
    ("returned", "Returned"),
    ("exception", "Exception"),
    ("unknown", "Unknown"),
)
STATUS_CODES = frozenset(code for code, _label in STATUSES)
PROBLEM_STATUSES = frozenset({"exception", "returned"})
FINAL_STATUSES = frozenset({"delivered", "returned"})

# URLs are not indexed: longer than names, still bounded.
MAX_URL_LENGTH = 2048


def to_utc_second(value):
    """An aware UTC datetime without microseconds; a naive one is taken as UTC
    (the database stores UTC without zone), ISO text is parsed (``PayloadError``
    when it is none). None and False give None."""
    if value is None or value is False:
        return None
    if isinstance(value, str):
        value = parse_datetime(value)
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).replace(microsecond=0)


def clean_time(value, path):
    """``clean_datetime`` truncated to the second (see the module docstring)."""
    return to_utc_second(clean_datetime(value, path))


def clean_status(value, path):
    status = clean_text(value, path)
    if status not in STATUS_CODES:
        raise _error(
            path,
            f"{value!r} is not a tracking status "
            f"({', '.join(code for code, _label in STATUSES)}).",
            value,
        )
    return status


def clean_url(value, path):
    return clean_text(value, path, max_length=MAX_URL_LENGTH)


def scan_key(event: dict) -> str:
    """SHA-256 hex naming one carrier scan: its time (to the second, UTC),
    status, status_detail, description and location. The same scan gives the
    same key however many webhooks repeat it; scans differing in any of these
    give different keys."""
    event_time = to_utc_second(event.get("event_time"))
    parts = [
        event_time.isoformat() if event_time else None,
        event.get("status"),
        event.get("status_detail"),
        event.get("description"),
        event.get("location"),
    ]
    return sha256_hex(canonical_json(parts))


EVENT_SPEC = {
    "status": (clean_status, True, None),
    "status_detail": (clean_text, False, None),
    "description": (clean_long_text, False, None),
    "event_time": (clean_time, True, None),
    "location": (clean_text, False, None),
}


def _events(value, path):
    events = []
    seen = set()
    for index, item in enumerate(_list(value, path)):
        item_path = f"{path}[{index}]"
        event = _normalise(_object(item, item_path), item_path, EVENT_SPEC)
        event["key"] = scan_key(event)
        if event["key"] not in seen:
            seen.add(event["key"])
            events.append(event)
    # Stable: scans of the same second keep the carrier's order.
    events.sort(key=lambda event: event["event_time"])
    return events


UPDATE_SPEC = {
    "provider": (clean_identifier, True, None),
    "tracker_id": (clean_text, False, None),
    "shipment_id": (clean_text, False, None),
    "tracking_code": (clean_identifier, True, None),
    "carrier": (clean_text, False, None),
    "status": (clean_status, False, "unknown"),
    "status_detail": (clean_text, False, None),
    "message": (clean_long_text, False, None),
    "public_url": (clean_url, False, None),
    "is_return": (clean_bool, False, False),
    "est_delivery": (clean_time, False, None),
    "updated_at": (clean_time, False, None),
    "events": (_events, False, list),
}


def parse_tracking_update(data: dict) -> dict:
    """Validate and normalise a canonical tracking update; returns a new dict.

    Keys: ``provider`` and ``tracking_code`` (required text); ``tracker_id``,
    ``shipment_id``, ``carrier``, ``status_detail``, ``message`` (newest human
    text), ``public_url`` (text or None); ``status`` (one of ``STATUSES``,
    default ``unknown``); ``is_return`` (bool); ``est_delivery``, ``updated_at``
    (aware UTC datetimes to the second, or None); ``events``: dicts with
    ``status`` (required), ``status_detail``, ``description``, ``event_time``
    (required) and ``location``, each given its ``key`` (``scan_key``), oldest
    first, repeated scans (same key) dropped. Unknown keys are kept untouched.
    Raises ``PayloadError`` naming the path of the offending key.
    """
    if not isinstance(data, dict):
        raise PayloadError(
            f"A tracking update must be an object, got {type(data).__name__}.",
            value=data,
        )
    return _normalise(data, "", UPDATE_SPEC)


def _known(status):
    return bool(status) and status != "unknown"


def newest(update: dict):
    """``(status, time)`` that ``update`` reports.

    The time is that of its newest scan (``updated_at`` when it has none): it
    orders updates that arrive late or twice. The status is the update's own
    (the carrier's summary of all scans, which a scan reported with a skewed
    clock does not fool); when that is ``unknown``, the newest known scan's.
    """
    events = update.get("events") or []
    status = update.get("status") or "unknown"
    if events:
        time = max(to_utc_second(event["event_time"]) for event in events)
        if not _known(status):
            known = [event for event in events if _known(event.get("status"))]
            if known:
                status = max(known, key=lambda event: event["event_time"])["status"]
    else:
        time = to_utc_second(update.get("updated_at"))
    return status, time


def next_status(current_status, current_time, update: dict):
    """``(status, time)`` the shipment moves to, or None to leave it as it is.

    ``current_status``/``current_time`` are the shipment's (None or False when
    unset; a naive time is UTC), ``update`` a parsed tracking update. Rules:
    an update is applied only when its newest time (see ``newest``) is later
    than ``current_time`` (so a late, repeated or time-less update changes
    nothing, and ``delivered``/``returned`` stay unless a newer scan says
    otherwise); ``unknown`` never replaces a known status. The result may
    repeat the current status with a later time: the caller compares statuses
    to know whether it changed. The time is aware UTC (None only when neither
    the shipment nor the update has one).
    """
    status, time = newest(update)
    current_time = to_utc_second(current_time)
    if not _known(status) and _known(current_status):
        return None
    if current_time is not None:
        if time is None or time <= current_time:
            return None
        return status, time
    if time is None and status == current_status:
        return None
    return status, time
