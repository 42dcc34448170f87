import copy
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sample_files import sample_json

from distribution_sync.core.canonical import (
    is_stale,
    parse_datetime,
    parse_order,
    to_jsonable,
)
from distribution_sync.core.errors import PayloadError

UTC = timezone.utc


def minimal_order(**overrides):
    order = {
        "external_id": "A-1",
        "lines": [{"quantity": "1", "price_unit": "10"}],
    }
    order.update(overrides)
    return order


def test_golden_reference_order():
    data = sample_json("core/reference_order.json")
    expected = sample_json("core/reference_order.expected.json")
    assert to_jsonable(parse_order(data)) == expected


def test_reference_order_types():
    order = parse_order(sample_json("core/reference_order.json"))
    assert order["updated_at"] == datetime(2024, 3, 5, 14, 22, 10, tzinfo=UTC)
    assert order["total"] == Decimal("141.70")
    first, second = order["lines"]
    assert first["quantity"] == Decimal(2)
    assert first["discount_amount"] == Decimal("4.90")
    assert second["discount_amount"] == Decimal(0)
    assert second["price_unit"] == Decimal("79.9")
    assert first["taxes"][0]["rate"] == Decimal("6.25")
    assert order["shipping"][0]["price"] == Decimal("9.95")
    # Unknown keys survive untouched.
    assert order["source"] == "web"
    assert first["properties"] == {"grind": "whole bean"}


def test_parse_order_does_not_mutate_input():
    data = sample_json("core/reference_order.json")
    snapshot = copy.deepcopy(data)
    parse_order(data)
    assert data == snapshot


def test_minimal_order_defaults():
    order = parse_order(minimal_order(external_id=42))
    assert order["external_id"] == "42"
    assert order["currency"] is None
    assert order["taxes_included"] is False
    assert order["customer"] is None
    assert order["shipping"] == []
    line = order["lines"][0]
    assert line["taxes"] == []
    assert line["discount_amount"] == Decimal(0)
    assert line["sku"] is None


def test_customer_normalisation():
    order = parse_order(
        minimal_order(customer={"email": " A@B.COM ", "phone": "", "is_company": True})
    )
    assert order["customer"]["email"] == "a@b.com"
    assert order["customer"]["phone"] is None
    assert order["customer"]["is_company"] is True


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"lines": [{"quantity": 1, "price_unit": 1}]}, "external_id"),
        (minimal_order(external_id="  "), "external_id"),
        (minimal_order(external_id=None), "external_id"),
        ({"external_id": "A"}, "lines"),
        (minimal_order(lines=[]), "lines"),
        (minimal_order(lines={"quantity": 1}), "lines"),
        (minimal_order(lines=["x"]), "lines[0]"),
        (
            minimal_order(lines=[{"quantity": 1, "price_unit": 1}, {"price_unit": 1}]),
            "lines[1].quantity",
        ),
        (minimal_order(lines=[{"quantity": 0, "price_unit": 1}]), "lines[0].quantity"),
        (minimal_order(lines=[{"quantity": -2, "price_unit": 1}]), "lines[0].quantity"),
        (
            minimal_order(lines=[{"quantity": "two", "price_unit": 1}]),
            "lines[0].quantity",
        ),
        (minimal_order(lines=[{"quantity": 1}]), "lines[0].price_unit"),
        (
            minimal_order(lines=[{"quantity": 1, "price_unit": 1, "taxes": [{}]}]),
            "lines[0].taxes[0].rate",
        ),
        (
            minimal_order(
                lines=[{"quantity": 1, "price_unit": 1, "taxes": [{"rate": "x"}]}]
            ),
            "lines[0].taxes[0].rate",
        ),
        (minimal_order(shipping=[{"code": "x"}]), "shipping[0].price"),
        (minimal_order(total="12,50"), "total"),
        (minimal_order(taxes_included="yes"), "taxes_included"),
        (minimal_order(updated_at="yesterday"), "updated_at"),
        (minimal_order(customer="jane"), "customer"),
        (minimal_order(customer={"is_company": 1}), "customer.is_company"),
        (minimal_order(billing_address={"zip": ["1"]}), "billing_address.zip"),
        (minimal_order(external_id=1.5), "external_id"),
        (
            minimal_order(lines=[{"quantity": True, "price_unit": 1}]),
            "lines[0].quantity",
        ),
    ],
)
def test_error_names_path(data, path):
    with pytest.raises(PayloadError) as info:
        parse_order(data)
    assert info.value.path == path
    assert path in str(info.value)


