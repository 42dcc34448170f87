from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from distribution_sync.core.errors import PayloadError
from distribution_sync.core.money import (
    allocate,
    money_compare,
    money_equal,
    round_money,
    to_decimal,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, Decimal("3")),
        ("  12.50 ", Decimal("12.50")),
        (0.1, Decimal("0.1")),
        (1e-7, Decimal("1E-7")),
        (Decimal("4.20"), Decimal("4.20")),
        ("-3", Decimal("-3")),
    ],
)
def test_to_decimal(value, expected):
    result = to_decimal(value)
    assert isinstance(result, Decimal)
    assert result == expected
    assert str(result) == str(expected)


def test_to_decimal_float_goes_through_str():
    assert to_decimal(0.1) + to_decimal(0.2) == Decimal("0.3")


def test_to_decimal_none_bool_invalid():
    with pytest.raises(ValueError):
        to_decimal(None)
    with pytest.raises(TypeError):
        to_decimal(True)
    for bad in ("abc", "", "NaN", "inf", float("nan"), [1]):
        with pytest.raises(PayloadError, match="is not a number"):
            to_decimal(bad)


@pytest.mark.parametrize(
    ("amount", "rounding", "expected"),
    [
        ("1.005", "0.01", "1.01"),
        ("-1.005", "0.01", "-1.01"),
        ("2.675", "0.01", "2.68"),
        (2.675, "0.01", "2.68"),
        ("1.02", "0.05", "1.00"),
        ("1.025", "0.05", "1.05"),
        ("1.5", "1", "2"),
        ("7", "0.01", "7.00"),
    ],
)
def test_round_money(amount, rounding, expected):
    assert str(round_money(amount, rounding)) == expected


def test_round_money_rejects_bad_rounding():
    with pytest.raises(ValueError):
        round_money(1, "0")
    with pytest.raises(ValueError):
        round_money(1, "-0.01")


def test_money_equal():
    assert money_equal("10.004", "10")
    assert money_equal(0.1 + 0.2, "0.3")
    assert not money_equal("10.005", "10")
    assert not money_equal("10.01", "10")
    assert money_equal("10.4", "10", rounding="1")


def test_money_compare():
    assert money_compare("1.00", "1.004") == 0
    assert money_compare("1.00", "1.01") == -1
    assert money_compare("2", "1.99") == 1
    # Each value is rounded first, like Odoo's float_compare.
    assert money_compare("0.004", "0.006") == -1
    assert money_equal("0.004", "0.006")


def test_allocate_discount_across_lines():
    assert allocate("10.00", [1, 1, 1]) == [
        Decimal("3.34"),
        Decimal("3.33"),
        Decimal("3.33"),
    ]
    assert allocate("10", ["50", "30", "20"]) == [
        Decimal("5.00"),
        Decimal("3.00"),
        Decimal("2.00"),
    ]


def test_allocate_largest_remainder_goes_to_largest_fraction():
    # Shares 0.333.., 0.666..: the cent goes to the second part.
    assert allocate("0.01", [1, 2]) == [Decimal("0.00"), Decimal("0.01")]


def test_allocate_negative_total_and_zero_weights():
    assert allocate("-1.00", [1, 2]) == [Decimal("-0.33"), Decimal("-0.67")]
    assert allocate("1.00", [0, 0, 0]) == [
        Decimal("0.34"),
        Decimal("0.33"),
        Decimal("0.33"),
    ]
    assert allocate("5", [0, 3]) == [Decimal("0.00"), Decimal("5.00")]


def test_allocate_rejects_bad_weights():
    with pytest.raises(ValueError):
        allocate(1, [])
    with pytest.raises(ValueError):
        allocate(1, [1, -1])


def test_allocate_with_cash_rounding():
    parts = allocate("1.00", [1, 1, 1], rounding="0.05")
    assert sum(parts) == Decimal("1.00")
    assert all(part % Decimal("0.05") == 0 for part in parts)


amounts = st.decimals(
    min_value=Decimal("-100000"),
    max_value=Decimal("100000"),
    places=3,
    allow_nan=False,
    allow_infinity=False,
)
weights = st.lists(
    st.decimals(min_value=0, max_value=Decimal("10000"), places=2),
    min_size=1,
    max_size=12,
)
roundings = st.sampled_from(["0.01", "0.05", "1", "0.001"])


@given(total=amounts, weights=weights, rounding=roundings)
def test_allocation_properties(total, weights, rounding):
    parts = allocate(total, weights, rounding)
    step = Decimal(rounding)
    rounded = round_money(total, rounding)
    assert len(parts) == len(weights)
    assert sum(parts) == rounded
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        assert part % step == 0
        share = (
            Fraction(rounded) * Fraction(weight) / Fraction(weight_sum)
            if weight_sum
            else Fraction(rounded) / len(weights)
        )
        assert abs(Fraction(part) - share) < Fraction(step)


@given(amount=amounts, rounding=roundings)
def test_round_money_within_half_step(amount, rounding):
    step = Decimal(rounding)
    rounded = round_money(amount, rounding)
    assert rounded % step == 0
    assert abs(rounded - amount) <= step / 2


@given(a=amounts, b=amounts)
def test_money_compare_antisymmetric(a, b):
    result = money_compare(a, b)
    assert result == -money_compare(b, a)
    ra, rb = round_money(a), round_money(b)
    assert result == (ra > rb) - (ra < rb)
