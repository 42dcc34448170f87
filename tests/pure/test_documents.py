import copy
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sample_files import sample_json

from distribution_sync.core.canonical import to_jsonable
from distribution_sync.core.documents import (
    clean_date,
    parse_invoice,
    parse_payment,
)
from distribution_sync.core.errors import PayloadError

UTC = timezone.utc

GOLDEN = [
    ("reference_invoice", parse_invoice),
    ("reference_credit_note", parse_invoice),
    ("reference_payment", parse_payment),
    ("reference_payment_two_invoices", parse_payment),
]


def minimal_invoice(**overrides):
    invoice = {
        "external_id": "INV-1",
        "move_type": "invoice",
        "state": "posted",
        "date": "2024-05-01",
        "partner": {"external_id": "C-1"},
        "lines": [{"quantity": 2, "unit_price": "5", "amount": "10.00"}],
        "amount_untaxed": "10.00",
        "amount_tax": "0.80",
        "amount_total": "10.80",
        "amount_residual": "10.80",
    }
    invoice.update(overrides)
    return invoice


def minimal_payment(**overrides):
    payment = {
        "external_id": "PAY-1",
        "date": "2024-05-02",
        "amount": "10.80",
        "partner": {"name": "Jane Doe"},
        "applications": [{"invoice_external_id": "INV-1", "amount": "10.80"}],
    }
    payment.update(overrides)
    return payment


def error_of(parser, data):
    with pytest.raises(PayloadError) as info:
        parser(data)
    return info.value


# ------------------------------------------------------------------ golden
@pytest.mark.parametrize(("name", "parser"), GOLDEN, ids=[n for n, _p in GOLDEN])
def test_golden(name, parser):
    data = sample_json(f"core/{name}.json")
    snapshot = copy.deepcopy(data)
    expected = sample_json(f"core/{name}.expected.json")
    assert to_jsonable(parser(data)) == expected
    assert data == snapshot  # the input is read, never changed


def test_reference_invoice_types():
    invoice = parse_invoice(sample_json("core/reference_invoice.json"))
    assert invoice["external_id"] == "119"
    assert invoice["state"] == "posted"
    assert invoice["date"] == date(2023, 2, 18)
    assert invoice["due_date"] == date(2023, 3, 20)
    assert invoice["updated_at"] == datetime(2023, 2, 18, 20, 57, 24, tzinfo=UTC)
    assert invoice["rounding"] == Decimal("0.01")
    assert invoice["partner"]["email"] == "mark@cho.com"
    first, second = invoice["lines"]
    assert first["amount"] == Decimal("275")
    assert second["quantity"] == Decimal(4)
    assert second["discount_amount"] == Decimal(0)
    assert invoice["taxes"][0]["amount"] == Decimal("23.28")
    assert invoice["amount_total"] == Decimal("314.28")
    # Unknown keys survive untouched.
    assert invoice["channel_extra"] == {"sales_term": "Net 30"}
    assert second["channel_extra"] == {"item_ref": "17"}


def test_reference_payment_over_two_invoices():
    payment = parse_payment(sample_json("core/reference_payment_two_invoices.json"))
    assert [(a["invoice_external_id"], a["kind"]) for a in payment["applications"]] == [
        ("119", "invoice"),
        ("126", "invoice"),
        ("127", "credit_note"),
    ]
    assert payment["amount"] == Decimal("400.00")
    assert payment["unapplied_amount"] == Decimal("10.00")
    assert payment["date"] == date(2023, 3, 2)


def test_minimal_defaults():
    invoice = parse_invoice(minimal_invoice(external_id=7))
    assert invoice["external_id"] == "7"
    assert invoice["taxes"] == []
    assert invoice["currency"] is None
    assert invoice["reversed_invoice"] is None
    assert invoice["rounding"] == Decimal("0.01")
    assert invoice["partner"] == {"external_id": "C-1", "name": None, "email": None}
    payment = parse_payment(minimal_payment(applications=None, unapplied_amount="10.8"))
    assert payment["applications"] == []
    assert payment["method"] is None
    assert payment["deposit_account"] is None
    assert parse_payment(minimal_payment())["unapplied_amount"] == Decimal(0)


def test_credit_note_reversing_an_invoice():
    credit_note = parse_invoice(
        minimal_invoice(move_type="credit_note", reversed_invoice=119)
    )
    assert credit_note["reversed_invoice"] == "119"


def test_draft_needs_no_date():
    assert parse_invoice(minimal_invoice(state="draft", date=None))["date"] is None


