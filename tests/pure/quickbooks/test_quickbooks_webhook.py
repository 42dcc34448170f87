"""QuickBooks webhooks: the Intuit test vector, both body shapes, bad shapes."""

import base64
import hashlib
import hmac
import json
from datetime import datetime, timezone

import pytest
from quickbooks_samples import expected_json, sample_bytes, sample_json

from distribution_sync.core.canonical import to_jsonable
from distribution_sync.core.errors import PayloadError
from distribution_sync_quickbooks.core import webhook

# Intuit's .NET SDK test (WebhooksServiceTest.cs): verifier token -> header.
VERIFIER = "00faeec4-08d0-4996-bb37-698ae19f0149"
VECTOR = "6q+xGyMirJupwKTh2/WBl2NcdxzxqdIbk3sneKTxLWM="
LEGACY = "webhook_legacy_dotnet_sdk_test"
CLOUD = "webhook_cloudevents_intuit_blog"


def cloud_event(**changes):
    event = dict(sample_json(CLOUD)[0])
    event.update(changes)
    return event


# ---------------------------------------------------------------- signature
def test_signature_test_vector():
    body = sample_bytes(LEGACY)
    assert len(body) == 264 and not body.endswith(b"\n")
    # The vector is what the definition gives: base64 HMAC-SHA256 of the bytes.
    digest = hmac.new(VERIFIER.encode(), body, hashlib.sha256).digest()
    assert base64.b64encode(digest).decode() == VECTOR
    assert webhook.verify(VERIFIER, body, {"intuit-signature": VECTOR})


@pytest.mark.parametrize(
    "name", ["intuit-signature", "Intuit-Signature", "INTUIT-SIGNATURE"]
)
def test_signature_header_in_any_case(name):
    assert webhook.verify(VERIFIER, sample_bytes(LEGACY), {name: VECTOR})


def test_signature_header_as_bytes_and_body_as_text():
    body = sample_bytes(LEGACY)
    assert webhook.verify(VERIFIER, body, {b"Intuit-Signature": VECTOR.encode()})
    assert webhook.verify(VERIFIER, body.decode(), {"intuit-signature": VECTOR})


@pytest.mark.parametrize(
    ("secret", "body", "headers"),
    [
        ("00faeec4-08d0-4996-bb37-698ae19f0148", None, None),  # other token
        (VERIFIER, b" ", None),  # body changed
        (VERIFIER, b"\n", None),  # a final newline is another body
        ("", None, None),
        (None, None, None),
        (VERIFIER, None, {}),
        (VERIFIER, None, {"intuit-signature": ""}),
        (VERIFIER, None, {"intuit-signature": VECTOR.lower()}),  # base64 has case
        (VERIFIER, None, {"intuit-signature": "é" + VECTOR}),
        (VERIFIER, None, {"X-Shopify-Hmac-Sha256": VECTOR}),
    ],
    ids=[
        "other token",
        "other body",
        "final newline",
        "empty secret",
        "no secret",
        "no header",
        "empty header",
        "lower-cased",
        "non-ASCII",
        "other header",
    ],
)
def test_signature_refused(secret, body, headers):
    raw = sample_bytes(LEGACY)
    if body is not None:
        raw = raw + body if body == b"\n" else raw.replace(b"{", b"{" + body, 1)
    if headers is None:
        headers = {"intuit-signature": VECTOR}
    assert not webhook.verify(secret, raw, headers)


# ------------------------------------------------------------------ golden
@pytest.mark.parametrize("name", [LEGACY, CLOUD])
def test_golden(name):
    assert to_jsonable(webhook.events(sample_json(name))) == expected_json(name)


@pytest.mark.parametrize("name", [LEGACY, CLOUD])
def test_raw_bytes_read_alike(name):
    assert webhook.events(sample_bytes(name)) == webhook.events(sample_json(name))


def test_legacy_changes():
    changes = webhook.events(sample_json(LEGACY))
    assert [(c["entity"], c["entity_id"], c["operation"]) for c in changes] == [
        ("Vendor", "40", "Update"),
        ("Customer", "43", "Create"),
    ]
    assert changes[0]["occurred_at"] == datetime(
        2016, 10, 5, 3, 9, 4, tzinfo=timezone.utc
    )
    # Intuit's dedupe key for this shape: realm, name, id, operation, lastUpdated.
    assert changes[1]["event_id"] == (
        "1269959970:Customer:43:Create:2016-10-05T03:07:04.000Z"
    )
    assert {c["format"] for c in changes} == {"legacy"}


def test_cloud_event():
    (change,) = webhook.events(sample_json(CLOUD))
    assert change["realm_id"] == "310687"  # intuitaccountid
    assert change["entity"] == "Account"
    assert change["entity_id"] == "1234"  # intuitentityid
    assert change["operation"] == "Create"
    assert change["event_id"] == "88cd52aa-33b6-4351-9aa4-47572edbd068"
    # Nanoseconds in the sample: kept to the microsecond, in UTC.
    assert change["occurred_at"] == datetime(
        2025, 9, 10, 21, 31, 25, 179851, tzinfo=timezone.utc
    )


