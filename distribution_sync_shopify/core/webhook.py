"""Shopify webhook deliveries: signature, topic, idempotency key and lock key.

Headers are read case-insensitively. The signature ``X-Shopify-Hmac-Sha256`` is
the base64 HMAC-SHA256 of the raw body with the app's secret, checked in
constant time. One event delivered to several subscriptions, or delivered again,
keeps its ``X-Shopify-Event-Id``; ``X-Shopify-Webhook-Id`` is the fallback key.
"""

from collections.abc import Mapping

from ._base import errors, idempotency, signature
from .common import exact_id, header, plain_id

__all__ = [
    "API_VERSION_HEADER",
    "EVENT_ID_HEADER",
    "KNOWN_TOPICS",
    "SHOP_DOMAIN_HEADER",
    "SIGNATURE_HEADER",
    "TOPIC_HEADER",
    "TRIGGERED_AT_HEADER",
    "WEBHOOK_ID_HEADER",
    "identity",
    "verify",
]

SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"
TOPIC_HEADER = "X-Shopify-Topic"
EVENT_ID_HEADER = "X-Shopify-Event-Id"
WEBHOOK_ID_HEADER = "X-Shopify-Webhook-Id"
API_VERSION_HEADER = "X-Shopify-API-Version"
SHOP_DOMAIN_HEADER = "X-Shopify-Shop-Domain"
TRIGGERED_AT_HEADER = "X-Shopify-Triggered-At"

KNOWN_TOPICS = (
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

# topic prefix -> (GraphQL type of the body, work key prefix)
_ENTITIES = {
    "orders": ("Order", "order"),
    "customers": ("Customer", "customer"),
    "products": ("Product", "product"),
}


def verify(secret, body: bytes, headers: Mapping) -> bool:
    """True when ``X-Shopify-Hmac-Sha256`` is the base64 HMAC of ``body``."""
    return signature.verify_hmac(
        secret, body, header(headers, SIGNATURE_HEADER), encoding="base64"
    )


def idempotency_key(headers: Mapping, body: bytes) -> str:
    """``event:<Event-Id>``, else ``webhook:<Webhook-Id>``, else a body digest."""
    event_id = header(headers, EVENT_ID_HEADER)
    if event_id:
        return idempotency.message_key("event", event_id)
    webhook_id = header(headers, WEBHOOK_ID_HEADER)
    if webhook_id:
        return idempotency.message_key("webhook", webhook_id)
    return idempotency.body_key(body)


def _ids(topic, data):
    """(external id, order id, work key) of a body; never raises."""
    if not topic or not isinstance(data, Mapping):
        return None, None, None
    prefix = topic.split("/", 1)[0]
    try:
        if topic == "refunds/create":
            external_id = exact_id(data, "Refund")
            order_id = plain_id(data.get("order_id"), "order_id")
            return external_id, order_id, f"order:{order_id}" if order_id else None
        if prefix in _ENTITIES:
            kind, key_prefix = _ENTITIES[prefix]
            external_id = exact_id(data, kind)
            order_id = external_id if prefix == "orders" else None
            return external_id, order_id, f"{key_prefix}:{external_id}"
    except errors.PayloadError:
        # A malformed body is still stored; mapping it reports the problem.
        return None, None, None
    return None, None, None


def identity(headers: Mapping, body: bytes, data) -> dict:
    """What the intake stores with a delivery, from its headers and parsed body.

    Keys: ``topic``; ``idempotency_key`` (see ``idempotency_key``);
    ``external_id`` (the order, refund, customer or product id, exact, see
    ``common.exact_id``); ``order_id`` (orders and refunds); ``work_key``, the
    lock that serialises work on one object: ``order:<id>`` for ``orders/*`` and
    ``refunds/create`` (a refund waits for its order), ``customer:<id>``,
    ``product:<id>``, ``shop:<domain>`` for ``app/uninstalled``;
    ``api_version``; ``shop_domain``; ``triggered_at`` (raw header). ``data`` may
    be None or anything when the body is not JSON: the ids are then None. Never
    raises on a malformed body.
    """
    topic = header(headers, TOPIC_HEADER)
    topic = topic.lower() if topic else None
    shop_domain = header(headers, SHOP_DOMAIN_HEADER)
    shop_domain = shop_domain.lower() if shop_domain else None
    external_id, order_id, work_key = _ids(topic, data)
    if topic == "app/uninstalled" and shop_domain:
        work_key = f"shop:{shop_domain}"
    return {
        "topic": topic,
        "idempotency_key": idempotency_key(headers, body),
        "external_id": external_id,
        "order_id": order_id,
        "work_key": work_key,
        "api_version": header(headers, API_VERSION_HEADER),
        "shop_domain": shop_domain,
        "triggered_at": header(headers, TRIGGERED_AT_HEADER),
    }
