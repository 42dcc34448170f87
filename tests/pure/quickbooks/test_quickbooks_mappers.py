"""QuickBooks documents: payloads and parsers against the genuine samples,
request ids, round trips through what QuickBooks makes of a payload, and the
sentences of ``invoice_differences``."""

import copy
import hashlib
import json
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from quickbooks_samples import (
    SAMPLES,
    cents,
    contained,
    expected_json,
    quickbooks_answer,
    records,
    sample_json,
)

from distribution_sync.core import documents
from distribution_sync.core.canonical import to_jsonable
from distribution_sync.core.errors import MappingMissing, PayloadError
from distribution_sync_quickbooks.core import mappers

CORE_SAMPLES = SAMPLES.parent / "core"


def core_expected(name):
    return json.loads((CORE_SAMPLES / f"{name}.expected.json").read_text())


def payload_input(name):
    data = sample_json(name)
    return data["invoice"], data["refs"]


def numbers(data):
    """Amounts of a canonical document in ``to_jsonable`` form as Decimals,
    so that 291.0 and 291.00 compare equal."""
    if isinstance(data, dict):
        return {key: numbers(value) for key, value in data.items()}
    if isinstance(data, list):
        return [numbers(value) for value in data]
    if isinstance(data, str):
        try:
            return Decimal(data)
        except ArithmeticError:
            return data
    return data


# -------------------------------------------------------------- request ids
def test_request_id_is_stable():
    # A fixed value: changing the recipe would make every retry of an
    # operation in flight a new object in QuickBooks.
    assert mappers.request_id("db-uuid", "account.move", 42, "create") == (
        "ds-2131d28961097c66bd9a117b685b58fc"
    )
    recipe = json.dumps(["db-uuid", "account.move", "42", "create"])
    assert hashlib.sha256(recipe.encode()).hexdigest().startswith("2131d28961097c66")
    assert mappers.request_id("db-uuid", "account.move", 42, "create") == (
        mappers.request_id("db-uuid", "account.move", "42", "create")
    )


def test_request_id_fits_a_batch():
    for parts in [("a",), ("x" * 10_000, 1), ("\ud800", None, Decimal("1.50"))]:
        value = mappers.request_id(*parts)
        assert value.startswith("ds-")
        assert len(value) <= 36  # 50 for a request, 36 inside a batch
        assert value.isascii()


def test_request_ids_differ_per_operation():
    ids = {
        mappers.request_id(database, model, record, operation)
        for database in ("db1", "db2")
        for model in ("account.move", "res.partner", "product.product")
        for record in range(1, 51)
        for operation in ("create", "void", "update:1", "update:2", "payment")
    }
    assert len(ids) == 2 * 3 * 50 * 5
    # Parts are kept apart: no separator makes two operations one.
    assert mappers.request_id("a:b", "c") != mappers.request_id("a", "b:c")
    assert mappers.request_id("ab") != mappers.request_id("a", "b")


def test_request_id_needs_parts():
    with pytest.raises(ValueError):
        mappers.request_id()


# ----------------------------------------------------------------- customers
def test_customer_golden():
    payload = mappers.customer_payload(sample_json("customer_payload_dukes"))
    assert payload == expected_json("customer_payload_dukes")


def test_customer_payload_is_what_quickbooks_keeps():
    """Every field sent is in the genuine customer QuickBooks returns for the
    same person, with the same value."""
    payload = mappers.customer_payload(sample_json("customer_payload_dukes"))
    customer = sample_json("customer_read_response")["Customer"]
    assert contained(payload, customer) == []


@pytest.mark.parametrize(
    ("name", "display"),
    [
        ("Acme: East Warehouse", "Acme - East Warehouse"),
        ("Acme:East", "Acme - East"),
        ("  Acme\tEast\r\nWarehouse  ", "Acme East Warehouse"),
        ("A" * 600, "A" * 500),
        ("Jack O'Neil & Sons", "Jack O'Neil & Sons"),
    ],
)
def test_display_name_is_safe(name, display):
    payload = mappers.customer_payload({"name": name})
    assert payload == {"DisplayName": display}
    assert ":" not in payload["DisplayName"]


def test_display_name_falls_back_to_company_then_email():
    payload = mappers.customer_payload({"name": False, "company": "Acme"})
    assert payload["DisplayName"] == "Acme"
    payload = mappers.customer_payload({"name": " ", "email": "a@b.example"})
    assert payload["DisplayName"] == "a@b.example"


@pytest.mark.parametrize(
    ("partner", "path"),
    [
        ({}, "name"),
        ({"name": "", "company": None, "email": False}, "name"),
        ({"name": "A\x00B"}, "name"),
        ({"name": "A", "email": ["a@b"]}, "email"),
        ({"name": "A", "zip": True}, "zip"),
    ],
)
def test_customer_errors(partner, path):
    with pytest.raises(PayloadError) as caught:
        mappers.customer_payload(partner)
    assert caught.value.path == path


