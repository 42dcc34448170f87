"""Canonical accounting documents: customer invoices, credit notes and payments.

Channel mappers (QuickBooks ``Invoice``/``CreditMemo``/``Payment``) produce
these dicts and read them back; the Odoo side builds them from ``account.move``
and ``account.payment``. As for the order (``canonical.py``), a parser
validates and normalises one: amounts become exact ``Decimal``, dates
``datetime.date``, ``updated_at`` an aware UTC datetime, codes upper case,
emails lower case; absent optional keys get their default, unknown keys are
kept untouched, and every error is a ``PayloadError`` naming the path of the
offending key (``lines[1].amount``).

Invoice (``parse_invoice``), a customer invoice or credit note::

    external_id*      text or int
    number            document number (Odoo ``name``, QuickBooks ``DocNumber``)
    move_type*        "invoice" | "credit_note"
    state*            "draft" | "posted" | "cancelled" | "voided"
    date              date "YYYY-MM-DD"; required unless state is "draft"
    due_date          date
    currency          ISO code (None: the company's)
    rounding          the currency's rounding, default 0.01
    partner*          {external_id, name, email}: at least one of them
    lines*            non-empty list of
        line_ref      the line's id in its system
        sku, description, tax_code
        quantity*, unit_price*
        discount_amount   discount in money, default 0
        amount*       untaxed line total (authoritative; may be negative,
                      e.g. a discount line; not checked against quantity ×
                      unit_price, which may include taxes)
    taxes             list of {code*, rate, amount*}, default []
    amount_untaxed*, amount_tax*, amount_total*, amount_residual* (open balance)
    reversed_invoice  external id of the invoice a credit note reverses
    updated_at        date-time

A credit note carries positive amounts, as printed on it: ``move_type`` gives
the direction.

Payment (``parse_payment``), a customer payment over any number of documents::

    external_id*      text or int
    date*             date
    currency, rounding    as for the invoice
    amount*           >= 0, the money received
    partner*          as for the invoice
    method            payment method code (for the payment-method mapping)
    deposit_account   deposit account code
    unapplied_amount  >= 0, default 0: received but applied to nothing yet
    applications      list of, default []
        invoice_external_id*  external id of the invoice or credit note
        amount*       >= 0
        kind          "invoice" (default) | "credit_note"
    updated_at        date-time

A credit note applied with a payment is an application of kind
"credit_note" with a positive amount, as QuickBooks lists it (a ``Line``
linked to a ``CreditMemo``): it pays invoices instead of money, so it counts
negatively. A payment of 0 that applies a credit note to an invoice is valid.

Checks, each "equal" within half a unit of ``rounding`` (``money.money_equal``),
each failure naming the path of the field it blames and both amounts:

- invoice: the line amounts sum to ``amount_untaxed``; the ``taxes`` amounts,
  when listed, sum to ``amount_tax``; ``amount_untaxed + amount_tax =
  amount_total``; ``0 <= amount_residual <= amount_total`` (so the total is not
  negative); only a credit note has a ``reversed_invoice``.
- payment: the "invoice" applications minus the "credit_note" applications
  plus ``unapplied_amount`` equal ``amount``.
"""

import re
from datetime import date, datetime
from decimal import Decimal, localcontext

from .canonical import (
    _error,
    _missing,
    _normalise,
    _object,
    _sub_list,
    _sub_object,
    clean_datetime,
    clean_decimal,
    clean_email,
    clean_identifier,
    clean_long_text,
    clean_text,
    clean_upper,
)
from .errors import PayloadError
from .money import money_equal

MOVE_TYPES = ("invoice", "credit_note")
INVOICE_STATES = ("draft", "posted", "cancelled", "voided")
APPLICATION_KINDS = ("invoice", "credit_note")

DEFAULT_ROUNDING = Decimal("0.01")
# Finest currency rounding accepted: finer grids mean no currency, and would
# only make the amount checks slow.
MAX_ROUNDING_PLACES = 12

