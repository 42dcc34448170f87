"""EasyPost, pure: webhook signature and identity, trackers, shipments, rates.

Webhooks: the body is an ``Event`` (``description`` ``tracker.created`` /
``tracker.updated``, ``result`` a Tracker); duplicates share the Event ``id``;
``X-Hmac-Signature`` is ``hmac-sha256-hex=<hex HMAC-SHA256 of the raw body>``
keyed with the NFKD-normalised webhook secret.

Shipments: ``shipment_request`` turns the canonical shipment request (built by
the Odoo side, documented there) into EasyPost's ``POST /shipments`` body, in
EasyPost's units (ounces, inches); ``parse_shipment`` reads a Shipment back;
``select_rate`` picks the rate of the configured ``Carrier/Service``.

Every reader raises ``PayloadError`` naming the path of a bad key, never
another exception.
"""

import unicodedata
from collections.abc import Mapping
from decimal import ROUND_CEILING, Decimal, localcontext

from .common import (
    PayloadError,
    amount,
    as_list,
    as_object,
    flag,
    header,
    key_path,
    location,
    long_text,
    newest_message,
    optional_object,
    required_text,
    text,
    time,
    url,
)

if __name__.startswith("odoo.addons."):
    from odoo.addons.distribution_sync.core import (
        errors,
        idempotency,
        signature,
        tracking,
    )
    from odoo.addons.distribution_sync.core.shipment import (
        DEFAULT_LABEL_FORMAT,
        DIMENSION_KEYS,
        LABEL_FORMATS,
        validate_shipment,
    )
else:
    from distribution_sync.core import (
        errors,
        idempotency,
        signature,
        tracking,
    )
    from distribution_sync.core.shipment import (
        DEFAULT_LABEL_FORMAT,
        DIMENSION_KEYS,
        LABEL_FORMATS,
        validate_shipment,
    )


# EasyPost tracker status -> ours (external-apis §3.4).
STATUS_MAP = {
    "unknown": "unknown",
    "pre_transit": "pre_transit",
    "in_transit": "in_transit",
    "out_for_delivery": "out_for_delivery",
    "available_for_pickup": "available_for_pickup",
    "delivered": "delivered",
    "return_to_sender": "returned",
    "failure": "exception",
    "error": "exception",
    "cancelled": "exception",
}

SIGNATURE_HEADER = "X-Hmac-Signature"
SIGNATURE_PREFIX = "hmac-sha256-hex="

# Exact definitions: 1 oz = 28.349523125 g, 1 in = 2.54 cm.
GRAMS_PER_OUNCE = Decimal("28.349523125")
CM_PER_INCH = Decimal("2.54")
_TENTH = Decimal("0.1")
# canonical key -> EasyPost Address key
ADDRESS_KEYS = {
    "name": "name",
    "company": "company",
    "street": "street1",
    "street2": "street2",
    "city": "city",
    "state": "state",
    "zip": "zip",
    "country": "country",
    "phone": "phone",
    "email": "email",
}
# postage_label.label_file_type -> label format
_FILE_TYPES = {
    "image/png": "PNG",
    "application/pdf": "PDF",
    "application/zpl": "ZPL",
    "application/x-zpl": "ZPL",
}
_FORMAT_URL_KEYS = (("PDF", "label_pdf_url"), ("ZPL", "label_zpl_url"))


# ----------------------------------------------------------------- webhooks
def verify_signature(secret, body: bytes, headers) -> bool:
    """True when ``X-Hmac-Signature`` (any case) is ``hmac-sha256-hex=`` and the
    hex HMAC-SHA256 of the raw ``body`` keyed with the NFKD-normalised
    ``secret`` (hex digits in either case; the digest decides, so a missing
    prefix is tolerated), compared in constant time. False for an empty secret
    or a missing header."""
    if isinstance(secret, str):
        secret = unicodedata.normalize("NFKD", secret)
    if isinstance(body, str):
        body = body.encode("utf-8")
    return signature.verify_hmac(
        secret,
        body,
        header(headers, SIGNATURE_HEADER),
        encoding="hex",
        prefix=SIGNATURE_PREFIX,
    )


