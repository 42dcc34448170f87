from datetime import date, datetime

import pytest

from distribution_sync_shopify.core import versions


@pytest.mark.parametrize(
    ("version", "end"),
    [
        ("2024-01", date(2025, 1, 1)),
        ("2024-10", date(2025, 10, 1)),
        ("2025-07", date(2026, 7, 1)),
        (" 2025-10 ", date(2026, 10, 1)),
    ],
)
def test_support_end_is_twelve_months_after_release(version, end):
    assert versions.support_end(version) == end
    assert versions.release_date(version).replace(year=end.year) == end


@pytest.mark.parametrize(
    "version",
    [
        "2025-02",
        "2025-7",
        "2025-13",
        "2025-00",
        "unstable",
        "2026-04-rc",
        "",
        None,
        202507,
    ],
)
def test_invalid_versions(version):
    with pytest.raises(ValueError):
        versions.support_end(version)
    with pytest.raises(ValueError):
        versions.is_near_end(version, date(2025, 1, 1))


def test_days_until_unsupported():
    assert versions.days_until_unsupported("2025-07", date(2026, 6, 30)) == 1
    assert versions.days_until_unsupported("2025-07", date(2026, 7, 1)) == 0
    assert versions.days_until_unsupported("2025-07", date(2026, 7, 11)) == -10
    assert versions.days_until_unsupported("2025-07", datetime(2026, 6, 30, 23)) == 1


def test_is_near_end():
    end = date(2026, 7, 1)
    assert versions.support_end("2025-07") == end
    assert not versions.is_near_end("2025-07", date(2026, 4, 1))  # 91 days left
    assert versions.is_near_end("2025-07", date(2026, 4, 2))  # 90 days left
    assert versions.is_near_end("2025-07", date(2027, 1, 1))  # already unsupported
    assert not versions.is_near_end("2025-07", date(2026, 5, 1), warn_days=30)
    assert versions.is_near_end("2025-07", date(2026, 6, 1), warn_days=30)


@pytest.mark.parametrize(
    ("today", "version"),
    [
        (date(2026, 12, 2), "2026-10"),
        (date(2026, 10, 1), "2026-07"),  # released at 17:00 UTC that day
        (date(2026, 10, 2), "2026-10"),
        (date(2027, 1, 1), "2026-10"),
        (date(2027, 1, 2), "2027-01"),
        (date(2026, 3, 31), "2026-01"),
        (datetime(2026, 7, 15, 8), "2026-07"),
    ],
)
def test_current_version_is_the_newest_released(today, version):
    assert versions.current_version(today) == version


def test_current_version_is_supported_long_enough():
    # Every day of two years: a version still supported for at least 9 months.
    start = date(2026, 1, 1)
    for offset in range(731):
        today = date.fromordinal(start.toordinal() + offset)
        version = versions.current_version(today)
        versions.parse(version)
        assert versions.days_until_unsupported(version, today) >= 270, today
        assert not versions.is_near_end(version, today), today


@pytest.mark.parametrize(
    ("today", "version"),
    [
        (date(2026, 12, 2), "2026-01"),
        (date(2026, 7, 1), "2025-10"),  # 2025-07 ends that day
        (date(2026, 6, 30), "2025-07"),
        (datetime(2027, 1, 1, 12), "2026-04"),
    ],
)
def test_oldest_supported_is_where_old_versions_fall_forward(today, version):
    assert versions.oldest_supported(today) == version
    assert versions.support_end(version) > (
        today.date() if isinstance(today, datetime) else today
    )
