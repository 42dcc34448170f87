"""Readers shared by the carrier parsers: typed fields with paths, headers.

Every reader raises ``PayloadError`` naming the path of the offending key
(``tracking_details[2].datetime``) and never another exception.
"""

from collections.abc import Mapping

if __name__.startswith("odoo.addons."):
    from odoo.addons.distribution_sync.core import canonical, errors, tracking
else:
    from distribution_sync.core import canonical, errors, tracking

PayloadError = errors.PayloadError


def key_path(path, key):
    """``a[0]`` + ``b`` -> ``a[0].b``; an empty path gives the key."""
    return f"{path}.{key}" if path else str(key)


def as_object(value, path):
    if not isinstance(value, Mapping):
        raise PayloadError(
            f"{path or 'payload'}: expected an object, got {value!r:.100}.",
            value=repr(value)[:100],
            path=path or None,
        )
    return value


def optional_object(obj, key, path):
    """``obj[key]`` as an object, None when absent or null."""
    value = obj.get(key)
    return None if value is None else as_object(value, key_path(path, key))


def as_list(value, path):
    """A list; null counts as empty."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(
            f"{path}: expected a list, got {value!r:.100}.",
            value=repr(value)[:100],
            path=path,
        )
    return value


def text(obj, key, path, max_length=canonical.MAX_TEXT_LENGTH):
    """``obj[key]`` as stripped text, None when absent, null or empty."""
    value = obj.get(key)
    if value is None:
        return None
    return canonical.clean_text(value, key_path(path, key), max_length=max_length)


def long_text(obj, key, path):
    return text(obj, key, path, max_length=None)


def url(obj, key, path):
    return text(obj, key, path, max_length=tracking.MAX_URL_LENGTH)


def required_text(obj, key, path):
    return canonical.clean_identifier(obj.get(key), key_path(path, key))


def time(obj, key, path, *, required=False):
    """``obj[key]`` as an aware UTC datetime to the second, None when absent."""
    value = obj.get(key)
    if value is None and not required:
        return None
    if value is None:
        raise PayloadError(
            f"Missing required field {key_path(path, key)}.",
            path=key_path(path, key),
        )
    return tracking.clean_time(value, key_path(path, key))


def amount(obj, key, path, *, required=False):
    """``obj[key]`` as a Decimal (text or number), None when absent."""
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise PayloadError(
                f"Missing required field {key_path(path, key)}.",
                path=key_path(path, key),
            )
        return None
    return canonical.clean_decimal(value, key_path(path, key))


def flag(obj, key, path, default=False):
    value = obj.get(key)
    if value is None:
        return default
    return canonical.clean_bool(value, key_path(path, key))


def location(obj, path, keys=("city", "state", "zip", "country")):
    """``"City, ST, ZIP, CC"`` of a location object, None when empty."""
    if obj is None:
        return None
    obj = as_object(obj, path)
    parts = [text(obj, key, path) for key in keys]
    return ", ".join(part for part in parts if part) or None


def header(headers, name):
    """A header value, case-insensitively; None when absent or blank."""
    if not headers:
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if str(key).lower() == wanted:
            if isinstance(value, bytes):
                value = value.decode("latin-1")
            return str(value).strip() or None
    return None


def newest_message(events, status):
    """Description of the newest scan with ``status``, else of the newest scan
    (of scans at the same time, the one listed last)."""
    described = [event for event in events if event.get("description")]
    matching = [event for event in described if event["status"] == status]
    chosen = matching or described
    if not chosen:
        return None
    return max(reversed(chosen), key=lambda event: event["event_time"])["description"]