def event_identity(data: dict) -> dict:
    """What the intake stores with an Event: ``topic`` (its ``description``),
    ``idempotency_key`` ``easypost:event:<id>`` (hashed when very long),
    ``external_id`` (the tracker id of a ``tracker.*`` event, else None) and
    ``work_key`` ``easypost:tracker:<tracker id>`` (None without a tracker).
    ``PayloadError`` when ``id`` or ``description`` is missing or unusable."""
    data = as_object(data, "")
    event_id = required_text(data, "id", "")
    topic = required_text(data, "description", "")
    result = data.get("result")
    tracker_id = None
    if isinstance(result, Mapping) and (
        topic.startswith("tracker.") or result.get("object") == "Tracker"
    ):
        tracker_id = text(result, "id", "result")
    return {
        "topic": topic,
        "idempotency_key": idempotency.message_key("easypost", "event", event_id),
        "external_id": tracker_id,
        "work_key": (
            idempotency.message_key("easypost", "tracker", tracker_id)
            if tracker_id
            else None
        ),
    }


# ----------------------------------------------------------------- trackers
def map_status(obj, key, path):
    """Our status of an EasyPost status field; a value EasyPost may add later
    is ``unknown`` (its text stays in ``status_detail`` or the event)."""
    value = text(obj, key, path)
    return STATUS_MAP.get(value.lower(), "unknown") if value else "unknown"


def _event(detail, path):
    detail = as_object(detail, path)
    message = long_text(detail, "message", path)
    description = long_text(detail, "description", path)
    return {
        "status": map_status(detail, "status", path),
        "status_detail": text(detail, "status_detail", path),
        "description": message or description,
        "event_time": time(detail, "datetime", path, required=True),
        "location": location(
            detail.get("tracking_location"), key_path(path, "tracking_location")
        ),
    }


def parse_tracker(tracker: dict, path: str = "") -> dict:
    """A Tracker as a canonical tracking update (``tracking.parse_tracking_update``),
    provider ``easypost``: one event per ``tracking_details`` entry (text from
    ``message``, else ``description``; location ``City, ST, ZIP, CC``),
    ``message`` the newest text of the tracker's status. ``path`` prefixes the
    error paths (``"result"`` for an Event's tracker)."""
    tracker = as_object(tracker, path)
    status = map_status(tracker, "status", path)
    details_path = key_path(path, "tracking_details")
    events = [
        _event(detail, f"{details_path}[{index}]")
        for index, detail in enumerate(
            as_list(tracker.get("tracking_details"), details_path)
        )
    ]
    return tracking.parse_tracking_update(
        {
            "provider": "easypost",
            "tracker_id": text(tracker, "id", path),
            "shipment_id": text(tracker, "shipment_id", path),
            "tracking_code": required_text(tracker, "tracking_code", path),
            "carrier": text(tracker, "carrier", path),
            "status": status,
            "status_detail": text(tracker, "status_detail", path),
            "message": newest_message(events, status),
            "public_url": url(tracker, "public_url", path),
            "is_return": flag(tracker, "is_return", path),
            "est_delivery": time(tracker, "est_delivery_date", path),
            "updated_at": time(tracker, "updated_at", path),
            "events": events,
        }
    )


def parse_event(data: dict) -> dict:
    """The tracker of a ``tracker.*`` Event body as a canonical tracking update
    (``parse_tracker`` of ``result``; error paths start with ``result``)."""
    data = as_object(data, "")
    result = data.get("result")
    if result is None:
        raise PayloadError("Missing required field result.", path="result")
    return parse_tracker(result, "result")


# ---------------------------------------------------------------- shipments
def _round_up_tenth(value):
    """``value`` rounded up to a tenth, as a float (JSON): a parcel declared
    lighter or smaller than it is gets a carrier adjustment charge."""
    with localcontext() as context:
        context.prec = 50
        return float(value.quantize(_TENTH, rounding=ROUND_CEILING))