@pytest.mark.parametrize(
    ("event_type", "entity", "operation"),
    [
        ("qbo.invoice.updated.v1", "Invoice", "Update"),
        ("qbo.invoice.created.v1", "Invoice", "Create"),
        ("qbo.creditmemo.created.v1", "CreditMemo", "Create"),
        ("qbo.payment.deleted.v1", "Payment", "Delete"),
        ("qbo.invoice.voided.v1", "Invoice", "Void"),
        ("qbo.customer.merged.v1", "Customer", "Merge"),
        ("qbo.invoice.emailed.v1", "Invoice", "Emailed"),
        ("qbo.salesreceipt.updated.v1", "SalesReceipt", "Update"),
        ("qbo.refund_receipt.updated.v2", "RefundReceipt", "Update"),
        ("QBO.Invoice.Updated.v1", "Invoice", "Update"),
        ("qbo.invoice.updated", "Invoice", "Update"),
        ("qbo.widget.updated.v1", "Widget", "Update"),
        ("qbo.invoice.restored.v1", "Invoice", "Restored"),
    ],
)
def test_cloud_event_types(event_type, entity, operation):
    (change,) = webhook.events([cloud_event(type=event_type)])
    assert (change["entity"], change["operation"]) == (entity, operation)


def test_one_post_holds_several_companies_in_order():
    data = {
        "eventNotifications": [
            {
                "realmId": "111",
                "dataChangeEvent": {
                    "entities": [
                        {
                            "name": "Invoice",
                            "id": "7",
                            "operation": "update",
                            "lastUpdated": "2026-03-02T10:00:00.000Z",
                        },
                        {
                            "name": "Customer",
                            "id": "9",
                            "operation": "Merge",
                            "lastUpdated": "2026-03-02T10:00:01-08:00",
                            "deletedId": "8",
                        },
                    ]
                },
            },
            {"realmId": 222, "dataChangeEvent": {"entities": []}},
            {
                "realmId": "333",
                "dataChangeEvent": {
                    "entities": [
                        {
                            "name": "payment",
                            "id": 12,
                            "operation": "Create",
                            "lastUpdated": "2026-03-02T10:00:02Z",
                        }
                    ]
                },
            },
        ]
    }
    changes = webhook.events(data)
    assert [(c["realm_id"], c["entity"], c["entity_id"]) for c in changes] == [
        ("111", "Invoice", "7"),
        ("111", "Customer", "9"),
        ("333", "Payment", "12"),
    ]
    assert changes[0]["operation"] == "Update"
    # The key keeps what Intuit sent, so a redelivery gives the same key.
    assert changes[0]["event_id"] == "111:Invoice:7:update:2026-03-02T10:00:00.000Z"
    assert changes[1]["deleted_id"] == "8"
    assert changes[1]["occurred_at"] == datetime(
        2026, 3, 2, 18, 0, 1, tzinfo=timezone.utc
    )


def test_a_single_cloud_event_object():
    assert webhook.events(cloud_event()) == webhook.events([cloud_event()])


def test_cloud_event_without_time():
    (change,) = webhook.events([cloud_event(time=None)])
    assert change["occurred_at"] is None


def test_several_cloud_events_keep_their_ids():
    body = [
        cloud_event(id="a", intuitentityid="1", type="qbo.invoice.updated.v1"),
        cloud_event(id="b", intuitentityid="1", type="qbo.invoice.updated.v1"),
    ]
    assert [c["event_id"] for c in webhook.events(body)] == ["a", "b"]


def test_long_event_ids_are_hashed_to_fit_an_index():
    (change,) = webhook.events([cloud_event(id="x" * 400)])
    assert change["event_id"].startswith("sha256:")
    assert len(change["event_id"]) <= 180
    other = webhook.events([cloud_event(id="x" * 399 + "y")])[0]["event_id"]
    assert other != change["event_id"]


@pytest.mark.parametrize("data", [[], {"eventNotifications": []}, b"[]"])
def test_empty_deliveries(data):
    assert webhook.events(data) == []


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({}, "eventNotifications"),
        ({"eventNotifications": {}}, "eventNotifications"),
        ({"eventNotifications": [[]]}, "eventNotifications[0]"),
        ({"eventNotifications": [{"dataChangeEvent": {}}]},
         "eventNotifications[0].realmId"),
        ({"eventNotifications": [{"realmId": "1"}]},
         "eventNotifications[0].dataChangeEvent"),
        (
            {"eventNotifications": [{"realmId": "1", "dataChangeEvent": {"entities": [
                {"name": "Invoice", "operation": "Update", "lastUpdated": "2026-01-01"}
            ]}}]},
            "eventNotifications[0].dataChangeEvent.entities[0].id",
        ),
        (
            {"eventNotifications": [{"realmId": "1", "dataChangeEvent": {"entities": [
                {"name": "Invoice", "id": "1", "operation": "Update",
                 "lastUpdated": "yesterday"}
            ]}}]},
            "eventNotifications[0].dataChangeEvent.entities[0].lastUpdated",
        ),
        ([cloud_event(type="invoice.updated")], "[0].type"),
        ([cloud_event(type="qbo..updated.v1")], "[0].type"),
        ([cloud_event(intuitaccountid=None)], "[0].intuitaccountid"),
        ([cloud_event(intuitentityid=[1])], "[0].intuitentityid"),
        ([cloud_event(id="")], "[0].id"),
        ([cloud_event(time="2026-13-01T00:00:00Z")], "[0].time"),
        ([cloud_event(), "event"], "[1]"),
    ],
)  # fmt: skip
def test_bad_shapes_name_the_path(data, path):
    with pytest.raises(PayloadError) as caught:
        webhook.events(data)
    assert caught.value.path == path
    assert path in str(caught.value)


@pytest.mark.parametrize("body", [b"not json", b"\xff\xfe", "{", 42, None, "text"])
def test_not_a_delivery(body):
    with pytest.raises(PayloadError):
        webhook.events(body if not isinstance(body, str) else json.dumps(body))
