from decimal import Decimal

import pytest
from shopify_samples import expected_json, sample_json

from distribution_sync.core.canonical import to_jsonable
from distribution_sync.core.errors import PayloadError
from distribution_sync_shopify.core.refund_mapper import map_refund

VARIANT = "refund_partial_shipping_discrepancy"


def variant():
    return sample_json(VARIANT)


def test_golden_rest_refund():
    # The 2016 fixture predates refund line subtotals: they are estimated from
    # the nested line items. It does not add up either: two lines of 199.00
    # (tax 3.98 each) against one refund transaction of 209.00.
    result = map_refund(sample_json("rest_refund"))
    assert to_jsonable(result) == expected_json("rest_refund")
    assert result["estimated"] is True
    assert result["total"] == Decimal("405.96")
    assert result["transactions_total"] == Decimal("209.00")


def test_rest_refund_with_its_order():
    alone = map_refund(sample_json("rest_refund"))
    with_order = map_refund(sample_json("rest_refund"), sample_json("rest_order"))
    assert with_order == alone


def test_golden_partial_refund_with_shipping_and_discrepancy():
    result = map_refund(variant(), sample_json("order_shipping_discount"))
    assert to_jsonable(result) == expected_json(VARIANT)
    assert map_refund(variant()) == result


def test_partial_refund_adds_up_to_the_transactions():
    result = map_refund(variant())
    # 40.00 + 4.00 tax + 7.50 shipping + 0.75 tax - 5.00 kept as a discrepancy
    assert result["total"] == Decimal("47.25")
    assert result["total"] == result["transactions_total"]
    assert result["shipping"] == Decimal("7.50")
    assert result["shipping_tax"] == Decimal("0.75")
    # Shopify sent the shipping refund twice (refund_shipping_lines and a
    # shipping_refund adjustment): it is counted once.
    assert result["shipping_source"] == "refund_shipping_lines"
    assert result["discrepancy"] == Decimal("5.00")
    assert [a["kind"] for a in result["adjustments"]] == [
        "shipping_refund",
        "refund_discrepancy",
    ]
    assert result["restock_return"] is True


def test_shipping_from_adjustments_only():
    data = variant()
    del data["refund_shipping_lines"]
    result = map_refund(data)
    assert result["shipping_source"] == "order_adjustments"
    assert result["shipping"] == Decimal("7.50")
    assert result["shipping_tax"] == Decimal("0.75")
    assert result["total"] == Decimal("47.25")


def test_shipping_from_adjustments_with_taxes_included():
    data = variant()
    del data["refund_shipping_lines"]
    result = map_refund(data, taxes_included=True)
    # the adjustment's amount excludes its tax; prices include it
    assert result["shipping"] == Decimal("8.25")
    assert result["shipping_tax"] == Decimal("0.75")
    # subtotal 40.00 already holds its tax: 40.00 + 8.25 - 5.00
    assert result["total"] == Decimal("43.25")


def test_shipping_line_tax_estimated_without_adjustment():
    data = variant()
    data["order_adjustments"] = data["order_adjustments"][1:]
    result = map_refund(data)
    assert result["shipping"] == Decimal("7.50")
    # 0.75 tax on the 7.50 discounted shipping line, all of it refunded
    assert result["shipping_tax"] == Decimal("0.75")


def test_shipping_in_the_calculate_shape():
    data = variant()
    del data["refund_shipping_lines"]
    data["order_adjustments"] = []
    data["shipping"] = {"amount": "2.00", "tax": "0.20", "maximum_refundable": "7.50"}
    result = map_refund(data)
    assert (result["shipping"], result["shipping_tax"], result["shipping_source"]) == (
        Decimal("2.00"),
        Decimal("0.20"),
        "shipping",
    )


def test_amount_only_refund():
    # The shape Shopify sends for "refund 1.00" without lines: one
    # refund_discrepancy of -1.00.
    refund = {
        "id": 811293212775,
        "admin_graphql_api_id": "gid://shopify/Refund/811293212775",
        "order_id": 3859935821927,
        "created_at": "2021-06-09T06:39:29-04:00",
        "note": "",
        "refund_line_items": [],
        "transactions": [
            {
                "kind": "refund",
                "status": "success",
                "amount": "1.00",
                "currency": "INR",
            }
        ],
        "order_adjustments": [
            {
                "id": 177085972583,
                "kind": "refund_discrepancy",
                "reason": "Refund discrepancy",
                "amount": "-1.00",
                "tax_amount": "0.00",
                "amount_set": {
                    "shop_money": {"amount": "-1.00", "currency_code": "INR"},
                    "presentment_money": {"amount": "-1.00", "currency_code": "INR"},
                },
            }
        ],
    }
    result = map_refund(refund)
    assert result["lines"] == []
    assert result["note"] is None
    assert result["currency"] == "INR"
    assert result["discrepancy"] == Decimal("-1.00")
    assert result["total"] == Decimal("1.00") == result["transactions_total"]