# --------------------------------------------------------------------- items
@pytest.mark.parametrize(
    ("name", "record"), [("item_payload_inventory", 1), ("item_payload_service", 0)]
)
def test_item_golden_and_genuine(name, record):
    data = sample_json(name)
    payload = mappers.item_payload(data["product"], data["accounts"])
    assert payload == expected_json(name)
    # Sent as the genuine sandbox item of the same product has it.
    assert contained(payload, records("sandbox_records_items")[record]) == []


@pytest.mark.parametrize(
    ("product", "kind"),
    [
        ({"type": "product"}, "Inventory"),
        ({"type": "consu", "is_storable": True}, "Inventory"),
        ({"type": "consu"}, "NonInventory"),
        ({"type": "consu", "is_storable": False}, "NonInventory"),
        ({"type": "service"}, "Service"),
        ({"type": "Service"}, "Service"),
    ],
)
def test_item_types(product, kind):
    accounts = {"income": "1", "expense": "2", "asset": "3"}
    payload = mappers.item_payload(dict(product, name="Thing"), accounts)
    assert payload["Type"] == kind
    assert ("AssetAccountRef" in payload) is (kind == "Inventory")
    assert ("TrackQtyOnHand" in payload) is (kind == "Inventory")


def test_inventory_defaults():
    payload = mappers.item_payload(
        {"name": "Thing", "type": "product", "price": 3},
        {"income": 1, "expense": 2, "asset": 3},
    )
    assert payload["QtyOnHand"] == 0
    assert payload["InvStartDate"] == "2000-01-01"
    assert payload["IncomeAccountRef"] == {"value": "1"}


def test_item_name_and_sku():
    payload = mappers.item_payload(
        {"name": "Tools: Hammer " + "x" * 200, "sku": "HAM-1", "type": "consu"},
        {"income": "1"},
    )
    assert payload["Name"].startswith("Tools - Hammer x")
    assert len(payload["Name"]) == 100
    assert payload["Sku"] == "HAM-1"
    by_sku = mappers.item_payload({"sku": "HAM-1", "type": "consu"}, {"income": "1"})
    assert by_sku["Name"] == "HAM-1"


@pytest.mark.parametrize(
    ("product", "accounts", "missing"),
    [
        ({"type": "consu"}, {}, "income"),
        ({"type": "service"}, {"income": False}, "income"),
        ({"type": "product"}, {"income": "1", "expense": "2"}, "asset"),
        ({"type": "product"}, {"income": "1", "asset": "3"}, "expense"),
    ],
)
def test_item_accounts_are_a_mapping(product, accounts, missing):
    with pytest.raises(MappingMissing) as caught:
        mappers.item_payload(dict(product, name="Thing"), accounts)
    assert (caught.value.mapping_type, caught.value.code) == ("account", missing)


@pytest.mark.parametrize(
    ("product", "path"),
    [
        ({"name": "Thing", "type": "kit"}, "type"),
        ({"name": "Thing"}, "type"),
        ({"type": "consu"}, "name"),
        ({"name": "Thing", "type": "consu", "price": "free"}, "price"),
        ({"name": "Thing", "type": "consu", "sku": "S" * 101}, "sku"),
    ],
)
def test_item_errors(product, path):
    with pytest.raises(PayloadError) as caught:
        mappers.item_payload(product, {"income": "1"})
    assert caught.value.path == path


# --------------------------------------------------------- invoice payloads
PAYLOADS = [
    ("invoice_payload_us_tax", mappers.invoice_payload),
    ("invoice_payload_vat_discount", mappers.invoice_payload),
    ("credit_memo_payload", mappers.credit_memo_payload),
]


@pytest.mark.parametrize(("name", "build"), PAYLOADS)
def test_payload_golden(name, build):
    invoice, refs = payload_input(name)
    payload = build(invoice, refs)
    assert payload == expected_json(name)
    # Plain JSON, amounts with their exact digits.
    dumped = json.dumps(payload)
    assert json.loads(dumped) == payload


def test_payload_amounts_keep_their_digits():
    invoice, refs = payload_input("invoice_payload_vat_discount")
    dumped = json.dumps(mappers.invoice_payload(invoice, refs))
    for digits in ('"Amount": 53.97', '"UnitPrice": 17.99', '"ExchangeRate": 0.857143'):
        assert digits in dumped


def test_us_invoice_payload_is_the_genuine_invoice():
    """The canonical form of QuickBooks invoice 119 (sandbox) sent back
    gives the lines, tax, terms and dates QuickBooks has for it."""
    invoice, refs = payload_input("invoice_payload_us_tax")
    payload = mappers.invoice_payload(invoice, refs)
    genuine = records("sandbox_records_invoice_with_tax")[0]
    genuine_lines = [
        line for line in genuine["Line"] if line["DetailType"] == "SalesItemLineDetail"
    ]
    assert contained(dict(payload, Line=None), dict(genuine, Line=None)) == []
    assert contained(payload["Line"], genuine_lines) == []