def parcel_payload(parcel: dict, path: str = "parcel") -> dict:
    """EasyPost Parcel: ``weight`` in ounces from ``weight_kg`` (> 0), and
    ``length``/``width``/``height`` in inches from the ``*_cm`` keys when all
    three are given (a missing or 0 dimension means none), each rounded up to
    a tenth. ``PayloadError`` naming the key for a bad value."""
    parcel = as_object(parcel, path)
    weight = amount(parcel, "weight_kg", path, required=True)
    if weight <= 0:
        raise PayloadError(
            f"{key_path(path, 'weight_kg')}: the weight must be more than 0 kg.",
            value=str(weight),
            path=key_path(path, "weight_kg"),
        )
    with localcontext() as context:
        context.prec = 50
        result = {"weight": _round_up_tenth(weight * 1000 / GRAMS_PER_OUNCE)}
        dimensions = {}
        for key in DIMENSION_KEYS:
            if parcel.get(f"{key}_cm") is False:
                continue
            value = amount(parcel, f"{key}_cm", path)
            if value is not None and value < 0:
                raise PayloadError(
                    f"{key_path(path, key + '_cm')}: a length cannot be negative.",
                    value=str(value),
                    path=key_path(path, f"{key}_cm"),
                )
            if value:
                dimensions[key] = _round_up_tenth(value / CM_PER_INCH)
    if len(dimensions) == len(DIMENSION_KEYS):
        result.update(dimensions)
    elif dimensions:
        raise PayloadError(
            f"{path}: give length, width and height, or none of them.",
            path=path,
        )
    return result


def address_payload(address: dict, path: str = "address") -> dict:
    """EasyPost Address from a canonical one (``street`` -> ``street1``,
    ``country`` upper case); empty values are left out."""
    address = as_object(address, path)
    result = {}
    for key, easypost_key in ADDRESS_KEYS.items():
        if address.get(key) is False:
            continue
        value = text(address, key, path)
        if value:
            result[easypost_key] = value.upper() if key == "country" else value
    return result


def shipment_request(shipment: dict) -> dict:
    """EasyPost's ``POST /shipments`` body ``{"shipment": {"to_address",
    "from_address", "parcel", "is_return", "reference", "options":
    {"label_format"}}}`` from a canonical shipment request. ``PayloadError``
    listing the ``validate_shipment`` problems, or naming a bad key."""
    problems = validate_shipment(shipment)
    if problems:
        raise errors.DocumentRefused(
            "The shipment cannot be sent to EasyPost: " + " ".join(problems),
            hint="Complete the delivery (weights, addresses), then validate again.",
        )
    label_format = shipment.get("label_format") or DEFAULT_LABEL_FORMAT
    body = {
        "to_address": address_payload(shipment["to_address"], "to_address"),
        "from_address": address_payload(shipment["from_address"], "from_address"),
        "parcel": parcel_payload(shipment["parcel"], "parcel"),
        "is_return": flag(shipment, "is_return", ""),
        "options": {"label_format": label_format.upper()},
    }
    reference = text(shipment, "reference", "")
    if reference:
        body["reference"] = reference
    return {"shipment": body}


def _label(label, wanted):
    """``(url, format)`` of a PostageLabel: the URL of the ``wanted`` format
    when EasyPost made it, else PDF, ZPL, then ``label_url`` (PNG by default)."""
    urls = {}
    main = url(label, "label_url", "postage_label")
    if main:
        file_type = (text(label, "label_file_type", "postage_label") or "").lower()
        main_format = _FILE_TYPES.get(file_type)
        if main_format is None:
            extension = main.split("?", 1)[0].rsplit(".", 1)[-1].upper()
            main_format = extension if extension in LABEL_FORMATS else None
        urls[main_format] = main
    for label_format, key in _FORMAT_URL_KEYS:
        value = url(label, key, "postage_label")
        if value:
            urls[label_format] = value
    for label_format in (wanted, "PDF", "ZPL", "PNG", None):
        if label_format in urls:
            return urls[label_format], label_format
    return None, None


def _rate(rate, path):
    rate = as_object(rate, path)
    return {
        "id": required_text(rate, "id", path),
        "carrier": text(rate, "carrier", path),
        "service": text(rate, "service", path),
        "rate": amount(rate, "rate", path, required=True),
        "currency": text(rate, "currency", path),
    }


def _fees_total(fees, path):
    total = Decimal(0)
    for index, fee in enumerate(as_list(fees, path)):
        fee_path = f"{path}[{index}]"
        fee = as_object(fee, fee_path)
        charged = flag(fee, "charged", fee_path)
        refunded = flag(fee, "refunded", fee_path)
        value = amount(fee, "amount", fee_path) or Decimal(0)
        if charged and not refunded:
            total += value
    return total


