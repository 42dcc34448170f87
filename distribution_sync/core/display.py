"""How a message reads on screen: JSON bodies indented, the stamp of the
mappings in force taken apart."""

import json
from datetime import datetime

# No mapping in force: nothing to record on a message.
NO_MAPPINGS = None


def mapping_stamp(count, last_change):
    """The stamp of the mappings in force: ``<count>@<last change, ISO>``,
    or ``NO_MAPPINGS`` when there is none to speak of (no mapping at all)."""
    if not count and not last_change:
        return NO_MAPPINGS
    when = last_change.isoformat(timespec="seconds") if last_change else "-"
    return f"{count}@{when}"


def parse_mapping_stamp(stamp):
    """``(count, last change)`` of a stamp of ``mapping_stamp``, or ``None``
    when it says nothing (empty, ``0@-``, not a stamp)."""
    count, sep, when = (stamp or "").partition("@")
    if not sep or not count.isdigit():
        return None
    try:
        last_change = datetime.fromisoformat(when) if when != "-" else None
    except ValueError:
        return None
    if not int(count) and not last_change:
        return None
    return int(count), last_change


def pretty_json(text, indent=2):
    """``text`` indented when it is a JSON object or array, else as it is
    (a body that is no JSON is shown as received)."""
    if not text:
        return text or ""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return text
    if not isinstance(data, dict | list):
        return text
    return json.dumps(data, indent=indent, ensure_ascii=False)
