"""Shippo tracking, pure: webhook token, identity, Track parsing, a small client.

Shippo documents no webhook signature: the webhook URL registered at Shippo
carries ``?token=<webhook secret>``, compared in constant time. A
``track_updated`` body is ``{"event", "test", "carrier"?, "data": <Track>}``
(``tracking_number``, ``carrier``, ``tracking_status``, ``tracking_history``
oldest first, ``eta``, ``transaction``); Shippo's test webhook names its carrier
at the top level only. Deliveries are not idempotent (one registration may
notify twice): they are keyed on the carrier, the tracking number and the
current status object.
"""

import hmac
import json
from collections.abc import Mapping
from urllib.parse import urlsplit

import requests

from .common import (
    PayloadError,
    as_list,
    as_object,
    key_path,
    location,
    long_text,
    newest_message,
    optional_object,
    required_text,
    text,
    time,
)

if __name__.startswith("odoo.addons."):
    from odoo.addons.distribution_sync.core import (
        errors,
        http,
        idempotency,
        retry,
        tracking,
    )
else:
    from distribution_sync.core import errors, http, idempotency, retry, tracking

TransientError = errors.TransientError

# tracking_status.status -> ours (external-apis §3.4)
STATUS_MAP = {
    "PRE_TRANSIT": "pre_transit",
    "TRANSIT": "in_transit",
    "DELIVERED": "delivered",
    "RETURNED": "returned",
    "FAILURE": "exception",
    "UNKNOWN": "unknown",
}
# (status, substatus.code) -> ours, where the substatus says more than the status
SUBSTATUS_MAP = {
    ("TRANSIT", "out_for_delivery"): "out_for_delivery",
    ("TRANSIT", "pickup_available"): "available_for_pickup",
    ("DELIVERED", "pickup_available"): "available_for_pickup",
}
TRACK_EVENT = "track_updated"
TOKEN_PARAMETER = "token"
DEFAULT_API_URL = "https://api.goshippo.com"
DEFAULT_TIMEOUT = 20
_MESSAGE_LIMIT = 300


# ----------------------------------------------------------------- webhooks
def verify_token(secret, query) -> bool:
    """True when the query parameter ``token`` equals ``secret`` (constant
    time). False for an empty secret, a missing token, or a token repeated
    with different values. ``query``: a dict of text or of lists of text."""
    if not secret or not isinstance(query, Mapping):
        return False
    received = query.get(TOKEN_PARAMETER)
    if isinstance(received, (list, tuple)):
        if not received or len(set(received)) != 1:
            return False
        received = received[0]
    if isinstance(received, bytes):
        received = received.decode("utf-8", "replace")
    if not isinstance(received, str) or not received:
        return False
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    return hmac.compare_digest(bytes(secret), received.encode("utf-8", "replace"))


def _track(data):
    """``(track, path, carrier fallback)`` of a webhook body or a bare Track."""
    data = as_object(data, "")
    if "tracking_number" not in data and isinstance(data.get("data"), Mapping):
        return data["data"], "data", text(data, "carrier", "")
    return data, "", None


def _carrier(track, path, fallback):
    carrier = text(track, "carrier", path) or fallback
    return carrier.lower() if carrier else None


def _digest(body):
    try:
        # ASCII JSON: a lone surrogate in the body is escaped, not an error
        dumped = json.dumps(body, sort_keys=True, default=str)
    except ValueError as exc:  # an integer too long to write
        raise PayloadError(f"The body cannot be read: {exc}", path="data") from None
    return idempotency.sha256_hex(dumped)