def test_credit_memo_payload_is_the_genuine_credit_memo():
    invoice, refs = payload_input("credit_memo_payload")
    payload = mappers.credit_memo_payload(invoice, refs)
    genuine = records("sandbox_records_credit_memo")[0]
    lines = [
        line for line in genuine["Line"] if line["DetailType"] != "SubTotalLineDetail"
    ]
    assert contained(dict(payload, Line=None), dict(genuine, Line=None)) == []
    assert contained(payload["Line"], lines) == []
    # A credit memo has no due date or terms; the invoice it reverses is
    # linked by applying it, not in the memo.
    assert "DueDate" not in payload and "SalesTermRef" not in payload


def test_genuine_create_request_is_within_the_payload():
    """qbo_api's create request (one 100.00 line of item 1 for customer 1):
    the payload of the same invoice sends all of it (the item's name aside,
    which QuickBooks does not need)."""
    genuine = sample_json("invoice_create_request")
    invoice = {
        "external_id": "1",
        "move_type": "invoice",
        "state": "posted",
        "date": "2020-09-29",
        "partner": {"external_id": "9", "name": "Amy's Bird Sanctuary"},
        "lines": [{"line_ref": "7", "quantity": 1, "unit_price": 100, "amount": 100}],
        "amount_untaxed": 100,
        "amount_tax": 0,
        "amount_total": 100,
        "amount_residual": 100,
    }
    payload = mappers.invoice_payload(
        invoice, {"customer": "1", "items": {"7": "1"}, "us": True}
    )
    del genuine["Line"][0]["SalesItemLineDetail"]["ItemRef"]["name"]
    assert contained(genuine, payload) == []


@pytest.mark.parametrize(
    ("quantity", "price", "amount", "expected"),
    [
        ("4", "4", "16", ("4", "4")),
        ("3", "19.99", "53.97", ("3", "17.99")),  # 10 % off: net price
        ("3", "3.33", "10.00", ("3", "3.3333333")),
        ("2.5", "4.1", "10.25", ("2.5", "4.1")),
        ("0.333", "9", "3.00", ("0.333", "9")),  # 2.997: 3.00 to the cent
        ("0.333", "9.05", "3.00", ("0.333", "9.009009")),
        ("0", "5", "0", ("0", "5")),
        ("0", "5", "5", (None, None)),
        ("1.12345678", "1", "1.12", (None, None)),  # 8 places: by amount only
        ("-2", "5", "-10", ("-2", "5")),
    ],
)
def test_quantity_and_price(quantity, price, amount, expected):
    line = {
        "quantity": Decimal(quantity),
        "unit_price": Decimal(price),
        "amount": Decimal(amount),
    }
    found = mappers.quantity_and_price(line)
    if expected[0] is None:
        assert found == (None, None)
    else:
        assert found == (Decimal(expected[0]), Decimal(expected[1]))
        # QuickBooks' own check: Qty x UnitPrice makes the amount.
        assert cents(found[0] * found[1]) == Decimal(amount)


def test_line_without_qty_is_sent_by_amount():
    invoice, refs = payload_input("invoice_payload_us_tax")
    invoice = copy.deepcopy(invoice)
    invoice["lines"][1]["quantity"] = "0.00000001"
    (_first, second) = mappers.invoice_payload(invoice, refs)["Line"]
    assert second["Amount"] == 16
    assert "Qty" not in second["SalesItemLineDetail"]


def test_several_discount_lines_make_one():
    invoice, refs = payload_input("invoice_payload_vat_discount")
    invoice = copy.deepcopy(invoice)
    extra = dict(invoice["lines"][3], line_ref="405", description="Spring promo")
    extra.update(unit_price="-2.0", amount="-2.0", tax_code=None)
    invoice["lines"].append(extra)
    for key in ("amount_untaxed", "amount_total", "amount_residual"):
        invoice[key] = str(Decimal(invoice[key]) - 2)
    lines = mappers.invoice_payload(invoice, refs)["Line"]
    assert [line["DetailType"] for line in lines] == [
        "SalesItemLineDetail",
        "SalesItemLineDetail",
        "SalesItemLineDetail",
        "DiscountLineDetail",
    ]
    assert lines[-1]["Amount"] == 7
    assert lines[-1]["Description"] == "Loyalty discount; Spring promo"


def test_a_negative_line_with_an_item_stays_an_item_line():
    invoice, refs = payload_input("invoice_payload_vat_discount")
    refs = dict(refs, items=dict(refs["items"], **{"404": "99"}))
    payload = mappers.invoice_payload(invoice, refs)
    assert "ApplyTaxAfterDiscount" not in payload
    assert payload["Line"][-1]["Amount"] == -5
    assert payload["Line"][-1]["SalesItemLineDetail"]["ItemRef"] == {"value": "99"}


def items(payload):
    return [line for line in payload["Line"] if "SalesItemLineDetail" in line]


