"""Bad input to the QuickBooks pure layer: every leaf of the samples, every
bad value.

The promise (as for the other channels, tests/pure/test_bad_input.py): a
reader returns data Odoo can store, or raises a ``SyncError``; a
``PayloadError`` names a path: the bad key's, or the object holding it, or a
total the bad value contradicts, its message then naming the bad key. Never a
``TypeError``, ``KeyError``, ``ValueError``, ``OverflowError`` or
``decimal.InvalidOperation``; never a NUL or a lone surrogate in the result
or the message. ``error_from_response`` never raises at all: whatever the
answer, it returns a storable ``SyncError``.
"""

import json
import math
from datetime import datetime, timezone

import pytest
from pure.leaf_sweep import (
    LONG_TEXT,
    MISSING,
    label,
    strings,
    sweep,
    unstorable,
)
from quickbooks_samples import records, sample_json

from distribution_sync.core.canonical import to_jsonable
from distribution_sync.core.errors import PayloadError, SyncError
from distribution_sync_quickbooks.core import errors, mappers, oauth, webhook

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)

BAD_VALUES = {
    "null": None,
    "missing": MISSING,
    "true": True,
    "false": False,
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
    "10**30": 10**30,
    "10**400": 10**400,
    "1e400 as text": "1e400",
    "NaN": math.nan,
    "Infinity": math.inf,
    "20 decimals": "1.12345678901234567890",
    "tiny": "1e-400",
    "100k chars": LONG_TEXT,
    "NUL": "A\u0000B",
    "lone surrogate": "A\ud800B",
    "date out of range": "9999-12-31T23:59:59-23:59",
}


def _payload(name):
    data = sample_json(name)
    return data["invoice"], data["refs"]


US_INVOICE, US_REFS = _payload("invoice_payload_us_tax")
VAT_INVOICE, VAT_REFS = _payload("invoice_payload_vat_discount")
MEMO, MEMO_REFS = _payload("credit_memo_payload")
ITEM = sample_json("item_payload_inventory")
QBO_119 = records("sandbox_records_invoice_with_tax")[0]


def _error(status):
    """``error_from_response`` as a reader: what Odoo stores of the error."""

    def read(body):
        error = errors.error_from_response(
            status, body, {"intuit_tid": "tid"}, entity="invoice", name="N"
        )
        if not isinstance(error, SyncError):
            raise AssertionError(f"returned {error!r}, not a SyncError")
        return {
            "class": type(error).__name__,
            "message": str(error),
            "value": error.value,
            "hint": error.hint,
            "code": error.code,
            "faults": error.faults,
        }

    read.never_raises = True
    return read


PARSERS = [
    ("legacy webhook", webhook.events,
     sample_json("webhook_legacy_dotnet_sdk_test")),
    ("cloudevents webhook", webhook.events,
     sample_json("webhook_cloudevents_intuit_blog")),
    ("error 6240", _error(400), sample_json("error_400_duplicate_name_6240")),
    ("error 4001", _error(400), sample_json("error_400_invalid_query_4001")),
    ("error 3200", _error(401), sample_json("error_401_token_expired_3200")),
    ("batch faults", _error(400),
     sample_json("batch_response")["BatchItemResponse"][2]),
    ("error 429", _error(429), sample_json("error_400_invalid_query_4001")),
    ("token answer", lambda d: oauth.parse_token_response(d, NOW),
     sample_json("oauth_refresh_token_response")),
    ("token error", lambda d: oauth.parse_token_response(d, NOW),
     sample_json("oauth_token_error_response")),
    ("invoice with tax", mappers.parse_invoice, QBO_119),
    ("invoice answer", mappers.parse_invoice, sample_json("invoice_create_response")),
    ("void answer", mappers.parse_invoice, sample_json("invoice_void_response")),
    ("credit memo", lambda d: mappers.parse_invoice(d, "credit_note"),
     records("sandbox_records_credit_memo")[0]),
    ("payment", mappers.parse_payment, records("sandbox_records_payments")[1]),
    ("payment with credit memo", mappers.parse_payment,
     sample_json("payment_two_invoices_credit_memo")),
    ("customer", mappers.customer_payload, sample_json("customer_payload_dukes")),
    ("item", lambda d: mappers.item_payload(d, ITEM["accounts"]), ITEM["product"]),
    ("item accounts", lambda d: mappers.item_payload(ITEM["product"], d["accounts"]),
     {"accounts": ITEM["accounts"]}),
    ("US invoice payload", lambda d: mappers.invoice_payload(d, US_REFS), US_INVOICE),
    ("US invoice refs", lambda d: mappers.invoice_payload(US_INVOICE, d["refs"]),
     {"refs": US_REFS}),
    ("VAT invoice payload", lambda d: mappers.invoice_payload(d, VAT_REFS),
     VAT_INVOICE),
    ("VAT invoice refs", lambda d: mappers.invoice_payload(VAT_INVOICE, d["refs"]),
     {"refs": VAT_REFS}),
    ("credit memo payload", lambda d: mappers.credit_memo_payload(d, MEMO_REFS), MEMO),
    ("differences, Odoo side",
     lambda d: mappers.invoice_differences(d, mappers.parse_invoice(QBO_119)),
     US_INVOICE),
    ("differences, QuickBooks side",
     lambda d: mappers.invoice_differences(US_INVOICE, mappers.parse_invoice(d)),
     QBO_119),
]  # fmt: skip