def test_non_dict_payload():
    with pytest.raises(PayloadError):
        parse_order(["not", "an", "order"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-05T14:22:10Z", datetime(2024, 3, 5, 14, 22, 10, tzinfo=UTC)),
        ("2024-03-05T09:22:10-05:00", datetime(2024, 3, 5, 14, 22, 10, tzinfo=UTC)),
        ("2024-03-05T16:22:10+0200", datetime(2024, 3, 5, 14, 22, 10, tzinfo=UTC)),
        ("2024-03-05T14:22:10", datetime(2024, 3, 5, 14, 22, 10, tzinfo=UTC)),
        ("2024-03-05 14:22", datetime(2024, 3, 5, 14, 22, tzinfo=UTC)),
        ("2024-03-05", datetime(2024, 3, 5, tzinfo=UTC)),
        (
            "2016-10-05T03:09:04.000Z",
            datetime(2016, 10, 5, 3, 9, 4, tzinfo=UTC),
        ),
        (
            "2024-03-05T14:22:10.1234567+00:00",
            datetime(2024, 3, 5, 14, 22, 10, 123456, tzinfo=UTC),
        ),
    ],
)
def test_parse_datetime(text, expected):
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


def test_parse_datetime_objects():
    naive = datetime(2024, 1, 1, 12)
    assert parse_datetime(naive) == datetime(2024, 1, 1, 12, tzinfo=UTC)
    paris = datetime(2024, 1, 1, 13, tzinfo=timezone(timedelta(hours=1)))
    assert parse_datetime(paris).hour == 12
    assert parse_datetime(paris).tzinfo == UTC


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "2024-13-01T00:00:00Z",
        "05/03/2024",
        "2024-03-05T25:00:00",
        "2024-03-05T10:00:00+25:00",
        "0001-01-01T00:00:00+01:00",
        1700000000,
    ],
)
def test_parse_datetime_rejects(bad):
    with pytest.raises(PayloadError):
        parse_datetime(bad)


def test_is_stale():
    older = datetime(2024, 1, 1, tzinfo=UTC)
    newer = older + timedelta(seconds=1)
    assert is_stale(older, newer)
    assert not is_stale(newer, older)
    assert not is_stale(older, older)
    assert not is_stale(None, older)
    assert not is_stale(older, None)
    assert not is_stale(older, False)
    # Naive values are UTC, so they compare with aware ones.
    assert is_stale(datetime(2024, 1, 1), newer)


def test_to_jsonable():
    value = {
        "a": Decimal("1.50"),
        "b": [datetime(2024, 1, 1, tzinfo=UTC), (Decimal("2"),)],
        "c": None,
    }
    assert to_jsonable(value) == {
        "a": "1.50",
        "b": ["2024-01-01T00:00:00+00:00", ["2"]],
        "c": None,
    }


@given(
    moment=st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1)),
    offset_minutes=st.integers(-14 * 60, 14 * 60),
)
def test_parse_datetime_roundtrip(moment, offset_minutes):
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    assert parse_datetime(aware.isoformat()) == aware


@given(
    quantity=st.decimals(min_value=Decimal("0.001"), max_value=10**6, places=3),
    price=st.decimals(min_value=-(10**6), max_value=10**6, places=4),
)
def test_parse_order_keeps_decimal_values(quantity, price):
    order = parse_order(
        minimal_order(lines=[{"quantity": str(quantity), "price_unit": price}])
    )
    assert order["lines"][0]["quantity"] == quantity
    assert order["lines"][0]["price_unit"] == price
