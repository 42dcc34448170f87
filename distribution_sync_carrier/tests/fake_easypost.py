"""A local fake of the EasyPost API (v2), for tests.

Standard library only (it imports nothing from odoo nor from the addon), so that
both the addon's Odoo tests (``from .fake_easypost import FakeEasyPost``) and
the pure tests (which load this file by path) can use it::

    with FakeEasyPost(api_key="EZTK...", webhook_secret="s3cret") as fake:
        client = EasyPostClient(fake.url, fake.api_key)
        shipment = client.create_shipment({"shipment": {...}})
        client.buy_shipment(shipment["id"], shipment["rates"][0]["id"])
        fake.advance(tracker_id, "delivered", "Delivered, in mailbox")
        body, headers = fake.tracker_event(tracker_id)   # a signed webhook
        fake.requests, fake.shipments, fake.buys, fake.trackers, fake.refunds

What it serves, on 127.0.0.1 (port 0: a free port) from a daemon thread;
``url`` is the API URL to configure (``http://127.0.0.1:<port>/v2``):

- ``POST /v2/shipments`` (``{"shipment": {to_address, from_address, parcel,
  is_return, reference, options{label_format}}}``) -> a Shipment with one Rate
  per row of ``rate_table`` (default USPS Priority 7.58, USPS First 4.50, UPS
  Ground 9.10), ``selected_rate``/``postage_label``/``tracking_code``/``tracker``
  null. Ids are a prefix and 32 hex digits (``shp_``, ``rate_``, ``adr_``...);
  ``mode`` is ``"production"`` for an ``EZAK`` key, else ``"test"``;
- ``GET /v2/shipments/<id>``;
- ``POST /v2/shipments/<id>/buy`` (``{"rate": {"id"}}``) -> the Shipment with
  ``selected_rate``, ``postage_label`` (its ``label_url`` is served by the fake
  at ``<base_url>/labels/<file>``; ``label_file_type`` follows
  ``options.label_format``: PDF by default, PNG, ZPL), a unique test-style
  ``tracking_code`` (``EZ8000000001``, ...), a ``tracker`` (``pre_transit``)
  and ``fees`` (LabelFee 0.01, PostageFee = the rate; charged);
- ``POST /v2/shipments/<id>/refund`` -> ``refund_status`` ``"submitted"``
  (``complete_refund`` moves it on);
- ``POST /v2/trackers`` (``{"tracker": {tracking_code, carrier}}``) -> a
  Tracker; the same code and carrier give the same tracker (EasyPost dedupes).
  EasyPost's test codes set the status: ``EZ1000000001`` pre_transit,
  ``EZ2000000002`` in_transit, ``EZ3000000003`` out_for_delivery,
  ``EZ4000000004`` delivered, ``EZ5000000005`` return_to_sender,
  ``EZ6000000006`` failure, ``EZ7000000007`` unknown; other codes pre_transit;
- ``GET /v2/trackers/<id>`` and ``GET /v2/trackers`` (``{"trackers": [...],
  "has_more"}``, ``page_size``; the usual connection test);
- ``GET /labels/<file>``: the label bytes (a tiny PDF, PNG or ZPL body) with
  their ``Content-Type``; no API key needed, as on EasyPost's file host.

What it checks, answering EasyPost's error envelope ``{"error": {"code",
"message", "errors": [{"field", "message", "suggestion"}]}}``:

- HTTP basic auth with ``api_key`` as user name on every ``/v2`` call: 401
  ``APIKEY.REQUIRED`` without credentials, ``APIKEY.INACTIVE`` with another key;
- unknown paths: 404 ``NOT_FOUND``; a body that is not JSON: 400;
- addresses: a ``to_address`` or ``from_address`` without street1, city, zip or
  country, or whose zip is in ``bad_zips`` (default ``{"00000"}``): 422
  ``ADDRESS.VERIFY.FAILURE`` (shaped like EasyPost's documented example);
- parcel weight missing or not above zero: 422 ``PARCEL.WEIGHT.INVALID``;
- buying a shipment that has postage: 422 ``SHIPMENT.POSTAGE.EXISTS`` (the real
  rule that makes a double buy visible); a rate that is not the shipment's:
  422 ``SHIPMENT.RATE.INVALID``; refunding a shipment without postage or
  refunded already: 422 ``SHIPMENT.REFUND.UNAVAILABLE``; a tracker without
  tracking code: 422 ``PARAMETER.REQUIRED``;
- ``rate_limit=(requests, seconds)``: a request over the limit is answered
  429 ``RATE_LIMITED`` with ``Retry-After`` (seconds until a slot frees).

``ADDRESS.VERIFY.FAILURE`` and ``SHIPMENT.POSTAGE.EXISTS`` are EasyPost's codes;
the other codes are this fake's choice in EasyPost's style.

What it records: ``requests`` (``{"method", "path", "json", "operation",
"status", "auth_ok", "headers", "injected"}`` per request; ``status`` None
when the answer was dropped), ``shipments`` (id -> Shipment), ``buys`` (shipment
id -> successful buys), ``trackers`` (id -> Tracker), ``refunds`` (shipment id
-> refund status), ``labels`` (file name -> (bytes, content type)).

Failures are injected with ``fail_next(operation, mode)``, operation one of
``OPERATIONS`` (``"create_shipment"``, ``"get_shipment"``, ``"buy"``,
``"refund"``, ``"create_tracker"``, ``"get_tracker"``, ``"list_trackers"``,
``"label"``) and mode an HTTP status (answered instead of running the request,
nothing applied), ``"drop"`` (the request IS applied, e.g. the label bought,
then the connection is closed without an answer: the lost-answer case) or
``"slow"`` (applied, then answered after ``slow_seconds``, longer than the
client's timeout).

Webhooks: ``advance(tracker_id, status, ...)`` appends a TrackingDetail (an
EasyPost status: ``in_transit``, ``delivered``, ``return_to_sender``...) and
``tracker_event(tracker_id, event_id=None)`` builds the ``tracker.updated``
Event EasyPost would POST, as ``(body bytes, headers)`` signed with
``X-Hmac-Signature: hmac-sha256-hex=<hex HMAC-SHA256(NFKD(webhook_secret),
body)>``. The same ``event_id`` gives the same bytes again (a redelivery).
"""

