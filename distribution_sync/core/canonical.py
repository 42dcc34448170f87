"""Canonical order and refund forms: what channel mappers produce and the Odoo
importer consumes.

``parse_order`` and ``parse_refund`` validate and normalise such dicts; every error
names the path of the offending key (``lines[1].quantity``) so a person can find it
in the payload.
"""

import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from .errors import PayloadError
from .money import to_decimal

_MISSING = object()

# Longest text of a field: names, ids and addresses are indexed, and a btree
# index entry holds about 2700 bytes (4 per character at worst).
MAX_TEXT_LENGTH = 500
# Largest amount or quantity (in absolute value): Odoo keeps them in floats,
# exact to the cent only well below 10^13, and its journal entries stop
# balancing (or its tax computation never ends) above.
MAX_NUMBER = Decimal(10) ** 12

_ISO_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)

ADDRESS_KEYS = (
    "name",
    "street",
    "street2",
    "city",
    "zip",
    "state_code",
    "country_code",
    "phone",
    "email",
)


def shown(value, limit=100, *, as_text=False):
    """``repr(value)`` (``str`` when ``as_text``) cut to ``limit`` characters,
    for messages: an int of more than 4,300 digits has no text form (Python's
    limit: ``ValueError``)."""
    try:
        return (str(value) if as_text else repr(value))[:limit]
    except ValueError:
        return f"an integer of {value.bit_length()} bits"


