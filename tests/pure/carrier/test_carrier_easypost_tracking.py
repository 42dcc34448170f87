"""EasyPost webhooks and trackers: signature (EasyPost's own test vector),
Event identity, status mapping, and golden parses of EasyPost's samples."""

import pytest
from carrier_samples import expected_json, sample_bytes, sample_json

from distribution_sync.core import tracking
from distribution_sync.core.canonical import to_jsonable
from distribution_sync.core.errors import PayloadError
from distribution_sync_carrier.core import easypost

FEDEX = "easypost/webhook_event_tracker_updated_fedex"
DELIVERED = "easypost/webhook_event_tracker_updated_delivered"
TRACKER = "easypost/tracker_create_response"
# EasyPost/examples official/fixtures/client-library-fixtures.json -> webhooks
SECRET = "sécret"
SIGNATURE = (
    "hmac-sha256-hex=38f3f53c103713df81616a0a186d77141957323ec21d5fe9363db93840f527db"
)


@pytest.fixture
def body():
    """The signed bytes: the fixture file without its final newline."""
    data = sample_bytes(FEDEX)
    assert data.endswith(b"\n")
    return data[:-1]


# --------------------------------------------------------------- signature
@pytest.mark.parametrize(
    "name", ["X-Hmac-Signature", "x-hmac-signature", "X-HMAC-SIGNATURE"]
)
def test_signature_vector_any_header_case(body, name):
    assert easypost.verify_signature(SECRET, body, {name: SIGNATURE})


def test_signature_secret_is_nfkd_normalised(body):
    composed = "s\u00e9cret"
    decomposed = "se\u0301cret"
    assert composed != decomposed
    headers = {"X-Hmac-Signature": SIGNATURE}
    assert easypost.verify_signature(composed, body, headers)
    assert easypost.verify_signature(decomposed, body, headers)


def test_signature_digest_in_upper_case_passes(body):
    prefix, digest = SIGNATURE.split("=", 1)
    headers = {"X-Hmac-Signature": f"{prefix}={digest.upper()}"}
    assert easypost.verify_signature(SECRET, body, headers)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        None,
        {"X-Hmac-Signature": ""},
        {"X-Hmac-Signature": "hmac-sha256-hex="},
        {"X-Signature": SIGNATURE},
        {"X-Hmac-Signature-256": SIGNATURE},
        {"X-Hmac-Signature": SIGNATURE[:-1] + "0"},
        {"X-Hmac-Signature": "hmac-sha256-hex=" + "é" * 64},
    ],
    ids=[
        "no headers",
        "None",
        "empty",
        "prefix only",
        "other name",
        "longer name",
        "one digit wrong",
        "non-ascii",
    ],
)
def test_signature_missing_or_wrong_fails(body, headers):
    assert not easypost.verify_signature(SECRET, body, headers)


def test_signature_fails_on_other_body_or_secret(body):
    headers = {"X-Hmac-Signature": SIGNATURE}
    assert not easypost.verify_signature(SECRET, body + b"\n", headers)
    assert not easypost.verify_signature(
        SECRET, body.replace(b"evt_1", b"evt_2"), headers
    )
    assert not easypost.verify_signature("secret", body, headers)
    assert not easypost.verify_signature("", body, headers)
    assert not easypost.verify_signature(None, body, headers)


def test_signature_header_bytes_value(body):
    assert easypost.verify_signature(
        SECRET, body, {"X-Hmac-Signature": SIGNATURE.encode()}
    )


# ---------------------------------------------------------------- identity
def test_event_identity_of_the_fedex_event():
    assert easypost.event_identity(sample_json(FEDEX)) == {
        "topic": "tracker.updated",
        "idempotency_key": "easypost:event:evt_1",
        "external_id": "trk_1",
        "work_key": "easypost:tracker:trk_1",
    }


def test_event_identity_without_result():
    identity = easypost.event_identity(sample_json("easypost/event_retrieve_response"))
    assert identity == {
        "topic": "tracker.created",
        "idempotency_key": "easypost:event:evt_ad2365c22d1511f0b5364ffbb3e7a1f1",
        "external_id": None,
        "work_key": None,
    }


def test_event_identity_of_another_object_has_no_tracker():
    data = {"id": "evt_9", "description": "batch.created", "result": {"id": "batch_1"}}
    identity = easypost.event_identity(data)
    assert identity["external_id"] is None and identity["work_key"] is None


def test_event_identity_hashes_a_very_long_id():
    identity = easypost.event_identity({"id": "e" * 300, "description": "x.y"})
    assert identity["idempotency_key"].startswith("sha256:")
    assert len(identity["idempotency_key"]) <= 180


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"description": "tracker.updated"}, "id"),
        ({"id": "evt_1"}, "description"),
        ({"id": None, "description": "tracker.updated"}, "id"),
        ({"id": "", "description": "tracker.updated"}, "id"),
        ({"id": ["evt_1"], "description": "tracker.updated"}, "id"),
        ({"id": "evt\x001", "description": "tracker.updated"}, "id"),
        (
            {"id": "evt_1", "description": "tracker.updated", "result": {"id": [1]}},
            "result.id",
        ),
    ],
)
def test_event_identity_errors(data, path):
    with pytest.raises(PayloadError) as info:
        easypost.event_identity(data)
    assert info.value.path == path