def test_tax_codes_outside_the_us():
    invoice, refs = payload_input("invoice_payload_vat_discount")
    # Matched ignoring case and spacing (Odoo's tax names, as keys).
    refs = dict(refs, tax_codes={" vat  20% ": "12"})
    payload = mappers.invoice_payload(invoice, refs)
    codes = {
        line["SalesItemLineDetail"]["TaxCodeRef"]["value"] for line in items(payload)
    }
    assert codes == {"12"}
    with pytest.raises(MappingMissing) as caught:
        mappers.invoice_payload(invoice, dict(refs, tax_codes={"VAT 5%": "4"}))
    assert (caught.value.mapping_type, caught.value.code) == ("tax", "VAT 20%")
    untaxed = copy.deepcopy(invoice)
    for line in untaxed["lines"]:
        line["tax_code"] = None
    payload = mappers.invoice_payload(untaxed, dict(refs, tax_codes={}))
    assert all(
        "TaxCodeRef" not in line["SalesItemLineDetail"] for line in items(payload)
    )
    assert payload["ApplyTaxAfterDiscount"] is False


def test_us_lines_are_tax_or_non():
    invoice, refs = payload_input("invoice_payload_us_tax")
    invoice = copy.deepcopy(invoice)
    invoice["lines"][0]["tax_code"] = None
    invoice["lines"][1]["tax_code"] = "NON"
    payload = mappers.invoice_payload(invoice, dict(refs, txn_tax_code=None))
    codes = [
        line["SalesItemLineDetail"]["TaxCodeRef"]["value"] for line in payload["Line"]
    ]
    assert codes == ["NON", "NON"]
    assert payload["TxnTaxDetail"] == {"TotalTax": 23.28}


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"number": "INV/2026/0000000000042"}, "number"),
        ({"move_type": "credit_note"}, "move_type"),
    ],
)
def test_invoice_payload_errors(change, path):
    invoice, refs = payload_input("invoice_payload_us_tax")
    if change.get("move_type"):
        change["reversed_invoice"] = None
    with pytest.raises(PayloadError) as caught:
        mappers.invoice_payload(dict(invoice, **change), refs)
    assert caught.value.path == path


@pytest.mark.parametrize(
    ("refs_change", "path"),
    [
        ({"customer": None}, "refs.customer"),
        ({"items": {"301": "5"}}, "refs.items"),
        ({"items": {"301": "5", "302": ["17"]}}, "refs.items.302"),
        ({"items": "5"}, "refs.items"),
        ({"us": "yes"}, "refs.us"),
        ({"exchange_rate": "-1"}, "refs.exchange_rate"),
        ({"exchange_rate": "1,2"}, "refs.exchange_rate"),
    ],
)
def test_refs_errors(refs_change, path):
    invoice, refs = payload_input("invoice_payload_us_tax")
    with pytest.raises(PayloadError) as caught:
        mappers.invoice_payload(invoice, dict(refs, **refs_change))
    assert caught.value.path == path
    assert path in str(caught.value)


def test_a_line_without_an_item_names_it():
    invoice, refs = payload_input("invoice_payload_us_tax")
    with pytest.raises(PayloadError) as caught:
        mappers.invoice_payload(invoice, dict(refs, items={"301": "5"}))
    assert "line 2 (Sprinkler Pipes)" in str(caught.value)


def test_credit_memo_of_an_invoice_is_refused():
    invoice, refs = payload_input("invoice_payload_us_tax")
    with pytest.raises(PayloadError) as caught:
        mappers.credit_memo_payload(invoice, refs)
    assert caught.value.path == "move_type"


# ------------------------------------------------------------------ parsers
PARSED = [
    ("invoice_create_response",
     lambda: sample_json("invoice_create_response"), "invoice"),
    ("invoice_void_response",
     lambda: sample_json("invoice_void_response"), "invoice"),
    ("sandbox_records_invoice_with_tax",
     lambda: records("sandbox_records_invoice_with_tax")[0], "invoice"),
    ("sandbox_records_credit_memo",
     lambda: records("sandbox_records_credit_memo")[0], "credit_note"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "data", "move_type"), PARSED)
def test_parse_invoice_golden(name, data, move_type):
    parsed = mappers.parse_invoice(data(), move_type=move_type)
    assert to_jsonable(parsed) == expected_json(name)
    # The result is the core's canonical form (parsing it again changes nothing).
    assert documents.parse_invoice(parsed) == parsed


def test_parse_payments_golden():
    parsed = [
        mappers.parse_payment(data) for data in records("sandbox_records_payments")
    ]
    assert to_jsonable(parsed) == expected_json("sandbox_records_payments")
    parsed = mappers.parse_payment(sample_json("payment_two_invoices_credit_memo"))
    assert to_jsonable(parsed) == expected_json("payment_two_invoices_credit_memo")


