"""Bad input to the pure mappers: every leaf of real payloads, every bad value.

The promise: whatever a channel sends, a mapper either returns data Odoo can
store, or raises one of the typed errors of ``distribution_sync.core.errors``
(``SyncError``) naming the field. Never a ``TypeError``, ``KeyError``,
``AttributeError``, ``ValueError``, ``OverflowError`` or
``decimal.InvalidOperation`` leaking out (in Odoo it becomes a "technical"
exception nobody can act on), never a value PostgreSQL refuses (a NUL, a lone
surrogate), never a list or an object silently turned into text.

Each test sweeps one payload with one bad value: the value replaces each leaf
of the payload in turn (and ``missing`` removes it); the failure lists every
leaf that broke the promise.
"""

import json
import math
from decimal import Decimal

import pytest
from leaf_sweep import (
    LONG_TEXT,
    MISSING,
    label,
    strings,
    sweep,
    unstorable,
)
from sample_files import sample_json

from distribution_sync.core import reference
from distribution_sync.core.canonical import parse_datetime, parse_order
from distribution_sync.core.documents import parse_invoice, parse_payment
from distribution_sync.core.errors import SyncError
from distribution_sync.core.money import allocate, money_compare, round_money
from distribution_sync.core.validation import validate
from distribution_sync_shopify.core import webhook
from distribution_sync_shopify.core.customer_mapper import map_customer
from distribution_sync_shopify.core.order_mapper import map_order
from distribution_sync_shopify.core.refund_mapper import map_refund

BAD_VALUES = {
    "null": None,
    "missing": MISSING,
    "true": True,
    "zero": 0,
    "integer": 12345,
    "float": 1.5,
    "text": "not-a-value",
    "empty text": "",
    "list": ["x", 1],
    "empty list": [],
    "object": {"x": 1},
    "empty object": {},
    "negative": -1,
    "minus one cent": "-0.01",
    "1e20": 1e20,
    "10**15": 10**15,
    "10**30": 10**30,
    "10**400": 10**400,
    "1e400 as text": "1e400",
    "NaN": math.nan,
    "Infinity": math.inf,
    "NaN as text": "NaN",
    "20 decimals": "1.12345678901234567890",
    "100k chars": LONG_TEXT,
    "NUL": "A\u0000B",
    "lone surrogate": "A\ud800B",
    "RTL override": "\u202eAB",
    "emoji": "A\U0001f600B",
}

# The repr a list or an object would have once turned into text.
CONTAINER_TEXTS = ("['x', 1]", "{'x': 1}")


def _shopify(name):
    return sample_json(f"shopify/{name}.json")


def _identity(data):
    headers = {"X-Shopify-Topic": "orders/create", "X-Shopify-Event-Id": "e-1"}
    return webhook.identity(headers, b"{}", data)


def _refund_identity(data):
    headers = {"X-Shopify-Topic": "refunds/create", "X-Shopify-Event-Id": "e-1"}
    return webhook.identity(headers, b"{}", data)


# Keys of the samples' canonical orders that are no field: kept untouched,
# they reach Odoo only inside the JSON of the message's canonical form.
EXTRA_KEYS = frozenset({"channel_extra", "source", "properties"})

# (name, mapper, payload): every mapper a webhook body goes through.
PAYLOADS = [
    ("reference order/upsert", lambda d: reference.parse("order/upsert", d),
     sample_json("core/reference_order_upsert.json")),
    ("reference partner/upsert", lambda d: reference.parse("partner/upsert", d),
     sample_json("core/reference_partner_upsert.json")),
    ("reference order/cancel", lambda d: reference.parse("order/cancel", d),
     sample_json("core/reference_order_cancel.json")),
    ("canonical order", parse_order, sample_json("core/reference_order.json")),
    ("canonical invoice", parse_invoice, sample_json("core/reference_invoice.json")),
    ("canonical payment", parse_payment,
     sample_json("core/reference_payment_two_invoices.json")),
    ("shopify order", map_order, _shopify("order_discounts")),
    ("shopify edited order", map_order, _shopify("order_edited")),
    ("shopify order, presentment money",
     lambda d: map_order(d, money_set="presentment"),
     _shopify("order_multi_currency")),
    ("shopify refund", map_refund, _shopify("refund_partial_shipping_discrepancy")),
    ("shopify refund with its order",
     lambda d: map_refund(d, _shopify("rest_order")), _shopify("rest_refund")),
    ("shopify customer", map_customer, _shopify("rest_customer")),
    ("shopify order webhook identity", _identity, _shopify("order_discounts")),
    ("shopify refund webhook identity", _refund_identity,
     _shopify("refund_partial_shipping_discrepancy")),
]  # fmt: skip