import base64
import binascii
import copy
import hashlib
import hmac
import json
import math
import re
import struct
import threading
import time
import unicodedata
import uuid
import zlib
from collections import deque
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

DEFAULT_API_KEY = "EZTKfake0123456789abcdef0123456789"
DEFAULT_WEBHOOK_SECRET = "fake-webhook-secret"
DEFAULT_RATES = (
    {"carrier": "USPS", "service": "Priority", "rate": "7.58", "delivery_days": 2},
    {"carrier": "USPS", "service": "First", "rate": "4.50", "delivery_days": 3},
    {"carrier": "UPS", "service": "Ground", "rate": "9.10", "delivery_days": 5},
)
DEFAULT_BAD_ZIPS = frozenset({"00000"})
LABEL_FEE = Decimal("0.01")
SIGNATURE_HEADER = "X-Hmac-Signature"
SIGNATURE_PREFIX = "hmac-sha256-hex="

OPERATIONS = frozenset(
    {
        "create_shipment",
        "get_shipment",
        "buy",
        "refund",
        "create_tracker",
        "get_tracker",
        "list_trackers",
        "label",
    }
)
MODES = ("drop", "slow")

# EasyPost's test tracking codes and the status each one reports.
TEST_CODES = {
    "EZ1000000001": "pre_transit",
    "EZ2000000002": "in_transit",
    "EZ3000000003": "out_for_delivery",
    "EZ4000000004": "delivered",
    "EZ5000000005": "return_to_sender",
    "EZ6000000006": "failure",
    "EZ7000000007": "unknown",
}
# The scans a test tracker shows before reaching its status.
_HISTORY = {
    "pre_transit": ("pre_transit",),
    "in_transit": ("pre_transit", "in_transit"),
    "out_for_delivery": ("pre_transit", "in_transit", "out_for_delivery"),
    "delivered": ("pre_transit", "in_transit", "out_for_delivery", "delivered"),
    "return_to_sender": ("pre_transit", "in_transit", "return_to_sender"),
    "failure": ("pre_transit", "in_transit", "failure"),
    "unknown": (),
}
_SCAN_TEXT = {
    "pre_transit": ("Shipping Label Created", "label_created"),
    "in_transit": ("Arrived at USPS Facility", "arrived_at_facility"),
    "out_for_delivery": ("Out for Delivery", "out_for_delivery"),
    "delivered": ("Delivered, In/At Mailbox", "arrived_at_destination"),
    "return_to_sender": ("Return to Sender Processed", "return"),
    "failure": ("Delivery Attempt Failed", "address_not_found"),
}
FINAL_STATUSES = frozenset({"delivered", "return_to_sender", "failure", "cancelled"})
LABEL_TYPES = {
    "PDF": ("application/pdf", "pdf"),
    "PNG": ("image/png", "png"),
    "ZPL": ("application/zpl", "zpl"),
}