def test_parsed_invoice_119_is_the_core_reference():
    """core/reference_invoice.json was written from QuickBooks invoice 119:
    parsing the genuine record gives the same figures."""
    record = records("sandbox_records_invoice_with_tax")[0]
    parsed = numbers(to_jsonable(mappers.parse_invoice(record)))
    reference = numbers(core_expected("reference_invoice"))
    keys = ("external_id", "number", "date", "due_date", "currency", "state",
            "amount_untaxed", "amount_tax", "amount_total", "amount_residual",
            "updated_at", "taxes")  # fmt: skip
    assert {key: parsed[key] for key in keys} == {key: reference[key] for key in keys}
    line_keys = ("line_ref", "description", "quantity", "unit_price", "tax_code",
                 "amount")  # fmt: skip
    assert [{k: line[k] for k in line_keys} for line in parsed["lines"]] == [
        {k: line[k] for k in line_keys} for line in reference["lines"]
    ]


def test_parsed_payments_are_the_core_references():
    parsed = mappers.parse_payment(records("sandbox_records_payments")[1])
    parsed = numbers(to_jsonable(parsed))
    reference = numbers(core_expected("reference_payment"))
    reference.pop("channel_extra", None)
    assert {key: parsed[key] for key in reference} == reference
    parsed = mappers.parse_payment(sample_json("payment_two_invoices_credit_memo"))
    parsed = numbers(to_jsonable(parsed))
    reference = numbers(core_expected("reference_payment_two_invoices"))
    for key in ("partner", "channel_extra"):
        reference.pop(key), parsed.pop(key)
    assert {key: parsed[key] for key in reference} == reference


def test_void():
    voided = mappers.parse_invoice(sample_json("invoice_void_response"))
    assert voided["state"] == "voided"
    assert voided["channel_extra"]["sync_token"] == "1"
    # A zero invoice without the note, or a note on a real total, is no void.
    data = sample_json("invoice_void_response")["Invoice"]
    assert mappers.parse_invoice(dict(data, PrivateNote=None))["state"] == "posted"
    created = sample_json("invoice_create_response")["Invoice"]
    noted = dict(created, PrivateNote="Voided cheque attached")
    assert mappers.parse_invoice(noted)["state"] == "posted"


def test_parse_accepts_the_entity_or_the_answer():
    answer = sample_json("invoice_create_response")
    assert mappers.parse_invoice(answer) == mappers.parse_invoice(answer["Invoice"])
    with pytest.raises(PayloadError) as caught:
        mappers.parse_invoice({"Invoice": dict(answer["Invoice"], TotalAmt="x")})
    assert caught.value.path == "Invoice.TotalAmt"


def test_parse_lines_of_every_kind():
    invoice = records("sandbox_records_invoice_with_tax")[0]
    invoice = dict(invoice, TxnTaxDetail={"TotalTax": 0}, TotalAmt=290, Balance=290)
    invoice["Line"] = [
        {"Id": "1", "Amount": 100, "DetailType": "SalesItemLineDetail",
         "SalesItemLineDetail": {"ItemRef": {"value": "5"}}},
        {"Id": "2", "DetailType": "DescriptionOnly", "Description": "Note",
         "DescriptionLineDetail": {}},
        {"Id": "3", "Amount": 200, "DetailType": "GroupLineDetail",
         "GroupLineDetail": {"GroupItemRef": {"value": "40"}, "Quantity": 1, "Line": [
             {"Id": "4", "Amount": 150, "DetailType": "SalesItemLineDetail",
              "SalesItemLineDetail": {"ItemRef": {"value": "6"}, "Qty": 3,
                                      "UnitPrice": 50}},
             {"Id": "5", "Amount": 50, "DetailType": "SalesItemLineDetail",
              "SalesItemLineDetail": {"ItemRef": {"value": "7"}, "Qty": 2}}]}},
        {"Amount": 300, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}},
        {"Id": "6", "Amount": 10, "DetailType": "DiscountLineDetail",
         "DiscountLineDetail": {"PercentBased": False}},
    ]  # fmt: skip
    lines = mappers.parse_invoice(invoice)["lines"]
    assert [
        (line["line_ref"], line["quantity"], line["unit_price"], line["amount"])
        for line in lines
    ] == [  # fmt: skip
        ("1", 1, 100, 100),
        ("4", 3, 50, 150),
        ("5", 2, 25, 50),
        ("6", 1, -10, -10),
    ]
    assert lines[-1]["channel_extra"] == {"discount": True}


@pytest.mark.parametrize(
    ("change", "path", "names"),
    [
        ({"TotalAmt": 300}, "Line", "TotalAmt"),
        ({"TxnTaxDetail": {"TotalTax": 20, "TaxLine": []}}, "Line", "TotalTax"),
        ({"Balance": 400}, "Balance", "TotalAmt"),
        ({"Balance": -1}, "Balance", "Balance"),
        ({"CustomerRef": None}, "CustomerRef", "CustomerRef"),
        ({"CustomerRef": {"name": "Mark Cho"}}, "CustomerRef.value", "CustomerRef"),
        ({"TxnDate": "18/02/2023"}, "TxnDate", "TxnDate"),
        ({"Line": []}, "Line", "Line"),
        ({"Balance": None}, "Balance", "Balance"),
    ],
)
def test_parse_invoice_errors(change, path, names):
    invoice = dict(records("sandbox_records_invoice_with_tax")[0], **change)
    with pytest.raises(PayloadError) as caught:
        mappers.parse_invoice(invoice)
    assert caught.value.path == path
    assert names in str(caught.value)


