"""Reference channel ("generic JSON") used by the core's own tests and the demo.

It is the simplest possible channel and a template for real channel mappers.
Webhooks carry the topic and event id in headers and are signed with the hex
HMAC-SHA256 of the raw body (optionally prefixed "sha256=").
"""

from collections.abc import Mapping

from .canonical import (
    clean_bool,
    clean_datetime,
    clean_email,
    clean_identifier,
    clean_text,
    clean_upper,
    parse_order,
    parse_refund,
)
from .errors import PayloadError
from .idempotency import body_key
from .signature import verify_hmac

SIGNATURE_HEADER = "X-Sync-Signature"
TOPIC_HEADER = "X-Sync-Topic"
EVENT_ID_HEADER = "X-Sync-Event-Id"
SIGNATURE_PREFIX = "sha256="

TOPICS = ("partner/upsert", "order/upsert", "order/cancel", "refund/create")

PARTNER_FIELDS = {
    "name": clean_text,
    "email": clean_email,
    "phone": clean_text,
    "street": clean_text,
    "city": clean_text,
    "zip": clean_text,
    "country_code": clean_upper,
    "is_company": clean_bool,
}


class UnknownTopic(PayloadError):
    """The reference channel does not handle this topic; such messages are skipped."""

    def __init__(self, topic):
        self.topic = topic
        super().__init__(
            f'Unknown topic "{topic}"; expected one of {", ".join(TOPICS)}.',
            value=topic,
            hint="Nothing to do: messages with unknown topics are skipped.",
        )


def _lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {str(key).lower(): value for key, value in (headers or {}).items()}


def _header(headers, name):
    value = _lower_headers(headers).get(name.lower())
    if value is None:
        return None
    return str(value).strip() or None


def verify(secret, body: bytes, headers: Mapping[str, str]) -> bool:
    """True when the signature header matches the body (headers case-insensitive)."""
    return verify_hmac(
        secret,
        body,
        _header(headers, SIGNATURE_HEADER),
        encoding="hex",
        prefix=SIGNATURE_PREFIX,
    )


def event_identity(headers: Mapping[str, str], body: bytes) -> tuple[str | None, str]:
    """Return (topic, idempotency key): "event:<id>", else a digest of the body."""
    topic = _header(headers, TOPIC_HEADER)
    event_id = _header(headers, EVENT_ID_HEADER)
    key = f"event:{event_id}" if event_id else body_key(body)
    return topic, key


def _payload(data):
    if not isinstance(data, dict):
        raise PayloadError(
            f"The payload must be an object, got {type(data).__name__}.", value=data
        )
    return data


def _updated_at(data):
    value = data.get("updated_at")
    return None if value is None else clean_datetime(value, "updated_at")


def parse(topic: str, data: dict) -> dict:
    """Turn a reference-channel payload into the entity/action dict the importer uses.

    "order/upsert" -> ``{"entity": "order", "action": "upsert", "external_id",
    "order": parse_order(data)}``; "order/cancel" -> ``{"entity": "order",
    "action": "cancel", "external_id", "updated_at"}``; "partner/upsert" ->
    ``{"entity": "customer", "action": "upsert", "external_id", "updated_at",
    "values"}`` where ``values`` holds only the partner keys present in the payload;
    "refund/create" -> ``{"entity": "refund", "action": "create", "external_id",
    "refund": parse_refund(data)}``. Unknown topics raise ``UnknownTopic``.
    """
    if topic not in TOPICS:
        raise UnknownTopic(topic)
    data = _payload(data)
    if topic == "refund/create":
        refund = parse_refund(data)
        return {
            "entity": "refund",
            "action": "create",
            "external_id": refund["external_id"],
            "refund": refund,
        }
    if topic == "order/upsert":
        order = parse_order(data)
        return {
            "entity": "order",
            "action": "upsert",
            "external_id": order["external_id"],
            "order": order,
        }
    external_id = clean_identifier(data.get("external_id"), "external_id")
    if topic == "order/cancel":
        return {
            "entity": "order",
            "action": "cancel",
            "external_id": external_id,
            "updated_at": _updated_at(data),
        }
    values = {}
    for key, parser in PARTNER_FIELDS.items():
        if key in data:
            value = data[key]
            values[key] = None if value is None else parser(value, key)
    return {
        "entity": "customer",
        "action": "upsert",
        "external_id": external_id,
        "updated_at": _updated_at(data),
        "values": values,
    }