_SHIPMENT_RE = re.compile(r"^/v2/shipments/([^/]+)$")
_SHIPMENT_ACTION_RE = re.compile(r"^/v2/shipments/([^/]+)/(buy|refund)$")
_TRACKER_RE = re.compile(r"^/v2/trackers/([^/]+)$")
_LABEL_RE = re.compile(r"^/labels/([A-Za-z0-9_.-]+)$")


def new_id(prefix):
    """``prefix_`` and 32 hex digits, as EasyPost writes its ids."""
    return f"{prefix}_{uuid.uuid4().hex}"


def iso(moment=None):
    """``2025-05-09T20:40:17Z`` (UTC) for an aware datetime; now by default."""
    moment = moment or datetime.now(timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def signature(secret, body):
    """The ``X-Hmac-Signature`` value EasyPost sends for ``body``."""
    key = unicodedata.normalize("NFKD", secret).encode("utf-8")
    digest = hmac.new(key, body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def envelope(code, message, errors=()):
    """EasyPost's error body."""
    return {"error": {"code": code, "message": message, "errors": list(errors)}}


def field_error(field, message):
    return {"field": field, "message": message, "suggestion": None}


def _png_1x1():
    def chunk(kind, data):
        crc = binascii.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff"))
        + chunk(b"IEND", b"")
    )


def label_body(label_format, tracking_code):
    """A tiny body that looks like a label of that format."""
    if label_format == "PNG":
        return _png_1x1()
    if label_format == "ZPL":
        return f"^XA^FO50,50^A0N,40,40^FD{tracking_code}^FS^XZ\n".encode("ascii")
    text = f"BT /F1 24 Tf 72 720 Td ({tracking_code}) Tj ET"
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 288 432]"
        b"/Contents 4 0 R>>endobj\n"
        + f"4 0 obj<</Length {len(text)}>>stream\n{text}\nendstream endobj\n".encode(
            "ascii"
        )
        + b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def _carrier_account(carrier):
    """A stable ``ca_`` id per carrier, as one account per carrier would have."""
    return "ca_" + hashlib.sha256(str(carrier).encode()).hexdigest()[:32]


def _positive_number(value):
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() and number > 0 else None


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeEasyPost/1.0"
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, delayed ACKs cost
    # about 40 ms per answer.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):
        """Silence the default access log on stderr."""

    def do_GET(self):
        self.server.fake.handle(self)

    def do_POST(self):
        self.server.fake.handle(self)

    def send_body(self, status, payload, headers=None):
        headers = dict(headers or {})
        if isinstance(payload, bytes):
            data = payload
        else:
            data = json.dumps(payload).encode("utf-8")
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, str(value))
        self.end_headers()
        self.wfile.write(data)