@pytest.mark.parametrize("data", [None, [], "evt", 1])
def test_event_identity_of_a_non_object(data):
    with pytest.raises(PayloadError):
        easypost.event_identity(data)


# ------------------------------------------------------------- status map
EASYPOST_STATUSES = {
    "unknown": "unknown",
    "pre_transit": "pre_transit",
    "in_transit": "in_transit",
    "out_for_delivery": "out_for_delivery",
    "available_for_pickup": "available_for_pickup",
    "delivered": "delivered",
    "return_to_sender": "returned",
    "failure": "exception",
    "error": "exception",
    "cancelled": "exception",
}


def test_status_map_covers_every_easypost_status():
    assert easypost.STATUS_MAP == EASYPOST_STATUSES
    assert set(easypost.STATUS_MAP.values()) <= tracking.STATUS_CODES


def tracker(status, details=()):
    return {
        "id": "trk_x",
        "tracking_code": "EZ1",
        "status": status,
        "tracking_details": list(details),
    }


@pytest.mark.parametrize(("vendor", "ours"), sorted(EASYPOST_STATUSES.items()))
def test_every_vendor_status_maps(vendor, ours):
    detail = {"status": vendor, "datetime": "2024-01-01T00:00:00Z", "message": "m"}
    result = easypost.parse_tracker(tracker(vendor, [detail]))
    assert result["status"] == ours
    assert result["events"][0]["status"] == ours


@pytest.mark.parametrize("vendor", ["RETURN_TO_SENDER", " Delivered "])
def test_status_case_and_spaces_do_not_matter(vendor):
    ours = easypost.parse_tracker(tracker(vendor))["status"]
    assert ours == EASYPOST_STATUSES[vendor.strip().lower()]


@pytest.mark.parametrize("vendor", ["lost_in_space", None, ""])
def test_status_easypost_may_add_is_unknown(vendor):
    assert easypost.parse_tracker(tracker(vendor))["status"] == "unknown"


# ------------------------------------------------------------------ golden
GOLDEN = [
    (FEDEX, easypost.parse_event),
    (DELIVERED, easypost.parse_event),
    (TRACKER, easypost.parse_tracker),
]


@pytest.mark.parametrize(("name", "parse"), GOLDEN, ids=[name for name, _ in GOLDEN])
def test_golden(name, parse):
    assert to_jsonable(parse(sample_json(name))) == expected_json(name)


def test_fedex_tracker_reads_every_scan():
    result = easypost.parse_tracker(sample_json(FEDEX)["result"])
    assert len(result["events"]) == 7
    assert result["status"] == "in_transit"
    assert result["message"] == "Arrived at FedEx location"
    assert result["events"][0]["location"] == "32837, US"
    assert result["events"][-1]["location"] == "EDISON, NJ, 08817, US"
    assert len({event["key"] for event in result["events"]}) == 7
    assert tracking.next_status("pre_transit", None, result) == (
        "in_transit",
        result["events"][-1]["event_time"],
    )


def test_delivered_docs_sample_ends_delivered():
    """In EasyPost's docs sample the DELIVERED scan is dated before the other
    scans: the picking still ends delivered (the tracker's status), dated by
    the newest scan."""
    result = easypost.parse_tracker(sample_json(DELIVERED)["result"])
    status, time = tracking.next_status(None, None, result)
    assert status == "delivered"
    assert time.isoformat() == "2014-11-24T08:10:00+00:00"
    assert result["message"] == "DELIVERED"


def test_event_is_its_tracker():
    data = sample_json(FEDEX)
    assert easypost.parse_event(data) == easypost.parse_tracker(data["result"])


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"id": "evt_1"}, "result"),
        ({"result": []}, "result"),
        ({"result": {"tracking_code": None}}, "result.tracking_code"),
        (
            {"result": {"tracking_code": "1", "tracking_details": [{}]}},
            "result.tracking_details[0].datetime",
        ),
    ],
)
def test_event_errors_name_the_path(data, path):
    with pytest.raises(PayloadError) as info:
        easypost.parse_event(data)
    assert info.value.path == path


def test_webhook_twice_and_reordered_gives_the_same_scans():
    data = sample_json(FEDEX)["result"]
    once = easypost.parse_tracker(data)
    shuffled = dict(data, tracking_details=list(reversed(data["tracking_details"])) * 2)
    twice = easypost.parse_tracker(shuffled)
    assert [e["key"] for e in twice["events"]] == [e["key"] for e in once["events"]]


def test_older_webhook_after_a_newer_one_changes_nothing():
    data = sample_json(FEDEX)["result"]
    newest = easypost.parse_tracker(data)
    older = easypost.parse_tracker(
        dict(data, tracking_details=data["tracking_details"][:3])
    )
    status, time = tracking.next_status(None, None, newest)
    assert tracking.next_status(status, time, older) is None


def test_golden_events_are_oldest_first_with_their_scan_keys():
    for name, _parse in GOLDEN:
        events = expected_json(name)["events"]
        times = [event["event_time"] for event in events]
        assert times == sorted(times), name
        assert all(event["key"] == tracking.scan_key(event) for event in events)
