# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from .common import (
    DEMO_ORDER_ID,
    DISCOUNTS_ORDER_ID,
    EUR_ORDER_ID,
    REST_ORDER_ID,
    SHIPPING_DISCOUNT_ORDER_ID,
    TAXES_INCLUDED_ORDER_ID,
    ShopifyCase,
    order_variant,
)


class TestShopifyOrderMapping(ShopifyCase):
    """Shopify order bodies to sale orders, to the cent."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.env.ref("base.EUR")

    def eur_pricelist(self):
        self.eur.active = True
        return self.env["product.pricelist"].create(
            {"name": "Shopify EUR", "currency_id": self.eur.id}
        )

    def product_lines(self, order):
        return order.order_line.filtered(
            lambda line: line.product_id != self.shop.shipping_product_id
        )

    def shipping_lines(self, order):
        return order.order_line.filtered(
            lambda line: line.product_id == self.shop.shipping_product_id
        )

    # ------------------------------------------------------------- customers
    def test_demo_order_creates_customer_and_addresses(self):
        partners_before = self.env["res.partner"].search_count([])
        message = self.receive("orders/create", "demo_order_1001.json")
        self.assertEqual(message.state, "done", message.last_error)
        order = self.order_of(DEMO_ORDER_ID)
        self.assertEqual(order.client_order_ref, "#1001")
        customer = order.partner_id
        self.assertEqual(customer.email, "ana.buyer@example.com")
        self.assertEqual(customer.name, "Ana Buyer")
        self.assertFalse(customer.parent_id)
        self.assertEqual(
            self.bindings._find_record(self.shop, "res.partner", "7710000000001"),
            customer,
        )
        invoice, delivery = order.partner_invoice_id, order.partner_shipping_id
        self.assertEqual((invoice.parent_id, invoice.type), (customer, "invoice"))
        self.assertEqual(invoice.street, "12 Harbor Road")
        self.assertEqual(invoice.zip, "02110")
        self.assertEqual(invoice.country_id, self.env.ref("base.us"))
        self.assertEqual(invoice.state_id.code, "MA")
        self.assertEqual((delivery.parent_id, delivery.type), (customer, "delivery"))
        self.assertEqual(delivery.street, "40 Dock Street")
        self.assertEqual(delivery.street2, "Unit 3")
        # The customer and its two address contacts.
        self.assertEqual(self.env["res.partner"].search_count([]), partners_before + 3)

    def test_existing_customer_matched_by_email(self):
        existing = self.env["res.partner"].create(
            {"name": "Ana B.", "email": "Ana.Buyer@Example.com"}
        )
        message = self.receive("orders/create", "demo_order_1001.json")
        self.assertEqual(message.state, "done", message.last_error)
        order = self.order_of(DEMO_ORDER_ID)
        self.assertEqual(order.partner_id, existing)
        self.assertEqual(order.partner_invoice_id.parent_id, existing)
        self.assertEqual(
            self.env["res.partner"].search_count(
                [
                    ("email", "=ilike", "ana.buyer@example.com"),
                    ("parent_id", "=", False),
                ]
            ),
            1,
        )
        # A second order of the same customer: same partner, addresses reused.
        second = order_variant("demo_order_1001.json", "5610000001002")
        self.receive("orders/create", second)
        order_2 = self.order_of("5610000001002")
        self.assertEqual(order_2.partner_id, existing)
        self.assertEqual(order_2.partner_invoice_id, order.partner_invoice_id)
        self.assertEqual(order_2.partner_shipping_id, order.partner_shipping_id)

    # ----------------------------------------------------------------- lines
    def test_lines_by_sku_then_barcode(self):
        bolt = self.product_by_sku("DS-BOLT-M8")
        bolt.write({"default_code": False, "barcode": "0012345678905"})
        payload = order_variant("demo_order_1001.json")
        payload["line_items"][1]["sku"] = "0012345678905"
        message = self.receive("orders/create", payload)
        self.assertEqual(message.state, "done", message.last_error)
        order = self.order_of(DEMO_ORDER_ID)
        widget_line, bolt_line = self.product_lines(order)
        self.assertEqual(widget_line.product_id, self.product_by_sku("DS-WIDGET"))
        self.assertEqual(bolt_line.product_id, bolt)
        self.assertEqual(bolt_line.product_uom_qty, 20)
        self.assertEqual(
            bolt_line.distribution_sync_line_ref, "9910000000002", "line id kept"
        )

    def test_demo_order_discount_and_shipping(self):
        self.receive("orders/create", "demo_order_1001.json")
        order = self.order_of(DEMO_ORDER_ID)
        widget_line, bolt_line = self.product_lines(order)
        self.assertEqual(widget_line.product_uom_qty, 4)
        self.assertAlmostEqual(widget_line.price_unit, 12.50)
        # 4.00 off 50.00, allocated to this line by Shopify.
        self.assertAlmostEqual(widget_line.price_subtotal, 46.00, places=2)
        self.assertAlmostEqual(bolt_line.price_subtotal, 8.00, places=2)
        shipping = self.shipping_lines(order)
        self.assertEqual(len(shipping), 1)
        self.assertEqual(shipping.name, "Standard")
        self.assertAlmostEqual(shipping.price_unit, 9.60)
        self.assertEqual(order.amount_total, 63.60)
        self.assertEqual(order.state, "sale")

    def test_discount_allocations_exact_to_the_cent(self):
        tax_8 = self.make_tax(8)
        message = self.receive("orders/create", "order_discounts.json")
        self.assertEqual(message.state, "done", message.last_error)
        order = self.order_of(DISCOUNTS_ORDER_ID)
        socks, cap = self.product_lines(order)
        # An automatic 10% and a 10% code on the socks, the code on the cap.
        self.assertAlmostEqual(socks.price_subtotal, 48.60, places=2)
        self.assertAlmostEqual(cap.price_subtotal, 41.40, places=2)
        self.assertEqual(socks.tax_id, tax_8)
        self.assertEqual(cap.tax_id, tax_8)
        self.assertAlmostEqual(order.amount_untaxed, 95.00, places=2)
        self.assertAlmostEqual(order.amount_tax, 7.20, places=2)
        # Shopify's total_price, to the cent.
        self.assertEqual(
            order.currency_id.compare_amounts(order.amount_total, 102.20), 0
        )
        self.assertEqual(order.state, "sale")
        self.assertFalse(self.open_exceptions(message))

    def test_shipping_line_with_discount_and_tax(self):
        message = self.receive("orders/create", "order_shipping_discount.json")
        self.assertEqual(message.state, "done", message.last_error)
        order = self.order_of(SHIPPING_DISCOUNT_ORDER_ID)
        shipping = self.shipping_lines(order)
        self.assertEqual(shipping.product_id, self.shop.shipping_product_id)
        self.assertEqual(shipping.name, "Priority Mail")
        self.assertAlmostEqual(shipping.price_subtotal, 7.50, places=2)
        self.assertEqual(shipping.tax_id, self.tax_10)
        self.assertAlmostEqual(shipping.price_tax, 0.75, places=2)
        self.assertEqual(order.amount_total, 96.25)

    def test_taxes_included_order(self):
        included = self.make_tax(21, included=True)
        # A 21% tax-excluded tax must not be picked for a tax-included order.
        excluded = self.make_tax(21)
        self.eur_pricelist()
        message = self.receive("orders/create", "order_taxes_included.json")
        self.assertEqual(message.state, "done", message.last_error)
        order = self.order_of(TAXES_INCLUDED_ORDER_ID)
        self.assertEqual(order.currency_id, self.eur)
        self.assertEqual(order.order_line.tax_id, included)
        self.assertNotIn(excluded, order.order_line.tax_id)
        tea = self.product_lines(order)
        self.assertAlmostEqual(tea.price_unit, 24.20)
        self.assertAlmostEqual(tea.price_total, 48.40, places=2)
        self.assertAlmostEqual(order.amount_tax, 9.45, places=2)
        self.assertEqual(order.amount_total, 54.45)
        self.assertEqual(order.state, "sale")

    # ----------------------------------------------------------- exceptions
    def test_tax_without_odoo_tax_is_mapping_exception(self):
        message = self.receive("orders/create", "order_discounts.json")
        self.assertEqual(message.state, "blocked")
        self.assertFalse(self.order_of(DISCOUNTS_ORDER_ID))
        self.assertFalse(self.orders_with_ref("#2043"))
        exception = self.open_exceptions(message)
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.category, "mapping")
        self.assertEqual(exception.mapping_type, "tax")
        self.assertIn("Texas State Tax", exception.name)
        self.assertIn("8", exception.name)
        # Once the tax exists, a retry imports the order.
        self.make_tax(8)
        exception.action_retry()
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(self.order_of(DISCOUNTS_ORDER_ID).amount_total, 102.20)

    def test_unknown_sku_then_retry(self):
        payload = order_variant("demo_order_1001.json")
        payload["line_items"][1]["sku"] = "DS-NEW-GADGET"
        message = self.receive("orders/create", payload)
        self.assertEqual(message.state, "blocked")
        self.assertFalse(self.order_of(DEMO_ORDER_ID))
        self.assertFalse(self.orders_with_ref("#1001"))
        exception = self.open_exceptions(message)
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.category, "mapping")
        self.assertEqual(exception.mapping_type, "product")
        self.assertEqual(exception.value, "DS-NEW-GADGET")
        self.assertIn("DS-NEW-GADGET", exception.name)

        gadget = self.make_product("DS-NEW-GADGET", "New gadget", 0.40)
        exception.action_retry()
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(message.state, "done", message.last_error)
        order = self.order_of(DEMO_ORDER_ID)
        self.assertEqual(len(self.orders_with_ref("#1001")), 1)
        self.assertIn(gadget, order.order_line.product_id)
        self.assertEqual(order.amount_total, 63.60)
        self.assertEqual(order.state, "sale")

    def test_total_mismatch_leaves_quotation(self):
        """Shopify's 2008 REST fixture: three lines at 199.00 but a subtotal of
        398.00 and its tax at order level only: the total cannot match."""
        for sku in ("IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"):
            self.make_product(sku, "IPod Nano - 8gb", 199.0)
        message = self.receive("orders/create", "rest_order.json")
        self.assertEqual(message.state, "blocked")
        order = self.order_of(REST_ORDER_ID)
        self.assertTrue(order, "the order is kept for a person to check")
        self.assertEqual(order.client_order_ref, "#1001")
        self.assertEqual(order.state, "draft", "authorized, but not confirmed")
        self.assertEqual(len(self.product_lines(order)), 3)
        exception = self.open_exceptions(message, "validation")
        self.assertEqual(len(exception), 1)
        self.assertEqual(
            (exception.res_model, exception.res_id), ("sale.order", order.id)
        )
        self.assertIn("409.94", exception.name)

    # -------------------------------------------------------------- currency
    def test_presentment_currency_order(self):
        self.shop.shopify_money_set = "presentment"
        pricelist = self.eur_pricelist()
        message = self.receive("orders/create", "order_presentment_eur.json")
        self.assertEqual(message.state, "done", message.last_error)
        order = self.order_of(EUR_ORDER_ID)
        self.assertEqual(order.pricelist_id, pricelist)
        self.assertEqual(order.currency_id, self.eur)
        self.assertAlmostEqual(self.product_lines(order).price_unit, 11.50)
        self.assertAlmostEqual(self.shipping_lines(order).price_unit, 4.60)
        self.assertEqual(order.amount_total, 27.60)
        self.assertEqual(order.state, "sale")

    def test_shop_currency_books_shop_amounts(self):
        self.eur_pricelist()
        message = self.receive("orders/create", "order_presentment_eur.json")
        self.assertEqual(message.state, "done", message.last_error)
        order = self.order_of(EUR_ORDER_ID)
        self.assertEqual(order.currency_id, self.env.company.currency_id)
        self.assertEqual(order.amount_total, 30.00)

    def test_presentment_currency_without_pricelist(self):
        self.shop.shopify_money_set = "presentment"
        message = self.receive("orders/create", "order_presentment_eur.json")
        self.assertEqual(message.state, "blocked")
        self.assertFalse(self.order_of(EUR_ORDER_ID))
        exception = self.open_exceptions(message)
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.category, "mapping")
        self.assertEqual(exception.value, "EUR")
        self.assertIn("EUR", exception.name)
        # With the pricelist, the retry books the order in EUR.
        self.eur_pricelist()
        exception.action_retry()
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(self.order_of(EUR_ORDER_ID).currency_id, self.eur)
