"""Helpers shared by the Shopify mappers: exact ids, money sets, headers, errors."""

import re
from collections.abc import Mapping
from decimal import Decimal

from ._base import canonical, errors

PayloadError = errors.PayloadError

MONEY_SETS = ("shop", "presentment")

# "gid://shopify/Order/820982911946154508"; some kinds carry a query string
# ("gid://shopify/InventoryLevel/1?inventory_item_id=2").
# Shopify ids are 64-bit integers: at most 20 digits (ASCII ones).
_GID_RE = re.compile(r"^gid://shopify/([A-Za-z]+)/(\d{1,20})(?:\?.*)?$", re.ASCII)
_DIGITS_RE = re.compile(r"^\d+$", re.ASCII)
MAX_ID = 2**64


# ------------------------------------------------------------------ errors
def key_path(path, key):
    """``lines[0]`` + ``sku`` -> ``lines[0].sku``; an empty path gives the key."""
    return f"{path}.{key}" if path else str(key)


def missing(path):
    """The error for a required key that is absent or null (worded as the core)."""
    return PayloadError(
        f"Missing required field {path}.",
        path=path,
        hint="Check the webhook body (or the include_fields of the subscription).",
    )


def invalid(path, problem, value=None):
    return PayloadError(f"{path}: {problem}", value=value, path=path)


def as_object(value, path):
    if not isinstance(value, Mapping):
        raise invalid(path or "payload", f"expected an object, got {value!r}.", value)
    return value


def as_list(value, path):
    """A list; null counts as empty (Shopify sends null for some empty lists)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid(path, f"expected a list, got {value!r}.", value)
    return value


def require(obj, key, path=""):
    value = obj.get(key)
    if value is None:
        raise missing(key_path(path, key))
    return value


def text(value, path="", max_length=canonical.MAX_TEXT_LENGTH):
    """Stripped text, None when empty; numbers become text.

    A list or an object is no text, and PostgreSQL cannot store a NUL or an
    unpaired surrogate, nor index a very long text: each is a
    ``PayloadError`` naming ``path``.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (Mapping, list)):
        raise invalid(path or "text", f"expected text, got {value!r}.", value)
    result = str(value).strip()
    reason = canonical.unstorable_reason(result)
    if reason:
        raise invalid(
            path or "text", f"contains {reason}, which cannot be stored.", result
        )
    if max_length and len(result) > max_length:
        raise invalid(
            path or "text",
            f"is {len(result)} characters long, at most {max_length}.",
            result[:50],
        )
    return result or None


def field(obj, key, path=""):
    """``text`` of ``obj[key]``, None when absent; errors name ``path.key``."""
    return text(obj.get(key), key_path(path, key))


def join_names(obj, keys, path=""):
    """The texts of ``keys`` of ``obj`` joined by a space; None when empty."""
    parts = (field(obj, key, path) for key in keys)
    return " ".join(part for part in parts if part) or None


# --------------------------------------------------------------------- ids
def gid_number(value, kind=None):
    """Numeric tail of a GraphQL id of ``kind`` (any kind when None), else None."""
    if not isinstance(value, str):
        return None
    match = _GID_RE.match(value.strip())
    if not match or (kind is not None and match.group(1) != kind):
        return None
    return match.group(2)


def plain_id(value, path):
    """A REST ``id`` as text; None when absent. Floats are refused (lost digits)."""
    if value is None:
        return None
    if isinstance(value, bool) or isinstance(value, float):
        raise invalid(path, f"{value!r} is not an exact id.", value)
    if isinstance(value, int):
        if not 0 <= value < MAX_ID:
            raise invalid(path, f"{value} is not a Shopify id.", str(value)[:50])
        return str(value)
    if isinstance(value, str):
        return gid_number(value) or text(value, path, max_length=255)
    raise invalid(path, f"{value!r} is not an id.", value)


def same_id(a, b):
    """True when two ids are equal, or equal once squeezed through a float64 (as
    a JavaScript JSON round trip does to a number)."""
    if a is None or b is None:
        return False
    if a == b:
        return True
    if not (_DIGITS_RE.match(a) and _DIGITS_RE.match(b)):
        return False
    try:
        return float(int(a)) == float(int(b))
    except (OverflowError, ValueError):
        # Beyond a float (or Python's limit of digits): no JavaScript round
        # trip made these two equal.
        return False