def test_parse_invoice_tax_lines_must_add_up():
    invoice = copy.deepcopy(records("sandbox_records_invoice_with_tax")[0])
    invoice["TxnTaxDetail"]["TaxLine"][0]["Amount"] = 23.00
    with pytest.raises(PayloadError) as caught:
        mappers.parse_invoice(invoice)
    assert caught.value.path == "TxnTaxDetail"
    assert "TaxLine" in str(caught.value)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"TotalAmt": 80}, "Line"),
        ({"TotalAmt": -81}, "TotalAmt"),
        ({"UnappliedAmt": -1}, "UnappliedAmt"),
        (
            {
                "Line": [
                    {
                        "Amount": 81,
                        "LinkedTxn": [{"TxnId": "5", "TxnType": "JournalEntry"}],
                    }
                ]
            },  # fmt: skip
            "Line[0].LinkedTxn[0].TxnType",
        ),
        ({"Line": [{"Amount": 81, "LinkedTxn": []}]}, "Line[0].LinkedTxn"),
        (
            {"Line": [{"Amount": 81, "LinkedTxn": [{"TxnType": "Invoice"}]}]},
            "Line[0].LinkedTxn[0].TxnId",
        ),
        (
            {
                "Line": [
                    {"Amount": -81, "LinkedTxn": [{"TxnId": "4", "TxnType": "Invoice"}]}
                ]
            },  # fmt: skip
            "Line[0].Amount",
        ),
        ({"TxnDate": None}, "TxnDate"),
    ],
)
def test_parse_payment_errors(change, path):
    payment = dict(records("sandbox_records_payments")[0], **change)
    with pytest.raises(PayloadError) as caught:
        mappers.parse_payment(payment)
    assert caught.value.path == path


def test_payment_with_credit_memo_applied():
    payment = mappers.parse_payment(sample_json("payment_two_invoices_credit_memo"))
    kinds = [(a["invoice_external_id"], a["kind"]) for a in payment["applications"]]
    assert kinds == [("119", "invoice"), ("126", "invoice"), ("127", "credit_note")]
    assert payment["unapplied_amount"] == Decimal("10.00")
    assert payment["method"] == "1" and payment["deposit_account"] == "35"


@pytest.mark.parametrize("move_type", ["credit", None])
def test_parse_invoice_move_type(move_type):
    with pytest.raises(ValueError):
        mappers.parse_invoice(sample_json("invoice_create_response"), move_type)


# -------------------------------------------------------------- round trips
ROUND_TRIPS = [
    ("invoice_payload_us_tax", mappers.invoice_payload, "invoice", {}),
    ("invoice_payload_vat_discount", mappers.invoice_payload, "invoice", {"12": 20}),
    ("credit_memo_payload", mappers.credit_memo_payload, "credit_note", {}),
]


def assert_same(ours, theirs):
    """Equal within the rounding: what a canonical invoice keeps through
    QuickBooks (the unit price is the net one, the amounts exact)."""
    ours = documents.parse_invoice(ours)
    for key in ("number", "date", "currency", "move_type"):
        assert theirs[key] == ours[key], key
    for key in ("amount_untaxed", "amount_tax", "amount_total"):
        assert cents(theirs[key]) == cents(ours[key]), key
    assert len(theirs["lines"]) == len(ours["lines"])
    for mine, other in zip(ours["lines"], theirs["lines"], strict=True):
        assert cents(other["amount"]) == cents(mine["amount"])
        assert other["quantity"] == mine["quantity"]
        assert cents(other["quantity"] * other["unit_price"]) == cents(mine["amount"])
        assert other["description"] == mine["description"]
    assert mappers.invoice_differences(ours, theirs) == []


@pytest.mark.parametrize(("name", "build", "move_type", "rates"), ROUND_TRIPS)
def test_round_trip(name, build, move_type, rates):
    invoice, refs = payload_input(name)
    answer = quickbooks_answer(build(invoice, refs), 500, rates=rates)
    theirs = mappers.parse_invoice({"Invoice": answer}, move_type=move_type)
    assert_same(invoice, theirs)
    assert theirs["external_id"] == "500"
    assert theirs["partner"]["external_id"] == refs["customer"]


QUANTITIES = st.decimals("0.001", "500", places=3)
PRICES = st.decimals("0", "2000", places=4)