class FakeEasyPost:
    """The fake EasyPost; serves at once (``.url``), ``.stop()`` ends it."""

    def __init__(
        self,
        *,
        api_key=DEFAULT_API_KEY,
        webhook_secret=DEFAULT_WEBHOOK_SECRET,
        rates=None,
        bad_zips=DEFAULT_BAD_ZIPS,
        rate_limit=None,
        slow_seconds=3.0,
    ):
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.mode = "production" if str(api_key).startswith("EZAK") else "test"
        self.rate_table = [dict(row) for row in (rates or DEFAULT_RATES)]
        self.bad_zips = set(bad_zips)
        self.rate_limit = rate_limit
        self.slow_seconds = slow_seconds
        self.user_id = new_id("user")
        self.requests = []
        self.shipments = {}
        self.buys = {}
        self.trackers = {}
        self.refunds = {}
        self.labels = {}
        self._previous_status = {}  # tracker id -> status before the last change
        self._events = {}  # event id -> body bytes
        self._serial = 0
        self._failures = {}
        self._window = deque()
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self.url = f"{self.base_url}/v2"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-easypost",
            daemon=True,
        )
        self._thread.start()

    # --------------------------------------------------------------- life
    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def stop(self):
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = None

    # ------------------------------------------------------------ control
    def fail_next(self, operation, mode=500, *, times=1, retry_after=None):
        """The next ``times`` requests of ``operation`` fail with ``mode``: an
        HTTP status (not applied), ``"drop"`` or ``"slow"`` (both applied)."""
        if operation not in OPERATIONS:
            raise ValueError(f"Unknown operation {operation!r}: {sorted(OPERATIONS)}")
        if mode not in MODES and not (
            isinstance(mode, int) and not isinstance(mode, bool) and mode >= 400
        ):
            raise ValueError(f"Unknown failure mode {mode!r}.")
        with self._lock:
            queue = self._failures.setdefault(operation, deque())
            for _ in range(times):
                queue.append({"mode": mode, "retry_after": retry_after})

    def clear_failures(self):
        with self._lock:
            self._failures.clear()

    def count(self, operation):
        """Requests received for an operation (``"buy"``, ...)."""
        return sum(1 for r in self.requests if r["operation"] == operation)

    def tracker_of(self, shipment_id):
        """The Tracker bought with a shipment (None before the buy)."""
        with self._lock:
            shipment = self.shipments[shipment_id]
            tracker_id = shipment.get("_tracker_id")
            return copy.deepcopy(self.trackers[tracker_id]) if tracker_id else None

    def complete_refund(self, shipment_id, status="refunded"):
        """EasyPost's later verdict on a submitted refund (``refunded`` or
        ``rejected``)."""
        with self._lock:
            shipment = self.shipments[shipment_id]
            shipment["refund_status"] = status
            shipment["updated_at"] = iso()
            self.refunds[shipment_id] = status

    # ---------------------------------------------------------- webhooks
    def sign(self, body):
        """The ``X-Hmac-Signature`` header value for ``body``."""
        return signature(self.webhook_secret, body)

    def advance(
        self,
        tracker_id,
        status,
        message="Status update",
        when=None,
        status_detail=None,
        location=None,
    ):
        """Append a carrier scan to a tracker and make ``status`` (an EasyPost
        value) its status. ``location``: ``{"city", "state", "country",
        "zip"}``. Returns the TrackingDetail."""
        moment = when or datetime.now(timezone.utc)
        location = location or {}
        with self._lock:
            tracker = self.trackers[tracker_id]
            detail = {
                "object": "TrackingDetail",
                "message": message,
                "description": message,
                "status": status,
                "status_detail": status_detail,
                "datetime": iso(moment),
                "source": tracker.get("carrier"),
                "carrier_code": None,
                "tracking_location": {
                    "object": "TrackingLocation",
                    "city": location.get("city"),
                    "state": location.get("state"),
                    "country": location.get("country"),
                    "zip": location.get("zip"),
                },
            }
            self._previous_status[tracker_id] = tracker["status"]
            tracker["tracking_details"].append(detail)
            tracker["status"] = status
            tracker["status_detail"] = status_detail
            tracker["updated_at"] = iso()
            tracker["finalized"] = status in FINAL_STATUSES
            if status == "delivered":
                tracker["est_delivery_date"] = iso(moment)
            return copy.deepcopy(detail)

    def tracker_event(self, tracker_id, event_id=None, description="tracker.updated"):
        """``(body, headers)`` of the signed Event EasyPost would POST for the
        tracker as it is now; the same ``event_id`` gives the same body."""
        with self._lock:
            body = self._events.get(event_id) if event_id else None
            if body is None:
                event_id = event_id or new_id("evt")
                tracker = copy.deepcopy(self.trackers[tracker_id])
                previous = self._previous_status.get(tracker_id)
                now = iso()
                event = {
                    "id": event_id,
                    "object": "Event",
                    "created_at": now,
                    "updated_at": now,
                    "description": description,
                    "mode": self.mode,
                    "previous_attributes": {"status": previous} if previous else {},
                    "pending_urls": [],
                    "completed_urls": [],
                    "user_id": self.user_id,
                    "status": "pending",
                    "result": tracker,
                }
                body = json.dumps(event, separators=(",", ":")).encode("utf-8")
                self._events[event_id] = body
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: self.sign(body),
        }
        return body, headers

    # ----------------------------------------------------------- requests
    def _route(self, method, path):
        """``(operation, id)`` of a request; ``(None, None)`` when unknown."""
        if method == "GET":
            match = _LABEL_RE.match(path)
            if match:
                return "label", match.group(1)
            if path == "/v2/trackers":
                return "list_trackers", None
            match = _TRACKER_RE.match(path)
            if match:
                return "get_tracker", match.group(1)
            match = _SHIPMENT_RE.match(path)
            if match:
                return "get_shipment", match.group(1)
        elif method == "POST":
            if path == "/v2/shipments":
                return "create_shipment", None
            if path == "/v2/trackers":
                return "create_tracker", None
            match = _SHIPMENT_ACTION_RE.match(path)
            if match:
                operation = "buy" if match.group(2) == "buy" else "refund"
                return operation, match.group(1)
        return None, None

    def _auth_ok(self, header):
        if not header or not header.lower().startswith("basic "):
            return False
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        user = decoded.split(":", 1)[0]
        return hmac.compare_digest(user.encode(), str(self.api_key).encode())

    def handle(self, handler):
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw.decode("utf-8")) if raw else None
            bad_json = False
        except (UnicodeDecodeError, ValueError):
            body, bad_json = None, True
        parts = urlsplit(handler.path)
        operation, object_id = self._route(handler.command, parts.path)
        auth_header = handler.headers.get("Authorization")
        record = {
            "method": handler.command,
            "path": handler.path,
            "json": body,
            "operation": operation,
            "status": None,
            "auth_ok": self._auth_ok(auth_header),
            "headers": dict(handler.headers.items()),
            "injected": None,
        }
        with self._lock:
            self.requests.append(record)
        status, payload, headers, failure = self._answer(
            record, object_id, body, bad_json, parse_qs(parts.query)
        )
        mode = failure["mode"] if failure else None
        if mode == "drop":
            # Applied, then no answer at all: the client sees the connection end.
            handler.close_connection = True
            return
        if mode == "slow":
            time.sleep(self.slow_seconds)
            handler.close_connection = True
        record["status"] = status
        try:
            handler.send_body(status, payload, headers)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True

    def _answer(self, record, object_id, body, bad_json, query):
        """``(status, payload, headers, failure)`` for one request."""
        operation = record["operation"]
        if operation is None:
            return (
                404,
                envelope("NOT_FOUND", "The requested resource could not be found."),
                None,
                None,
            )
        if operation != "label":
            if not record["auth_ok"]:
                sent = {key.lower() for key in record["headers"]}
                if "authorization" not in sent:
                    answer = envelope("APIKEY.REQUIRED", "Missing or invalid API key.")
                else:
                    answer = envelope(
                        "APIKEY.INACTIVE",
                        "This api key is no longer active. Please use a different "
                        "api key or reactivate this key.",
                    )
                return 401, answer, None, None
            limited = self._limited()
            if limited is not None:
                return limited + (None,)
        with self._lock:
            queue = self._failures.get(operation)
            failure = queue.popleft() if queue else None
        if failure is not None:
            record["injected"] = failure["mode"]
            if failure["mode"] not in MODES:
                return self._failure_answer(failure) + (None,)
        if bad_json:
            answer = envelope("BAD_REQUEST", "The request body is not valid JSON.")
            return 400, answer, None, failure
        with self._lock:
            method = getattr(self, f"_op_{operation}")
            status, payload, headers = method(object_id, body or {}, query)
        return status, payload, headers, failure

    def _limited(self):
        """429 (status, body, headers) when ``rate_limit`` is reached."""
        if not self.rate_limit:
            return None
        allowed, seconds = self.rate_limit
        with self._lock:
            now = time.monotonic()
            while self._window and self._window[0] <= now - seconds:
                self._window.popleft()
            if len(self._window) >= allowed:
                wait = max(1, math.ceil(self._window[0] + seconds - now))
                return (
                    429,
                    envelope(
                        "RATE_LIMITED",
                        "You have exceeded the rate limit. Please slow down.",
                    ),
                    {"Retry-After": wait},
                )
            self._window.append(now)
        return None

    @staticmethod
    def _failure_answer(failure):
        status = failure["mode"]
        headers = {}
        if failure["retry_after"] is not None:
            headers["Retry-After"] = failure["retry_after"]
        if status == 429:
            headers.setdefault("Retry-After", 1)
            answer = envelope(
                "RATE_LIMITED", "You have exceeded the rate limit. Please slow down."
            )
        elif status == 503:
            answer = envelope(
                "SERVICE.UNAVAILABLE",
                "The service is temporarily unavailable. Please try again later.",
            )
        elif status >= 500:
            answer = envelope(
                "INTERNAL_SERVER_ERROR", "We're sorry, something went wrong."
            )
        else:
            answer = envelope("BAD_REQUEST", f"Injected failure (HTTP {status}).")
        return status, answer, headers

    # --------------------------------------------------------- serialise
    def _shipment_json(self, shipment):
        data = {k: v for k, v in shipment.items() if not k.startswith("_")}
        tracker_id = shipment.get("_tracker_id")
        if tracker_id:
            tracker = self.trackers[tracker_id]
            data["tracker"] = copy.deepcopy(tracker)
            data["status"] = tracker["status"]
        return copy.deepcopy(data)

    def _not_found(self, kind):
        return (
            404,
            envelope("NOT_FOUND", f"The requested {kind} could not be found."),
            None,
        )

    def _address(self, address, now):
        return {
            "id": new_id("adr"),
            "object": "Address",
            "mode": self.mode,
            **{
                key: address.get(key)
                for key in (
                    "name",
                    "company",
                    "street1",
                    "street2",
                    "city",
                    "state",
                    "zip",
                    "country",
                    "phone",
                    "email",
                )
            },
            "residential": address.get("residential"),
            "verifications": {},
            "created_at": now,
            "updated_at": now,
        }

    def _address_problem(self, address):
        """The 422 answer for an address EasyPost would refuse, else None."""
        address = address if isinstance(address, dict) else {}
        missing = [
            field_error(key, "cannot be blank")
            for key in ("street1", "city", "zip", "country")
            if not str(address.get(key) or "").strip()
        ]
        if missing:
            return envelope(
                "ADDRESS.VERIFY.FAILURE", "Unable to verify address.", missing
            )
        zip_code = str(address.get("zip")).strip()
        if zip_code in self.bad_zips:
            return envelope(
                "ADDRESS.VERIFY.FAILURE",
                "Address not found",
                [
                    field_error("address", "Address not found"),
                    field_error("zip", f"Invalid ZIP code {zip_code}"),
                ],
            )
        return None

    # ---------------------------------------------------------- shipments
    def _op_create_shipment(self, _id, body, _query):
        data = body.get("shipment")
        if not isinstance(data, dict):
            answer = envelope(
                "PARAMETER.REQUIRED",
                "Missing required parameter.",
                [field_error("shipment", "is required")],
            )
            return 422, answer, None
        for key in ("to_address", "from_address"):
            problem = self._address_problem(data.get(key))
            if problem is not None:
                return 422, problem, None
        parcel = data.get("parcel") if isinstance(data.get("parcel"), dict) else {}
        weight = _positive_number(parcel.get("weight"))
        if weight is None:
            answer = envelope(
                "PARCEL.WEIGHT.INVALID",
                "Parcel weight must be greater than zero.",
                [field_error("weight", "must be greater than 0")],
            )
            return 422, answer, None
        options = dict(data.get("options") or {})
        label_format = str(options.get("label_format") or "PDF").upper()
        if label_format not in LABEL_TYPES:
            answer = envelope(
                "SHIPMENT.INVALID_PARAMS",
                f"Unsupported label format {label_format}.",
                [field_error("options.label_format", "must be PDF, PNG or ZPL")],
            )
            return 422, answer, None
        options["label_format"] = label_format
        options.setdefault("currency", "USD")
        now = iso()
        shipment_id = new_id("shp")
        rates = [
            {
                "id": new_id("rate"),
                "object": "Rate",
                "mode": self.mode,
                "service": row["service"],
                "carrier": row["carrier"],
                "rate": str(row["rate"]),
                "currency": row.get("currency", "USD"),
                "retail_rate": str(row["rate"]),
                "retail_currency": "USD",
                "list_rate": str(row["rate"]),
                "list_currency": "USD",
                "delivery_days": row.get("delivery_days"),
                "delivery_date": None,
                "delivery_date_guaranteed": False,
                "shipment_id": shipment_id,
                "carrier_account_id": _carrier_account(row["carrier"]),
                "created_at": now,
                "updated_at": now,
            }
            for row in self.rate_table
        ]
        to_address = self._address(data["to_address"], now)
        from_address = self._address(data["from_address"], now)
        shipment = {
            "id": shipment_id,
            "object": "Shipment",
            "mode": self.mode,
            "reference": data.get("reference"),
            "status": "unknown",
            "is_return": bool(data.get("is_return")),
            "to_address": to_address,
            "from_address": from_address,
            "return_address": copy.deepcopy(from_address),
            "buyer_address": copy.deepcopy(to_address),
            "parcel": {
                "id": new_id("prcl"),
                "object": "Parcel",
                "mode": self.mode,
                "length": parcel.get("length"),
                "width": parcel.get("width"),
                "height": parcel.get("height"),
                "predefined_package": parcel.get("predefined_package"),
                "weight": float(weight),
                "created_at": now,
                "updated_at": now,
            },
            "options": options,
            "customs_info": None,
            "insurance": None,
            "rates": rates,
            "selected_rate": None,
            "postage_label": None,
            "tracking_code": None,
            "tracker": None,
            "fees": [],
            "messages": [],
            "forms": [],
            "refund_status": None,
            "batch_id": None,
            "scan_form": None,
            "created_at": now,
            "updated_at": now,
            "_tracker_id": None,
        }
        self.shipments[shipment_id] = shipment
        return 201, self._shipment_json(shipment), None

    def _op_get_shipment(self, shipment_id, _body, _query):
        shipment = self.shipments.get(shipment_id)
        if shipment is None:
            return self._not_found("shipment")
        return 200, self._shipment_json(shipment), None

    def _op_buy(self, shipment_id, body, _query):
        shipment = self.shipments.get(shipment_id)
        if shipment is None:
            return self._not_found("shipment")
        if shipment["postage_label"] is not None:
            answer = envelope(
                "SHIPMENT.POSTAGE.EXISTS",
                "Postage already exists for this shipment.",
            )
            return 422, answer, None
        rate_id = (body.get("rate") or {}).get("id") if body else None
        rate = next((r for r in shipment["rates"] if r["id"] == rate_id), None)
        if rate is None:
            answer = envelope(
                "SHIPMENT.RATE.INVALID",
                "The rate is not a rate of this shipment.",
                [field_error("rate", f"{rate_id!r} is not a rate of this shipment")],
            )
            return 422, answer, None
        now = iso()
        self._serial += 1
        tracking_code = f"EZ8{self._serial:09d}"
        label_format = shipment["options"]["label_format"]
        content_type, extension = LABEL_TYPES[label_format]
        label_id = new_id("pl")
        file_name = f"{label_id}.{extension}"
        self.labels[file_name] = (label_body(label_format, tracking_code), content_type)
        label_url = f"{self.base_url}/labels/{file_name}"
        tracker = self._new_tracker(
            tracking_code, rate["carrier"], shipment_id=shipment_id, bought=True
        )
        tracker["is_return"] = shipment["is_return"]
        postage = Decimal(rate["rate"])
        shipment.update(
            {
                "selected_rate": copy.deepcopy(rate),
                "tracking_code": tracking_code,
                "postage_label": {
                    "id": label_id,
                    "object": "PostageLabel",
                    "label_url": label_url,
                    "label_file_type": content_type,
                    "label_size": "4x6",
                    "label_resolution": 300,
                    "label_date": now,
                    "label_type": "default",
                    "label_file": None,
                    "label_pdf_url": label_url if label_format == "PDF" else None,
                    "label_zpl_url": label_url if label_format == "ZPL" else None,
                    "label_epl2_url": None,
                    "integrated_form": "none",
                    "created_at": now,
                    "updated_at": now,
                },
                "fees": [
                    {
                        "object": "Fee",
                        "type": "LabelFee",
                        "amount": f"{LABEL_FEE:.5f}",
                        "charged": True,
                        "refunded": False,
                    },
                    {
                        "object": "Fee",
                        "type": "PostageFee",
                        "amount": f"{postage:.5f}",
                        "charged": True,
                        "refunded": False,
                    },
                ],
                "updated_at": now,
                "_tracker_id": tracker["id"],
            }
        )
        self.buys[shipment_id] = self.buys.get(shipment_id, 0) + 1
        return 200, self._shipment_json(shipment), None

    def _op_refund(self, shipment_id, _body, _query):
        shipment = self.shipments.get(shipment_id)
        if shipment is None:
            return self._not_found("shipment")
        if shipment["postage_label"] is None:
            answer = envelope(
                "SHIPMENT.REFUND.UNAVAILABLE",
                "No postage was bought for this shipment; there is nothing to refund.",
            )
            return 422, answer, None
        if shipment["refund_status"]:
            answer = envelope(
                "SHIPMENT.REFUND.UNAVAILABLE",
                "A refund has already been submitted for this shipment.",
            )
            return 422, answer, None
        shipment["refund_status"] = "submitted"
        shipment["updated_at"] = iso()
        self.refunds[shipment_id] = "submitted"
        return 200, self._shipment_json(shipment), None

    # ----------------------------------------------------------- trackers
    def _new_tracker(self, tracking_code, carrier, *, shipment_id=None, bought=False):
        now_moment = datetime.now(timezone.utc)
        now = iso(now_moment)
        status = "pre_transit" if bought else TEST_CODES.get(tracking_code, "")
        history = _HISTORY.get(status, ("pre_transit",))
        status = status or "pre_transit"
        details = []
        for index, step in enumerate(history):
            message, detail = _SCAN_TEXT[step]
            moment = now_moment - timedelta(hours=len(history) - 1 - index)
            details.append(
                {
                    "object": "TrackingDetail",
                    "message": message,
                    "description": message,
                    "status": step,
                    "status_detail": detail,
                    "datetime": iso(moment),
                    "source": carrier,
                    "carrier_code": None,
                    "tracking_location": {
                        "object": "TrackingLocation",
                        "city": None,
                        "state": None,
                        "country": None,
                        "zip": None,
                    },
                }
            )
        tracker_id = new_id("trk")
        public = base64.urlsafe_b64encode(f"v1:{tracker_id}".encode()).decode()
        tracker = {
            "id": tracker_id,
            "object": "Tracker",
            "mode": self.mode,
            "tracking_code": tracking_code,
            "status": status,
            "status_detail": details[-1]["status_detail"] if details else "unknown",
            "created_at": now,
            "updated_at": now,
            "signed_by": None,
            "weight": None,
            "est_delivery_date": iso(now_moment + timedelta(days=3)),
            "shipment_id": shipment_id,
            "carrier": carrier,
            "tracking_details": details,
            "carrier_detail": None,
            "finalized": status in FINAL_STATUSES,
            "is_return": False,
            "public_url": f"https://track.easypost.com/{public.rstrip('=')}",
            "fees": [],
        }
        self.trackers[tracker_id] = tracker
        return tracker

    def _op_create_tracker(self, _id, body, _query):
        data = body.get("tracker") if isinstance(body.get("tracker"), dict) else {}
        code = str(data.get("tracking_code") or "").strip()
        if not code:
            answer = envelope(
                "PARAMETER.REQUIRED",
                "Missing required parameter.",
                [field_error("tracking_code", "cannot be blank")],
            )
            return 422, answer, None
        carrier = str(data.get("carrier") or "").strip() or None
        for tracker in self.trackers.values():
            if tracker["tracking_code"] == code and (
                carrier is None or tracker["carrier"].upper() == carrier.upper()
            ):
                return 200, copy.deepcopy(tracker), None
        tracker = self._new_tracker(code, carrier or "USPS")
        return 201, copy.deepcopy(tracker), None

    def _op_get_tracker(self, tracker_id, _body, _query):
        tracker = self.trackers.get(tracker_id)
        if tracker is None:
            return self._not_found("tracker")
        return 200, copy.deepcopy(tracker), None

    def _op_list_trackers(self, _id, _body, query):
        try:
            page_size = max(1, min(100, int((query.get("page_size") or [20])[0])))
        except ValueError:
            page_size = 20
        trackers = sorted(
            self.trackers.values(), key=lambda t: t["created_at"], reverse=True
        )
        page = [copy.deepcopy(t) for t in trackers[:page_size]]
        return 200, {"trackers": page, "has_more": len(trackers) > page_size}, None

    # -------------------------------------------------------------- files
    def _op_label(self, file_name, _body, _query):
        found = self.labels.get(file_name)
        if found is None:
            return 404, b"Not Found", {"Content-Type": "text/plain"}
        data, content_type = found
        return 200, data, {"Content-Type": content_type}