def test_only_successful_refund_transactions_count():
    data = variant()
    transaction = data["transactions"][0]
    data["transactions"] = [
        dict(transaction, status="failure"),
        dict(transaction, status="pending", amount="3.00"),
        dict(transaction, kind="suggested_refund", amount="9.00"),
        transaction,
    ]
    assert map_refund(data)["transactions_total"] == Decimal("47.25")


def test_exact_ids_from_the_order():
    # a refund that went through JavaScript: rounded ids, no GraphQL ids
    data = variant()
    data["refund_line_items"][0]["line_item"] = {}
    order = {
        "id": 820982911946154500,
        "admin_graphql_api_id": "gid://shopify/Order/820982911946154508",
        "currency": "USD",
        "line_items": [
            {
                "id": 866550311766439000,
                "admin_graphql_api_id": "gid://shopify/LineItem/866550311766439020",
                "sku": "LAMP-DESK-BRS",
                "quantity": 2,
                "price": "40.00",
            }
        ],
    }
    data["order_id"] = 820982911946154500
    data["refund_line_items"][0]["line_item_id"] = 866550311766439000
    result = map_refund(data, order)
    assert result["order_id"] == "820982911946154508"
    assert result["lines"][0]["line_external_id"] == "866550311766439020"
    assert result["lines"][0]["sku"] == "LAMP-DESK-BRS"
    # without the order, the ids are as sent
    alone = map_refund(data)
    assert alone["order_id"] == "820982911946154500"
    assert alone["lines"][0]["line_external_id"] == "866550311766439000"
    assert alone["lines"][0]["sku"] is None


def test_refund_of_another_order_is_refused():
    with pytest.raises(PayloadError) as info:
        map_refund(variant(), sample_json("order_discounts"))
    assert info.value.path == "order_id"


def test_subtotal_estimated_from_the_order_line():
    data = variant()
    line = data["refund_line_items"][0]
    for key in ("subtotal", "subtotal_set", "total_tax", "total_tax_set"):
        del line[key]
    line["line_item"] = None
    result = map_refund(data, sample_json("order_shipping_discount"))
    assert result["lines"][0]["subtotal"] == Decimal("40.00")
    assert result["lines"][0]["total_tax"] == Decimal("4.00")
    assert result["lines"][0]["estimated"] is True
    with pytest.raises(PayloadError) as info:
        map_refund(data)
    assert info.value.path == "refund_line_items[0].subtotal"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d.pop("order_id"), "order_id"),
        (
            lambda d: d["refund_line_items"][0].pop("quantity"),
            "refund_line_items[0].quantity",
        ),
        (
            lambda d: d["refund_line_items"][0].update(subtotal="x", subtotal_set=None),
            "refund_line_items[0].subtotal",
        ),
        (
            lambda d: d["refund_shipping_lines"][0].pop("subtotal_amount_set"),
            "refund_shipping_lines[0].subtotal_amount",
        ),
        (lambda d: d["transactions"][0].pop("amount"), "transactions[0].amount"),
        (lambda d: d.update(created_at="soon"), "created_at"),
    ],
)
def test_errors_name_the_path(change, path):
    data = variant()
    change(data)
    with pytest.raises(PayloadError) as info:
        map_refund(data)
    assert info.value.path == path, str(info.value)


def test_presentment_money():
    result = map_refund(variant(), money_set="presentment")
    # the buyer paid in the shop currency: same amounts
    assert result["total"] == Decimal("47.25")
    # a shop in CAD, a buyer paying in USD: a missing presentment amount is
    # an error, not the CAD amount
    data = variant()
    line = data["refund_line_items"][0]
    line["total_tax_set"]["shop_money"]["currency_code"] = "CAD"
    line["subtotal_set"]["presentment_money"] = None
    with pytest.raises(PayloadError) as info:
        map_refund(data, money_set="presentment")
    assert info.value.path == "refund_line_items[0].subtotal_set"
    with pytest.raises(ValueError):
        map_refund(variant(), money_set="buyer")


def test_legacy_restock_flag():
    lines = map_refund(sample_json("rest_refund"))["lines"]
    assert {line["restock_type"] for line in lines} == {"legacy_restock"}
    data = variant()
    data["restock"] = True  # restock_type given: it wins
    assert map_refund(data)["lines"][0]["restock_type"] == "return"
