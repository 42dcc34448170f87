"""Failures of HTTP calls made with ``requests``, shared by the channel clients.

- ``never_sent``: whether a ``requests`` exception proves the request never
  reached the server (so repeating it can never apply it twice);
- ``network_error``: a ``requests`` exception as the ``SyncError`` to raise
  (``TransientError`` with ``maybe_applied`` for timeouts and lost or refused
  connections, ``PayloadError`` for an unusable URL);
- ``json_object``: an answer's JSON object, ``PayloadError`` when it is not one;
- ``loads``: an answer's JSON (a leading BOM allowed), None when it is not JSON.
"""

import json
from collections.abc import Mapping
from urllib.parse import urlsplit

import requests

from .errors import PayloadError, TransientError

RETRY_LATER = "The job is retried later."
# urllib3's names for a connection that was never made.
_NOT_CONNECTED = {"NewConnectionError", "NameResolutionError"}
_LOST = (
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


def names_in_chain(exc):
    """Class names of an exception, of its causes and of urllib3's ``reason``."""
    names, seen, stack = set(), set(), [exc]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        names.update(cls.__name__ for cls in type(item).__mro__)
        stack.extend([item.__cause__, item.__context__, getattr(item, "reason", None)])
        stack.extend(
            a for a in getattr(item, "args", ()) if isinstance(a, BaseException)
        )
    return names


def never_sent(exc):
    """True when the request surely did not reach the server (no connection)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(exc, requests.exceptions.ConnectionError):
        return False
    return bool(names_in_chain(exc) & _NOT_CONNECTED)


def network_error(
    exc, url, *, service, timeout, applied, reach_hint, call_hint, repeat_hint
):
    """The ``SyncError`` for the ``requests`` exception ``exc`` of a call to
    ``url`` on ``service`` ("EasyPost"), with ``maybe_applied`` set.

    ``applied`` ends the message of a call that may have run ("the request may
    have been applied"); ``reach_hint`` is the hint when nothing was sent,
    ``repeat_hint`` when it may have run (both followed by "the job is retried
    later"), ``call_hint`` the hint of an unusable URL (``PayloadError``).
    """
    host = urlsplit(url).netloc
    name = type(exc).__name__
    if never_sent(exc):
        error = TransientError(
            f"Cannot reach {service} at {host} ({name}); nothing was sent.",
            hint=f"{reach_hint}; {RETRY_LATER.lower()}",
        )
        error.maybe_applied = False
        return error
    if isinstance(exc, requests.exceptions.Timeout):
        text = f"{service} did not answer within {timeout} s; {applied}."
    elif isinstance(exc, _LOST):
        text = (
            f"The connection to {service} at {host} was lost before its answer "
            f"({name}); {applied}."
        )
    else:
        error = PayloadError(f"Cannot call {service} at {url}: {name}", hint=call_hint)
        error.maybe_applied = False
        return error
    error = TransientError(text, hint=f"{repeat_hint}; {RETRY_LATER.lower()}")
    error.maybe_applied = True
    return error


def json_object(response, service, hint):
    """The JSON object of a successful ``response``; ``PayloadError`` (with
    ``hint``) when it is not JSON, or not an object."""
    try:
        body = response.json()
    except ValueError:
        raise PayloadError(
            f"{service} answered HTTP {response.status_code} with something that "
            f"is not JSON: {(response.text or '')[:200]!r}",
            hint=hint,
        ) from None
    if not isinstance(body, Mapping):
        raise PayloadError(f"Unexpected {service} answer: {body!r:.200}")
    return body


def loads(response):
    """The answer's JSON (some servers start it with a BOM); None when it is
    empty or not JSON."""
    text = (response.content or b"").decode("utf-8-sig", "replace")
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
