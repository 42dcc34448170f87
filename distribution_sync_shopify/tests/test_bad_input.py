# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
"""Bad input in Shopify webhooks, through the route and the job.

``orders/create``, ``refunds/create`` and ``customers/create`` bodies made
from real samples, each leaf replaced in turn by wrong types, text that
PostgreSQL cannot store, and extreme amounts; plus bodies that are not a
well-formed order at all. Every one must end as a 4xx, or as a message that
is done (the document right) or stopped by an open exception naming the
problem: never a 500, an ERROR or a traceback in the log, a "technical"
exception, a crashed job or part of a document. What each case checks is
``BadInputChecks`` of the core's suite.
"""

import json

from odoo.tests import HttpCase, tagged

from odoo.addons.distribution_sync.tests.test_bad_input import (
    AMOUNTS,
    LONG_TEXT,
    ODD_TEXTS,
    UNSTORABLE_TEXTS,
    BadInputChecks,
    is_amount,
    is_text,
    json_body,
    leaf_cases,
    wrong_types,
)

from ..core import customer_mapper, order_mapper, refund_mapper
from .common import DEMO_ORDER_ID, REFUNDABLE_ORDER_ID, ShopifyCase, sample


def _not_a_date(path, value):
    return is_text(value) and not str(path[-1]).endswith("_at")