_ZERO = Decimal(0)
_DATE_RE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")


def clean_date(value, path):
    """A calendar date from "YYYY-MM-DD" or a ``date`` (not a date-time: which
    day a moment falls on depends on a time zone the payload does not give)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    match = _DATE_RE.match(value.strip()) if isinstance(value, str) else None
    try:
        return date(*(int(part) for part in match.groups()))
    except (AttributeError, ValueError):
        # No match, or no such day (2026-02-30).
        raise _error(path, f"{value!r} is not a date (YYYY-MM-DD).", value) from None


def _choice(*allowed):
    def parse(value, path):
        text = clean_text(value, path)
        text = text.lower() if text else text
        if text not in allowed:
            raise _error(path, f"{value!r} is not one of {', '.join(allowed)}.", value)
        return text

    return parse


def _not_negative(value, path):
    number = clean_decimal(value, path)
    if number < 0:
        raise _error(path, f"must not be negative, got {value!r}.", value)
    return number


def _rounding(value, path):
    number = clean_decimal(value, path)
    if number <= 0:
        raise _error(path, f"must be greater than zero, got {value!r}.", value)
    if number.normalize().as_tuple().exponent < -MAX_ROUNDING_PLACES:
        raise _error(
            path,
            f"{value!r} has more than {MAX_ROUNDING_PLACES} decimal places.",
            str(value)[:50],
        )
    return number


PARTNER_SPEC = {
    "external_id": (clean_text, False, None),
    "name": (clean_text, False, None),
    "email": (clean_email, False, None),
}


def _partner(value, path):
    partner = _normalise(_object(value, path), path, PARTNER_SPEC)
    if not any(partner[key] for key in PARTNER_SPEC):
        raise _error(path, "needs at least one of external_id, name or email.", value)
    return partner


INVOICE_LINE_SPEC = {
    "line_ref": (clean_text, False, None),
    "sku": (clean_text, False, None),
    "description": (clean_long_text, False, None),
    "quantity": (clean_decimal, True, None),
    "unit_price": (clean_decimal, True, None),
    "discount_amount": (clean_decimal, False, _ZERO),
    "tax_code": (clean_text, False, None),
    "amount": (clean_decimal, True, None),
}

INVOICE_TAX_SPEC = {
    "code": (clean_text, True, None),
    "rate": (clean_decimal, False, None),
    "amount": (clean_decimal, True, None),
}

INVOICE_SPEC = {
    "external_id": (clean_identifier, True, None),
    "number": (clean_text, False, None),
    "move_type": (_choice(*MOVE_TYPES), True, None),
    "state": (_choice(*INVOICE_STATES), True, None),
    "date": (clean_date, False, None),
    "due_date": (clean_date, False, None),
    "currency": (clean_upper, False, None),
    "rounding": (_rounding, False, DEFAULT_ROUNDING),
    "partner": (_partner, True, None),
    "lines": (_sub_list(_sub_object(INVOICE_LINE_SPEC), non_empty=True), True, None),
    "taxes": (_sub_list(_sub_object(INVOICE_TAX_SPEC)), False, list),
    "amount_untaxed": (clean_decimal, True, None),
    "amount_tax": (clean_decimal, True, None),
    "amount_total": (clean_decimal, True, None),
    "amount_residual": (clean_decimal, True, None),
    "reversed_invoice": (clean_text, False, None),
    "updated_at": (clean_datetime, False, None),
}

APPLICATION_SPEC = {
    "invoice_external_id": (clean_identifier, True, None),
    "amount": (_not_negative, True, None),
    "kind": (_choice(*APPLICATION_KINDS), False, "invoice"),
}

PAYMENT_SPEC = {
    "external_id": (clean_identifier, True, None),
    "date": (clean_date, True, None),
    "currency": (clean_upper, False, None),
    "rounding": (_rounding, False, DEFAULT_ROUNDING),
    "amount": (_not_negative, True, None),
    "partner": (_partner, True, None),
    "method": (clean_text, False, None),
    "deposit_account": (clean_text, False, None),
    "unapplied_amount": (_not_negative, False, _ZERO),
    "applications": (_sub_list(_sub_object(APPLICATION_SPEC)), False, list),
    "updated_at": (clean_datetime, False, None),
}


def _exact_sum(values):
    # Wide enough that no payload amount (each below 10^12) is ever rounded.
    with localcontext() as context:
        context.prec = 200
        return sum(values, _ZERO)


def _object_payload(data, noun):
    if not isinstance(data, dict):
        raise PayloadError(
            f"The {noun} payload must be an object, got {type(data).__name__}.",
            value=data,
        )
    return data


def _check_equal(path, value, expected, what, rounding):
    if not money_equal(value, expected, rounding):
        raise _error(path, f"{value} is not {what}, {expected}.", str(value))


def _check_invoice(invoice):
    rounding = invoice["rounding"]
    if invoice["date"] is None and invoice["state"] != "draft":
        raise _missing("date")
    untaxed = invoice["amount_untaxed"]
    tax = invoice["amount_tax"]
    total = invoice["amount_total"]
    residual = invoice["amount_residual"]
    lines_sum = _exact_sum(line["amount"] for line in invoice["lines"])
    _check_equal(
        "amount_untaxed", untaxed, lines_sum, "the sum of the line amounts", rounding
    )
    if invoice["taxes"]:
        taxes_sum = _exact_sum(tax_line["amount"] for tax_line in invoice["taxes"])
        _check_equal("amount_tax", tax, taxes_sum, "the sum of the taxes", rounding)
    _check_equal(
        "amount_total",
        total,
        _exact_sum((untaxed, tax)),
        f"amount_untaxed {untaxed} plus amount_tax {tax}",
        rounding,
    )
    if total < 0 and not money_equal(total, _ZERO, rounding):
        raise _error(
            "amount_total",
            f"{total} is negative; a negative invoice is a credit note "
            "with a positive total.",
            str(total),
        )
    if residual < 0 and not money_equal(residual, _ZERO, rounding):
        raise _error("amount_residual", f"{residual} is negative.", str(residual))
    if residual > total and not money_equal(residual, total, rounding):
        raise _error(
            "amount_residual",
            f"{residual} is more than amount_total {total}.",
            str(residual),
        )
    if invoice["reversed_invoice"] and invoice["move_type"] != "credit_note":
        raise _error(
            "reversed_invoice",
            "only a credit note reverses an invoice; this is an invoice.",
            invoice["reversed_invoice"],
        )


def _check_payment(payment):
    applied = _exact_sum(
        # copy_negate is exact; unary minus would round to the context's digits.
        item["amount"].copy_negate()
        if item["kind"] == "credit_note"
        else item["amount"]
        for item in payment["applications"]
    )
    unapplied = payment["unapplied_amount"]
    _check_equal(
        "amount",
        payment["amount"],
        _exact_sum((applied, unapplied)),
        f"the applications' sum {applied} plus unapplied_amount {unapplied}",
        payment["rounding"],
    )


def parse_invoice(data: dict) -> dict:
    """Validate and normalise a canonical invoice or credit note (module
    docstring); returns a new dict. Raises ``PayloadError`` naming the path."""
    invoice = _normalise(_object_payload(data, "invoice"), "", INVOICE_SPEC)
    _check_invoice(invoice)
    return invoice


def parse_payment(data: dict) -> dict:
    """Validate and normalise a canonical customer payment (module docstring);
    returns a new dict. Raises ``PayloadError`` naming the path."""
    payment = _normalise(_object_payload(data, "payment"), "", PAYMENT_SPEC)
    _check_payment(payment)
    return payment