def parse_shipment(data: dict) -> dict:
    """What Odoo keeps of an EasyPost Shipment: ``id``, ``tracking_code``,
    ``bought`` (a ``postage_label`` is there), ``label_url`` and
    ``label_format`` (see ``_label``), ``rate``/``currency``/``carrier``/
    ``service`` of ``selected_rate`` (``rate`` a Decimal), ``fees_total`` (the
    fees charged and not refunded), ``tracker_id``/``public_url`` of
    ``tracker``, ``refund_status`` and ``rates`` (``id``, ``carrier``,
    ``service``, ``rate`` Decimal, ``currency``). Absent values are None."""
    data = as_object(data, "")
    label = optional_object(data, "postage_label", "")
    options = optional_object(data, "options", "") or {}
    wanted = text(options, "label_format", "options")
    label_url, label_format = (
        _label(label, wanted.upper() if wanted else None) if label else (None, None)
    )
    selected = optional_object(data, "selected_rate", "") or {}
    tracker = optional_object(data, "tracker", "") or {}
    return {
        "id": required_text(data, "id", ""),
        "tracking_code": text(data, "tracking_code", ""),
        "bought": label is not None,
        "label_url": label_url,
        "label_format": label_format,
        "rate": amount(selected, "rate", "selected_rate"),
        "currency": text(selected, "currency", "selected_rate"),
        "carrier": text(selected, "carrier", "selected_rate"),
        "service": text(selected, "service", "selected_rate"),
        "fees_total": _fees_total(data.get("fees"), "fees"),
        "tracker_id": text(tracker, "id", "tracker"),
        "public_url": url(tracker, "public_url", "tracker"),
        "refund_status": text(data, "refund_status", ""),
        "rates": [
            _rate(rate, f"rates[{index}]")
            for index, rate in enumerate(as_list(data.get("rates"), "rates"))
        ],
    }


class RateNotOffered(errors.SyncError):
    """EasyPost offered no rate for the configured carrier/service; the message
    lists what it offered. ``service`` and ``offered`` keep both."""

    category = "validation"

    def __init__(self, service, offered):
        self.service = service
        self.offered = list(offered)
        hint = (
            "Choose an offered service on the shipping method, or check the "
            "package and the addresses, then try again."
        )
        offered_text = ", ".join(self.offered) or "nothing"
        if service:
            message = (
                f'EasyPost offers no "{service}" rate for this shipment; '
                f"offered: {offered_text}. {hint}"
            )
        else:
            message = (
                "No carrier service is set on the shipping method; EasyPost "
                f"offered: {offered_text}. {hint}"
            )
        super().__init__(
            message,
            value=service,
            hint=hint,
        )


def _same(a, b):
    return (a or "").strip().casefold() == (b or "").strip().casefold()


def select_rate(rates, service: str) -> dict:
    """The rate of ``service`` (``"USPS/Priority"``: carrier/service, either
    case; a bare ``"Priority"`` matches any carrier), the cheapest when several
    match, as ``parse_shipment`` gives rates (``id``, ``carrier``, ``service``,
    ``rate`` Decimal, ``currency``). ``rates``: ``parse_shipment``'s or
    EasyPost's raw ones (``PayloadError`` naming a bad one).
    ``RateNotOffered`` when none matches."""
    wanted = str(service or "").strip()
    carrier, slash, name = wanted.partition("/")
    if not slash:
        carrier, name = "", carrier
    candidates, offered = [], []
    for index, rate in enumerate(as_list(rates, "rates")):
        rate = _rate(rate, f"rates[{index}]")
        described = f"{rate['carrier']}/{rate['service']} ({rate['rate']:.2f}"
        described += f" {rate['currency']})" if rate["currency"] else ")"
        offered.append(described)
        if (
            name
            and _same(rate["service"], name)
            and (not carrier or _same(rate["carrier"], carrier))
        ):
            candidates.append((rate["rate"], index, rate))
    if not candidates:
        raise RateNotOffered(wanted, offered)
    return min(candidates, key=lambda item: item[:2])[2]