@st.composite
def canonical_invoices(draw):
    """Invoices as Odoo makes them: amounts rounded per line (a percentage
    discount included), an 8.25 % tax on the taxed lines, maybe a global
    discount line; US (QuickBooks takes the tax sent)."""
    lines, items = [], {}
    for index in range(draw(st.integers(1, 6))):
        quantity, price = draw(QUANTITIES), draw(PRICES)
        percent = draw(st.sampled_from([0, 0, 5, 10, 12.5, 33]))
        gross = quantity * price
        amount = cents(gross * (1 - Decimal(str(percent)) / 100))
        lines.append(
            {
                "line_ref": str(index + 1),
                "description": f"Item {index + 1}",
                "quantity": str(quantity),
                "unit_price": str(price),
                "discount_amount": str(cents(gross) - amount),
                "tax_code": draw(st.sampled_from(["Tax 8.25%", None])),
                "amount": str(amount),
            }
        )
        items[str(index + 1)] = str(100 + index)
    untaxed = sum(Decimal(line["amount"]) for line in lines)
    if draw(st.booleans()) and untaxed > 1:
        discount = cents(untaxed * Decimal("0.05"))
        lines.append(
            {"line_ref": "d", "description": "Discount", "quantity": "1",
             "unit_price": str(-discount), "tax_code": None, "amount": str(-discount)}
        )  # fmt: skip
        untaxed -= discount
    taxed = sum(Decimal(line["amount"]) for line in lines if line["tax_code"])
    tax = cents(taxed * Decimal("0.0825"))
    invoice = {
        "external_id": "77",
        "number": "INV/2026/00077",
        "move_type": "invoice",
        "state": "posted",
        "date": "2026-03-02",
        "currency": "USD",
        "partner": {"external_id": "5", "name": "Customer"},
        "lines": lines,
        "amount_untaxed": str(untaxed),
        "amount_tax": str(tax),
        "amount_total": str(untaxed + tax),
        "amount_residual": str(untaxed + tax),
    }
    refs = {"customer": "60", "items": items, "us": True, "txn_tax_code": "2"}
    return invoice, refs


@given(canonical_invoices())
def test_round_trip_of_any_invoice(case):
    """Any Odoo invoice: QuickBooks takes every line (Qty x UnitPrice makes
    the amount, checked by ``quickbooks_answer``) and reads back the same."""
    invoice, refs = case
    payload = mappers.invoice_payload(invoice, refs)
    answer = quickbooks_answer(payload, 900)
    theirs = mappers.parse_invoice(answer)
    ours = documents.parse_invoice(invoice)
    assert mappers.invoice_differences(ours, theirs) == []
    assert cents(theirs["amount_total"]) == cents(ours["amount_total"])
    # A discount becomes one negative line: the item lines come back one to one.
    ours_items = [line for line in ours["lines"] if line["amount"] >= 0]
    theirs_items = [line for line in theirs["lines"] if line["amount"] >= 0]
    assert [line["amount"] for line in theirs_items] == [
        line["amount"] for line in ours_items
    ]


# -------------------------------------------------------------- differences
def qbo_119():
    return copy.deepcopy(records("sandbox_records_invoice_with_tax")[0])


def odoo_119():
    invoice, _refs = payload_input("invoice_payload_us_tax")
    return invoice


def differences(change):
    data = qbo_119()
    change(data)
    return mappers.invoice_differences(odoo_119(), mappers.parse_invoice(data))


def test_no_differences():
    assert (
        mappers.invoice_differences(odoo_119(), mappers.parse_invoice(qbo_119())) == []
    )


def test_quantity_changed():
    def change(data):
        data["Line"][1]["SalesItemLineDetail"]["Qty"] = 5
        data["Line"][1]["Amount"] = 20.0
        data["Line"][2]["Amount"] = 295.0
        data["TxnTaxDetail"]["TotalTax"] = 23.60
        data["TxnTaxDetail"]["TaxLine"][0]["Amount"] = 23.60
        data["TotalAmt"] = data["Balance"] = 318.60

    assert differences(change) == [
        "The total is 318.60 USD in QuickBooks and 314.28 USD in Odoo: 4.32 more "
        "in QuickBooks.",
        "The tax is 23.60 USD in QuickBooks and 23.28 USD in Odoo: 0.32 more in "
        "QuickBooks; check the tax mapping.",
        "Line 2 (Sprinkler Pipes): quantity 5 in QuickBooks, 4 in Odoo; amount "
        "20.00 in QuickBooks, 16.00 in Odoo.",
    ]


def test_price_changed():
    def change(data):
        data["Line"][0]["SalesItemLineDetail"]["UnitPrice"] = 250
        data["Line"][0]["Amount"] = 250.0
        data["TxnTaxDetail"] = {"TotalTax": 23.28}
        data["TotalAmt"] = data["Balance"] = 289.28

    assert differences(change) == [
        "The total is 289.28 USD in QuickBooks and 314.28 USD in Odoo: 25.00 less "
        "in QuickBooks.",
        "Line 1 (Rock Fountain): unit price 250.00 in QuickBooks, 275.00 in Odoo; "
        "amount 250.00 in QuickBooks, 275.00 in Odoo.",
    ]