# ------------------------------------------------------------------ paths
INVOICE_ERRORS = [
    (minimal_invoice(external_id=" "), "external_id"),
    (minimal_invoice(move_type="out_invoice"), "move_type"),
    (minimal_invoice(move_type=None), "move_type"),
    (minimal_invoice(state="paid"), "state"),
    (minimal_invoice(date=None), "date"),
    (minimal_invoice(date="2023-02-30"), "date"),
    (minimal_invoice(date="02/18/2023"), "date"),
    (minimal_invoice(date="2023-02-18T10:00:00Z"), "date"),
    (minimal_invoice(date=datetime(2023, 2, 18)), "date"),
    (minimal_invoice(due_date=20230320), "due_date"),
    (minimal_invoice(partner=None), "partner"),
    (minimal_invoice(partner="Mark Cho"), "partner"),
    (minimal_invoice(partner={"name": " ", "email": None}), "partner"),
    (minimal_invoice(partner={"name": ["Mark"]}), "partner.name"),
    (minimal_invoice(lines=[]), "lines"),
    (minimal_invoice(lines=[{"quantity": 2, "unit_price": 5}]), "lines[0].amount"),
    (
        minimal_invoice(lines=[{"quantity": "x", "unit_price": 5, "amount": 10}]),
        "lines[0].quantity",
    ),
    (minimal_invoice(lines=[{"quantity": 2, "amount": 10}]), "lines[0].unit_price"),
    (minimal_invoice(taxes=[{"amount": "0.80"}]), "taxes[0].code"),
    (minimal_invoice(taxes=[{"code": "TAX"}]), "taxes[0].amount"),
    (minimal_invoice(taxes={"code": "TAX"}), "taxes"),
    (minimal_invoice(rounding=0), "rounding"),
    (minimal_invoice(rounding="-0.01"), "rounding"),
    (minimal_invoice(rounding="1e-13"), "rounding"),
    (minimal_invoice(amount_untaxed=None), "amount_untaxed"),
    (minimal_invoice(amount_tax=None), "amount_tax"),
    (minimal_invoice(amount_total=None), "amount_total"),
    (minimal_invoice(amount_residual=None), "amount_residual"),
    (minimal_invoice(amount_total=True), "amount_total"),
    (minimal_invoice(reversed_invoice="INV-0"), "reversed_invoice"),
    (minimal_invoice(updated_at="yesterday"), "updated_at"),
]


@pytest.mark.parametrize(("data", "path"), INVOICE_ERRORS)
def test_invoice_error_names_path(data, path):
    error = error_of(parse_invoice, data)
    assert error.path == path
    assert path in str(error)


PAYMENT_ERRORS = [
    (minimal_payment(external_id=None), "external_id"),
    (minimal_payment(date=None), "date"),
    (minimal_payment(date="2024-5-2"), "date"),
    (minimal_payment(amount=None), "amount"),
    (minimal_payment(amount="-10.80"), "amount"),
    (minimal_payment(unapplied_amount="-0.01"), "unapplied_amount"),
    (minimal_payment(partner={}), "partner"),
    (minimal_payment(method={"code": "2"}), "method"),
    (
        minimal_payment(applications=[{"amount": 1}]),
        "applications[0].invoice_external_id",
    ),
    (
        minimal_payment(applications=[{"invoice_external_id": "A"}]),
        "applications[0].amount",
    ),
    (
        minimal_payment(
            applications=[{"invoice_external_id": "A", "amount": "-10.80"}]
        ),
        "applications[0].amount",
    ),
    (
        minimal_payment(
            applications=[{"invoice_external_id": "A", "amount": 1, "kind": "refund"}]
        ),
        "applications[0].kind",
    ),
    (minimal_payment(applications="INV-1"), "applications"),
    (minimal_payment(rounding="0"), "rounding"),
]


@pytest.mark.parametrize(("data", "path"), PAYMENT_ERRORS)
def test_payment_error_names_path(data, path):
    error = error_of(parse_payment, data)
    assert error.path == path
    assert path in str(error)


@pytest.mark.parametrize("parser", [parse_invoice, parse_payment])
@pytest.mark.parametrize("data", [None, [], "invoice", 42, True])
def test_payload_not_an_object(parser, data):
    error_of(parser, data)