def exact_id(obj, kind, path=""):
    """The exact id of a Shopify object, as text.

    Shopify ids are 64-bit integers that often exceed 2**53. Any JavaScript
    middleman (a relay, a no-code tool, a queue written in Node) parses the body
    into float64 numbers and writes back a rounded id: Shopify's own published
    sample order reads ``"id": 820982911946154500`` for the order
    ``gid://shopify/Order/820982911946154508``. The GraphQL id travels as a
    string and survives, so its numeric tail is preferred over ``id``; the two
    must agree up to that rounding, otherwise the payload names two different
    objects and a ``PayloadError`` is raised rather than binding the wrong one.
    ``kind`` is the GraphQL type name ("Order", "LineItem", "Customer", ...).
    """
    obj = as_object(obj, path)
    id_path = key_path(path, "id")
    gid = gid_number(obj.get("admin_graphql_api_id"), kind)
    number = plain_id(obj.get("id"), id_path)
    if gid is None:
        if number is None:
            raise missing(id_path)
        return number
    if number is not None and not same_id(number, gid):
        raise invalid(
            id_path,
            f"{obj.get('id')!r} and admin_graphql_api_id "
            f"{obj.get('admin_graphql_api_id')!r} name different objects.",
            obj.get("id"),
        )
    return gid


def optional_exact_id(obj, kind, path=""):
    """``exact_id`` or None when the object has no id at all."""
    if not isinstance(obj, Mapping):
        return None
    if (
        obj.get("id") is None
        and gid_number(obj.get("admin_graphql_api_id"), kind) is None
    ):
        return None
    return exact_id(obj, kind, path)


# ----------------------------------------------------------------- headers
def lower_headers(headers):
    return {str(key).lower(): value for key, value in (headers or {}).items()}


def header(headers, name):
    """A header value, case-insensitively; None when absent or blank."""
    value = lower_headers(headers).get(name.lower())
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return str(value).strip() or None


# ------------------------------------------------------------------- money
def to_amount(value, path):
    """A finite ``Decimal`` within the range Odoo can book (see
    ``canonical.clean_decimal``), else a ``PayloadError`` naming ``path``."""
    return canonical.clean_decimal(value, path)


def set_amount(money_set_value, money_set):
    """``{"shop_money": {"amount": ...}, "presentment_money": {...}}`` -> amount."""
    if not isinstance(money_set_value, Mapping):
        return None
    bag = money_set_value.get(f"{money_set}_money")
    if not isinstance(bag, Mapping):
        return None
    return bag.get("amount")


def set_currency(money_set_value, money_set):
    if not isinstance(money_set_value, Mapping):
        return None
    bag = money_set_value.get(f"{money_set}_money")
    if not isinstance(bag, Mapping):
        return None
    return text(
        bag.get("currency_code") or bag.get("currency"),
        f"{money_set}_money.currency_code",
    )


def check_money_set(money_set):
    if money_set not in MONEY_SETS:
        raise ValueError(
            f"money_set must be one of {', '.join(MONEY_SETS)}, got {money_set!r}."
        )
    return money_set


class MoneyReader:
    """Reads amounts of one money set.

    ``shop``: ``price_set.shop_money`` (a string, exact), else the plain REST
    field ``price`` (the same amount, but some fields such as a refund line's
    ``subtotal`` are JSON numbers). ``presentment``:
    ``price_set.presentment_money``, else the plain field, but only when
    ``fallback`` is allowed (the buyer paid in the shop currency); otherwise that
    amount would silently be in the wrong currency, so the missing set is an
    error naming its path.
    """

    def __init__(self, money_set="shop", *, fallback=True):
        self.money_set = check_money_set(money_set)
        self.fallback = fallback

    def get(self, obj, key, path="", *, required=False, default=None):
        set_key = f"{key}_set"
        plain = obj.get(key)
        value = set_amount(obj.get(set_key), self.money_set)
        value_path = key_path(path, f"{set_key}.{self.money_set}_money.amount")
        if value is None and plain is not None:
            if self.money_set == "presentment" and not self.fallback:
                raise invalid(
                    key_path(path, set_key),
                    "no presentment_money amount, and the plain amount is in "
                    "the shop currency, not the presentment currency.",
                    plain,
                )
            value, value_path = plain, key_path(path, key)
        if value is None:
            if required:
                raise missing(key_path(path, key))
            return default
        return to_amount(value, value_path)

    def total(self, items, key, path):
        """Sum of ``key`` over a list of objects (0 for an empty list)."""
        result = Decimal(0)
        for index, item in enumerate(as_list(items, path)):
            item_path = f"{path}[{index}]"
            result += self.get(as_object(item, item_path), key, item_path, default=0)
        return result
