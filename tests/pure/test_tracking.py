"""Canonical tracking updates: normalisation, scan keys, and the never-backwards
status decision."""

from datetime import datetime, timedelta, timezone

import pytest

from distribution_sync.core import tracking
from distribution_sync.core.errors import PayloadError

UTC = timezone.utc
T0 = datetime(2024, 8, 1, 12, 0, tzinfo=UTC)


def at(hours):
    return T0 + timedelta(hours=hours)


def event(status, hours, description=None, **extra):
    return {
        "status": status,
        "event_time": at(hours).isoformat(),
        "description": description or f"{status} scan",
        **extra,
    }


def update(status, *events, **extra):
    data = {
        "provider": "easypost",
        "tracking_code": "1Z999",
        "status": status,
        "events": list(events),
        **extra,
    }
    return tracking.parse_tracking_update(data)


# --------------------------------------------------------------- constants
def test_statuses_are_the_contract_selection():
    assert [code for code, _label in tracking.STATUSES] == [
        "pre_transit",
        "in_transit",
        "out_for_delivery",
        "available_for_pickup",
        "delivered",
        "returned",
        "exception",
        "unknown",
    ]
    assert tracking.PROBLEM_STATUSES == {"exception", "returned"}
    assert tracking.FINAL_STATUSES == {"delivered", "returned"}


# ----------------------------------------------------------- parse_update
def test_parse_normalises_times_defaults_and_order():
    result = tracking.parse_tracking_update(
        {
            "provider": "shippo",
            "tracking_code": " 9400 ",
            "updated_at": "2024-08-01T14:00:00.987+02:00",
            "events": [
                event("in_transit", 2, location="EDISON, NJ, 08817, US"),
                event("pre_transit", 1),
            ],
            "channel_extra": {"kept": True},
        }
    )
    assert result["tracking_code"] == "9400"
    assert result["status"] == "unknown"
    assert result["is_return"] is False
    assert result["carrier"] is None and result["message"] is None
    # Converted to UTC, to the second (a database datetime keeps no more).
    assert result["updated_at"] == datetime(2024, 8, 1, 12, 0, tzinfo=UTC)
    assert [e["status"] for e in result["events"]] == ["pre_transit", "in_transit"]
    assert result["events"][1]["location"] == "EDISON, NJ, 08817, US"
    assert all(e["key"] == tracking.scan_key(e) for e in result["events"])
    assert result["channel_extra"] == {"kept": True}


def test_parse_drops_repeated_scans_and_ignores_a_given_key():
    scan = event("in_transit", 1, key="forged")
    repeated = dict(scan, event_time=at(1).isoformat().replace("+00:00", ".4Z"))
    result = update("in_transit", scan, repeated, event("delivered", 2))
    assert len(result["events"]) == 2
    assert result["events"][0]["key"] != "forged"


def test_scans_of_the_same_second_keep_the_carrier_order():
    first = event("in_transit", 1, "Arrived")
    second = event("in_transit", 1, "Departed")
    result = update("in_transit", first, second)
    assert [e["description"] for e in result["events"]] == ["Arrived", "Departed"]


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"tracking_code": "1"}, "provider"),
        ({"provider": "easypost"}, "tracking_code"),
        ({"provider": "easypost", "tracking_code": "1", "status": "lost"}, "status"),
        ({"provider": "easypost", "tracking_code": "1\x00"}, "tracking_code"),
        ({"provider": "easypost", "tracking_code": 1.5}, "tracking_code"),
        (
            {"provider": "easypost", "tracking_code": "1", "is_return": "no"},
            "is_return",
        ),
        ({"provider": "easypost", "tracking_code": "1", "events": {}}, "events"),
        (
            {"provider": "easypost", "tracking_code": "1", "events": [{"status": "x"}]},
            "events[0].status",
        ),
        (
            {
                "provider": "easypost",
                "tracking_code": "1",
                "events": [{"status": "delivered"}],
            },
            "events[0].event_time",
        ),
        (
            {
                "provider": "easypost",
                "tracking_code": "1",
                "events": [{"status": "delivered", "event_time": "10**400"}],
            },
            "events[0].event_time",
        ),
        (
            {"provider": "easypost", "tracking_code": "1", "updated_at": 10**400},
            "updated_at",
        ),
    ],
)
def test_parse_errors_name_the_path(data, path):
    with pytest.raises(PayloadError) as info:
        tracking.parse_tracking_update(data)
    assert info.value.path == path


@pytest.mark.parametrize("data", [None, [], "update", 42])
def test_parse_refuses_a_non_object(data):
    with pytest.raises(PayloadError):
        tracking.parse_tracking_update(data)


# ---------------------------------------------------------------- scan key
SCAN = {
    "status": "in_transit",
    "status_detail": "arrived_at_facility",
    "description": "Arrived at FedEx location",
    "event_time": datetime(2024, 8, 2, 18, 50, tzinfo=UTC),
    "location": "EDISON, NJ, 08817, US",
}


def test_scan_key_is_stable():
    """Stored rows are found again by this key: changing how it is computed
    would store every scan a second time."""
    assert tracking.scan_key(SCAN) == (
        "8ccd2ee6f7cc76eeaa8911ec8c6b76b72c53dfcd399dc51f13ffbe22087a5d3b"
    )


