import copy
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sample_files import sample_json

from distribution_sync.core.canonical import parse_refund, to_jsonable
from distribution_sync.core.errors import PayloadError

UTC = timezone.utc


def minimal_refund(**overrides):
    refund = {"external_id": "R-1", "order_id": "A-1"}
    refund.update(overrides)
    return refund


def test_golden_reference_refund():
    data = sample_json("core/reference_refund.json")
    expected = sample_json("core/reference_refund.expected.json")
    assert to_jsonable(parse_refund(data)) == expected


def test_reference_refund_types():
    refund = parse_refund(sample_json("core/reference_refund.json"))
    assert refund["external_id"] == "7001"
    assert refund["created_at"] == datetime(2024, 3, 9, 15, 5, tzinfo=UTC)
    assert refund["total"] == Decimal("38.88")
    assert refund["shipping"] == Decimal("9.95")
    assert refund["discrepancy"] == Decimal("-0.50")
    first, second = refund["lines"]
    assert first["quantity"] == Decimal(1)
    assert first["restock"] is True
    assert second["quantity"] == Decimal(0)
    assert second["total_tax"] == Decimal(0)
    assert second["restock"] is False
    # The sample adds up: lines and their taxes, shipping, minus what the
    # channel kept (here: refunded 0.50 on top).
    lines = sum(line["subtotal"] + line["total_tax"] for line in refund["lines"])
    assert lines + refund["shipping"] - refund["discrepancy"] == refund["total"]
    # Unknown keys survive untouched.
    assert refund["reason"] == "damaged"
    assert first["location"] == "back room"


def test_parse_refund_does_not_mutate_input():
    data = sample_json("core/reference_refund.json")
    snapshot = copy.deepcopy(data)
    parse_refund(data)
    assert data == snapshot


def test_minimal_refund_defaults():
    refund = parse_refund(minimal_refund(external_id=42, order_id=1001))
    assert (refund["external_id"], refund["order_id"]) == ("42", "1001")
    assert refund["lines"] == []
    assert refund["shipping"] == Decimal(0)
    assert refund["discrepancy"] == Decimal(0)
    assert refund["total"] is None
    assert refund["taxes_included"] is False
    assert refund["created_at"] is None
    assert refund["note"] is None


def test_parsing_twice_changes_nothing():
    # Channel mappers return parse_refund's result; the importer may parse it
    # again.
    once = parse_refund(sample_json("core/reference_refund.json"))
    assert parse_refund(once) == once


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d.pop("external_id"), "external_id"),
        (lambda d: d.pop("order_id"), "order_id"),
        (lambda d: d.update(order_id=""), "order_id"),
        (lambda d: d.update(total="ten"), "total"),
        (lambda d: d.update(shipping=[1]), "shipping"),
        (lambda d: d.update(created_at="tomorrow"), "created_at"),
        (lambda d: d.update(lines={"quantity": 1}), "lines"),
        (lambda d: d["lines"][0].pop("quantity"), "lines[0].quantity"),
        (lambda d: d["lines"][0].update(quantity=-1), "lines[0].quantity"),
        (lambda d: d["lines"][1].pop("subtotal"), "lines[1].subtotal"),
        (lambda d: d["lines"][1].update(subtotal=10**13), "lines[1].subtotal"),
        (lambda d: d["lines"][0].update(restock="yes"), "lines[0].restock"),
        (lambda d: d["lines"][0].update(sku="A\u0000B"), "lines[0].sku"),
        (lambda d: d.update(taxes_included=1), "taxes_included"),
    ],
)
def test_errors_name_the_path(change, path):
    data = sample_json("core/reference_refund.json")
    change(data)
    with pytest.raises(PayloadError) as info:
        parse_refund(data)
    assert info.value.path == path, str(info.value)


@pytest.mark.parametrize("data", [None, [], "refund", 7])
def test_refund_must_be_an_object(data):
    with pytest.raises(PayloadError):
        parse_refund(data)
