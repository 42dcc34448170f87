"""Decimal money helpers: conversion, rounding, comparison and allocation."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, getcontext, localcontext
from fractions import Fraction

from .errors import PayloadError


def to_decimal(value) -> Decimal:
    """Convert int/str/float/Decimal to a finite ``Decimal``.

    Floats go through ``str()`` so ``0.1`` becomes ``Decimal('0.1')``, not its binary
    expansion. ``None`` raises ``ValueError``, ``bool`` raises ``TypeError`` (a flag is
    never an amount), anything unparsable raises ``PayloadError``.
    """
    if value is None:
        raise ValueError("A number is required, got None.")
    if isinstance(value, bool):
        raise TypeError(f"{value!r} is a boolean, not a number.")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(str(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            result = None
    else:
        result = None
    if result is None or not result.is_finite():
        raise PayloadError(f"{value!r} is not a number", value=value)
    return result


def _rounding(rounding) -> Decimal:
    step = to_decimal(rounding)
    if step <= 0:
        raise ValueError(f"Rounding must be greater than zero, got {rounding!r}.")
    return step


def _exponent_unit(step: Decimal) -> Decimal:
    # Quantize target carrying the step's decimal places; "1E+1" still yields units.
    return Decimal(1).scaleb(min(step.as_tuple().exponent, 0))


def _wide(*values):
    """A decimal context with digits enough for ``values`` exactly: the
    default 28 would make ``quantize`` raise ``InvalidOperation`` above about
    10^26."""
    context = getcontext().copy()
    context.prec = max(
        context.prec,
        *(
            len(value.as_tuple().digits) + abs(value.adjusted()) + 30
            for value in values
        ),
    )
    return localcontext(context)


def quantize_steps(value: Decimal, step: Decimal, rounding_mode) -> Decimal:
    """Round ``value`` to a multiple of ``step`` using a ``decimal`` rounding mode."""
    with _wide(value, step):
        steps = (value / step).quantize(Decimal(1), rounding=rounding_mode)
        return (steps * step).quantize(_exponent_unit(step))


def round_money(amount, rounding="0.01") -> Decimal:
    """Round half up to a multiple of ``rounding`` (e.g. "0.01", "0.05", "1")."""
    return quantize_steps(to_decimal(amount), _rounding(rounding), ROUND_HALF_UP)


def money_equal(a, b, rounding="0.01") -> bool:
    """True when ``a - b`` rounds to zero, i.e. differs by less than half a unit."""
    a, b = to_decimal(a), to_decimal(b)
    with _wide(a, b):
        delta = a - b
    return round_money(delta, rounding) == 0


def money_compare(a, b, rounding="0.01") -> int:
    """Return -1, 0 or 1 comparing ``a`` and ``b`` after rounding each.

    Same semantics as Odoo's ``float_compare(precision_rounding=...)``: both values are
    rounded first, so 0.004 and 0.006 compare as 0.00 < 0.01 even though
    ``money_equal`` (which rounds the difference) considers them equal.
    """
    delta = round_money(a, rounding) - round_money(b, rounding)
    if round_money(delta, rounding) == 0:
        return 0
    return -1 if delta < 0 else 1


def allocate(total, weights, rounding="0.01") -> list[Decimal]:
    """Split ``round_money(total)`` proportionally to ``weights``.

    Largest-remainder method: the parts always sum exactly to the rounded total and
    each part is within one rounding unit of its exact proportional share. Weights
    must be non-negative; when they are all zero the total is split evenly. Ties in
    remainders go to the earlier position, so the result is deterministic.
    """
    step = _rounding(rounding)
    weights = [to_decimal(weight) for weight in weights]
    if not weights:
        raise ValueError("Cannot allocate an amount over zero weights.")
    if any(weight < 0 for weight in weights):
        raise ValueError("Allocation weights must not be negative.")
    rounded_total = round_money(total, step)
    with _wide(rounded_total, step):
        units = int((rounded_total / step).to_integral_value())
    sign = -1 if units < 0 else 1
    units = abs(units)

    fractions_ = [Fraction(weight) for weight in weights]
    weight_sum = sum(fractions_)
    if weight_sum == 0:
        fractions_ = [Fraction(1)] * len(weights)
        weight_sum = Fraction(len(weights))
    # Exact rational shares avoid Decimal precision deciding who gets the cents.
    shares = [units * weight / weight_sum for weight in fractions_]
    counts = [share.numerator // share.denominator for share in shares]
    leftover = units - sum(counts)
    by_remainder = sorted(
        range(len(shares)), key=lambda index: (-(shares[index] - counts[index]), index)
    )
    for index in by_remainder[:leftover]:
        counts[index] += 1
    unit = _exponent_unit(step)
    with _wide(rounded_total, step):
        return [(Decimal(sign * count) * step).quantize(unit) for count in counts]
