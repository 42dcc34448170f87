"""Bad input to the carrier parsers: every leaf of real payloads, every bad value.

The promise (as for the channel mappers, tests/pure/test_bad_input.py): a
parser returns data Odoo can store, or raises a ``SyncError``; a
``PayloadError`` names the path of the bad key (``result.tracking_details[2].
datetime``), or of the object holding it. Never a ``TypeError``, ``KeyError``,
``ValueError``, ``OverflowError`` or ``decimal.InvalidOperation``, never a NUL
or a lone surrogate in the result. ``validate_shipment`` never raises at all.
"""

import math

import pytest
from carrier_samples import sample_json
from carrier_shipments import RATES, REQUEST, bought
from pure.leaf_sweep import (
    LONG_TEXT,
    MISSING,
    label,
    leaves,
    replaced,
    strings,
    sweep,
    unstorable,
)

from distribution_sync.core import tracking
from distribution_sync.core.canonical import to_jsonable
from distribution_sync.core.errors import PayloadError, SyncError
from distribution_sync_carrier.core import easypost, shippo

BAD_VALUES = {
    "null": None,
    "missing": MISSING,
    "true": True,
    "zero": 0,
    "float": 1.5,
    "text": "not-a-value",
    "empty text": "",
    "list": ["x", 1],
    "empty list": [],
    "object": {"x": 1},
    "negative": -1,
    "1e20": 1e20,
    "10**30": 10**30,
    "10**400": 10**400,
    "1e400 as text": "1e400",
    "NaN": math.nan,
    "Infinity": math.inf,
    "100k chars": LONG_TEXT,
    "NUL": "A\u0000B",
    "lone surrogate": "A\ud800B",
    "date out of range": "9999-12-31T23:59:59-23:59",
}

FEDEX = sample_json("easypost/webhook_event_tracker_updated_fedex")
SHIPPO = sample_json("shippo/webhook_track_updated_test")


def _select(data):
    """``select_rate`` of ``data["rates"]``: its error paths start with
    ``rates``; a body that is no object is passed as the rates."""
    rates = data.get("rates") if isinstance(data, dict) else data
    return easypost.select_rate(rates, "USPS/Priority")


PARSERS = [
    ("easypost event", easypost.parse_event, FEDEX),
    ("easypost tracker (docs)", easypost.parse_tracker,
     sample_json("easypost/tracker_create_response")),
    ("easypost event identity", easypost.event_identity, FEDEX),
    ("easypost shipment", easypost.parse_shipment, bought()),
    ("easypost rate selection", _select, {"rates": RATES}),
    ("shippo track", shippo.parse_track, SHIPPO),
    ("shippo identity", shippo.event_identity, SHIPPO),
    ("shippo identity, other event", shippo.event_identity,
     {"event": "batch_created", "data": {"object_id": "b1", "status": "VALID"}}),
    ("canonical tracking update", tracking.parse_tracking_update,
     to_jsonable(easypost.parse_tracker(FEDEX["result"]))),
]  # fmt: skip


def broken_promise(parse, document, path):
    """What is wrong with parsing ``document`` (bad at leaf ``path``), or None."""
    try:
        result = parse(document)
    except SyncError as exc:
        for text in (str(exc), exc.value):
            why = isinstance(text, str) and unstorable(text)
            if why:
                return f"{type(exc).__name__} quotes {why}"
        if isinstance(exc, PayloadError) and path:
            where = label(path)
            if not exc.path or not (
                where == exc.path
                or where.startswith(exc.path + ".")
                or where.startswith(exc.path + "[")
            ):
                return f"PayloadError path {exc.path!r} is not {where!r}: {exc}"
        return None
    except Exception as exc:  # the very thing this suite looks for
        return f"{type(exc).__name__} leaked: {str(exc)[:120]}"
    for text in strings(to_jsonable(result)):
        why = unstorable(text)
        if why:
            return f"returned text with {why}"
        if "['x', 1]" in text or "{'x': 1}" in text:
            return f"turned a container into the text {text[:40]!r}"
    return None


def test_samples_parse_cleanly():
    for name, parse, payload in PARSERS:
        assert broken_promise(parse, payload, ()) is None, name


@pytest.mark.parametrize("bad", list(BAD_VALUES), ids=list(BAD_VALUES))
@pytest.mark.parametrize(
    ("parse", "payload"),
    [(parse, payload) for _name, parse, payload in PARSERS],
    ids=[name for name, _parse, _payload in PARSERS],
)
def test_every_leaf(parse, payload, bad):
    failures, count = sweep(broken_promise, parse, payload, BAD_VALUES[bad])
    assert count >= 3
    assert not failures, f"{len(failures)} of {count} leaves:\n" + "\n".join(failures)


@pytest.mark.parametrize("payload", [[1, 2], 42, "body", None, True, 1.5], ids=repr)
@pytest.mark.parametrize(
    "parse",
    [parse for _name, parse, _payload in PARSERS],
    ids=[name for name, _parse, _payload in PARSERS],
)
def test_body_is_not_an_object(parse, payload):
    assert broken_promise(parse, payload, ()) is None


# ------------------------------------------------------------ shipments
REQUEST_JSON = to_jsonable(REQUEST)


@pytest.mark.parametrize("bad", list(BAD_VALUES), ids=list(BAD_VALUES))
def test_shipment_request_every_leaf(bad):
    """A bad leaf of the canonical request: a problem sentence (never an
    exception) from ``validate_shipment``, and from ``shipment_request`` a
    body or a ``SyncError``."""
    failures = []
    for path, _value in leaves(REQUEST_JSON):
        document = replaced(REQUEST_JSON, path, BAD_VALUES[bad])
        try:
            problems = easypost.validate_shipment(document)
        except Exception as exc:  # noqa: BLE001 - what this test looks for
            failures.append(f"{label(path)}: validate raised {exc!r:.80}")
            continue
        if not all(isinstance(problem, str) for problem in problems):
            failures.append(f"{label(path)}: a problem is no text")
        if any(unstorable(problem) for problem in problems):
            failures.append(f"{label(path)}: a problem cannot be stored")
        problem = broken_promise(easypost.shipment_request, document, ())
        if problem:
            failures.append(f"{label(path)}: {problem}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("key", ["from_address", "to_address", "parcel"])
@pytest.mark.parametrize("value", [None, [], "x", 0, {}])
def test_shipment_request_with_a_bad_part(key, value):
    document = dict(REQUEST_JSON, **{key: value})
    assert easypost.validate_shipment(document)
    with pytest.raises(PayloadError):
        easypost.shipment_request(document)
