"""Shopify Admin API versions and their support window.

Versions are named ``YYYY-MM`` and released quarterly, in January, April, July
and October (at 17:00 UTC); each stable version is supported for at least 12
months, and consecutive versions overlap by at least 9 months. A request for a
version that is no longer supported is served by the oldest supported one
("falls forward"), so webhook payloads silently change shape: warn before then.
``unstable`` and release candidates have no support window and are refused.

A new backend starts on ``current_version``: the newest stable version already
released, which has the longest support left (at least 9 months from its
release on). The day of a release counts as before it (the version comes out at
17:00 UTC, and a date alone cannot tell the hour).
"""

import re
from datetime import date, datetime

__all__ = [
    "RELEASE_MONTHS",
    "SUPPORT_MONTHS",
    "current_version",
    "days_until_unsupported",
    "is_near_end",
    "oldest_supported",
    "parse",
    "release_date",
    "support_end",
]

RELEASE_MONTHS = (1, 4, 7, 10)
SUPPORT_MONTHS = 12

_VERSION_RE = re.compile(r"^(\d{4})-(\d{2})$")


def parse(version) -> tuple[int, int]:
    """``"2025-07"`` -> ``(2025, 7)``; ``ValueError`` for anything else."""
    match = _VERSION_RE.match(version.strip()) if isinstance(version, str) else None
    if not match:
        raise ValueError(f"{version!r} is not a Shopify API version (YYYY-MM).")
    year, month = int(match.group(1)), int(match.group(2))
    if month not in RELEASE_MONTHS:
        raise ValueError(
            f"{version!r} is not a Shopify API version: versions are released in "
            "January, April, July and October (-01, -04, -07, -10)."
        )
    return year, month


def release_date(version) -> date:
    year, month = parse(version)
    return date(year, month, 1)


def support_end(version) -> date:
    """The first day the version is no longer guaranteed (release + 12 months)."""
    year, month = parse(version)
    months = year * 12 + month - 1 + SUPPORT_MONTHS
    return date(months // 12, months % 12 + 1, 1)


def days_until_unsupported(version, today: date) -> int:
    """Days from ``today`` to ``support_end``; 0 or less once unsupported."""
    if isinstance(today, datetime):
        today = today.date()
    return (support_end(version) - today).days


def is_near_end(version, today: date, warn_days: int = 90) -> bool:
    """True when support ends within ``warn_days`` days (or has ended)."""
    return days_until_unsupported(version, today) <= warn_days


def current_version(today: date) -> str:
    """The newest stable version released before ``today`` (``YYYY-MM``)."""
    if isinstance(today, datetime):
        today = today.date()
    year, month = today.year, today.month
    # The release of this quarter's month, when it is already past.
    month = max(m for m in RELEASE_MONTHS if m <= month)
    if today <= date(year, month, 1):
        # Released today at the earliest: the previous quarter's version.
        month -= 3
        if month < 1:
            year, month = year - 1, month + 12
    return f"{year:04d}-{month:02d}"


def oldest_supported(today: date) -> str:
    """The oldest version still supported on ``today``: the one Shopify
    serves a request for an unsupported version with ("falls forward")."""
    if isinstance(today, datetime):
        today = today.date()
    year, month = parse(current_version(today))
    while True:
        months = year * 12 + month - 1 - 3
        previous = f"{months // 12:04d}-{months % 12 + 1:02d}"
        if support_end(previous) <= today:
            return f"{year:04d}-{month:02d}"
        year, month = parse(previous)
