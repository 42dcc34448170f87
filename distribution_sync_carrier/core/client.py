"""Client of the EasyPost REST API (v2), on ``requests``.

Requests go to ``{api_url}/<resource>`` (``api_url`` is
``https://api.easypost.com/v2``, or a local fake in tests) with the API key as
the HTTP basic-auth user name and an empty password, JSON bodies and a timeout
on every call. Methods return EasyPost's JSON objects as dicts (a Shipment, a
Tracker...); reading them is the job of ``easypost.py``.

The client does not retry: every failure is raised at once and the job queue
retries later, so that a worker is never held and a request that may have been
applied (a label bought) is never sent twice blindly.

Failures:

- timeouts, dropped connections and unreachable hosts raise ``TransientError``;
  its ``maybe_applied`` says whether EasyPost may have run the request (a read
  timeout or a connection lost after sending): the caller then reads the
  shipment again before buying (``SHIPMENT.POSTAGE.EXISTS`` is the proof of a
  second buy, see ``PostageExists``);
- HTTP error answers go through ``error_from_response``: EasyPost's envelope
  ``{"error": {"code", "message", "errors": [{"field", "message",
  "suggestion"}]}}`` (``errors`` may also be a list of strings) becomes
  ``AddressInvalid`` for ``ADDRESS.*`` codes, ``PostageExists`` for
  ``SHIPMENT.POSTAGE.EXISTS``, ``TransientError`` for 429 (with
  ``retry_after`` from ``Retry-After``) and other transient statuses (5xx), and
  ``PayloadError`` for the rest (401: the API key; 404: an unknown object;
  422: the data).

Label files (``download``) are fetched without the API key: EasyPost serves
them from a file host, which must not receive the key.
"""

import json
from collections.abc import Mapping
from urllib.parse import quote, urlsplit

import requests

if __name__.startswith("odoo.addons."):
    from odoo.addons.distribution_sync.core import errors, http, retry
else:
    from distribution_sync.core import errors, http, retry

PayloadError = errors.PayloadError
ConfigurationError = errors.ConfigurationError
TransientError = errors.TransientError

DEFAULT_API_URL = "https://api.easypost.com/v2"
DEFAULT_TIMEOUT = 20
POSTAGE_EXISTS_CODE = "SHIPMENT.POSTAGE.EXISTS"
ADDRESS_CODE_PREFIX = "ADDRESS."
_MESSAGE_LIMIT = 500
_TRANSIENT_HINT = "The job is retried later."


class AddressInvalid(PayloadError):
    """EasyPost refused an address (``ADDRESS.*`` codes, e.g.
    ``ADDRESS.VERIFY.FAILURE``); ``path`` names the first field it blamed,
    ``field_errors`` holds its ``[{"field", "message", "suggestion"}]``."""

    category = "validation"

    def __init__(self, message, *, code=None, field_errors=(), status=422, hint=""):
        field_errors = list(field_errors)
        # The field to correct: a precise one ("street1") before "address".
        fields = [e["field"] for e in field_errors if e.get("field")]
        first = next((f for f in fields if f != "address"), None) or next(
            iter(fields), None
        )
        super().__init__(
            message,
            value=code,
            hint=hint
            or "Correct the address (street, city, ZIP code, country) on the "
            "delivery or the warehouse, then try again.",
            path=first,
        )
        self.code = code
        self.status = status
        self.field_errors = field_errors


class PostageExists(errors.DuplicateDocument):
    """EasyPost answered ``SHIPMENT.POSTAGE.EXISTS``: postage was bought for the
    shipment before (often by a request whose answer was lost). Nothing was
    bought twice; the label and tracking code are on the shipment."""

    def __init__(self, message, *, code=POSTAGE_EXISTS_CODE, status=422, hint=""):
        super().__init__(
            message,
            value=code,
            hint=hint
            or "Read the shipment again from EasyPost: its label and tracking "
            "code are there. Do not buy again.",
        )
        self.code = code
        self.status = status
        self.field_errors = []


# ------------------------------------------------------------------ errors
def _parse_body(body):
    if isinstance(body, (bytes, bytearray)):
        body = bytes(body).decode("utf-8", "replace")
    text = body or ""
    try:
        return json.loads(text), text
    except ValueError:
        return None, text


def _field_errors(items):
    """``errors`` of the envelope as ``[{"field", "message", "suggestion"}]``
    (EasyPost sends objects or plain strings)."""
    result = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, Mapping):
            result.append(
                {
                    "field": str(item.get("field") or "").strip() or None,
                    "message": str(item.get("message") or "").strip() or None,
                    "suggestion": item.get("suggestion"),
                }
            )
        elif item not in (None, ""):
            result.append({"field": None, "message": str(item), "suggestion": None})
    return result


