# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from .common import DEMO_ORDER_ID, ShopifyCase, order_variant


class TestShopifyOrderRules(ShopifyCase):
    """Matching and mapping rules of the shared importer, as a Shopify order
    meets them: customers by phone, pack variants, carrier mappings, and
    changes to an order that is already confirmed."""

    def mapping(self, mapping_type, code, **values):
        return self.env["distribution.sync.mapping"].create(
            dict(
                backend_id=self.shop.id,
                mapping_type=mapping_type,
                external_code=code,
                **values,
            )
        )

    def test_customer_matched_by_phone_without_email(self):
        existing = self.env["res.partner"].create(
            {"name": "Ana (phone only)", "phone": "+15555550101"}
        )
        order = order_variant("demo_order_1001.json", email=None)
        order["customer"].update(email=None, id=None)
        message = self.receive("orders/create", order)
        self.assertEqual(message.state, "done", message.last_error)
        sale_order = self.order_of(DEMO_ORDER_ID)
        self.assertEqual(sale_order.partner_id, existing)
        self.assertEqual(sale_order.partner_shipping_id.parent_id, existing)

    def test_person_buying_for_a_company_keeps_the_company_name(self):
        order = order_variant("demo_order_1001.json")
        order["billing_address"]["company"] = "Harbor Supplies"
        message = self.receive("orders/create", order)
        self.assertEqual(message.state, "done", message.last_error)
        customer = self.order_of(DEMO_ORDER_ID).partner_id
        self.assertEqual(customer.name, "Ana Buyer")
        self.assertFalse(customer.is_company)
        self.assertEqual(customer.company_name, "Harbor Supplies")

    def test_company_without_a_person_is_a_company(self):
        order = order_variant("demo_order_1001.json")
        # Nobody's name anywhere, only the company's (a business account).
        order["customer"].update(first_name=None, last_name=None)
        order["customer"]["default_address"] = {"company": "Dockside Trading"}
        for address in (order["billing_address"], order["shipping_address"]):
            address.update(first_name=None, last_name=None, name=None)
        message = self.receive("orders/create", order)
        self.assertEqual(message.state, "done", message.last_error)
        customer = self.order_of(DEMO_ORDER_ID).partner_id
        self.assertEqual(customer.name, "Dockside Trading")
        self.assertTrue(customer.is_company)
        self.assertEqual(customer.email, "ana.buyer@example.com")

    def test_pack_variant_books_units(self):
        """A case of 2 sold as its own variant: 2 cases at 25.00 are 4 units
        at 12.50, the line total unchanged."""
        widget = self.product_by_sku("DS-WIDGET")
        self.mapping("product", "DS-WIDGET-2", product_id=widget.id)
        self.mapping("uom", "DS-WIDGET-2", factor=2)
        order = order_variant("demo_order_1001.json")
        line = order["line_items"][0]
        line.update(sku="DS-WIDGET-2", quantity=2, current_quantity=2, price="25.00")
        message = self.receive("orders/create", order)
        self.assertEqual(message.state, "done", message.last_error)
        sale_order = self.order_of(DEMO_ORDER_ID)
        widget_line = sale_order.order_line.filtered(
            lambda line: line.product_id == widget
        )
        self.assertEqual(widget_line.product_uom_qty, 4)
        self.assertAlmostEqual(widget_line.price_unit, 12.50, places=2)
        self.assertEqual(
            sale_order.currency_id.compare_amounts(
                sale_order.amount_total, float(order["total_price"])
            ),
            0,
        )

    def test_pack_variant_without_whole_units_is_an_exception(self):
        widget = self.product_by_sku("DS-WIDGET")
        self.mapping("product", "DS-WIDGET-HALF", product_id=widget.id)
        self.mapping("uom", "DS-WIDGET-HALF", factor=0.5)
        order = order_variant("demo_order_1001.json")
        order["line_items"][0].update(
            sku="DS-WIDGET-HALF", quantity=3, current_quantity=3, price="25.00"
        )
        message = self.receive("orders/create", order)
        self.assertEqual(message.state, "blocked")
        self.assertFalse(self.order_of(DEMO_ORDER_ID))
        exception = self.open_exceptions(message=message)
        self.assertEqual(exception.category, "mapping")
        self.assertIn("1.5 is not a whole number", exception.name)

    def test_carrier_mapping_picks_the_delivery_product(self):
        express = self.env["product.product"].create(
            {"name": "Ground shipping (carrier)", "type": "service"}
        )
        self.mapping("carrier", "standard", product_id=express.id)
        message = self.receive("orders/create", "demo_order_1001.json")
        self.assertEqual(message.state, "done", message.last_error)
        sale_order = self.order_of(DEMO_ORDER_ID)
        shipping = sale_order.order_line.filtered(
            lambda line: line.product_id == express
        )
        self.assertEqual(len(shipping), 1)
        self.assertAlmostEqual(shipping.price_total, 9.60, places=2)
        self.assertFalse(
            sale_order.order_line.filtered(
                lambda line: line.product_id == self.shop.shipping_product_id
            )
        )

    def test_confirmed_order_change_is_a_conflict_saying_what_differs(self):
        self.receive("orders/paid", "demo_order_1001.json")
        sale_order = self.order_of(DEMO_ORDER_ID)
        self.assertEqual(sale_order.state, "sale")
        lines_before = [
            (line.product_id, line.product_uom_qty) for line in sale_order.order_line
        ]
        changed = order_variant(
            "demo_order_1001.json", updated_at="2026-11-03T09:00:00-05:00"
        )
        changed["line_items"][0].update(quantity=5, current_quantity=5)
        changed["total_price"] = "76.10"
        changed["note"] = "Five widgets after all"
        message = self.receive("orders/updated", changed)
        # Processed (what Shopify owns is applied); the rest waits on a person.
        self.assertEqual(message.state, "done", message.last_error)
        exception = self.open_exceptions(message=message)
        self.assertEqual(len(exception), 1, exception.mapped("name"))
        self.assertEqual(exception.category, "conflict")
        self.assertEqual(exception.res_id, sale_order.id)
        self.assertIn("already confirmed", exception.name)
        self.assertIn("DS-WIDGET: 4 x 12.5 -8% -> 5 x 12.5 -6.4%", exception.name)
        self.assertNotIn("DS-BOLT-M8", exception.name, "unchanged lines are not named")
        # Nothing of the lines changed; the note Shopify owns was applied.
        self.assertEqual(
            [(line.product_id, line.product_uom_qty) for line in sale_order.order_line],
            lines_before,
        )
        self.assertIn("Five widgets", str(sale_order.note))