def test_line_added_and_removed():
    def added(data):
        data["Line"].insert(2, dict(data["Line"][1], Id="3", Description="Hose"))
        data["TxnTaxDetail"] = {"TotalTax": 23.28}
        data["TotalAmt"] = data["Balance"] = 330.28

    assert differences(added)[1] == (
        "QuickBooks has a line Odoo has not: line 3 (Hose), 4 for 16.00."
    )

    def removed(data):
        del data["Line"][1]
        data["TxnTaxDetail"] = {"TotalTax": 23.28}
        data["TotalAmt"] = data["Balance"] = 298.28

    assert differences(removed)[1] == (
        "Line 2 (Sprinkler Pipes) of Odoo (16.00) is not in QuickBooks."
    )


def test_discount_changed():
    def change(data):
        data["Line"].append(
            {"Id": "9", "Amount": 10, "DetailType": "DiscountLineDetail",
             "DiscountLineDetail": {"PercentBased": False}}
        )  # fmt: skip
        data["TxnTaxDetail"] = {"TotalTax": 23.28}
        data["TotalAmt"] = data["Balance"] = 304.28

    assert differences(change)[1] == (
        "The discounts (negative lines) come to -10.00 USD in QuickBooks and 0.00 "
        "USD in Odoo: 10.00 less in QuickBooks."
    )


def test_within_rounding():
    def change(data):
        data["Line"][0]["Amount"] = 275.004
        data["Line"][0]["SalesItemLineDetail"]["UnitPrice"] = 275.004
        data["TxnTaxDetail"] = {"TotalTax": 23.28}
        data["TotalAmt"] = data["Balance"] = 314.284

    assert differences(change) == []
    ours = odoo_119()
    theirs = mappers.parse_invoice(
        dict(
            qbo_119(), TotalAmt=315.28, Balance=315.28, TxnTaxDetail={"TotalTax": 24.28}
        )  # fmt: skip
    )
    assert len(mappers.invoice_differences(ours, theirs)) == 2
    assert mappers.invoice_differences(ours, theirs, rounding="5") == []


def test_differences_need_canonical_invoices():
    with pytest.raises(PayloadError):
        mappers.invoice_differences({}, mappers.parse_invoice(qbo_119()))
    with pytest.raises(PayloadError):
        mappers.invoice_differences(odoo_119(), odoo_119(), rounding="0")


# ---------------------------------------------------------- outbound payments
def _odoo_payment(**overrides):
    payment = {
        "amount": "100.00",
        "date": date(2026, 3, 2),
        "currency": "usd",
        "reference": "PBNK1/2026/00042 web shop",
        "applications": [
            {"invoice_external_id": "130", "amount": "80.00", "kind": "invoice"},
            {"invoice_external_id": "131", "amount": "30.00", "kind": "invoice"},
            {"invoice_external_id": "73", "amount": "10.00", "kind": "credit_note"},
        ],
    }
    payment.update(overrides)
    return payment


def test_payment_payload_links_each_document():
    body = mappers.payment_payload(_odoo_payment(), {"customer": "58"})
    assert body == {
        "CustomerRef": {"value": "58"},
        "TotalAmt": 100,
        "TxnDate": "2026-03-02",
        "CurrencyRef": {"value": "USD"},
        "PaymentRefNum": "PBNK1/2026/00042 web",
        "Line": [
            {
                "Amount": 80,
                "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}],
            },
            {
                "Amount": 30,
                "LinkedTxn": [{"TxnId": "131", "TxnType": "Invoice"}],
            },
            {
                "Amount": 10,
                "LinkedTxn": [{"TxnId": "73", "TxnType": "CreditMemo"}],
            },
        ],
    }
    # What QuickBooks reads back is the same payment.
    parsed = mappers.parse_payment(dict(body, Id="9", UnappliedAmt=0))
    assert [a["amount"] for a in parsed["applications"]] == [80, 30, 10]


def test_payment_payload_exchange_rate():
    body = mappers.payment_payload(
        _odoo_payment(currency="EUR"), {"customer": "58", "exchange_rate": "1.0825"}
    )
    assert body["CurrencyRef"] == {"value": "EUR"}
    assert body["ExchangeRate"] == 1.0825


@pytest.mark.parametrize(
    "overrides",
    [
        {"applications": []},
        {"amount": "-1"},
        {"amount": "90.00"},  # 80 + 30 - 10 = 100 applied
        {
            "applications": [
                {"invoice_external_id": "1", "amount": "0", "kind": "invoice"}
            ]
        },
        {"applications": [{"invoice_external_id": "1", "amount": "5", "kind": "bill"}]},
        {"applications": [{"amount": "5", "kind": "invoice"}]},
    ],
)
def test_payment_payload_refuses(overrides):
    with pytest.raises(PayloadError):
        mappers.payment_payload(_odoo_payment(**overrides), {"customer": "58"})


def test_payment_payload_needs_the_customer():
    with pytest.raises(PayloadError):
        mappers.payment_payload(_odoo_payment(), {})