# ------------------------------------------------------------------ helpers
def _without_extras(result):
    """The mapped result without the extra keys a canonical order keeps as
    sent (by design)."""
    if isinstance(result, dict):
        return {
            key: _without_extras(value)
            for key, value in result.items()
            if key not in EXTRA_KEYS
        }
    if isinstance(result, list):
        return [_without_extras(value) for value in result]
    return result


def broken_promise(mapper, document, path):
    """What is wrong with mapping ``document`` (whose leaf ``path`` is bad),
    or None."""
    try:
        result = mapper(document)
    except SyncError as exc:
        keys = [str(part) for part in path if isinstance(part, str)]
        if keys and not any(key in str(exc) for key in keys):
            return f"{type(exc).__name__} names no field of {label(path)}: {exc}"
        # Odoo writes both on the message and its exception.
        for text in (str(exc), exc.value):
            why = isinstance(text, str) and unstorable(text)
            if why:
                return f"{type(exc).__name__} quotes {why}: {text[:40]!r}"
        return None
    except Exception as exc:  # the very thing this suite looks for
        return f"{type(exc).__name__} leaked: {str(exc)[:120]}"
    result = _without_extras(result)
    # One dump of the result finds a bad text fast (JSON escapes a NUL as
    # \u0000, keeps a lone surrogate, which then does not encode); the slow
    # walk only names it.
    dumped = json.dumps(result, ensure_ascii=False, default=str)
    if "\\u0000" not in dumped and not any(c in dumped for c in CONTAINER_TEXTS):
        try:
            dumped.encode("utf-8")
        except UnicodeEncodeError:
            pass
        else:
            return None
    for text in strings(result):
        why = unstorable(text)
        if why:
            return f"returned text with {why}: {text[:40]!r}"
        if any(container in text for container in CONTAINER_TEXTS):
            return f"turned a list or an object into the text {text[:40]!r}"
    return None


# -------------------------------------------------------------------- tests
def test_samples_map_cleanly():
    """The unchanged samples map without error (the sweep starts from good
    data, so that each failure is the bad value's doing)."""
    for name, mapper, payload in PAYLOADS:
        assert broken_promise(mapper, payload, ()) is None, name


@pytest.mark.parametrize("bad", list(BAD_VALUES), ids=list(BAD_VALUES))
@pytest.mark.parametrize(
    ("mapper", "payload"),
    [(mapper, payload) for _name, mapper, payload in PAYLOADS],
    ids=[name for name, _mapper, _payload in PAYLOADS],
)
def test_every_leaf(mapper, payload, bad):
    """``bad`` in each leaf of ``payload`` in turn: stored data or a typed
    error naming the field."""
    failures, count = sweep(broken_promise, mapper, payload, BAD_VALUES[bad])
    assert count >= 3
    assert not failures, f"{len(failures)} of {count} leaves:\n" + "\n".join(failures)


@pytest.mark.parametrize(
    "payload",
    [[1, 2], 42, "order", None, True, 1.5, []],
    ids=["list", "number", "text", "null", "bool", "float", "empty list"],
)
@pytest.mark.parametrize(
    "mapper",
    [mapper for _name, mapper, _payload in PAYLOADS],
    ids=[name for name, _mapper, _payload in PAYLOADS],
)
def test_body_is_not_an_object(mapper, payload):
    """A body that is not a JSON object: a typed error (or, for the webhook
    identity, no ids), never a crash."""
    assert broken_promise(mapper, payload, ()) is None