def _details(message, field_errors):
    """``"street1: House number is missing; zip: ..."``, leaving out items that
    only repeat the main message."""
    parts = []
    for item in field_errors:
        text = item["message"] or ""
        suggestion = item.get("suggestion")
        if suggestion:
            text = f"{text} (suggestion: {suggestion})" if text else str(suggestion)
        if not text or (text == message and item["field"] in (None, "address")):
            continue
        parts.append(f"{item['field']}: {text}" if item["field"] else text)
    return "; ".join(parts)


def error_from_response(status, body, retry_after=None):
    """The ``SyncError`` for an EasyPost HTTP error answer (see the module
    docstring); ``retry_after``: the ``Retry-After`` header or seconds.

    Every error returned carries ``code`` (EasyPost's, or None) and ``status``.
    """
    data, text = _parse_body(body)
    envelope = data.get("error") if isinstance(data, Mapping) else None
    if isinstance(envelope, str):
        envelope = {"message": envelope}
    if not isinstance(envelope, Mapping):
        envelope = {}
    code = str(envelope.get("code") or "").strip() or None
    message = str(envelope.get("message") or "").strip()
    if not message:
        message = text.strip()[:200] or f"HTTP {status}"
    message = message[:_MESSAGE_LIMIT]
    field_errors = _field_errors(envelope.get("errors"))
    details = _details(message, field_errors)
    full = f"{message} ({details})" if details else message
    if code and code.upper().startswith(ADDRESS_CODE_PREFIX):
        return AddressInvalid(
            f"EasyPost refused the address: {full}",
            code=code,
            field_errors=field_errors,
            status=status,
        )
    if code and code.upper() == POSTAGE_EXISTS_CODE:
        return PostageExists(
            f"EasyPost has already bought postage for this shipment: {full}",
            code=code,
            status=status,
        )
    if retry.is_transient_http_status(status):
        if isinstance(retry_after, (int, float)) and not isinstance(retry_after, bool):
            wait = retry.retry_after_seconds(str(retry_after))
        else:
            wait = retry.retry_after_seconds(retry_after)
        label = "limited the request rate" if status == 429 else "failed"
        error = TransientError(
            f"EasyPost {label} (HTTP {status}{f' {code}' if code else ''}): {full}",
            value=status,
            retry_after=wait,
            hint=_TRANSIENT_HINT,
        )
    else:
        if status in (401, 403):
            hint = "Check the EasyPost API key on the carrier backend."
        elif status == 404:
            hint = "EasyPost does not know this object (or the API URL is wrong)."
        else:
            hint = "Correct the data in Odoo, then try again."
        error = PayloadError(
            f"EasyPost refused the request (HTTP {status}"
            f"{f' {code}' if code else ''}): {full}",
            value=code or status,
            hint=hint,
        )
    error.code = code
    error.status = status
    error.field_errors = field_errors
    return error