def test_scan_key_ignores_representation_of_the_same_time():
    same = [
        dict(SCAN, event_time="2024-08-02T18:50:00Z"),
        dict(SCAN, event_time="2024-08-02T14:50:00.999-04:00"),
        dict(SCAN, event_time=datetime(2024, 8, 2, 18, 50)),  # naive = UTC
        dict(SCAN, key="anything", unrelated=1),
    ]
    assert {tracking.scan_key(item) for item in same} == {tracking.scan_key(SCAN)}


@pytest.mark.parametrize(
    "change",
    [
        {"status": "delivered"},
        {"status_detail": None},
        {"description": "Arrived at FedEx location."},
        {"location": "EDISON, NJ, US"},
        {"location": None},
        {"event_time": datetime(2024, 8, 2, 18, 50, 1, tzinfo=UTC)},
    ],
)
def test_scan_key_differs_for_another_scan(change):
    assert tracking.scan_key(dict(SCAN, **change)) != tracking.scan_key(SCAN)


# ------------------------------------------------------------- next_status
def test_first_update_sets_status_and_newest_scan_time():
    result = update("in_transit", event("pre_transit", 1), event("in_transit", 3))
    assert tracking.next_status(None, None, result) == ("in_transit", at(3))
    # Odoo reads empty fields as False
    assert tracking.next_status(False, False, result) == ("in_transit", at(3))


def test_newer_update_moves_forward():
    result = update("delivered", event("in_transit", 3), event("delivered", 5))
    assert tracking.next_status("in_transit", at(3), result) == ("delivered", at(5))


def test_late_update_never_moves_back():
    late = update("in_transit", event("pre_transit", 1), event("in_transit", 3))
    assert tracking.next_status("delivered", at(5), late) is None
    assert tracking.next_status("out_for_delivery", at(4), late) is None


def test_repeated_update_changes_nothing():
    same = update("delivered", event("in_transit", 3), event("delivered", 5))
    assert tracking.next_status("delivered", at(5), same) is None


def test_naive_current_time_is_utc():
    same = update("delivered", event("delivered", 5))
    naive = at(5).replace(tzinfo=None)
    assert tracking.next_status("delivered", naive, same) is None
    assert tracking.next_status("in_transit", naive - timedelta(seconds=1), same) == (
        "delivered",
        at(5),
    )


def test_sub_second_digits_do_not_make_a_scan_newer():
    """The stored time has no microseconds: the same scan with them is no newer."""
    result = update("delivered", event("delivered", 5))
    stored = at(5)
    again = tracking.parse_tracking_update(
        {
            "provider": "shippo",
            "tracking_code": "1Z999",
            "status": "delivered",
            "events": [
                dict(event("delivered", 5), event_time="2024-08-01T17:00:00.471Z")
            ],
        }
    )
    assert tracking.next_status("delivered", stored, result) is None
    assert tracking.next_status("delivered", stored, again) is None


def test_unknown_never_replaces_a_known_status():
    vague = update("unknown", event("unknown", 9))
    assert tracking.next_status("delivered", at(5), vague) is None
    assert tracking.next_status("in_transit", None, vague) is None
    # ... but it is better than nothing
    assert tracking.next_status(None, None, vague) == ("unknown", at(9))


def test_unknown_summary_follows_the_newest_known_scan():
    result = update("unknown", event("in_transit", 2), event("unknown", 3))
    assert tracking.next_status(None, None, result) == ("in_transit", at(3))


@pytest.mark.parametrize("final", sorted(tracking.FINAL_STATUSES))
def test_final_status_moves_only_for_a_newer_scan(final):
    older = update("exception", event("exception", 4))
    newer = update("exception", event("exception", 6))
    assert tracking.next_status(final, at(5), older) is None
    assert tracking.next_status(final, at(5), newer) == ("exception", at(6))


def test_returned_after_delivered_with_a_newer_scan():
    returned = update("returned", event("delivered", 5), event("returned", 30))
    assert tracking.next_status("delivered", at(5), returned) == ("returned", at(30))


def test_same_status_newer_scan_advances_the_time():
    result = update("in_transit", event("in_transit", 7))
    assert tracking.next_status("in_transit", at(5), result) == ("in_transit", at(7))


def test_summary_status_wins_over_a_scan_with_a_skewed_clock():
    """EasyPost's own documentation sample: the DELIVERED scan is dated before
    the others; the tracker's status is the carrier's summary and is kept, at
    the time of the newest scan."""
    result = update("delivered", event("delivered", 1), event("out_for_delivery", 3))
    assert tracking.next_status("in_transit", at(2), result) == ("delivered", at(3))


def test_update_without_events_uses_updated_at():
    result = update("in_transit", updated_at=at(2).isoformat())
    assert tracking.next_status(None, None, result) == ("in_transit", at(2))
    assert tracking.next_status("pre_transit", at(1), result) == ("in_transit", at(2))
    assert tracking.next_status("pre_transit", at(2), result) is None


def test_update_without_any_time():
    result = update("in_transit")
    assert tracking.next_status("pre_transit", at(1), result) is None
    assert tracking.next_status(None, None, result) == ("in_transit", None)
    assert tracking.next_status("in_transit", None, result) is None


def test_parsing_a_parsed_update_changes_nothing():
    """The Odoo side may parse a vendor parser's result again."""
    once = update(
        "delivered",
        event("in_transit", 3, location="X"),
        event("delivered", 5),
        updated_at=at(5).isoformat(),
    )
    assert tracking.parse_tracking_update(once) == once
