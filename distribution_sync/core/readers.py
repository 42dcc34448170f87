"""Readers of a channel's JSON data: typed fields named by their path.

A path names a key the way a message shows it (``Line[2].Amount``). Every
reader raises ``PayloadError`` naming the path of the offending key, and never
another exception; a missing optional field reads as None.
"""

from collections.abc import Mapping

from . import canonical
from .errors import PayloadError


def key_path(path, key):
    """``a[0]`` + ``b`` -> ``a[0].b``; an empty path gives the key."""
    return f"{path}.{key}" if path else str(key)


def invalid(path, problem, value=None):
    """The ``PayloadError`` for a value at ``path`` that has ``problem``."""
    if isinstance(value, str):
        value = value[:100]
    return PayloadError(
        f"{path or 'payload'}: {problem}", value=value, path=path or None
    )


def missing(path, hint=""):
    """The ``PayloadError`` for a required field that is absent."""
    return PayloadError(f"Missing required field {path}.", path=path, hint=hint)


def as_object(value, path):
    if not isinstance(value, Mapping):
        raise invalid(path, f"expected an object, got {value!r:.100}.", repr(value))
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
        raise invalid(path, f"expected a list, got {value!r:.100}.", repr(value))
    return value


def text(obj, key, path, max_length=canonical.MAX_TEXT_LENGTH):
    """``obj[key]`` as stripped text (numbers become text), None when absent,
    null or empty."""
    value = obj.get(key)
    if value is None:
        return None
    return canonical.clean_text(value, key_path(path, key), max_length=max_length)


def required_text(obj, key, path):
    return canonical.clean_identifier(obj.get(key), key_path(path, key))


def amount(obj, key, path, *, required=False, hint=""):
    """``obj[key]`` as a Decimal (JSON number or text), None when absent;
    ``hint`` goes on the error of a missing required amount."""
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise missing(key_path(path, key), hint)
        return None
    return canonical.clean_decimal(value, key_path(path, key))


def flag(obj, key, path, default=False):
    """``obj[key]`` as a bool, ``default`` when absent or null."""
    value = obj.get(key)
    if value is None:
        return default
    return canonical.clean_bool(value, key_path(path, key))


def header(headers, name):
    """A header value, case-insensitively (bytes read as Latin-1); None when
    absent or blank, or when ``headers`` is no mapping."""
    if not headers or not hasattr(headers, "items"):
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if isinstance(key, bytes):
            key = key.decode("latin-1")
        if str(key).lower() == wanted:
            if isinstance(value, bytes):
                value = value.decode("latin-1")
            return str(value).strip() or None
    return None
