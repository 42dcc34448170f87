"""Retry policy and the classification of failures as transient or permanent."""

import math
import socket
from dataclasses import dataclass

from .errors import SyncError, TransientError

TRANSIENT_HTTP_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})

# Matched by class name anywhere in the MRO so that e.g. requests' exceptions are
# recognised without importing requests. Database OperationalError is deliberately
# absent: Odoo retries serialisation failures itself, and other database errors are
# not fixed by waiting.
TRANSIENT_EXCEPTION_NAMES = frozenset(
    {"Timeout", "ConnectionError", "ConnectTimeout", "ReadTimeout"}
)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off: ``base_delay * factor ** (attempt - 1)``, capped."""

    max_attempts: int = 5
    base_delay: int = 30
    factor: float = 2.0
    max_delay: int = 3600

    def __post_init__(self):
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1.")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("Delays must not be negative.")
        if self.factor <= 0:
            raise ValueError("factor must be greater than zero.")

    def delay(self, attempt: int) -> int:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if attempt < 1:
            raise ValueError(f"Attempts are counted from 1, got {attempt}.")
        try:
            raw = self.base_delay * self.factor ** (attempt - 1)
        except OverflowError:
            return self.max_delay
        return min(self.max_delay, round(raw))

    def exhausted(self, attempt: int) -> bool:
        """True when no retry is left after attempt number ``attempt``."""
        return attempt >= self.max_attempts

    def as_retry_pattern(self) -> dict[int, int]:
        """queue_job ``retry_pattern``: try count -> seconds to wait."""
        return {
            attempt: self.delay(attempt) for attempt in range(1, self.max_attempts + 1)
        }


def is_transient_http_status(status: int) -> bool:
    """True for statuses worth retrying: the listed ones and any 5xx."""
    if isinstance(status, bool) or not isinstance(status, int):
        return False
    return status in TRANSIENT_HTTP_STATUSES or 500 <= status <= 599


def retry_after_seconds(
    header_value: str | None, default: int | None = None
) -> int | None:
    """Seconds from a ``Retry-After`` header (int or float text, rounded up).

    The HTTP-date form, negative or unparsable values return ``default``.
    """
    if header_value is None:
        return default
    text = str(header_value).strip()
    if not text:
        return default
    try:
        seconds = float(text)
    except ValueError:
        return default
    if not math.isfinite(seconds) or seconds < 0:
        return default
    return math.ceil(seconds)


def _status_code(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if status is None:
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
    if isinstance(status, int) and not isinstance(status, bool):
        return status
    return None


def is_transient_exception(exc: BaseException) -> bool:
    """True when retrying later may succeed.

    Transient: ``TransientError``; builtin timeouts, connection and socket resolution
    errors; exceptions named like a timeout or connection error anywhere in their
    MRO; exceptions carrying a transient HTTP ``status_code`` (directly or on
    ``.response``). Other ``SyncError`` subclasses and everything else are permanent.
    """
    if isinstance(exc, TransientError):
        return True
    if isinstance(exc, SyncError):
        return False
    if isinstance(exc, (TimeoutError, ConnectionError, socket.gaierror, socket.herror)):
        return True
    if any(cls.__name__ in TRANSIENT_EXCEPTION_NAMES for cls in type(exc).__mro__):
        return True
    status = _status_code(exc)
    return status is not None and is_transient_http_status(status)


def delay_from_pattern(pattern, attempt: int, default: int | None = None) -> int | None:
    """Seconds to wait after attempt ``attempt`` according to a queue_job pattern.

    Like queue_job, the entry with the largest try count not above ``attempt`` wins;
    ``default`` is returned when the pattern is empty or starts after ``attempt``. A
    ``(min, max)`` range, which queue_job randomises, yields its max so that the
    computed time is never earlier than the actual retry.
    """
    if attempt < 1:
        raise ValueError(f"Attempts are counted from 1, got {attempt}.")
    if not pattern:
        return default
    seconds = default
    for count, value in sorted((int(k), v) for k, v in dict(pattern).items()):
        if attempt < count:
            break
        seconds = value
    if isinstance(seconds, (list, tuple)):
        seconds = max(seconds)
    return None if seconds is None else int(seconds)
