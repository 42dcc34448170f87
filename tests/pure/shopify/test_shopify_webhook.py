import base64
import hashlib
import hmac

import pytest
from shopify_samples import sample_bytes, sample_json

from distribution_sync.core.idempotency import body_key
from distribution_sync_shopify.core import webhook

SECRET = "shpss_0123456789abcdef0123456789abcdef"
BODY = sample_bytes("webhook_orders_create")


def sign(secret, body):
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def test_header_names_and_topics():
    assert webhook.SIGNATURE_HEADER == "X-Shopify-Hmac-Sha256"
    assert webhook.TOPIC_HEADER == "X-Shopify-Topic"
    assert webhook.EVENT_ID_HEADER == "X-Shopify-Event-Id"
    assert webhook.WEBHOOK_ID_HEADER == "X-Shopify-Webhook-Id"
    assert webhook.KNOWN_TOPICS == (
        "orders/create",
        "orders/updated",
        "orders/paid",
        "orders/cancelled",
        "orders/fulfilled",
        "refunds/create",
        "customers/create",
        "customers/update",
        "products/update",
        "app/uninstalled",
    )


@pytest.mark.parametrize(
    "name",
    ["X-Shopify-Hmac-Sha256", "x-shopify-hmac-sha256", "X-SHOPIFY-HMAC-SHA256"],
)
def test_verify_sample_body_any_header_case(name):
    assert webhook.verify(SECRET, BODY, {name: sign(SECRET, BODY)})
    assert webhook.verify(SECRET.encode(), BODY, {name: sign(SECRET, BODY)})


def test_verify_rejects_tampered_body():
    signature = {"X-Shopify-Hmac-Sha256": sign(SECRET, BODY)}
    tampered = BODY.replace(b'"total_price": "388.00"', b'"total_price": "1.00"')
    assert tampered != BODY
    assert not webhook.verify(SECRET, tampered, signature)
    assert not webhook.verify(SECRET, BODY + b"\n", signature)
    # Re-serialised JSON is not the raw body Shopify signed.
    assert not webhook.verify(SECRET, BODY.replace(b"\n", b""), signature)


def test_verify_rejects_wrong_or_missing_signature():
    good = sign(SECRET, BODY)
    assert not webhook.verify("other-secret", BODY, {"X-Shopify-Hmac-Sha256": good})
    assert not webhook.verify("", BODY, {"X-Shopify-Hmac-Sha256": sign("", BODY)})
    assert not webhook.verify(SECRET, BODY, {})
    assert not webhook.verify(SECRET, BODY, {"X-Shopify-Hmac-Sha256": ""})
    # hex is not what Shopify sends
    hex_digest = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert not webhook.verify(SECRET, BODY, {"X-Shopify-Hmac-Sha256": hex_digest})
    # the Events preview header is not the webhook header
    assert not webhook.verify(SECRET, BODY, {"Shopify-Hmac-Sha256": good})


def headers(**extra):
    result = {
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Hmac-Sha256": sign(SECRET, BODY),
        "X-Shopify-Shop-Domain": "Acme-Store.myshopify.com",
        "X-Shopify-API-Version": "2025-07",
        "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "X-Shopify-Event-Id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
        "X-Shopify-Triggered-At": "2025-06-12T12:03:28.123Z",
    }
    result.update(extra)
    return {key: value for key, value in result.items() if value is not None}


def test_identity_of_an_order():
    result = webhook.identity(headers(), BODY, sample_json("webhook_orders_create"))
    assert result == {
        "topic": "orders/create",
        "idempotency_key": "event:98880550-7158-44d4-b7cd-2c97c8a091b5",
        # exact id from admin_graphql_api_id, not the rounded "id"
        "external_id": "820982911946154508",
        "order_id": "820982911946154508",
        "work_key": "order:820982911946154508",
        "api_version": "2025-07",
        "shop_domain": "acme-store.myshopify.com",
        "triggered_at": "2025-06-12T12:03:28.123Z",
    }


def test_identity_headers_are_case_insensitive():
    lower = {key.lower(): value for key, value in headers().items()}
    data = sample_json("webhook_orders_create")
    assert webhook.identity(lower, BODY, data) == webhook.identity(
        headers(), BODY, data
    )


def test_duplicates_share_the_event_id_across_subscriptions():
    data = sample_json("webhook_orders_create")
    first = webhook.identity(headers(), BODY, data)
    other_subscription = webhook.identity(
        headers(**{"X-Shopify-Webhook-Id": "another-subscription"}), BODY, data
    )
    assert first["idempotency_key"] == other_subscription["idempotency_key"]


def test_idempotency_key_falls_back_to_webhook_id_then_body():
    data = sample_json("webhook_orders_create")
    no_event = headers(**{"X-Shopify-Event-Id": None})
    assert (
        webhook.identity(no_event, BODY, data)["idempotency_key"]
        == "webhook:b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    )
    bare = headers(**{"X-Shopify-Event-Id": " ", "X-Shopify-Webhook-Id": None})
    assert webhook.identity(bare, BODY, data)["idempotency_key"] == body_key(BODY)


def test_identity_of_a_refund_serialises_on_its_order():
    body = sample_bytes("refund_partial_shipping_discrepancy")
    data = sample_json("refund_partial_shipping_discrepancy")
    result = webhook.identity(
        headers(**{"X-Shopify-Topic": "refunds/create"}), body, data
    )
    assert result["topic"] == "refunds/create"
    assert result["external_id"] == "1029384756111"
    assert result["order_id"] == "5894736281791"
    assert result["work_key"] == "order:5894736281791"
    order = webhook.identity(
        headers(**{"X-Shopify-Topic": "orders/updated"}),
        b"{}",
        sample_json("order_shipping_discount"),
    )
    assert order["work_key"] == result["work_key"]


def test_identity_of_a_customer_and_a_product():
    customer = webhook.identity(
        headers(**{"X-Shopify-Topic": "customers/create"}),
        b"{}",
        sample_json("webhook_customers_create"),
    )
    assert customer["external_id"] == "706405506930370084"
    assert customer["order_id"] is None
    assert customer["work_key"] == "customer:706405506930370084"
    product = webhook.identity(
        headers(**{"X-Shopify-Topic": "products/update"}),
        b"{}",
        {"id": 632910392, "admin_graphql_api_id": "gid://shopify/Product/632910392"},
    )
    assert product["external_id"] == "632910392"
    assert product["work_key"] == "product:632910392"


def test_identity_of_app_uninstalled():
    result = webhook.identity(
        headers(**{"X-Shopify-Topic": "app/uninstalled"}),
        b"{}",
        {"id": 548380009, "domain": "acme-store.myshopify.com"},
    )
    assert result["external_id"] is None
    assert result["work_key"] == "shop:acme-store.myshopify.com"


@pytest.mark.parametrize(
    "data",
    [None, [], "not json", {}, {"id": 1.5}, {"id": None}],
    ids=["none", "list", "text", "empty", "float-id", "null-id"],
)
def test_identity_never_raises_on_a_malformed_body(data):
    result = webhook.identity(headers(), b"garbage", data)
    assert result["external_id"] is None
    assert result["work_key"] is None
    assert result["idempotency_key"].startswith("event:")


def test_identity_without_headers():
    result = webhook.identity({}, b"{}", {"id": 5})
    assert result["topic"] is None
    assert result["external_id"] is None
    assert result["idempotency_key"] == body_key(b"{}")
    assert result["api_version"] is None
    assert result["shop_domain"] is None