# ------------------------------------------------------------------ checks
def test_untaxed_must_be_the_sum_of_the_lines():
    error = error_of(
        parse_invoice,
        minimal_invoice(amount_untaxed="10.50", amount_total="11.30"),
    )
    assert error.path == "amount_untaxed"
    assert "10.50" in str(error) and "10.00" in str(error)


def test_tax_must_be_the_sum_of_the_taxes():
    error = error_of(
        parse_invoice,
        minimal_invoice(taxes=[{"code": "3", "rate": 8, "amount": "0.70"}]),
    )
    assert error.path == "amount_tax"
    assert "0.80" in str(error) and "0.70" in str(error)
    # Listed taxes that add up are accepted, and so is no list at all.
    taxes = [{"code": "3", "amount": "0.50"}, {"code": "4", "amount": "0.30"}]
    assert len(parse_invoice(minimal_invoice(taxes=taxes))["taxes"]) == 2


def test_total_must_be_untaxed_plus_tax():
    error = error_of(
        parse_invoice, minimal_invoice(amount_total="10.90", amount_residual="0")
    )
    assert error.path == "amount_total"
    assert "10.90" in str(error) and "10.80" in str(error)


def test_total_must_not_be_negative():
    data = minimal_invoice(
        lines=[{"quantity": 1, "unit_price": "-10", "amount": "-10.00"}],
        amount_untaxed="-10.00",
        amount_tax="0",
        amount_total="-10.00",
        amount_residual="0",
    )
    error = error_of(parse_invoice, data)
    assert error.path == "amount_total"
    assert "-10.00" in str(error)


@pytest.mark.parametrize(
    ("residual", "ok"),
    [("0", True), ("5.40", True), ("10.80", True), ("-0.01", False), ("10.81", False)],
)
def test_residual_between_zero_and_total(residual, ok):
    data = minimal_invoice(amount_residual=residual)
    if ok:
        assert parse_invoice(data)["amount_residual"] == Decimal(residual)
        return
    error = error_of(parse_invoice, data)
    assert error.path == "amount_residual"
    assert residual in str(error)


def test_negative_lines_count_towards_the_untaxed_amount():
    lines = [
        {"quantity": 2, "unit_price": "5", "amount": "10.00"},
        {"description": "Discount", "quantity": 1, "unit_price": -2, "amount": -2},
    ]
    data = minimal_invoice(
        lines=lines,
        amount_untaxed="8.00",
        amount_tax="0.64",
        amount_total="8.64",
        amount_residual="8.64",
    )
    assert parse_invoice(data)["amount_untaxed"] == Decimal("8.00")


@pytest.mark.parametrize(
    ("rounding", "untaxed", "ok"),
    [
        ("0.01", "10.004", True),
        ("0.01", "9.996", True),
        ("0.01", "10.005", False),
        ("0.01", "9.995", False),
        # A currency without cents (JPY) or rounded to 5 cents (CHF cash).
        ("1", "10.49", True),
        ("1", "10.5", False),
        ("0.05", "10.02", True),
        ("0.05", "10.025", False),
    ],
)
def test_checks_use_the_currency_rounding(rounding, untaxed, ok):
    # The lines sum to 10.00; total and residual follow the declared untaxed.
    data = minimal_invoice(
        rounding=rounding,
        amount_untaxed=untaxed,
        amount_tax="0",
        amount_total=untaxed,
        amount_residual=untaxed,
    )
    if ok:
        parse_invoice(data)
    else:
        assert error_of(parse_invoice, data).path == "amount_untaxed"


def test_decimal_exactness():
    """0.1 + 0.2 is 0.3 exactly, to the twelfth decimal place: binary floats
    would be off in the seventeenth, a Decimal sum is not off at all."""
    lines = [
        {"quantity": 1, "unit_price": 0.1, "amount": 0.1},
        {"quantity": 1, "unit_price": 0.2, "amount": 0.2},
    ]
    data = minimal_invoice(
        rounding="0.000000000001",
        lines=lines,
        amount_untaxed="0.3",
        amount_tax=0,
        amount_total=0.3,
        amount_residual=0.3,
    )
    invoice = parse_invoice(data)
    assert [line["amount"] for line in invoice["lines"]] == [
        Decimal("0.1"),
        Decimal("0.2"),
    ]
    assert invoice["amount_total"] == Decimal("0.3")
    assert to_jsonable(invoice)["amount_total"] == "0.3"
    # One unit of the twelfth place off is caught.
    data["amount_untaxed"] = "0.300000000001"
    assert error_of(parse_invoice, data).path == "amount_untaxed"


