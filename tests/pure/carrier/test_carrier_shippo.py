"""Shippo: webhook token, identity, status mapping, golden parse of Shippo's
test webhook, and the small client (against a recording session)."""

import copy

import pytest
import requests
from carrier_samples import expected_json, sample_json

from distribution_sync.core import tracking
from distribution_sync.core.canonical import to_jsonable
from distribution_sync.core.errors import PayloadError, TransientError
from distribution_sync_carrier.core import shippo

SAMPLE = "shippo/webhook_track_updated_test"


# ------------------------------------------------------------------- token
SECRET = "whsec_7f3a9c"


@pytest.mark.parametrize(
    "query",
    [{"token": SECRET}, {"token": [SECRET]}, {"token": (SECRET, SECRET)}],
)
def test_token_matches(query):
    assert shippo.verify_token(SECRET, query)


@pytest.mark.parametrize(
    ("secret", "query"),
    [
        (SECRET, {}),
        (SECRET, None),
        (SECRET, {"token": ""}),
        (SECRET, {"token": []}),
        (SECRET, {"token": SECRET + "x"}),
        (SECRET, {"token": SECRET.upper()}),
        (SECRET, {"Token": SECRET}),
        (SECRET, {"token": [SECRET, "other"]}),
        (SECRET, {"token": "é"}),
        (SECRET, {"token": 7}),
        ("", {"token": ""}),
        (None, {"token": "None"}),
    ],
)
def test_token_refused(secret, query):
    assert not shippo.verify_token(secret, query)


# ---------------------------------------------------------------- identity
def test_event_identity_of_the_sample():
    """Shippo's test webhook names its carrier at the top level only."""
    assert shippo.event_identity(sample_json(SAMPLE)) == {
        "topic": "track_updated",
        "idempotency_key": "shippo:track:shippo:SHIPPO_DELIVERED:"
        "2d3d646335e449a8b0308f798970d045",
        "external_id": "SHIPPO_DELIVERED",
        "work_key": "shippo:track:shippo:SHIPPO_DELIVERED",
    }


def test_identity_keys_on_the_status_date_without_object_id():
    data = sample_json(SAMPLE)
    data["data"]["carrier"] = "USPS"
    del data["data"]["tracking_status"]["object_id"]
    identity = shippo.event_identity(data)
    assert identity["idempotency_key"] == (
        "shippo:track:usps:SHIPPO_DELIVERED:2020-03-11T07:44:06.471Z"
    )
    assert identity["work_key"] == "shippo:track:usps:SHIPPO_DELIVERED"


def test_a_new_status_is_a_new_message_of_the_same_work_key():
    first = sample_json(SAMPLE)
    second = copy.deepcopy(first)
    second["data"]["tracking_status"]["object_id"] = "another"
    one, two = shippo.event_identity(first), shippo.event_identity(second)
    assert one["idempotency_key"] != two["idempotency_key"]
    assert one["work_key"] == two["work_key"]


def test_other_events_are_stored_without_a_tracking_key():
    body = {
        "event": "transaction_created",
        "test": True,
        "data": {
            "object_id": "70ae8117ee1749e393f249d5b77c45e0",
            "status": "SUCCESS",
            "tracking_number": "9499907123456123456781",
            "tracking_status": "UNKNOWN",
        },
    }
    assert shippo.event_identity(body) == {
        "topic": "transaction_created",
        "idempotency_key": "shippo:transaction_created:"
        "70ae8117ee1749e393f249d5b77c45e0",
        "external_id": None,
        "work_key": None,
    }
    del body["data"]["object_id"]
    digest = shippo.event_identity(body)["idempotency_key"]
    assert digest.startswith("shippo:transaction_created:")
    assert digest == shippo.event_identity(copy.deepcopy(body))["idempotency_key"]
    body["data"]["status"] = "ERROR"
    assert shippo.event_identity(body)["idempotency_key"] != digest


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d.pop("event"), "event"),
        (lambda d: d["data"].pop("tracking_number"), "data.tracking_number"),
        (lambda d: d["data"].update(tracking_number=["1"]), "data.tracking_number"),
        (lambda d: d["data"].update(tracking_status=[]), "data.tracking_status"),
    ],
)
def test_identity_errors_name_the_path(change, path):
    data = sample_json(SAMPLE)
    change(data)
    with pytest.raises(PayloadError) as info:
        shippo.event_identity(data)
    assert info.value.path == path