def event_identity(data: dict) -> dict:
    """What the intake stores with a webhook body: ``topic`` (``event``),
    ``idempotency_key``, ``external_id`` and ``work_key``.

    ``track_updated``: key ``shippo:track:<carrier>:<tracking number>:<object_id
    or status_date of tracking_status>``, ``external_id`` the tracking number,
    work key ``shippo:track:<carrier>:<tracking number>``. Other events
    (transactions, batches: not tracking) are keyed ``shippo:<event>:<object_id
    of data>`` (a digest of the body without one), with no external id or work
    key. Keys are hashed when very long. ``PayloadError`` when ``event``, or the
    tracking number of a ``track_updated``, is missing or unusable."""
    body = as_object(data, "")
    topic = required_text(body, "event", "")
    if topic != TRACK_EVENT:
        inner = body.get("data")
        object_id = (
            text(inner, "object_id", "data") if isinstance(inner, Mapping) else None
        )
        return {
            "topic": topic,
            "idempotency_key": idempotency.message_key(
                "shippo", topic, object_id or _digest(body)
            ),
            "external_id": None,
            "work_key": None,
        }
    track, path, fallback = _track(body)
    carrier = _carrier(track, path, fallback)
    number = required_text(track, "tracking_number", path)
    status = optional_object(track, "tracking_status", path) or {}
    status_path = key_path(path, "tracking_status")
    reference = text(status, "object_id", status_path) or text(
        status, "status_date", status_path
    )
    return {
        "topic": topic,
        "idempotency_key": idempotency.message_key(
            "shippo", "track", carrier, number, reference
        ),
        "external_id": number,
        "work_key": idempotency.message_key("shippo", "track", carrier, number),
    }


def map_status(status_obj, path):
    """Our status of a Shippo tracking status object (``status`` refined by
    ``substatus.code``); a value Shippo may add later is ``unknown``."""
    value = text(status_obj, "status", path)
    status = value.upper() if value else "UNKNOWN"
    substatus = optional_object(status_obj, "substatus", path) or {}
    code = text(substatus, "code", key_path(path, "substatus"))
    refined = SUBSTATUS_MAP.get((status, code.lower() if code else None))
    return refined or STATUS_MAP.get(status, "unknown")


def _event(status_obj, path):
    status_obj = as_object(status_obj, path)
    substatus = optional_object(status_obj, "substatus", path) or {}
    return {
        "status": map_status(status_obj, path),
        "status_detail": text(substatus, "code", key_path(path, "substatus")),
        "description": long_text(status_obj, "status_details", path),
        "event_time": time(status_obj, "status_date", path, required=True),
        "location": location(status_obj.get("location"), key_path(path, "location")),
    }


def parse_track(data: dict) -> dict:
    """A ``track_updated`` body (or a bare Track, as ``GET /tracks/`` returns)
    as a canonical tracking update (``tracking.parse_tracking_update``),
    provider ``shippo``: events from ``tracking_history`` and the current
    ``tracking_status`` (the same scan twice is kept once), ``status`` and
    ``message`` from ``tracking_status``, ``est_delivery`` from ``eta``,
    ``shipment_id`` the ``transaction`` id."""
    track, path, fallback = _track(data)
    history_path = key_path(path, "tracking_history")
    events = [
        _event(item, f"{history_path}[{index}]")
        for index, item in enumerate(
            as_list(track.get("tracking_history"), history_path)
        )
    ]
    current = optional_object(track, "tracking_status", path)
    status_path = key_path(path, "tracking_status")
    status, status_detail, message, updated_at = "unknown", None, None, None
    if current is not None:
        status = map_status(current, status_path)
        substatus = optional_object(current, "substatus", status_path) or {}
        status_detail = text(substatus, "code", key_path(status_path, "substatus"))
        message = long_text(current, "status_details", status_path)
        updated_at = time(current, "status_date", status_path)
        if updated_at is not None:
            events.append(_event(current, status_path))
    return tracking.parse_tracking_update(
        {
            "provider": "shippo",
            "tracker_id": None,
            "shipment_id": text(track, "transaction", path),
            "tracking_code": required_text(track, "tracking_number", path),
            "carrier": _carrier(track, path, fallback),
            "status": status,
            "status_detail": status_detail,
            "message": message or newest_message(events, status),
            "public_url": None,
            "is_return": False,
            "est_delivery": time(track, "eta", path),
            "updated_at": updated_at,
            "events": events,
        }
    )


