from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from distribution_sync.core.errors import FractionalQuantity, MappingMissing
from distribution_sync.core.mapping import (
    MAPPING_TYPES,
    ROUNDING_POLICIES,
    MappingTable,
    convert_quantity,
    normalize_code,
    to_decimal,
)


def test_mapping_types_and_policies():
    assert [value for value, _ in MAPPING_TYPES] == [
        "uom",
        "tax",
        "status",
        "carrier",
        "payment_method",
        "country",
        "state",
        "payment_term",
        "product",
    ]
    assert dict(MAPPING_TYPES)["uom"] == "Unit of measure / pack size"
    assert [value for value, _ in ROUNDING_POLICIES] == [
        "exact",
        "half_up",
        "up",
        "down",
    ]


def test_to_decimal_is_reexported():
    assert to_decimal("1.5") == Decimal("1.5")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("  Case   12 ", "case 12"),
        ("CASE\t12", "case 12"),
        ("Straße", "strasse"),
        (12, "12"),
        (None, ""),
        ("", ""),
    ],
)
def test_normalize_code(code, expected):
    assert normalize_code(code) == expected


def test_convert_whole_units():
    result = convert_quantity(3, 12)
    assert result == 36
    assert str(result) == "36"
    assert str(convert_quantity("2.0", "6.00")) == "12"


def test_convert_with_fractional_rounding():
    assert str(convert_quantity(3, "0.5", rounding="0.5")) == "1.5"
    assert str(convert_quantity(1, "0.5", rounding="0.25")) == "0.50"


def test_convert_fractional_exact_raises():
    with pytest.raises(FractionalQuantity) as info:
        convert_quantity(3, "0.5")
    assert str(info.value).startswith("3 × 0.5 = 1.5 is not a whole number")
    assert info.value.result == Decimal("1.5")


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("half_up", "2"), ("up", "2"), ("down", "1")],
)
def test_convert_rounding_policies(policy, expected):
    assert str(convert_quantity(3, "0.5", policy=policy)) == expected


def test_convert_negative_quantities_use_ceiling_and_floor():
    assert convert_quantity(-3, "0.5", policy="up") == -1
    assert convert_quantity(-3, "0.5", policy="down") == -2
    assert convert_quantity(-3, "0.5", policy="half_up") == -2


def test_convert_rejects_bad_arguments():
    with pytest.raises(ValueError):
        convert_quantity(1, 1, rounding="0")
    with pytest.raises(ValueError):
        convert_quantity(1, 1, policy="nearest")


quantities = st.decimals(min_value=-10000, max_value=10000, places=3)
factors = st.decimals(min_value=Decimal("0.001"), max_value=1000, places=3)
steps = st.sampled_from(["1", "0.5", "0.01", "0.25", "6"])


@given(quantity=quantities, factor=factors, rounding=steps)
def test_convert_properties(quantity, factor, rounding):
    step = Decimal(rounding)
    exact = quantity * factor
    up = convert_quantity(quantity, factor, rounding=rounding, policy="up")
    down = convert_quantity(quantity, factor, rounding=rounding, policy="down")
    half = convert_quantity(quantity, factor, rounding=rounding, policy="half_up")
    assert up >= exact >= down
    for result in (up, down, half):
        assert result % step == 0
        assert abs(result - exact) < step
    try:
        result = convert_quantity(quantity, factor, rounding=rounding)
    except FractionalQuantity:
        assert exact % step != 0
    else:
        assert result == exact
        assert result % step == 0


def test_mapping_table_lookup_normalises():
    table = MappingTable([("uom", "Case 12", 7), ("tax", "VAT  20", 3)])
    assert table.lookup("uom", " CASE   12") == 7
    assert table.get("tax", "vat 20") == 3
    assert table.get("tax", "vat 21", "missing") == "missing"
    assert ("uom", "case 12") in table
    assert ("tax", "case 12") not in table
    assert len(table) == 2


def test_mapping_table_missing_raises():
    table = MappingTable([])
    with pytest.raises(MappingMissing) as info:
        table.lookup("uom", "CASE12")
    assert info.value.code == "CASE12"
    assert 'unit of measure "CASE12"' in str(info.value)


def test_mapping_table_duplicates_rejected():
    with pytest.raises(ValueError, match='"case 12"'):
        MappingTable([("uom", "CASE 12", 1), ("uom", "case 12", 2)])
    # Same code under different types is fine.
    MappingTable([("uom", "X", 1), ("tax", "X", 2)])


def test_mapping_table_empty_code_rejected():
    with pytest.raises(ValueError):
        MappingTable([("uom", "  ", 1)])