# -------------------------------------------------------------- status map
SHIPPO_STATUSES = {
    "PRE_TRANSIT": "pre_transit",
    "TRANSIT": "in_transit",
    "DELIVERED": "delivered",
    "RETURNED": "returned",
    "FAILURE": "exception",
    "UNKNOWN": "unknown",
}


def track(status, substatus=None, history=()):
    current = {
        "status": status,
        "status_details": "details",
        "status_date": "2024-05-02T10:00:00Z",
        "substatus": substatus,
        "location": None,
        "object_id": "abc",
    }
    return {
        "carrier": "usps",
        "tracking_number": "9205590164917312751089",
        "tracking_status": current,
        "tracking_history": list(history),
    }


def test_status_map_covers_every_shippo_status():
    assert shippo.STATUS_MAP == SHIPPO_STATUSES
    assert set(shippo.STATUS_MAP.values()) <= tracking.STATUS_CODES
    assert set(shippo.SUBSTATUS_MAP.values()) <= tracking.STATUS_CODES


@pytest.mark.parametrize(("vendor", "ours"), sorted(SHIPPO_STATUSES.items()))
def test_every_vendor_status_maps(vendor, ours):
    result = shippo.parse_track(track(vendor))
    assert result["status"] == ours
    assert result["events"][-1]["status"] == ours


@pytest.mark.parametrize(
    ("status", "code", "ours"),
    [
        ("TRANSIT", "out_for_delivery", "out_for_delivery"),
        ("TRANSIT", "pickup_available", "available_for_pickup"),
        ("DELIVERED", "pickup_available", "available_for_pickup"),
        ("TRANSIT", "package_departed", "in_transit"),
        ("PRE_TRANSIT", "information_received", "pre_transit"),
        ("FAILURE", "out_for_delivery", "exception"),
        ("transit", "OUT_FOR_DELIVERY", "out_for_delivery"),
    ],
)
def test_substatus_refines_the_status(status, code, ours):
    substatus = {"code": code, "text": "t", "action_required": False}
    result = shippo.parse_track(track(status, substatus))
    assert result["status"] == ours
    assert result["status_detail"] == code
    assert result["events"][-1]["status_detail"] == code


@pytest.mark.parametrize("vendor", ["LOST", None, ""])
def test_status_shippo_may_add_is_unknown(vendor):
    assert shippo.parse_track(track(vendor))["status"] == "unknown"


# ------------------------------------------------------------------ parsing
def test_golden():
    assert to_jsonable(shippo.parse_track(sample_json(SAMPLE))) == expected_json(SAMPLE)


def test_sample_current_status_is_the_last_scan_once():
    """The current status repeats the last history entry 2 ms apart (and with
    another object id): it is one scan."""
    result = shippo.parse_track(sample_json(SAMPLE))
    assert [event["status"] for event in result["events"]] == [
        "unknown",
        "in_transit",
        "exception",
        "delivered",
    ]
    status, time = tracking.next_status(None, None, result)
    assert status == "delivered"
    assert time.isoformat() == "2020-03-11T07:44:06+00:00"


def test_bare_track_as_get_tracks_returns_it():
    data = sample_json(SAMPLE)["data"]
    data["carrier"] = "usps"
    result = shippo.parse_track(data)
    assert result["carrier"] == "usps"
    assert len(result["events"]) == 4


def test_track_without_status_or_history():
    result = shippo.parse_track(
        {"carrier": "ups", "tracking_number": "1Z", "tracking_status": None}
    )
    assert result["status"] == "unknown"
    assert result["events"] == []
    assert tracking.next_status("in_transit", None, result) is None


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["data"].pop("tracking_number"), "data.tracking_number"),
        (
            lambda d: d["data"]["tracking_history"][1].pop("status_date"),
            "data.tracking_history[1].status_date",
        ),
        (
            lambda d: d["data"]["tracking_history"][2].update(status_date="yesterday"),
            "data.tracking_history[2].status_date",
        ),
        (
            lambda d: d["data"]["tracking_history"][0]["location"].update(city="\x00"),
            "data.tracking_history[0].location.city",
        ),
        (
            lambda d: d["data"].update(tracking_history="none"),
            "data.tracking_history",
        ),
        (lambda d: d["data"].update(eta=10**400), "data.eta"),
        (lambda d: d["data"].update(transaction={"id": 1}), "data.transaction"),
        (
            lambda d: d["data"]["tracking_status"].update(substatus="x"),
            "data.tracking_status.substatus",
        ),
    ],
)
def test_parse_errors_name_the_path(change, path):
    data = sample_json(SAMPLE)
    change(data)
    with pytest.raises(PayloadError) as info:
        shippo.parse_track(data)
    assert info.value.path == path