def parse_datetime(value) -> datetime:
    """Parse ISO 8601 (offset, "Z", or none meaning UTC) into an aware UTC datetime.

    Accepts any number of fractional digits (truncated to microseconds) and
    ``datetime`` objects. Raises ``PayloadError`` for anything else.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        match = _ISO_RE.match(value.strip())
        if not match:
            raise PayloadError(
                f"{shown(value)} is not an ISO 8601 date-time.", value=shown(value)
            )
        year, month, day, hour, minute, second, fraction, offset = match.groups()
        try:
            tzinfo = None
            if offset and offset.upper() != "Z":
                digits = offset[1:].replace(":", "")
                delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
                tzinfo = timezone(-delta if offset[0] == "-" else delta)
            elif offset:
                tzinfo = timezone.utc
            parsed = datetime(
                int(year),
                int(month),
                int(day),
                int(hour or 0),
                int(minute or 0),
                int(second or 0),
                int((fraction or "0")[:6].ljust(6, "0")),
                tzinfo=tzinfo,
            )
        except ValueError as exc:
            raise PayloadError(
                f"{value!r} is not a valid date-time: {exc}.", value=value
            ) from exc
    else:
        raise PayloadError(
            f"{shown(value)} is not an ISO 8601 date-time.", value=shown(value)
        )
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:
        raise PayloadError(
            f"{value!r} is out of the supported date range.", value=value
        ) from None


def is_stale(incoming_updated_at, applied_updated_at) -> bool:
    """True only when both are known and the incoming version is older.

    An equal timestamp is not stale: replaying the same version must stay idempotent.
    Any falsy value (None, or False from an empty Odoo field) counts as unknown.
    """
    if not incoming_updated_at or not applied_updated_at:
        return False
    return parse_datetime(incoming_updated_at) < parse_datetime(applied_updated_at)


def to_jsonable(obj):
    """Recursively turn ``Decimal`` into str and datetimes into ISO strings."""
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, (datetime, date)):
        return obj.isoformat()
    if isinstance(obj, dict):
        return {key: to_jsonable(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(value) for value in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted(to_jsonable(value) for value in obj)
    return obj


# Field parsers for mappers and the spec tables below: each takes (value, path),
# returns the normalised value and raises PayloadError naming ``path``. A null value
# means "absent" and is handled by the callers, except in clean_identifier.


def _error(path, problem, value=None):
    return PayloadError(f"{path}: {problem}", value=value, path=path)


def _missing(path):
    return PayloadError(
        f"Missing required field {path}.",
        path=path,
        hint="Add it to the payload or fix the channel mapping.",
    )


def unstorable_reason(text):
    """Why PostgreSQL cannot store ``text`` (a NUL character, an unpaired
    surrogate), or None."""
    if "\x00" in text:
        return "a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "an unpaired surrogate"
    return None


def clean_text(value, path, max_length=MAX_TEXT_LENGTH):
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _error(path, f"expected text, got {value!r}.", value)
    try:
        text = str(value).strip()
    except ValueError:
        raise _error(path, f"expected text, got {shown(value)}.") from None
    reason = unstorable_reason(text)
    if reason:
        raise _error(path, f"contains {reason}, which cannot be stored.", text)
    if max_length and len(text) > max_length:
        raise _error(
            path, f"is {len(text)} characters long, at most {max_length}.", text[:50]
        )
    return text or None


def clean_long_text(value, path):
    """``clean_text`` without a length limit (notes: stored, never indexed)."""
    return clean_text(value, path, max_length=None)


def clean_identifier(value, path):
    # Floats are refused: large ids lose digits on the way through a float.
    text = None if value is None else clean_text(value, path)
    if text is None:
        raise _missing(path)
    return text


def clean_decimal(value, path):
    try:
        number = to_decimal(value)
    except (PayloadError, TypeError, ValueError):
        raise _error(
            path,
            f"{shown(value)} is not a number.",
            value if isinstance(value, str) else shown(value),
        ) from None
    if abs(number) >= MAX_NUMBER:
        raise _error(
            path,
            f"{shown(value)} is out of range (at most 10^12).",
            shown(value, 50, as_text=True),
        )
    return number


def clean_bool(value, path):
    if not isinstance(value, bool):
        raise _error(path, f"expected true or false, got {value!r}.", value)
    return value


def clean_datetime(value, path):
    try:
        return parse_datetime(value)
    except PayloadError:
        raise _error(
            path,
            f"{shown(value)} is not an ISO 8601 date-time.",
            value if isinstance(value, str) else shown(value),
        ) from None


def clean_email(value, path):
    text = clean_text(value, path)
    return text.lower() if text else None


def clean_upper(value, path):
    text = clean_text(value, path)
    return text.upper() if text else None


def _object(value, path):
    if not isinstance(value, dict):
        raise _error(path, f"expected an object, got {value!r}.", value)
    return value


def _list(value, path):
    if not isinstance(value, list):
        raise _error(path, f"expected a list, got {value!r}.", value)
    return value


def _normalise(data, path, spec):
    """Copy ``data`` applying ``spec`` = {key: (parser, required, default)}.

    Keys not in ``spec`` are kept untouched; absent or null optional keys get the
    default so consumers can index every known key.
    """
    result = dict(data)
    for key, (parser, required, default) in spec.items():
        key_path = f"{path}.{key}" if path else key
        value = data.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                raise _missing(key_path)
            result[key] = default() if callable(default) else default
            continue
        result[key] = parser(value, key_path)
    return result


def _sub_object(spec):
    def parse(value, path):
        return _normalise(_object(value, path), path, spec)

    return parse


def _sub_list(item_parser, *, non_empty=False):
    def parse(value, path):
        items = _list(value, path)
        if non_empty and not items:
            raise _error(path, "must contain at least one item.", value)
        return [
            item_parser(item, f"{path}[{index}]") for index, item in enumerate(items)
        ]

    return parse


def _positive(value, path):
    number = clean_decimal(value, path)
    if number <= 0:
        raise _error(path, f"must be greater than zero, got {value!r}.", value)
    return number


_ZERO = Decimal(0)

TAX_SPEC = {
    "name": (clean_text, False, None),
    "rate": (clean_decimal, True, None),
    "amount": (clean_decimal, False, None),
}
_taxes = _sub_list(_sub_object(TAX_SPEC))

SHIPPING_SPEC = {
    "code": (clean_text, False, None),
    "title": (clean_text, False, None),
    "price": (clean_decimal, True, None),
    "discount_amount": (clean_decimal, False, _ZERO),
    "taxes": (_taxes, False, list),
}

LINE_SPEC = {
    "external_id": (clean_text, False, None),
    "sku": (clean_text, False, None),
    "barcode": (clean_text, False, None),
    "name": (clean_text, False, None),
    "quantity": (_positive, True, None),
    "uom": (clean_text, False, None),
    "price_unit": (clean_decimal, True, None),
    "discount_amount": (clean_decimal, False, _ZERO),
    "taxes": (_taxes, False, list),
}

CUSTOMER_SPEC = {
    "external_id": (clean_text, False, None),
    "email": (clean_email, False, None),
    "phone": (clean_text, False, None),
    "name": (clean_text, False, None),
    "company_name": (clean_text, False, None),
    "is_company": (clean_bool, False, False),
}

ADDRESS_SPEC = {key: (clean_text, False, None) for key in ADDRESS_KEYS}
ADDRESS_SPEC["country_code"] = (clean_upper, False, None)
ADDRESS_SPEC["email"] = (clean_email, False, None)

ORDER_SPEC = {
    "external_id": (clean_identifier, True, None),
    "name": (clean_text, False, None),
    "ordered_at": (clean_datetime, False, None),
    "created_at": (clean_datetime, False, None),
    "updated_at": (clean_datetime, False, None),
    "cancelled_at": (clean_datetime, False, None),
    "currency": (clean_upper, False, None),
    "taxes_included": (clean_bool, False, False),
    "financial_status": (clean_text, False, None),
    "total": (clean_decimal, False, None),
    "note": (clean_long_text, False, None),
    "customer": (_sub_object(CUSTOMER_SPEC), False, None),
    "billing_address": (_sub_object(ADDRESS_SPEC), False, None),
    "shipping_address": (_sub_object(ADDRESS_SPEC), False, None),
    "lines": (_sub_list(_sub_object(LINE_SPEC), non_empty=True), True, None),
    "shipping": (_sub_list(_sub_object(SHIPPING_SPEC)), False, list),
}


def parse_order(data: dict) -> dict:
    """Validate and normalise a canonical order; returns a new dict.

    Required: ``external_id`` (text or int) and a non-empty ``lines`` list whose items
    need ``quantity`` (> 0) and ``price_unit``. ``ordered_at`` is when the
    customer placed the order, the date the channel shows (the sale order's
    date; else ``created_at``, when the channel recorded it); ``cancelled_at``
    set means the order is cancelled in the channel. Amounts become
    ``Decimal``, ``ordered_at``, ``created_at``, ``updated_at`` and
    ``cancelled_at`` aware UTC datetimes, ``currency`` and country codes upper case,
    emails lower case; absent optional keys get their default (None, False, 0 or
    []); unknown keys are kept untouched. Raises ``PayloadError`` naming the path.
    """
    if not isinstance(data, dict):
        raise PayloadError(
            f"The order payload must be an object, got {type(data).__name__}.",
            value=data,
        )
    return _normalise(data, "", ORDER_SPEC)


def _not_negative(value, path):
    number = clean_decimal(value, path)
    if number < 0:
        raise _error(path, f"must be zero or more, got {value!r}.", value)
    return number


REFUND_LINE_SPEC = {
    "external_id": (clean_text, False, None),
    "line_external_id": (clean_text, False, None),
    "sku": (clean_text, False, None),
    "name": (clean_text, False, None),
    "quantity": (_not_negative, True, None),
    "subtotal": (clean_decimal, True, None),
    "total_tax": (clean_decimal, False, _ZERO),
    "restock": (clean_bool, False, False),
}

REFUND_SPEC = {
    "external_id": (clean_identifier, True, None),
    "order_id": (clean_identifier, True, None),
    "created_at": (clean_datetime, False, None),
    "note": (clean_long_text, False, None),
    "currency": (clean_upper, False, None),
    "taxes_included": (clean_bool, False, False),
    "lines": (_sub_list(_sub_object(REFUND_LINE_SPEC)), False, list),
    "shipping": (clean_decimal, False, _ZERO),
    "discrepancy": (clean_decimal, False, _ZERO),
    "total": (clean_decimal, False, None),
}


def parse_refund(data: dict) -> dict:
    """Validate and normalise a canonical refund (one credit note); returns a
    new dict.

    ``external_id`` (the refund) and ``order_id`` (the order's
    ``external_id``) are required. Each of ``lines`` refunds ``quantity``
    (0 or more, in the channel's units) of the order line whose
    ``external_id`` is ``line_external_id`` (else the line of that ``sku``)
    for ``subtotal``, in the order's tax mode (tax included when
    ``taxes_included``; ``total_tax`` is its tax part); ``restock`` true
    means the units come back to stock (a return is prepared). ``shipping``
    is the shipping refunded, in the same tax mode. ``discrepancy`` is what
    the channel kept (positive) or refunded on top (negative) of the lines
    and shipping, tax included: ``total`` = lines + shipping (+ their taxes
    unless included) - discrepancy, the amount the credit note must reach to
    the cent (None: not checked). Amounts become ``Decimal``, ``created_at``
    an aware UTC datetime; absent optional keys get their default; unknown
    keys are kept untouched. Raises ``PayloadError`` naming the path.
    """
    if not isinstance(data, dict):
        raise PayloadError(
            f"The refund payload must be an object, got {type(data).__name__}.",
            value=data,
        )
    return _normalise(data, "", REFUND_SPEC)
