import pytest
from sample_files import sample_json

from distribution_sync.core.canonical import to_jsonable
from distribution_sync.core.errors import PayloadError
from distribution_sync.core.idempotency import body_key
from distribution_sync.core.reference import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    TOPIC_HEADER,
    TOPICS,
    UnknownTopic,
    event_identity,
    parse,
    verify,
)
from distribution_sync.core.signature import hmac_sha256_hex

SECRET = "reference-secret"
BODY = b'{"external_id":"ORD-1","lines":[{"quantity":1,"price_unit":"5"}]}'

GOLDEN = [
    ("order/upsert", "reference_order_upsert"),
    ("order/cancel", "reference_order_cancel"),
    ("partner/upsert", "reference_partner_upsert"),
    ("refund/create", "reference_refund_create"),
]


def test_header_names():
    assert SIGNATURE_HEADER == "X-Sync-Signature"
    assert TOPIC_HEADER == "X-Sync-Topic"
    assert EVENT_ID_HEADER == "X-Sync-Event-Id"
    assert TOPICS == ("partner/upsert", "order/upsert", "order/cancel", "refund/create")


def test_golden_files_cover_every_topic():
    assert {topic for topic, _name in GOLDEN} == set(TOPICS)


@pytest.mark.parametrize(("topic", "name"), GOLDEN)
def test_golden(topic, name):
    data = sample_json(f"core/{name}.json")
    expected = sample_json(f"core/{name}.expected.json")
    assert to_jsonable(parse(topic, data)) == expected


def test_order_upsert_shape():
    result = parse("order/upsert", sample_json("core/reference_order.json"))
    assert result["entity"] == "order"
    assert result["external_id"] == "ORD-1001"
    assert result["order"]["external_id"] == "ORD-1001"


def test_partner_values_only_present_keys():
    result = parse("partner/upsert", {"external_id": 5, "email": "X@Y.Z"})
    assert result == {
        "entity": "customer",
        "action": "upsert",
        "external_id": "5",
        "updated_at": None,
        "values": {"email": "x@y.z"},
    }


def test_partner_requires_external_id():
    with pytest.raises(PayloadError, match="external_id"):
        parse("partner/upsert", {"name": "Jane"})


def test_cancel_requires_external_id():
    with pytest.raises(PayloadError, match="external_id"):
        parse("order/cancel", {"external_id": None})


def test_bad_partner_value_names_key():
    with pytest.raises(PayloadError) as info:
        parse("partner/upsert", {"external_id": "C", "is_company": "no"})
    assert info.value.path == "is_company"


def test_unknown_topic():
    with pytest.raises(UnknownTopic) as info:
        parse("product/delete", {"external_id": "1"})
    assert isinstance(info.value, PayloadError)
    assert info.value.topic == "product/delete"
    assert "product/delete" in str(info.value)


def test_non_object_payload():
    with pytest.raises(PayloadError):
        parse("order/cancel", ["ORD-1"])


def test_verify_plain_and_prefixed_signature():
    signature = hmac_sha256_hex(SECRET, BODY)
    assert verify(SECRET, BODY, {"X-Sync-Signature": signature})
    assert verify(SECRET, BODY, {"x-sync-signature": "sha256=" + signature})
    assert verify(SECRET, BODY, {"X-SYNC-SIGNATURE": signature.upper()})


def test_verify_rejects():
    signature = hmac_sha256_hex(SECRET, BODY)
    assert not verify(SECRET, BODY + b" ", {"X-Sync-Signature": signature})
    assert not verify("other", BODY, {"X-Sync-Signature": signature})
    assert not verify(SECRET, BODY, {})
    assert not verify("", BODY, {"X-Sync-Signature": hmac_sha256_hex("", BODY)})


def test_event_identity_with_event_id():
    headers = {"x-sync-topic": " order/upsert ", "X-Sync-Event-ID": "evt-9"}
    assert event_identity(headers, BODY) == ("order/upsert", "event:evt-9")


def test_event_identity_falls_back_to_body():
    assert event_identity({"X-Sync-Event-Id": ""}, BODY) == (None, body_key(BODY))
    assert event_identity({}, BODY)[1] != event_identity({}, BODY + b" ")[1]