def _names_the_leaf(exc, path):
    """The error's path holds the leaf, or (a total it contradicts) its
    message names the leaf's key."""
    where = label(path)
    if exc.path and (
        where == exc.path
        or where.startswith(exc.path + ".")
        or where.startswith(exc.path + "[")
    ):
        return True
    keys = [part for part in path if isinstance(part, str)]
    return bool(exc.path) and bool(keys) and keys[-1] in str(exc)


def broken_promise(read, document, path):
    """What is wrong with reading ``document`` (bad at leaf ``path``), or None."""
    try:
        result = read(document)
    except SyncError as exc:
        if getattr(read, "never_raises", False):
            return f"{type(exc).__name__} raised: {exc}"
        for text in (str(exc), exc.value, exc.hint):
            why = isinstance(text, str) and unstorable(text)
            if why:
                return f"{type(exc).__name__} quotes {why}"
        if isinstance(exc, PayloadError) and path and not _names_the_leaf(exc, path):
            return (
                f"PayloadError path {exc.path!r} does not name {label(path)!r}: {exc}"
            )
        return None
    except Exception as exc:  # the very thing this suite looks for
        return f"{type(exc).__name__} leaked: {str(exc)[:160]}"
    try:
        dumped = json.dumps(to_jsonable(result), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        return f"result is not plain JSON: {exc}"
    for text in strings(json.loads(dumped)):
        why = unstorable(text)
        if why:
            return f"returned text with {why}"
        if "['x', 1]" in text or "{'x': 1}" in text:
            return f"turned a container into the text {text[:40]!r}"
    return None


def test_samples_read_cleanly():
    for name, read, payload in PARSERS:
        assert broken_promise(read, payload, ()) is None, name


@pytest.mark.parametrize("bad", list(BAD_VALUES), ids=list(BAD_VALUES))
@pytest.mark.parametrize(
    ("read", "payload"),
    [(read, payload) for _name, read, payload in PARSERS],
    ids=[name for name, _read, _payload in PARSERS],
)
def test_every_leaf(read, payload, bad):
    failures, count = sweep(broken_promise, read, payload, BAD_VALUES[bad])
    assert count >= 2
    assert not failures, f"{len(failures)} of {count} leaves:\n" + "\n".join(failures)


# The readers of a whole body (not those reading one part of a test document).
BODY_READERS = [(name, read) for name, read, _payload in PARSERS if "refs" not in name]
BODY_READERS = [(name, read) for name, read in BODY_READERS if name != "item accounts"]


@pytest.mark.parametrize("payload", [[1, 2], 42, "body", None, True, 1.5, [], {}])
@pytest.mark.parametrize(
    "read",
    [read for _name, read in BODY_READERS],
    ids=[name for name, _read in BODY_READERS],
)
def test_body_is_not_an_object(read, payload):
    assert broken_promise(read, payload, ()) is None


@pytest.mark.parametrize(
    "body",
    [b"\xff\xfe\x00", b"[" * 50_000, b'{"Fault": ' * 5000, "\ud800", b"\xef\xbb\xbf"],
    ids=["not UTF-8", "deep list", "deep object", "lone surrogate", "BOM only"],
)
@pytest.mark.parametrize(
    "read",
    [webhook.events, _error(400), lambda d: oauth.parse_token_response(d, NOW)],
    ids=["webhook", "error", "token"],
)
def test_raw_bodies(read, body):
    assert broken_promise(read, body, ()) is None


# An int of more than 4,300 digits cannot be turned into text (Python's
# limit): the core's readers (canonical.clean_text, clean_decimal,
# parse_datetime) then leak ValueError while quoting it. JSON cannot carry one
# (json.loads refuses it), but a Python caller can: the readers say so
# without quoting it (``canonical.shown``).
HUGE_INT = 10**5000


@pytest.mark.parametrize(
    ("read", "payload", "key"),
    [
        (mappers.parse_invoice, QBO_119, "Id"),
        (mappers.parse_invoice, QBO_119, "TotalAmt"),
        (mappers.customer_payload, sample_json("customer_payload_dukes"), "zip"),
    ],
    ids=["text", "amount", "Odoo text"],
)
def test_an_int_too_long_for_text(read, payload, key):
    try:
        read(dict(payload, **{key: HUGE_INT}))
    except SyncError:
        pass
