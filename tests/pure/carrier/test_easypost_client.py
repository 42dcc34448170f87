"""The EasyPost client, over real HTTP against the local fake EasyPost."""

import base64
import hashlib
import hmac
import importlib
import importlib.util
import json
import re
import socket
import sys
import time
import types
import unicodedata
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import requests

import distribution_sync.core.errors as bare_errors
import distribution_sync.core.http as bare_http
import distribution_sync.core.retry as bare_retry
from distribution_sync.core.errors import (
    DuplicateDocument,
    PayloadError,
    SyncError,
    TransientError,
)

REPO = Path(__file__).resolve().parents[3]
ADDON = REPO / "distribution_sync_carrier"
EPX_BODY = (
    REPO / "tests" / "samples" / "easypost" / "webhook_event_tracker_updated_fedex.json"
)
EPX_HEADER = (
    "hmac-sha256-hex=38f3f53c103713df81616a0a186d77141957323ec21d5fe9363db93840f527db"
)
ADDRESS_SAMPLE = {
    "error": {
        "code": "ADDRESS.VERIFY.FAILURE",
        "message": "Address not found",
        "errors": [
            {"field": "address", "message": "Address not found", "suggestion": None},
            {
                "field": "street1",
                "message": "House number is missing",
                "suggestion": None,
            },
        ],
    }
}


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The addon package exists for the pure tier once it has its manifest (tests/
# conftest.py registers it); until then the client is loaded by path. The fake is
# always loaded by path: importing distribution_sync_carrier.tests would run its
# __init__, which imports the Odoo test modules.
if (ADDON / "__manifest__.py").exists():
    client_module = importlib.import_module("distribution_sync_carrier.core.client")
else:
    client_module = _load("carrier_easypost_client", ADDON / "core" / "client.py")
fake_easypost = _load("carrier_fake_easypost", ADDON / "tests" / "fake_easypost.py")

EasyPostClient = client_module.EasyPostClient
AddressInvalid = client_module.AddressInvalid
PostageExists = client_module.PostageExists
error_from_response = client_module.error_from_response
FakeEasyPost = fake_easypost.FakeEasyPost

API_KEY = "EZTKtest0123456789abcdef"
SECRET = "sécret"


class RecordingSession(requests.Session):
    """A session that records the keyword arguments of every request."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def request(self, method, url, *args, **kwargs):
        self.calls.append({"method": method, "url": url, **kwargs})
        return super().request(method, url, *args, **kwargs)


def address(**changes):
    base = {
        "name": "Ada Lovelace",
        "company": None,
        "street1": "417 Montgomery St",
        "street2": "Floor 5",
        "city": "San Francisco",
        "state": "CA",
        "zip": "94104",
        "country": "US",
        "phone": "4155550100",
        "email": "ada@example.com",
    }
    base.update(changes)
    return base


def shipment_payload(*, to=None, sender=None, weight=35.3, label_format="PDF"):
    return {
        "shipment": {
            "to_address": to or address(),
            "from_address": sender
            or address(name="Warehouse", street1="1 Dock Rd", zip="10001"),
            "parcel": {"weight": weight, "length": 20.0, "width": 10.0, "height": 5.0},
            "is_return": False,
            "reference": "WH/OUT/00042",
            "options": {"label_format": label_format},
        }
    }


@pytest.fixture
def fake():
    with FakeEasyPost(api_key=API_KEY, webhook_secret=SECRET) as server:
        yield server


@pytest.fixture
def client(fake):
    with EasyPostClient(fake.url, API_KEY, timeout=5) as easypost:
        yield easypost


def rate_of(shipment, carrier, service):
    return next(
        r
        for r in shipment["rates"]
        if r["carrier"] == carrier and r["service"] == service
    )


def bought(client, fake, **kwargs):
    shipment = client.create_shipment(shipment_payload(**kwargs))
    rate = rate_of(shipment, "USPS", "Priority")
    return client.buy_shipment(shipment["id"], rate["id"])


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------ auth
def test_api_key_is_the_basic_auth_user_name(fake, client):
    client.test_connection()
    (request,) = fake.requests
    expected = "Basic " + base64.b64encode(f"{API_KEY}:".encode()).decode()
    assert request["headers"]["Authorization"] == expected
    assert request["auth_ok"] is True
    assert request["path"] == "/v2/trackers?page_size=1"
    assert request["operation"] == "list_trackers"
    assert request["status"] == 200


def test_wrong_key_is_refused_with_easypost_envelope(fake):
    with EasyPostClient(fake.url, "EZTKwrong") as wrong:
        with pytest.raises(PayloadError) as caught:
            wrong.create_shipment(shipment_payload())
    error = caught.value
    assert not isinstance(error, TransientError)
    assert error.status == 401
    assert error.code == "APIKEY.INACTIVE"
    assert "HTTP 401 APIKEY.INACTIVE" in str(error)
    assert "API key" in error.hint
    assert fake.requests[0]["auth_ok"] is False
    assert fake.shipments == {}
    # Without credentials at all, as EasyPost answers them.
    answer = requests.get(f"{fake.url}/trackers", timeout=5)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "APIKEY.REQUIRED"


def test_client_needs_url_and_key_and_hides_the_key():
    with pytest.raises(PayloadError, match="API URL is missing"):
        EasyPostClient("", API_KEY)
    with pytest.raises(PayloadError, match="not an http"):
        EasyPostClient("api.easypost.com/v2", API_KEY)
    with pytest.raises(PayloadError, match="API key is missing"):
        EasyPostClient("https://api.easypost.com/v2", "")
    client = EasyPostClient("https://api.easypost.com/v2/", API_KEY)
    assert client.api_url == "https://api.easypost.com/v2"
    assert API_KEY not in repr(client)


# ------------------------------------------------------------- shipments
def test_create_shipment_answers_rates_and_echoes_the_request(fake, client):
    payload = shipment_payload()
    shipment = client.create_shipment(payload)
    assert re.fullmatch(r"shp_[0-9a-f]{32}", shipment["id"])
    assert shipment["object"] == "Shipment"
    assert shipment["mode"] == "test"
    assert shipment["reference"] == "WH/OUT/00042"
    assert shipment["is_return"] is False
    for key in ("selected_rate", "postage_label", "tracking_code", "tracker"):
        assert shipment[key] is None
    assert shipment["refund_status"] is None
    assert shipment["fees"] == []
    assert re.fullmatch(r"adr_[0-9a-f]{32}", shipment["to_address"]["id"])
    assert shipment["to_address"]["street1"] == "417 Montgomery St"
    assert shipment["from_address"]["zip"] == "10001"
    assert shipment["parcel"]["weight"] == 35.3
    assert shipment["options"]["label_format"] == "PDF"
    assert datetime.strptime(shipment["created_at"], "%Y-%m-%dT%H:%M:%SZ")
    rates = {(r["carrier"], r["service"]): r for r in shipment["rates"]}
    assert {key: r["rate"] for key, r in rates.items()} == {
        ("USPS", "Priority"): "7.58",
        ("USPS", "First"): "4.50",
        ("UPS", "Ground"): "9.10",
    }
    for rate in rates.values():
        assert re.fullmatch(r"rate_[0-9a-f]{32}", rate["id"])
        assert rate["object"] == "Rate"
        assert rate["currency"] == "USD"
        assert rate["shipment_id"] == shipment["id"]
    (request,) = fake.requests
    assert request["method"] == "POST"
    assert request["path"] == "/v2/shipments"
    assert request["json"] == payload
    assert request["status"] == 201
    assert client.get_shipment(shipment["id"]) == shipment


def test_rate_table_is_configurable():
    rates = [{"carrier": "FedEx", "service": "FEDEX_GROUND", "rate": "12.34"}]
    with FakeEasyPost(api_key=API_KEY, rates=rates) as fake:
        with EasyPostClient(fake.url, API_KEY) as client:
            shipment = client.create_shipment(shipment_payload())
    assert [(r["carrier"], r["service"], r["rate"]) for r in shipment["rates"]] == [
        ("FedEx", "FEDEX_GROUND", "12.34")
    ]


def test_buy_gives_label_tracking_code_tracker_and_fees(fake, client):
    shipment = client.create_shipment(shipment_payload())
    rate = rate_of(shipment, "USPS", "Priority")
    result = client.buy_shipment(shipment["id"], rate["id"])
    assert fake.requests[-1]["json"] == {"rate": {"id": rate["id"]}}
    assert fake.requests[-1]["path"] == f"/v2/shipments/{shipment['id']}/buy"
    assert result["selected_rate"]["id"] == rate["id"]
    assert result["selected_rate"]["rate"] == "7.58"
    label = result["postage_label"]
    assert label["object"] == "PostageLabel"
    assert label["label_file_type"] == "application/pdf"
    assert label["label_url"].startswith(f"{fake.base_url}/labels/")
    assert re.fullmatch(r"EZ\d{10}", result["tracking_code"])
    tracker = result["tracker"]
    assert re.fullmatch(r"trk_[0-9a-f]{32}", tracker["id"])
    assert tracker["object"] == "Tracker"
    assert tracker["tracking_code"] == result["tracking_code"]
    assert tracker["carrier"] == "USPS"
    assert tracker["status"] == "pre_transit"
    assert tracker["shipment_id"] == shipment["id"]
    assert tracker["public_url"].startswith("https://track.easypost.com/")
    fees = {fee["type"]: fee for fee in result["fees"]}
    assert Decimal(fees["LabelFee"]["amount"]) == Decimal("0.01")
    assert Decimal(fees["PostageFee"]["amount"]) == Decimal("7.58")
    assert all(fee["charged"] for fee in fees.values())
    assert fake.buys == {shipment["id"]: 1}
    again = client.get_shipment(shipment["id"])
    assert again["postage_label"] == label
    assert again["tracking_code"] == result["tracking_code"]
    # Every shipment gets its own tracking code.
    other = bought(client, fake)
    assert other["tracking_code"] != result["tracking_code"]


def test_buying_twice_is_refused_with_postage_exists(fake, client):
    result = bought(client, fake)
    rate = result["selected_rate"]
    with pytest.raises(PostageExists) as caught:
        client.buy_shipment(result["id"], rate["id"])
    error = caught.value
    assert isinstance(error, DuplicateDocument)
    assert error.category == "duplicate"
    assert error.code == "SHIPMENT.POSTAGE.EXISTS"
    assert "already bought postage" in str(error)
    assert "Do not buy again" in error.hint
    assert fake.buys == {result["id"]: 1}
    assert fake.requests[-1]["status"] == 422


def test_unknown_rate_and_unknown_shipment_are_payload_errors(fake, client):
    shipment = client.create_shipment(shipment_payload())
    with pytest.raises(PayloadError) as caught:
        client.buy_shipment(shipment["id"], "rate_" + "0" * 32)
    assert caught.value.status == 422
    assert not isinstance(caught.value, (AddressInvalid, PostageExists))
    assert "rate" in str(caught.value)
    assert fake.buys == {}
    with pytest.raises(PayloadError) as missing:
        client.get_shipment("shp_" + "f" * 32)
    assert missing.value.status == 404
    assert missing.value.code == "NOT_FOUND"


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"zip": "00000"}, "zip"), ({"street1": ""}, "street1"), ({"city": None}, "city")],
)
def test_address_failure_names_the_field(fake, client, changes, field):
    with pytest.raises(AddressInvalid) as caught:
        client.create_shipment(shipment_payload(to=address(**changes)))
    error = caught.value
    assert error.category == "validation"
    assert error.code == "ADDRESS.VERIFY.FAILURE"
    assert error.path == field
    assert str(error).startswith("EasyPost refused the address: ")
    assert f"({field}: " in str(error)
    assert "address" in error.hint.lower()
    assert fake.shipments == {}


def test_sender_address_is_checked_too(fake, client):
    with pytest.raises(AddressInvalid, match=r"\(country: cannot be blank\)"):
        client.create_shipment(shipment_payload(sender=address(country="")))


def test_bad_zips_are_configurable(fake, client):
    fake.bad_zips = {"94104"}
    with pytest.raises(
        AddressInvalid,
        match=r"^EasyPost refused the address: Address not found "
        r"\(zip: Invalid ZIP code 94104\)$",
    ):
        client.create_shipment(shipment_payload())


@pytest.mark.parametrize("weight", [0, -1, None])
def test_parcel_weight_must_be_positive(fake, client, weight):
    with pytest.raises(PayloadError) as caught:
        client.create_shipment(shipment_payload(weight=weight))
    assert not isinstance(caught.value, AddressInvalid)
    assert caught.value.code == "PARCEL.WEIGHT.INVALID"
    assert "weight" in str(caught.value)
    assert fake.shipments == {}


def test_refund_once_after_buying(fake, client):
    shipment = client.create_shipment(shipment_payload())
    with pytest.raises(PayloadError, match="nothing to refund"):
        client.refund_shipment(shipment["id"])
    rate = rate_of(shipment, "UPS", "Ground")
    client.buy_shipment(shipment["id"], rate["id"])
    result = client.refund_shipment(shipment["id"])
    assert result["refund_status"] == "submitted"
    assert fake.refunds == {shipment["id"]: "submitted"}
    with pytest.raises(PayloadError, match="already been submitted"):
        client.refund_shipment(shipment["id"])
    fake.complete_refund(shipment["id"])
    assert client.get_shipment(shipment["id"])["refund_status"] == "refunded"


# --------------------------------------------------------------- failures
def test_rate_limit_answers_429_with_retry_after():
    with FakeEasyPost(api_key=API_KEY, rate_limit=(2, 30)) as fake:
        with EasyPostClient(fake.url, API_KEY) as client:
            client.test_connection()
            client.test_connection()
            with pytest.raises(TransientError) as caught:
                client.test_connection()
    error = caught.value
    assert error.status == 429
    assert error.code == "RATE_LIMITED"
    assert 1 <= error.retry_after <= 30
    assert "limited the request rate" in str(error)
    assert [r["status"] for r in fake.requests] == [200, 200, 429]


def test_injected_429_carries_its_retry_after(fake, client):
    fake.fail_next("get_shipment", 429, retry_after=7)
    with pytest.raises(TransientError) as caught:
        client.get_shipment("shp_x")
    assert caught.value.retry_after == 7


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient_and_not_applied(fake, client, status):
    fake.fail_next("create_shipment", status)
    with pytest.raises(TransientError) as caught:
        client.create_shipment(shipment_payload())
    assert caught.value.status == status
    assert caught.value.category == "transient"
    assert fake.shipments == {}
    assert fake.requests[-1]["injected"] == status
    # The failure was used up: the next request runs.
    assert client.create_shipment(shipment_payload())["id"] in fake.shipments


def test_dropped_answer_on_buy_was_applied_and_is_read_back(fake, client):
    shipment = client.create_shipment(shipment_payload())
    rate = rate_of(shipment, "USPS", "First")
    fake.fail_next("buy", "drop")
    with pytest.raises(TransientError) as caught:
        client.buy_shipment(shipment["id"], rate["id"])
    error = caught.value
    assert error.maybe_applied is True
    assert "may have been applied" in str(error)
    assert isinstance(error.__cause__, requests.exceptions.ConnectionError)
    assert fake.buys == {shipment["id"]: 1}
    assert fake.requests[-1]["status"] is None
    again = client.get_shipment(shipment["id"])
    assert again["postage_label"]["label_url"]
    assert again["selected_rate"]["id"] == rate["id"]
    assert again["tracking_code"]
    with pytest.raises(PostageExists):
        client.buy_shipment(shipment["id"], rate["id"])
    assert fake.buys == {shipment["id"]: 1}


def test_slow_answer_times_out_as_transient_after_applying(fake):
    fake.slow_seconds = 2
    with EasyPostClient(fake.url, API_KEY, timeout=1) as client:
        shipment = client.create_shipment(shipment_payload())
        rate = rate_of(shipment, "USPS", "Priority")
        fake.fail_next("buy", "slow")
        started = time.monotonic()
        with pytest.raises(TransientError) as caught:
            client.buy_shipment(shipment["id"], rate["id"])
        elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 1.9
    assert "did not answer within 1 s" in str(caught.value)
    assert "may have been applied" in str(caught.value)
    assert caught.value.maybe_applied is True
    assert isinstance(caught.value.__cause__, requests.exceptions.Timeout)
    assert fake.buys == {shipment["id"]: 1}


def test_unreachable_server_is_transient_and_not_applied():
    with EasyPostClient(f"http://127.0.0.1:{free_port()}/v2", API_KEY) as client:
        with pytest.raises(TransientError) as caught:
            client.get_tracker("trk_x")
    assert caught.value.maybe_applied is False
    assert "nothing was sent" in str(caught.value)


def test_every_request_carries_the_timeout(fake):
    session = RecordingSession()
    client = EasyPostClient(fake.url, API_KEY, timeout=7, session=session)
    shipment = client.create_shipment(shipment_payload())
    rate = rate_of(shipment, "USPS", "Priority")
    result = client.buy_shipment(shipment["id"], rate["id"])
    client.get_shipment(shipment["id"])
    client.refund_shipment(shipment["id"])
    tracker = client.create_tracker("EZ2000000002", "USPS")
    client.get_tracker(tracker["id"])
    client.test_connection()
    client.download(result["postage_label"]["label_url"])
    fake.fail_next("get_tracker", 500)
    with pytest.raises(TransientError):
        client.get_tracker(tracker["id"])
    assert len(session.calls) == 9
    assert [call["timeout"] for call in session.calls] == [7] * 9
    api_calls = [c for c in session.calls if c["url"].startswith(fake.url)]
    assert len(api_calls) == 8
    assert all(call["auth"] == (API_KEY, "") for call in api_calls)
    # The label comes from a file host: it never receives the API key.
    (label_call,) = [c for c in session.calls if "/labels/" in c["url"]]
    assert label_call["auth"] is None
    client.close()  # a session passed in is left open for its owner
    assert session.adapters


def test_fail_next_refuses_unknown_operations_and_modes(fake):
    with pytest.raises(ValueError, match="Unknown operation"):
        fake.fail_next("purchase", 500)
    with pytest.raises(ValueError, match="Unknown failure mode"):
        fake.fail_next("buy", "hang")


# ---------------------------------------------------------------- labels
@pytest.mark.parametrize(
    ("label_format", "content_type", "magic"),
    [
        ("PDF", "application/pdf", b"%PDF-"),
        ("PNG", "image/png", b"\x89PNG\r\n\x1a\n"),
        ("ZPL", "application/zpl", b"^XA"),
    ],
)
def test_label_download_with_content_type(
    fake, client, label_format, content_type, magic
):
    result = bought(client, fake, label_format=label_format)
    label = result["postage_label"]
    assert label["label_file_type"] == content_type
    data, kind = client.download(label["label_url"])
    assert kind == content_type
    assert data.startswith(magic)
    assert result["tracking_code"].encode() in data or label_format == "PNG"
    request = fake.requests[-1]
    assert request["operation"] == "label"
    assert "Authorization" not in request["headers"]


def test_label_download_failures(fake, client):
    result = bought(client, fake)
    url = result["postage_label"]["label_url"]
    fake.fail_next("label", 503)
    with pytest.raises(TransientError):
        client.download(url)
    with pytest.raises(PayloadError, match="could not be downloaded"):
        client.download(f"{fake.base_url}/labels/missing.pdf")
    with pytest.raises(PayloadError, match="not a label URL"):
        client.download("file:///etc/passwd")
    assert client.download(url)[1] == "application/pdf"


# -------------------------------------------------------------- trackers
@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("EZ1000000001", "pre_transit"),
        ("EZ2000000002", "in_transit"),
        ("EZ3000000003", "out_for_delivery"),
        ("EZ4000000004", "delivered"),
        ("EZ5000000005", "return_to_sender"),
        ("EZ6000000006", "failure"),
        ("EZ7000000007", "unknown"),
        ("9400100000000000000000", "pre_transit"),
    ],
)
def test_tracker_status_follows_easypost_test_codes(client, code, status):
    tracker = client.create_tracker(code, "USPS")
    assert tracker["status"] == status
    assert tracker["tracking_code"] == code
    details = tracker["tracking_details"]
    if status == "unknown":
        assert details == []
    else:
        assert details[-1]["status"] == status
        times = [d["datetime"] for d in details]
        assert times == sorted(times)


def test_same_code_and_carrier_give_the_same_tracker(fake, client):
    first = client.create_tracker("EZ4000000004", "UPS")
    assert client.create_tracker("EZ4000000004", "ups")["id"] == first["id"]
    assert client.create_tracker("EZ4000000004")["id"] == first["id"]
    other = client.create_tracker("EZ4000000004", "FedEx")
    assert other["id"] != first["id"]
    assert set(fake.trackers) == {first["id"], other["id"]}
    assert client.get_tracker(first["id"]) == first
    listed = client.test_connection()
    assert len(listed["trackers"]) == 1
    assert listed["has_more"] is True
    with pytest.raises(PayloadError) as caught:
        client.get_tracker("trk_unknown")
    assert caught.value.status == 404
    with pytest.raises(PayloadError, match="tracking code is missing"):
        client.create_tracker("  ")


def test_bought_shipment_tracker_is_found_again_by_code(fake, client):
    result = bought(client, fake)
    tracker = client.create_tracker(result["tracking_code"], "USPS")
    assert tracker["id"] == result["tracker"]["id"]
    assert tracker["shipment_id"] == result["id"]


# -------------------------------------------------------------- webhooks
def independent_signature(secret, body):
    key = unicodedata.normalize("NFKD", secret).encode("utf-8")
    return "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def test_tracker_event_is_a_signed_easypost_event(fake, client):
    result = bought(client, fake)
    tracker_id = result["tracker"]["id"]
    when = datetime(2030, 1, 2, 15, 4, 5, tzinfo=timezone.utc)
    fake.advance(
        tracker_id,
        "delivered",
        "Delivered, Front Door/Porch",
        when=when,
        status_detail="arrived_at_destination",
        location={"city": "SAN FRANCISCO", "state": "CA", "country": "US"},
    )
    body, headers = fake.tracker_event(tracker_id, event_id="evt_" + "a" * 32)
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Hmac-Signature"] == independent_signature(SECRET, body)
    event = json.loads(body)
    assert event["id"] == "evt_" + "a" * 32
    assert event["object"] == "Event"
    assert event["description"] == "tracker.updated"
    assert event["mode"] == "test"
    assert event["previous_attributes"] == {"status": "pre_transit"}
    assert datetime.strptime(event["created_at"], "%Y-%m-%dT%H:%M:%SZ")
    tracker = event["result"]
    assert tracker["id"] == tracker_id
    assert tracker["status"] == "delivered"
    assert tracker["status_detail"] == "arrived_at_destination"
    last = tracker["tracking_details"][-1]
    assert last == {
        "object": "TrackingDetail",
        "message": "Delivered, Front Door/Porch",
        "description": "Delivered, Front Door/Porch",
        "status": "delivered",
        "status_detail": "arrived_at_destination",
        "datetime": "2030-01-02T15:04:05Z",
        "source": "USPS",
        "carrier_code": None,
        "tracking_location": {
            "object": "TrackingLocation",
            "city": "SAN FRANCISCO",
            "state": "CA",
            "country": "US",
            "zip": None,
        },
    }
    # The API shows the same tracker, and the shipment follows it.
    assert client.get_tracker(tracker_id)["status"] == "delivered"
    assert client.get_shipment(result["id"])["tracker"]["status"] == "delivered"
    # A redelivery of the same event is the same bytes, even after a new scan.
    fake.advance(tracker_id, "return_to_sender", "Returned")
    again, again_headers = fake.tracker_event(tracker_id, event_id=event["id"])
    assert again == body
    assert again_headers == headers
    newer, _headers = fake.tracker_event(tracker_id)
    assert json.loads(newer)["id"] != event["id"]
    assert json.loads(newer)["result"]["status"] == "return_to_sender"
    assert json.loads(newer)["previous_attributes"] == {"status": "delivered"}


def test_signature_uses_the_nfkd_secret_as_epx_vector_shows():
    body = EPX_BODY.read_bytes()
    assert body.endswith(b"\n")
    body = body[:-1]  # EasyPost signed the bytes without the final newline
    assert fake_easypost.signature("sécret", body) == EPX_HEADER
    # The secret as typed (composed "é") gives another digest: NFKD matters.
    composed = unicodedata.normalize("NFC", "sécret")
    assert composed != unicodedata.normalize("NFKD", "sécret")
    raw = hmac.new(composed.encode(), body, hashlib.sha256).hexdigest()
    assert "hmac-sha256-hex=" + raw != EPX_HEADER
    with FakeEasyPost(api_key=API_KEY, webhook_secret=composed) as fake:
        assert fake.sign(body) == EPX_HEADER


# ------------------------------------------------------------ envelopes
def test_documented_address_error_reads_well():
    error = error_from_response(422, json.dumps(ADDRESS_SAMPLE).encode())
    assert isinstance(error, AddressInvalid)
    assert str(error) == (
        "EasyPost refused the address: Address not found "
        "(street1: House number is missing)"
    )
    assert error.path == "street1"
    assert error.field_errors[1]["message"] == "House number is missing"


def test_envelope_variants():
    strings = {
        "error": {
            "code": "SHIPMENT.INVALID_PARAMS",
            "message": "Bad",
            "errors": ["weight is required", "zip is too long"],
        }
    }
    error = error_from_response(422, json.dumps(strings))
    assert type(error) is PayloadError
    assert str(error).endswith("Bad (weight is required; zip is too long)")
    assert error.code == "SHIPMENT.INVALID_PARAMS"
    field = {"field": "zip", "message": "Invalid", "suggestion": "94105"}
    suggested = {
        "error": {
            "code": "ADDRESS.VERIFY.FAILURE",
            "message": "Bad zip",
            "errors": [field],
        }
    }
    assert "(zip: Invalid (suggestion: 94105))" in str(
        error_from_response(422, json.dumps(suggested))
    )
    busy = error_from_response(429, b"{}", retry_after="30")
    assert isinstance(busy, TransientError)
    assert busy.retry_after == 30
    assert error_from_response(503, b"", retry_after=4.2).retry_after == 5
    gateway = error_from_response(502, b"<html>Bad gateway</html>")
    assert isinstance(gateway, TransientError)
    assert "Bad gateway" in str(gateway)
    assert gateway.retry_after is None
    assert error_from_response(404, b"not json").status == 404
    for status in (400, 401, 402, 404, 422):
        found = error_from_response(status, b'{"error": {"code": "X", "message": "m"}}')
        assert type(found) is PayloadError, status
        assert isinstance(found, SyncError)


# --------------------------------------------------------------- loading
def test_inside_odoo_the_core_addon_comes_from_odoo_addons(monkeypatch):
    fake = {}
    for name in ("odoo", "odoo.addons", "odoo.addons.distribution_sync"):
        fake[name] = types.ModuleType(name)
        fake[name].__path__ = []
    core = types.ModuleType("odoo.addons.distribution_sync.core")
    core.__path__ = []
    # A second copy of the error classes, as Odoo's import of the core addon has.
    core.errors = _load(
        "odoo.addons.distribution_sync.core.errors",
        Path(bare_errors.__file__),
    )
    core.retry = bare_retry
    core.http = bare_http
    fake[core.__name__] = core
    for name, module in fake.items():
        monkeypatch.setitem(sys.modules, name, module)
    module = _load(
        "odoo.addons.distribution_sync_carrier.core.client",
        ADDON / "core" / "client.py",
    )
    assert module.PayloadError is core.errors.PayloadError
    assert module.PayloadError is not bare_errors.PayloadError
    assert issubclass(module.PostageExists, core.errors.DuplicateDocument)
    assert isinstance(module.error_from_response(500, b""), core.errors.TransientError)


# ------------------------------------------- with the pure EasyPost readers
def canonical_request(**changes):
    """A canonical shipment request, as the Odoo side builds it."""

    def canonical_address(**values):
        base = {
            "name": "Ada Lovelace",
            "company": False,
            "street": "417 Montgomery St",
            "street2": "Floor 5",
            "city": "San Francisco",
            "state": "CA",
            "zip": "94104",
            "country": "us",
            "phone": "4155550100",
            "email": "ada@example.com",
        }
        base.update(values)
        return base

    request = {
        "reference": "WH/OUT/00042",
        "is_return": False,
        "label_format": "ZPL",
        "from_address": canonical_address(name="Warehouse", zip="10001"),
        "to_address": canonical_address(),
        "parcel": {
            "weight_kg": Decimal("1.2"),
            "length_cm": Decimal("30"),
            "width_cm": Decimal("20"),
            "height_cm": Decimal("10"),
        },
    }
    request.update(changes)
    return request


def test_fake_answers_what_the_easypost_readers_understand(fake, client):
    easypost = importlib.import_module("distribution_sync_carrier.core.easypost")
    created = client.create_shipment(easypost.shipment_request(canonical_request()))
    assert fake.requests[-1]["json"]["shipment"]["parcel"]["weight"] == 42.4
    data = easypost.parse_shipment(created)
    assert data["bought"] is False
    rate = easypost.select_rate(data["rates"], "usps/priority")
    data = easypost.parse_shipment(client.buy_shipment(data["id"], rate["id"]))
    assert data["bought"] is True
    assert data["label_format"] == "ZPL"
    assert data["rate"] == Decimal("7.58")
    assert data["fees_total"] == Decimal("7.59")
    assert (data["carrier"], data["service"]) == ("USPS", "Priority")
    assert data["tracker_id"] in fake.trackers
    content, content_type = client.download(data["label_url"])
    assert content.startswith(b"^XA")
    assert content_type == "application/zpl"

    fake.advance(
        data["tracker_id"],
        "return_to_sender",
        "Returned to sender",
        when=datetime(2030, 1, 3, 8, 0, tzinfo=timezone.utc),
        location={"city": "OAKLAND", "state": "CA", "country": "US", "zip": "94607"},
    )
    body, headers = fake.tracker_event(data["tracker_id"])
    assert easypost.verify_signature(SECRET, body, headers)
    assert not easypost.verify_signature("other", body, headers)
    event = json.loads(body)
    identity = easypost.event_identity(event)
    assert identity["external_id"] == data["tracker_id"]
    assert identity["idempotency_key"] == f"easypost:event:{event['id']}"
    update = easypost.parse_tracker(event["result"])
    assert update["status"] == "returned"
    assert update["tracking_code"] == data["tracking_code"]
    assert update["events"][-1]["event_time"] == datetime(
        2030, 1, 3, 8, 0, tzinfo=timezone.utc
    )
    assert [e["status"] for e in update["events"]] == ["pre_transit", "returned"]


def test_bad_address_is_refused_before_or_by_easypost(fake, client):
    easypost = importlib.import_module("distribution_sync_carrier.core.easypost")
    request = canonical_request()
    request["to_address"]["zip"] = "00000"
    with pytest.raises(AddressInvalid, match=r"\(zip: Invalid ZIP code 00000\)"):
        client.create_shipment(easypost.shipment_request(request))
    assert fake.shipments == {}