# ------------------------------------------------------------------- client
class EasyPostClient:
    """EasyPost API client; see the module docstring. Not shared between threads."""

    def __init__(self, api_url, api_key, timeout=DEFAULT_TIMEOUT, session=None):
        base = str(api_url or "").strip().rstrip("/")
        if not base:
            raise ConfigurationError(
                "The EasyPost API URL is missing.",
                hint=f"Set the API URL on the carrier backend ({DEFAULT_API_URL}).",
            )
        if urlsplit(base).scheme not in ("http", "https"):
            raise ConfigurationError(
                f"{api_url!r} is not an http(s) URL.",
                value=api_url,
                hint=f"Set the API URL on the carrier backend ({DEFAULT_API_URL}).",
            )
        if not api_key:
            raise ConfigurationError(
                "The EasyPost API key is missing.",
                hint="Set the API key on the carrier backend.",
            )
        self.api_url = base
        self._api_key = str(api_key)
        self.timeout = timeout
        self.session = session if session is not None else requests.Session()
        self._own_session = session is None

    def __repr__(self):
        return f"<EasyPostClient {self.api_url}>"

    def close(self):
        if self._own_session:
            self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # -------------------------------------------------------------- HTTP
    def _send(self, method, url, *, payload=None, params=None, auth=True):
        """One request with the timeout; network failures -> ``TransientError``."""
        headers = {"Accept": "application/json"} if auth else {}
        try:
            return self.session.request(
                method,
                url,
                json=payload,
                params=params,
                headers=headers,
                auth=(self._api_key, "") if auth else None,
                timeout=self.timeout,
            )
        except requests.exceptions.RequestException as exc:
            raise self._network_error(exc, url) from exc

    def _network_error(self, exc, url):
        return http.network_error(
            exc,
            url,
            service="EasyPost",
            timeout=self.timeout,
            applied="the request may have been applied (a label bought)",
            reach_hint="Check the API URL",
            call_hint="Check the API URL on the carrier backend.",
            repeat_hint="Read the shipment again before repeating the request",
        )

    def _call(self, method, path, payload=None, params=None):
        response = self._send(
            method, self.api_url + path, payload=payload, params=params
        )
        if response.status_code >= 400:
            raise error_from_response(
                response.status_code,
                response.content,
                retry_after=response.headers.get("Retry-After"),
            )
        return http.json_object(
            response, "EasyPost", "Check the API URL on the carrier backend."
        )

    @staticmethod
    def _id(value, what):
        text = str(value or "").strip()
        if not text:
            raise PayloadError(f"The EasyPost {what} id is missing.", value=value)
        return quote(text, safe="")

    # ---------------------------------------------------------- shipments
    def create_shipment(self, payload):
        """``POST /shipments`` with ``{"shipment": {...}}``; the Shipment with
        its ``rates``."""
        if not isinstance(payload, Mapping) or not isinstance(
            payload.get("shipment"), Mapping
        ):
            raise PayloadError(
                'An EasyPost shipment request is {"shipment": {...}}.', value=payload
            )
        return self._call("POST", "/shipments", payload=dict(payload))

    def get_shipment(self, shipment_id):
        """``GET /shipments/<id>``: the Shipment as it is now."""
        return self._call("GET", f"/shipments/{self._id(shipment_id, 'shipment')}")

    def buy_shipment(self, shipment_id, rate_id):
        """``POST /shipments/<id>/buy`` with the chosen rate: the Shipment with
        ``postage_label``, ``tracking_code`` and ``tracker``. Raises
        ``PostageExists`` when postage was bought before."""
        path = f"/shipments/{self._id(shipment_id, 'shipment')}/buy"
        rate = str(rate_id or "").strip()
        if not rate:
            raise PayloadError("No EasyPost rate chosen to buy.", value=rate_id)
        return self._call("POST", path, payload={"rate": {"id": rate}})

    def refund_shipment(self, shipment_id):
        """``POST /shipments/<id>/refund``: the Shipment with ``refund_status``."""
        path = f"/shipments/{self._id(shipment_id, 'shipment')}/refund"
        return self._call("POST", path, payload={})

    # ----------------------------------------------------------- trackers
    def create_tracker(self, tracking_code, carrier=None):
        """``POST /trackers``: the Tracker (EasyPost answers the existing one
        for a tracking code and carrier it tracks already)."""
        code = str(tracking_code or "").strip()
        if not code:
            raise PayloadError("The tracking code is missing.", value=tracking_code)
        tracker = {"tracking_code": code}
        if carrier:
            tracker["carrier"] = str(carrier).strip()
        return self._call("POST", "/trackers", payload={"tracker": tracker})

    def get_tracker(self, tracker_id):
        """``GET /trackers/<id>``: the Tracker with its ``tracking_details``."""
        return self._call("GET", f"/trackers/{self._id(tracker_id, 'tracker')}")

    def test_connection(self):
        """``GET /trackers?page_size=1``: the cheapest call that proves the URL
        and the API key."""
        return self._call("GET", "/trackers", params={"page_size": 1})

    # -------------------------------------------------------------- files
    def download(self, url):
        """``(bytes, content type)`` of a label file (``postage_label.label_url``),
        fetched without the API key and with the same timeout."""
        text = str(url or "").strip()
        if urlsplit(text).scheme not in ("http", "https"):
            raise PayloadError(f"{url!r} is not a label URL.", value=url)
        response = self._send("GET", text, auth=False)
        if response.status_code >= 400:
            error = error_from_response(
                response.status_code,
                response.content,
                retry_after=response.headers.get("Retry-After"),
            )
            if not isinstance(error, TransientError):
                error = PayloadError(
                    f"The label file could not be downloaded (HTTP "
                    f"{response.status_code}): {text}",
                    value=response.status_code,
                    hint="Read the shipment again: EasyPost may give a new label URL.",
                )
            raise error
        content_type = response.headers.get("Content-Type") or ""
        return response.content, content_type.split(";", 1)[0].strip() or None