# ------------------------------------------------------------------- client
def _error_message(response):
    """Shippo's error text: ``detail``, or the field messages of a 400."""
    try:
        body = response.json()
    except ValueError:
        return (response.text or "").strip()[:_MESSAGE_LIMIT] or None
    if isinstance(body, Mapping):
        if body.get("detail"):
            return str(body["detail"])[:_MESSAGE_LIMIT]
        parts = []
        for key, value in body.items():
            values = value if isinstance(value, list) else [value]
            parts.append(f"{key}: {'; '.join(str(item) for item in values)}")
        return ", ".join(parts)[:_MESSAGE_LIMIT] or None
    return str(body)[:_MESSAGE_LIMIT]


class ShippoClient:
    """Shippo API client: header ``Authorization: ShippoToken <token>``, JSON,
    a timeout on every call, no retry (the job queue retries). Timeouts and
    network failures, 429 (with ``Retry-After``) and 5xx raise
    ``TransientError``; other error answers ``PayloadError`` with Shippo's
    message. Methods return Shippo's JSON objects as dicts."""

    def __init__(self, api_url, token, timeout=DEFAULT_TIMEOUT, session=None):
        base = str(api_url or DEFAULT_API_URL).strip().rstrip("/")
        if urlsplit(base).scheme not in ("http", "https"):
            raise errors.ConfigurationError(
                f"{api_url!r} is not an http(s) URL.",
                value=str(api_url),
                hint=f"Set the API URL on the carrier backend ({DEFAULT_API_URL}).",
            )
        if not token:
            raise errors.ConfigurationError(
                "The Shippo API token is missing.",
                hint="Set the API token on the carrier backend.",
            )
        self.api_url = base
        self._token = str(token)
        self.timeout = timeout
        self.session = session if session is not None else requests.Session()

    def __repr__(self):
        return f"<ShippoClient {self.api_url}>"

    def _call(self, method, path, payload=None, params=None):
        url = self.api_url + path
        try:
            response = self.session.request(
                method,
                url,
                json=payload,
                params=params,
                headers={
                    "Authorization": f"ShippoToken {self._token}",
                    "Accept": "application/json",
                },
                timeout=self.timeout,
            )
        except requests.exceptions.Timeout as exc:
            raise TransientError(
                f"Shippo did not answer within {self.timeout} s; the request may "
                "have been applied.",
                hint="The job is retried later.",
            ) from exc
        except requests.exceptions.RequestException as exc:
            raise TransientError(
                f"Cannot reach Shippo at {urlsplit(url).netloc} "
                f"({type(exc).__name__}).",
                hint="Check the API URL; the job is retried later.",
            ) from exc
        status = response.status_code
        if status >= 400:
            message = _error_message(response) or f"HTTP {status}"
            if retry.is_transient_http_status(status):
                raise TransientError(
                    f"Shippo failed (HTTP {status}): {message}",
                    value=status,
                    retry_after=retry.retry_after_seconds(
                        response.headers.get("Retry-After")
                    ),
                    hint="The job is retried later.",
                )
            hint = (
                "Check the Shippo API token on the carrier backend."
                if status in (401, 403)
                else "Correct the data in Odoo, then try again."
            )
            raise PayloadError(
                f"Shippo refused the request (HTTP {status}): {message}",
                value=status,
                hint=hint,
            )
        return http.json_object(
            response, "Shippo", "Check the API URL on the carrier backend."
        )

    def register_track(self, carrier, tracking_number, metadata=None):
        """``POST /tracks/``: registers a tracking number for ``track_updated``
        webhooks; returns the Track as it is now."""
        carrier = str(carrier or "").strip()
        number = str(tracking_number or "").strip()
        if not carrier or not number:
            raise PayloadError(
                "A Shippo track needs a carrier and a tracking number.",
                value=f"{carrier}/{number}",
            )
        payload = {"carrier": carrier, "tracking_number": number}
        if metadata:
            payload["metadata"] = str(metadata)[:100]
        return self._call("POST", "/tracks/", payload=payload)

    def test_connection(self):
        """``GET /carrier_accounts/?results=1``: proves the URL and the token."""
        return self._call("GET", "/carrier_accounts/", params={"results": 1})
