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
