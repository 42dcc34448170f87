"""Readers shared by the carrier parsers: typed fields with paths, headers.

Every reader raises ``PayloadError`` naming the path of the offending key
(``tracking_details[2].datetime``) and never another exception.
"""

if __name__.startswith("odoo.addons."):
    from odoo.addons.distribution_sync.core import errors, readers, tracking
else:
    from distribution_sync.core import errors, readers, tracking

PayloadError = errors.PayloadError

# The core addon's readers, under the names the carrier parsers import.
key_path = readers.key_path
as_object = readers.as_object
optional_object = readers.optional_object
as_list = readers.as_list
text = readers.text
required_text = readers.required_text
amount = readers.amount
flag = readers.flag
header = readers.header


def long_text(obj, key, path):
    return text(obj, key, path, max_length=None)


def url(obj, key, path):
    return text(obj, key, path, max_length=tracking.MAX_URL_LENGTH)


def time(obj, key, path, *, required=False):
    """``obj[key]`` as an aware UTC datetime to the second, None when absent."""
    value = obj.get(key)
    if value is None and not required:
        return None
    if value is None:
        raise readers.missing(key_path(path, key))
    return tracking.clean_time(value, key_path(path, key))


def location(obj, path, keys=("city", "state", "zip", "country")):
    """``"City, ST, ZIP, CC"`` of a location object, None when empty."""
    if obj is None:
        return None
    obj = as_object(obj, path)
    parts = [text(obj, key, path) for key in keys]
    return ", ".join(part for part in parts if part) or None


def newest_message(events, status):
    """Description of the newest scan with ``status``, else of the newest scan
    (of scans at the same time, the one listed last)."""
    described = [event for event in events if event.get("description")]
    matching = [event for event in described if event["status"] == status]
    chosen = matching or described
    if not chosen:
        return None
    return max(reversed(chosen), key=lambda event: event["event_time"])["description"]