@tagged("post_install", "-at_install")
class TestShopifyBadInput(BadInputChecks, ShopifyCase, HttpCase):
    """Shopify deliveries with bad input, signed with the app's secret."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel_backend = cls.shop
        # Pending: the order stays a quotation, the sweep need not confirm
        # hundreds of orders (confirmation has cases of its own below).
        cls.order = dict(sample("demo_order_1001.json"), financial_status="pending")
        cls.order["note"] = "Leave at the door"
        cls.order_topic = "orders/create"
        cls.order_document = cls.order

    @staticmethod
    def event_key(event_id):
        return f"event:{event_id}"

    def post(self, body, topic="orders/create", event_id="evt-bad", headers=None):
        headers = headers or self.shopify_headers(topic, body, event_id=event_id)
        self.env.flush_all()
        response = self.url_open(
            f"/distribution_sync/webhook/{self.shop.id}",
            data=body,
            headers=headers,
            timeout=120,
        )
        self.env.invalidate_all()
        return response

    @staticmethod
    def mapped_order(document):
        return order_mapper.map_order(document)

    # ----------------------------------------------------------- HTTP level
    def http_bodies(self):
        """Bodies that are not a well-formed order."""
        valid = json_body(self.order)
        order_id = DEMO_ORDER_ID.encode()
        total = b'"total_price": "63.60"'
        return {
            "empty body": b"",
            "not JSON": b"hello, world",
            "a JSON list": b"[1, 2, 3]",
            "a JSON number": b"42",
            "a JSON string": b'"order"',
            "JSON null": b"null",
            "truncated JSON": valid[: len(valid) // 2],
            "invalid UTF-8": valid.replace(b"Ana", b"A\xff\xfea"),
            "a raw NUL byte": valid.replace(b"Ana", b"A\x00na"),
            "UTF-16": json.dumps(self.order).encode("utf-16"),
            "byte order mark": b"\xef\xbb\xbf" + valid,
            "100000 nested lists": b"[" * 100_000 + b"]" * 100_000,
            "100000 nested objects": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
            "1e400 total": valid.replace(total, b'"total_price": 1e400'),
            "400-digit total": valid.replace(total, b'"total_price": ' + b"9" * 400),
            "5000-digit number": valid.replace(total, b'"total_price": ' + b"9" * 5000),
            "400-digit order and GraphQL ids": valid.replace(order_id, b"7" * 400),
            "400-digit order id, another GraphQL id": valid.replace(
                b'"id": ' + order_id, b'"id": ' + b"7" * 400, 1
            ),
            "NaN literal": valid.replace(total, b'"total_price": NaN'),
            "Infinity literal": valid.replace(total, b'"total_price": Infinity'),
            "-Infinity quantity": valid.replace(
                b'"quantity": 4', b'"quantity": -Infinity', 1
            ),
            "duplicate keys": valid.replace(
                b'"id": ' + order_id, b'"id": 1, "id": ' + order_id, 1
            ),
            "NUL in the order id": valid.replace(
                b'"id": ' + order_id, b'"id": "' + order_id + b'\\u0000"', 1
            ).replace(b'"gid://shopify/Order/' + order_id + b'"', b"null"),
            "lone surrogate in the order id": valid.replace(
                b'"id": ' + order_id, b'"id": "\\ud800"', 1
            ).replace(b'"gid://shopify/Order/' + order_id + b'"', b"null"),
            "100k-char order id": valid.replace(
                b'"id": ' + order_id, b'"id": ' + json.dumps(LONG_TEXT).encode(), 1
            ).replace(b'"gid://shopify/Order/' + order_id + b'"', b"null"),
        }

    # ------------------------------------------------------------ job level
    def test_job_level_order_wrong_types_in_every_field(self):
        """Every leaf of a real order replaced by null, another type, a list,
        an object, an empty text, or removed."""
        states = self.sweep(
            leaf_cases(self.order, wrong_types),
            "orders/create",
            self.mapped_order,
            self.order,
        )
        self.assertIn("error", states)

    def test_job_level_order_unstorable_text(self):
        """Every text leaf of the order replaced by a NUL, a lone surrogate
        or 100k characters."""
        self.sweep(
            leaf_cases(self.order, UNSTORABLE_TEXTS, _not_a_date),
            "orders/create",
            self.mapped_order,
            self.order,
        )

    def test_job_level_order_odd_unicode_is_imported_as_sent(self):
        """RTL override, emoji, combining mark, zero-width space in the
        customer's and the lines' names: imported unchanged."""
        for kind, text in ODD_TEXTS.items():
            with self.subTest(kind=kind), self.rolled_back():
                document = json.loads(json.dumps(self.order))
                document["name"] = f"#{text}"
                document["customer"]["first_name"] = text
                document["line_items"][0]["name"] = text
                before = self.counts()
                _response, message, problems = self.deliver_and_process(
                    json_body(document), "orders/create", f"odd-{kind}"
                )
                self.assertFalse(problems)
                self.assertEqual(message.state, "done", message.last_error)
                self.assertFalse(self.outcome_problems(message, before))
                order = self.env["sale.order"].browse(message.res_id)
                self.assertEqual(order.client_order_ref, f"#{text}")
                self.assertEqual(order.partner_id.name, f"{text} Buyer")
                self.assertIn(text, order.order_line.mapped("name"))

    def test_job_level_order_amounts(self):
        """Negative, zero, huge and over-precise prices, quantities,
        discounts and totals of a paid order: a clear exception, or a
        confirmed order whose total is Shopify's, rounded to the cent."""
        order = json.loads(json.dumps(self.order))
        order["financial_status"] = "paid"
        order["line_items"][0]["tax_lines"] = [
            {"title": "State Tax", "rate": 0.1, "price": "4.60"}
        ]
        order["total_price"] = "68.20"
        self.sweep(
            leaf_cases(order, AMOUNTS, is_amount),
            "orders/create",
            self.mapped_order,
            order,
        )

    def test_job_level_customer(self):
        """``customers/create`` with wrong types and unstorable text in every
        field."""
        customer = sample("webhook_customers_create.json")
        customer["phone"] = "+15135550123"
        customer["default_address"] = {
            "address1": "5 Invoice Lane",
            "city": "Cincinnati",
            "zip": "45202",
            "province_code": "OH",
            "country_code": "US",
        }
        cases = list(leaf_cases(customer, wrong_types)) + list(
            leaf_cases(customer, UNSTORABLE_TEXTS, _not_a_date)
        )
        self.sweep(cases, "customers/create", customer_mapper.map_customer, customer)

    def test_job_level_refund(self):
        """``refunds/create`` of an imported order with wrong types, bad
        amounts and unstorable text in every field."""
        message = self.receive("orders/create", "order_refundable.json")
        self.assertEqual(message.state, "done", message.last_error)
        self.assertTrue(self.order_of(REFUNDABLE_ORDER_ID))
        refund = sample("refund_partial_return.json")
        cases = (
            list(leaf_cases(refund, wrong_types))
            + list(leaf_cases(refund, UNSTORABLE_TEXTS, _not_a_date))
            + list(leaf_cases(refund, AMOUNTS, is_amount))
        )
        self.sweep(cases, "refunds/create", refund_mapper.map_refund, refund)

    def test_job_level_product_update(self):
        """``products/update`` (binding inventory items by SKU) with wrong
        types in every field and unstorable SKUs."""
        product = {
            "id": 8100000000001,
            "admin_graphql_api_id": "gid://shopify/Product/8100000000001",
            "title": "Steel widget",
            "variants": [
                {
                    "id": 8200000000001,
                    "sku": "DS-WIDGET",
                    "inventory_item_id": 8300000000001,
                }
            ],
        }
        cases = list(leaf_cases(product, wrong_types)) + list(
            leaf_cases(product, UNSTORABLE_TEXTS, lambda path, v: path[-1] == "sku")
        )
        self.sweep(cases, "products/update")