# ------------------------------------------------------------------ client
class Response:
    def __init__(self, status_code=200, body=None, text=None, headers=None):
        self.status_code = status_code
        self._body = body
        self.text = text if text is not None else ""
        self.headers = headers or {}

    def json(self):
        if self._body is None:
            raise ValueError("not JSON")
        return self._body


class Session:
    """Records each request; answers with the queued responses or raises the
    queued exceptions."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def request(self, method, url, **kwargs):
        self.calls.append({"method": method, "url": url, **kwargs})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


TRACK = {"carrier": "usps", "tracking_number": "9205590164917312751089"}


def client(*answers, **kwargs):
    session = Session(*answers)
    return shippo.ShippoClient(
        "http://127.0.0.1:8099/", "shippo_test_abc", timeout=9, session=session
    ), session


def test_register_track_request():
    shippo_client, session = client(Response(201, dict(TRACK, tracking_status=None)))
    result = shippo_client.register_track(
        "usps", "9205590164917312751089", metadata="WH/OUT/00042"
    )
    assert result["tracking_number"] == "9205590164917312751089"
    (call,) = session.calls
    assert call["method"] == "POST"
    assert call["url"] == "http://127.0.0.1:8099/tracks/"
    assert call["headers"]["Authorization"] == "ShippoToken shippo_test_abc"
    assert call["json"] == dict(TRACK, metadata="WH/OUT/00042")
    assert call["timeout"] == 9


def test_test_connection_request():
    shippo_client, session = client(Response(200, {"results": []}))
    assert shippo_client.test_connection() == {"results": []}
    (call,) = session.calls
    assert call["method"] == "GET"
    assert call["url"] == "http://127.0.0.1:8099/carrier_accounts/"
    assert call["headers"]["Authorization"] == "ShippoToken shippo_test_abc"
    assert call["timeout"] == 9


def test_rate_limit_is_transient_with_retry_after():
    shippo_client, _session = client(
        Response(429, {"detail": "Too many requests"}, headers={"Retry-After": "12"})
    )
    with pytest.raises(TransientError) as info:
        shippo_client.register_track("usps", "1")
    assert info.value.retry_after == 12
    assert "Too many requests" in str(info.value)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(status):
    shippo_client, _session = client(Response(status, text="<html>oops</html>"))
    with pytest.raises(TransientError):
        shippo_client.test_connection()


def test_refused_request_says_why():
    body = {"tracking_number": ["This field is required."]}
    shippo_client, _session = client(Response(400, body))
    with pytest.raises(PayloadError) as info:
        shippo_client.register_track("usps", "1")
    assert "HTTP 400" in str(info.value)
    assert "tracking_number: This field is required." in str(info.value)


def test_bad_token_points_at_the_backend():
    shippo_client, _session = client(Response(401, {"detail": "Invalid token."}))
    with pytest.raises(PayloadError) as info:
        shippo_client.test_connection()
    assert "Invalid token." in str(info.value)
    assert "token" in info.value.hint


def test_timeout_is_transient_and_may_have_been_applied():
    shippo_client, _session = client(requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(TransientError) as info:
        shippo_client.register_track("usps", "1")
    assert "may have been applied" in str(info.value)


def test_connection_error_is_transient():
    shippo_client, _session = client(requests.exceptions.ConnectionError("refused"))
    with pytest.raises(TransientError):
        shippo_client.test_connection()


def test_answer_that_is_not_json():
    shippo_client, _session = client(Response(200, None, text="<html>"))
    with pytest.raises(PayloadError):
        shippo_client.test_connection()


@pytest.mark.parametrize(("carrier", "number"), [("", "1"), ("usps", ""), (None, None)])
def test_register_track_needs_carrier_and_number(carrier, number):
    shippo_client, session = client()
    with pytest.raises(PayloadError):
        shippo_client.register_track(carrier, number)
    assert session.calls == []


@pytest.mark.parametrize(("url", "token"), [("ftp://x", "t"), ("http://x", "")])
def test_client_needs_url_and_token(url, token):
    with pytest.raises(PayloadError):
        shippo.ShippoClient(url, token, timeout=5)