def test_many_decimal_places_are_summed_exactly():
    """The line amounts are summed without rounding, even past the default
    decimal context's 28 digits: these lines sum to just under half a unit
    above amount_untaxed (equal); rounded to 28 digits, the sum would be
    half a unit above (not equal)."""
    lines = [
        {"quantity": 1, "unit_price": 0, "amount": "99999999999.0000000000005"},
        {"quantity": 1, "unit_price": 0, "amount": "-0.000000000000000000000001"},
    ]
    data = minimal_invoice(
        lines=lines,
        rounding="0.000000000001",
        amount_untaxed="99999999999",
        amount_tax=0,
        amount_total="99999999999",
        amount_residual=0,
    )
    assert parse_invoice(data)["amount_untaxed"] == Decimal("99999999999")


def test_payment_applications_and_unapplied_make_the_amount():
    error = error_of(
        parse_payment, minimal_payment(amount="20.00", unapplied_amount="5.00")
    )
    assert error.path == "amount"
    message = str(error)
    assert "20.00" in message and "10.80" in message and "5.00" in message
    assert "applications" in message
    assert parse_payment(minimal_payment(amount="20.00", unapplied_amount="9.20"))


def test_payment_entirely_unapplied():
    payment = parse_payment(
        minimal_payment(amount="50", unapplied_amount="50", applications=[])
    )
    assert payment["applications"] == []


def test_credit_note_applications_count_negatively():
    """A payment of 0 that settles an invoice with a credit note, as
    QuickBooks records it: both applications positive, kind tells them apart."""
    applications = [
        {"invoice_external_id": "INV-1", "amount": "100.00"},
        {"invoice_external_id": "CN-1", "amount": "100.00", "kind": "credit_note"},
    ]
    payment = parse_payment(minimal_payment(amount=0, applications=applications))
    assert payment["applications"][1]["kind"] == "credit_note"
    # The same credit note counted as an invoice does not add up.
    applications[1]["kind"] = "invoice"
    error = error_of(
        parse_payment, minimal_payment(amount=0, applications=applications)
    )
    assert error.path == "amount"


def test_payment_sums_exactly():
    """A credit note's amount of 30 significant digits counts exactly: just
    under half a unit (equal); rounded to 28 digits, half a unit (not)."""
    applications = [
        {"invoice_external_id": "INV-1", "amount": "99999999999"},
        {
            "invoice_external_id": "CN-1",
            "amount": "0.000000000000" + "4" + "9" * 29,
            "kind": "credit_note",
        },
    ]
    data = minimal_payment(
        amount="99999999999", rounding="1e-12", applications=applications
    )
    assert parse_payment(data)["amount"] == Decimal("99999999999")


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("data", "path"),
    [
        (minimal_invoice(number="10\u000035"), "number"),
        (minimal_invoice(partner={"name": "A\ud800B"}), "partner.name"),
        (minimal_invoice(amount_untaxed=10**12), "amount_untaxed"),
        (minimal_invoice(amount_tax=10**400), "amount_tax"),
        (minimal_invoice(amount_total="1e400"), "amount_total"),
        (minimal_invoice(amount_residual=float("nan")), "amount_residual"),
        (minimal_invoice(amount_residual="Infinity"), "amount_residual"),
        (minimal_invoice(rounding=1e20), "rounding"),
        (minimal_invoice(external_id=1.5), "external_id"),
        (minimal_invoice(number="x" * 501), "number"),
        (minimal_payment(amount=10**15), "amount"),
        (minimal_payment(amount=[10]), "amount"),
        (minimal_payment(date=20240502), "date"),
        (minimal_payment(date="\u0662\u0660\u0662\u0664-05-02"), "date"),
        (minimal_payment(applications=[None]), "applications[0]"),
        (minimal_payment(updated_at="2024-02-30T00:00:00Z"), "updated_at"),
    ],
)
def test_bad_values_are_payload_errors(data, path):
    parser = parse_payment if data["external_id"] == "PAY-1" else parse_invoice
    error = error_of(parser, data)
    assert error.path == path


def test_clean_date():
    assert clean_date(" 2024-02-29 ", "d") == date(2024, 2, 29)
    assert clean_date(date(2024, 1, 1), "d") == date(2024, 1, 1)
    for bad in ("2023-02-29", "0000-01-01", "2024-1-1", "", 2024, None, ["2024"]):
        with pytest.raises(PayloadError) as info:
            clean_date(bad, "d")
        assert info.value.path == "d"