@pytest.mark.parametrize(
    "bad_id",
    ["1\u0000", "\ud800", LONG_TEXT, 10**400, "gid://shopify/Order/" + "9" * 5000],
    ids=["NUL", "lone surrogate", "100k chars", "10**400", "5000-digit GraphQL id"],
)
def test_webhook_identity_gives_storable_ids(bad_id):
    """The webhook intake stores the identity's ids in indexed columns, in
    the request: they must be storable and indexable, whatever the body
    holds (``identity`` never raises, by contract)."""
    for data in (
        {"id": bad_id},
        {"id": 1, "admin_graphql_api_id": bad_id},
        {"id": bad_id, "admin_graphql_api_id": "gid://shopify/Order/1"},
    ):
        identity = _identity(data)
        for key in ("external_id", "order_id", "work_key", "idempotency_key"):
            value = identity[key]
            if value is None:
                continue
            assert unstorable(value) is None, (key, data)
            # A btree index entry holds at most about 2700 bytes.
            assert len(value.encode()) <= 2000, (key, len(value))


# ---------------------------------------------------------------- amounts
HUGE = [10**15, 10**20, 10**30, Decimal("1e400"), Decimal("-1e400")]
PRECISE = [Decimal("10.12345678901234567890"), Decimal("-0.005"), Decimal("0.015")]


@pytest.mark.parametrize("amount", HUGE + PRECISE, ids=str)
def test_money_helpers_never_overflow(amount):
    """Rounding, comparing and allocating extreme amounts: an exact result or
    a typed error, never ``decimal.InvalidOperation``."""
    for call in (
        lambda: round_money(amount),
        lambda: money_compare(amount, 0),
        lambda: allocate(amount, [1, 2]),
    ):
        try:
            result = call()
        except SyncError:
            continue
        if isinstance(result, Decimal):
            assert result.is_finite()


def test_money_rounding_of_extreme_precision():
    assert round_money(Decimal("10.12345678901234567890")) == Decimal("10.12")
    assert round_money(Decimal("0.015")) == Decimal("0.02")
    assert round_money(Decimal("-0.005")) == Decimal("-0.01")
    assert round_money(10**15) == Decimal("1000000000000000.00")


@pytest.mark.parametrize("amount", HUGE + PRECISE, ids=str)
def test_validation_of_extreme_totals(amount):
    """A channel total or a computed total of any size: the total rule says
    whether they differ (a failure naming both), never raises."""
    for expected, computed in ((amount, "25.00"), ("25.00", amount)):
        document = {
            "currency": "USD",
            "rounding": "0.01",
            "expected_total": str(expected),
            "computed_total": str(computed),
            "lines": [{"ref": "A", "product": 1, "price_unit": str(amount),
                       "list_price": "10"}],
        }  # fmt: skip
        rules = [
            {"code": "total_tolerance", "params": {"tolerance": 0}},
            {"code": "price_deviation", "severity": "warn", "params": {"percent": 50}},
            {"code": "max_amount", "params": {"amount": 1000}},
        ]
        try:
            report = validate(document, rules)
        except SyncError:
            continue
        # Exact arithmetic: a difference of half a cent or more shows.
        differs = abs(Decimal(str(expected)) - Decimal(str(computed))) >= Decimal(
            "0.005"
        )
        assert (
            bool([f for f in report.failures if f.code == "total_tolerance"]) == differs
        )


@pytest.mark.parametrize(
    "value",
    ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "2026-02-30",
     "2026-01-01T25:00:00Z", "2026-01-01T10:00:00+99:99", "2026-01-01T10:00:00." +
     "1" * 10_000, "\u0000", "\ud800", LONG_TEXT, "٢٠٢٦-٠١-٠١"],
    ids=["max", "min", "30 February", "hour 25", "offset 99:99", "10k fraction digits",
         "NUL", "lone surrogate", "100k chars", "Arabic-Indic digits"],
)  # fmt: skip
def test_dates_parse_or_raise_typed(value):
    """An impossible or odd date-time: a typed error or a valid aware
    datetime, never a ValueError or an OverflowError."""
    try:
        parsed = parse_datetime(value)
    except SyncError:
        return
    assert parsed.tzinfo is not None
