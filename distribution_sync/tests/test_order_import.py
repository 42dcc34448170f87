# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo.tools import float_compare

from odoo.addons.base.tests.common import DISABLED_MAIL_CONTEXT

from .common import DistributionSyncCase, order_payload


class TestOrderImport(DistributionSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product_b = cls.env["product.product"].create(
            {
                "name": "Barcode gadget",
                "default_code": "DS-TEST-2",
                "barcode": "5901234123457",
                "type": "consu",
                "list_price": 5.0,
                "taxes_id": [(5, 0, 0)],
            }
        )
        cls.product_c = cls.env["product.product"].create(
            {
                "name": "Aliased gizmo",
                "default_code": "DS-TEST-3",
                "type": "consu",
                "list_price": 7.0,
                "taxes_id": [(5, 0, 0)],
            }
        )
        cls.mappings = cls.env["distribution.sync.mapping"]

    # ---------------------------------------------------------------- helpers
    def _import(self, payload, event_id=None, topic="order/upsert"):
        return self.process(self.intake(topic, payload, event_id=event_id))

    def _order(self, external_id="SO-1"):
        binding = self.bindings._find(self.backend, "sale.order", external_id)
        return binding and binding._record() or self.env["sale.order"]

    def _open_exceptions(self, message, category=None):
        domain = [("message_id", "=", message.id), ("state", "=", "open")]
        if category:
            domain.append(("category", "=", category))
        return self.exceptions.search(domain)

    def _line(self, **values):
        line = {
            "external_id": "L1",
            "sku": "DS-TEST-1",
            "quantity": 2,
            "price_unit": "10.00",
        }
        line.update(values)
        return line

    def _orders_by_ref(self, ref):
        return self.env["sale.order"].search([("client_order_ref", "=", ref)])

    # ------------------------------------------------------------- creation
    def test_order_created_and_confirmed(self):
        payload = order_payload(
            "SO-1",
            shipping_address={
                "name": "Jane at work",
                "street": "9 Dock Road",
                "city": "Shelbyville",
                "zip": "54321",
                "country_code": "US",
            },
        )
        message = self._import(payload)
        self.assertEqual(message.state, "done", message.last_error)
        order = self._order()
        self.assertTrue(order)
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.client_order_ref, "#SO-1")
        self.assertEqual(order.company_id, self.backend.company_id)
        self.assertEqual(len(order.order_line), 1)
        self.assertEqual(order.order_line.product_id, self.product)
        self.assertEqual(order.order_line.product_uom_qty, 2)
        self.assertEqual(order.order_line.price_unit, 10.0)
        self.assertAlmostEqual(order.amount_total, 20.0)
        self.assertEqual((message.res_model, message.res_id), ("sale.order", order.id))
        # The customer is created with its address contacts as children.
        customer = order.partner_id
        self.assertEqual(customer.email, "jane@example.com")
        self.assertFalse(customer.parent_id)
        self.assertEqual(order.partner_invoice_id.parent_id, customer)
        self.assertEqual(order.partner_invoice_id.type, "invoice")
        self.assertEqual(order.partner_invoice_id.street, "1 Main Street")
        self.assertEqual(order.partner_invoice_id.country_id, self.env.ref("base.us"))
        self.assertEqual(order.partner_shipping_id.parent_id, customer)
        self.assertEqual(order.partner_shipping_id.type, "delivery")
        self.assertEqual(order.partner_shipping_id.street, "9 Dock Road")
        self.assertEqual(
            self.bindings._find_record(self.backend, "res.partner", "C-1"), customer
        )

    def test_technical_user_follows_nothing_it_creates(self):
        context = {
            key: value
            for key, value in self.env.context.items()
            if key not in DISABLED_MAIL_CONTEXT
        }
        message = self.intake("order/upsert", order_payload("SO-F"))
        self.process(message.with_env(self.env(context=context)))
        self.assertEqual(message.state, "done")
        order = self._order("SO-F")
        customer = order.partner_id
        sync_partner = self.backend.user_id.partner_id
        for record in (customer, order.partner_invoice_id, order.picking_ids):
            self.assertTrue(record)
            self.assertNotIn(sync_partner, record.message_partner_ids)
        # The chatter still tells who created the customer.
        self.assertTrue(customer.message_ids)

    def test_existing_customer_matched_by_email(self):
        existing = self.env["res.partner"].create(
            {"name": "Jane B.", "email": "JANE@example.com"}
        )
        self._import(order_payload("SO-1"))
        order = self._order()
        self.assertEqual(order.partner_id, existing)
        self.assertEqual(
            self.env["res.partner"].search_count(
                [("email", "=ilike", "jane@example.com"), ("parent_id", "=", False)]
            ),
            1,
        )
        # A second order of the same customer reuses the partner too.
        self._import(order_payload("SO-2"))
        self.assertEqual(self._order("SO-2").partner_id, existing)

    def test_email_is_matched_exactly_never_as_a_pattern(self):
        # "_" and "%" are LIKE wildcards: j_ne@ must not find jane@, nor
        # %@example.com everybody at example.com.
        jane = self.env["res.partner"].create(
            {"name": "Jane", "email": "jane@example.com"}
        )
        for pattern in ("j_ne@example.com", "%@example.com"):
            payload = order_payload(
                f"SO-{pattern[:2]}",
                customer={
                    "external_id": f"C-{pattern[:2]}",
                    "email": pattern,
                    "name": "Pat Tern",
                },
            )
            self._import(payload)
            customer = self._order(f"SO-{pattern[:2]}").partner_id
            self.assertNotEqual(customer, jane)
            self.assertEqual(customer.email, pattern)
        # The same address written otherwise is the same customer.
        payload = order_payload(
            "SO-JA",
            customer={
                "external_id": "C-JA",
                "email": " Jane@Example.COM ",
                "name": "Jane",
            },
        )
        self._import(payload)
        self.assertEqual(self._order("SO-JA").partner_id, jane)

    def test_customer_created_when_no_match(self):
        self.env["res.partner"].create({"name": "Jane", "email": "other@example.com"})
        before = self.env["res.partner"].search_count([])
        self._import(order_payload("SO-1"))
        customer = self._order().partner_id
        self.assertEqual(customer.email, "jane@example.com")
        self.assertEqual(customer.name, "Jane Buyer")
        self.assertEqual(customer.customer_rank, 1)
        # The customer and its invoice address.
        self.assertEqual(self.env["res.partner"].search_count([]), before + 2)

    def test_two_channel_customers_with_one_email(self):
        self._import(order_payload("SO-1"))
        second = order_payload(
            "SO-2",
            customer={"external_id": "C-2", "email": "jane@example.com", "name": "J"},
        )
        message = self._import(second)
        self.assertEqual(message.state, "done", message.last_error)
        partner = self._order().partner_id
        self.assertEqual(self._order("SO-2").partner_id, partner)
        # The partner stays bound to the first channel customer.
        self.assertEqual(
            self.bindings._find_record(self.backend, "res.partner", "C-1"), partner
        )

    def test_product_matched_by_barcode_then_alias(self):
        self.mappings.create(
            {
                "backend_id": self.backend.id,
                "mapping_type": "product",
                "external_code": "SHOP-GIZMO",
                "product_id": self.product_c.id,
            }
        )
        payload = order_payload(
            "SO-1",
            lines=[
                self._line(),
                self._line(
                    external_id="L2",
                    sku="NOT-IN-ODOO",
                    barcode="5901234123457",
                    quantity=1,
                    price_unit="5.00",
                ),
                self._line(
                    external_id="L3", sku="shop-gizmo", quantity=1, price_unit="7.00"
                ),
            ],
            total="32.00",
        )
        message = self._import(payload)
        self.assertEqual(message.state, "done", message.last_error)
        order = self._order()
        self.assertEqual(
            order.order_line.mapped("product_id"),
            self.product | self.product_b | self.product_c,
        )
        self.assertEqual(order.state, "sale")

    # ---------------------------------------------------- idempotency/order
    def test_same_order_twice_is_one_order(self):
        payload = order_payload("SO-1")
        first = self._import(payload, event_id="E-1")
        second = self._import(payload, event_id="E-2")
        self.assertNotEqual(first, second)
        self.assertEqual(first.state, "done")
        self.assertEqual(second.state, "skipped")
        self.assertIn("Unchanged", second.result_summary)
        self.assertEqual(len(self._orders_by_ref("#SO-1")), 1)
        self.assertEqual(second.res_id, first.res_id)

    def test_same_event_twice_is_one_message(self):
        payload = order_payload("SO-1")
        first = self.intake("order/upsert", payload, event_id="E-1")
        again = self.intake("order/upsert", payload, event_id="E-1")
        self.assertEqual(first, again)

    def test_stale_version_skipped(self):
        newer = order_payload(
            "SO-1",
            updated_at="2026-01-10T12:00:00Z",
            financial_status="pending",
            lines=[self._line(quantity=3)],
            total="30.00",
        )
        older = order_payload(
            "SO-1",
            updated_at="2026-01-10T10:00:00Z",
            financial_status="pending",
            lines=[self._line(quantity=1)],
            total="10.00",
        )
        first = self._import(newer, event_id="E-new")
        self.assertEqual(first.state, "done", first.last_error)
        stale = self._import(older, event_id="E-old")
        self.assertEqual(stale.state, "skipped")
        self.assertIn("Stale", stale.result_summary)
        order = self._order()
        self.assertEqual(order.order_line.product_uom_qty, 3)
        self.assertAlmostEqual(order.amount_total, 30.0)
        self.assertEqual(len(self._orders_by_ref("#SO-1")), 1)

    def test_newer_version_updates_quotation(self):
        self._import(order_payload("SO-1", financial_status="pending"), event_id="E-1")
        message = self._import(
            order_payload(
                "SO-1",
                updated_at="2026-01-11T10:00:00Z",
                financial_status="pending",
                lines=[self._line(quantity=5)],
                total="50.00",
            ),
            event_id="E-2",
        )
        self.assertEqual(message.state, "done", message.last_error)
        order = self._order()
        self.assertEqual(order.state, "draft")
        self.assertEqual(order.order_line.product_uom_qty, 5)
        self.assertAlmostEqual(order.amount_total, 50.0)

    def test_pending_then_paid(self):
        first = self._import(
            order_payload("SO-1", financial_status="pending"), event_id="E-1"
        )
        self.assertEqual(first.state, "done")
        order = self._order()
        self.assertEqual(order.state, "draft")
        second = self._import(
            order_payload(
                "SO-1", financial_status="paid", updated_at="2026-01-10T11:00:00Z"
            ),
            event_id="E-2",
        )
        self.assertEqual(second.state, "done", second.last_error)
        self.assertEqual(self._order(), order)
        self.assertEqual(order.state, "sale")
        self.assertEqual(len(self._orders_by_ref("#SO-1")), 1)

    def test_confirm_statuses_configurable(self):
        self.backend.confirm_statuses = "paid"
        self._import(order_payload("SO-1", financial_status="authorized"))
        self.assertEqual(self._order().state, "draft")
        self.backend.confirm_statuses = "paid,authorized"
        self._import(order_payload("SO-2", financial_status="authorized"))
        self.assertEqual(self._order("SO-2").state, "sale")

    # -------------------------------------------------------------- mapping
    def test_unknown_sku_then_retry(self):
        payload = order_payload("SO-1", lines=[self._line(sku="NEW-SKU-9")])
        message = self._import(payload)
        self.assertEqual(message.state, "blocked")
        self.assertFalse(self._order())
        self.assertFalse(self._orders_by_ref("#SO-1"))
        exception = self._open_exceptions(message)
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.category, "mapping")
        self.assertEqual(exception.value, "NEW-SKU-9")
        self.assertIn("NEW-SKU-9", exception.name)
        self.assertEqual(exception.mapping_type, "product")

        self.env["product.product"].create(
            {
                "name": "New product",
                "default_code": "NEW-SKU-9",
                "type": "consu",
                "taxes_id": [(5, 0, 0)],
            }
        )
        exception.action_retry()
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(message.state, "done", message.last_error)
        order = self._order()
        self.assertTrue(order)
        self.assertEqual(order.order_line.product_id.default_code, "NEW-SKU-9")
        self.assertEqual(order.state, "sale")

    def test_total_mismatch_blocks_confirmation(self):
        message = self._import(order_payload("SO-1", total="25.00"))
        self.assertEqual(message.state, "blocked")
        order = self._order()
        self.assertTrue(order, "the order is kept for a person to check")
        self.assertEqual(order.state, "draft")
        exception = self._open_exceptions(message, "validation")
        self.assertEqual(len(exception), 1)
        self.assertEqual(
            (exception.res_model, exception.res_id), ("sale.order", order.id)
        )
        self.assertIn("25.00", exception.name)
        self.assertEqual(order.distribution_sync_exception_count, 1)
        action = order.action_view_distribution_sync_exceptions()
        self.assertEqual(self.exceptions.search(action["domain"]), exception)

    def test_total_mismatch_fixed_by_later_version(self):
        blocked = self._import(order_payload("SO-1", total="25.00"), event_id="E-1")
        exception = self._open_exceptions(blocked, "validation")
        order = self._order()
        fixed = self._import(
            order_payload(
                "SO-1",
                updated_at="2026-01-10T11:00:00Z",
                lines=[self._line(quantity=2, price_unit="12.50")],
                total="25.00",
            ),
            event_id="E-2",
        )
        self.assertEqual(fixed.state, "done", fixed.last_error)
        self.assertEqual(self._order(), order)
        self.assertEqual(order.state, "sale")
        self.assertAlmostEqual(order.amount_total, 25.0)
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(order.distribution_sync_exception_count, 0)

    def test_total_mismatch_retry_after_rule_change(self):
        message = self._import(order_payload("SO-1", total="20.50"))
        exception = self._open_exceptions(message, "validation")
        self.backend.validation_rule_ids.filtered(
            lambda r: r.rule_type == "total_tolerance"
        ).tolerance = 1.0
        exception.action_retry()
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(self._order().state, "sale")
        self.assertEqual(len(self._orders_by_ref("#SO-1")), 1)

    def test_total_within_tolerance(self):
        rule = self.backend.validation_rule_ids.filtered(
            lambda r: r.rule_type == "total_tolerance"
        )
        rule.tolerance = 0.05
        message = self._import(order_payload("SO-1", total="20.04"))
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(self._order().state, "sale")

    # ---------------------------------------------------------------- taxes
    def test_tax_by_rate_excluded(self):
        self.make_tax(15)
        payload = order_payload(
            "SO-1",
            taxes_included=False,
            lines=[self._line(taxes=[{"name": "VAT 15%", "rate": "15"}])],
            total="23.00",
        )
        message = self._import(payload)
        self.assertEqual(message.state, "done", message.last_error)
        order = self._order()
        tax = order.order_line.tax_id
        self.assertEqual(len(tax), 1)
        self.assertEqual(tax.amount, 15)
        self.assertEqual(tax.type_tax_use, "sale")
        self.assertFalse(tax.price_include)
        self.assertEqual(tax.company_id, self.company)
        self.assertAlmostEqual(order.amount_untaxed, 20.0)
        self.assertAlmostEqual(order.amount_tax, 3.0)
        self.assertAlmostEqual(order.amount_total, 23.0)
        self.assertEqual(order.state, "sale")

    def test_tax_by_rate_included(self):
        included = self.make_tax(15, included=True)
        payload = order_payload(
            "SO-1",
            taxes_included=True,
            lines=[self._line(price_unit="11.50", taxes=[{"name": "VAT", "rate": 15}])],
            total="23.00",
        )
        message = self._import(payload)
        self.assertEqual(message.state, "done", message.last_error)
        order = self._order()
        self.assertEqual(order.order_line.tax_id, included)
        self.assertAlmostEqual(order.amount_total, 23.0)
        self.assertAlmostEqual(order.amount_untaxed, 20.0)

    def test_tax_without_match_then_mapping(self):
        payload = order_payload(
            "SO-1",
            lines=[self._line(taxes=[{"name": "GST 7.25%", "rate": "7.25"}])],
            total="21.45",
        )
        message = self._import(payload)
        self.assertEqual(message.state, "blocked")
        self.assertFalse(self._order())
        exception = self._open_exceptions(message)
        self.assertEqual(exception.category, "mapping")
        self.assertEqual(exception.mapping_type, "tax")
        self.assertIn("GST 7.25%", exception.name)
        self.assertEqual(exception.value, "GST 7.25%")

        # Two taxes of that rate: the mapping, not the rate, decides.
        self.make_tax(7.25, name="Levy A")
        levy_b = self.make_tax(7.25, name="Levy B")
        self.mappings.create(
            {
                "backend_id": self.backend.id,
                "mapping_type": "tax",
                "external_code": exception.value,
                "tax_id": levy_b.id,
            }
        )
        exception.action_retry()
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(message.state, "done", message.last_error)
        order = self._order()
        self.assertEqual(order.order_line.tax_id, levy_b)
        self.assertAlmostEqual(order.amount_total, 21.45)

    def test_tax_included_setting_must_match(self):
        self.make_tax(15)
        payload = order_payload(
            "SO-1",
            taxes_included=True,
            lines=[self._line(taxes=[{"name": "VAT 15%", "rate": "15"}])],
            total="20.00",
        )
        if self.env["account.tax"].search_count(
            [
                ("company_id", "=", self.company.id),
                ("type_tax_use", "=", "sale"),
                ("amount", "=", 15),
                ("price_include", "=", True),
            ]
        ):
            self.skipTest("The company already has a 15% tax-included sale tax.")
        message = self._import(payload)
        self.assertEqual(message.state, "blocked")
        exception = self._open_exceptions(message, "mapping")
        self.assertIn("VAT 15%", exception.name)
        self.assertIn("included", exception.name)

    # ------------------------------------------------------------ units/packs
    def _uom_mapping(self, code, factor, policy="exact"):
        return self.mappings.create(
            {
                "backend_id": self.backend.id,
                "mapping_type": "uom",
                "external_code": code,
                "factor": factor,
                "rounding_policy": policy,
            }
        )

    def test_pack_size_conversion(self):
        self._uom_mapping("CASE12", 12)
        payload = order_payload(
            "SO-1",
            lines=[self._line(quantity=2, uom="CASE12", price_unit="120.00")],
            total="240.00",
        )
        message = self._import(payload)
        self.assertEqual(message.state, "done", message.last_error)
        line = self._order().order_line
        self.assertEqual(line.product_uom_qty, 24)
        self.assertEqual(line.product_uom, self.product.uom_id)
        self.assertAlmostEqual(line.price_unit, 10.0)
        self.assertAlmostEqual(self._order().amount_total, 240.0)

    def test_unknown_unit_is_mapping_exception(self):
        payload = order_payload("SO-1", lines=[self._line(uom="PALLET")], total="20.00")
        message = self._import(payload)
        self.assertEqual(message.state, "blocked")
        exception = self._open_exceptions(message)
        self.assertEqual(exception.category, "mapping")
        self.assertEqual(exception.value, "PALLET")
        self.assertEqual(exception.mapping_type, "uom")

    def test_fractional_quantity_is_exception(self):
        self._uom_mapping("HALF", 0.5)
        payload = order_payload(
            "SO-1",
            lines=[self._line(quantity=3, uom="HALF", price_unit="5.00")],
            total="15.00",
        )
        message = self._import(payload)
        self.assertEqual(message.state, "blocked")
        self.assertFalse(self._order())
        exception = self._open_exceptions(message)
        self.assertEqual(exception.category, "mapping")
        self.assertIn("1.5", exception.name)
        self.assertIn("not a whole number", exception.name)

    def test_fractional_quantity_rounded_up_by_policy(self):
        self._uom_mapping("HALF", 0.5, policy="up")
        payload = order_payload(
            "SO-1",
            lines=[self._line(quantity=3, uom="HALF", price_unit="5.00")],
            total="15.00",
        )
        message = self._import(payload)
        self.assertEqual(message.state, "done", message.last_error)
        line = self._order().order_line
        self.assertEqual(line.product_uom_qty, 2)
        # The line amount is kept: the price per Odoo unit absorbs the rounding.
        self.assertAlmostEqual(line.price_unit, 7.5)
        self.assertAlmostEqual(self._order().amount_total, 15.0)

    # ------------------------------------------------ discounts and shipping
    def test_line_discount_amount(self):
        payload = order_payload(
            "SO-1",
            lines=[self._line(quantity=4, price_unit="25.00", discount_amount="10.00")],
            total="90.00",
        )
        message = self._import(payload)
        self.assertEqual(message.state, "done", message.last_error)
        order = self._order()
        self.assertAlmostEqual(order.order_line.discount, 10.0)
        self.assertAlmostEqual(order.order_line.price_subtotal, 90.0)
        self.assertAlmostEqual(order.amount_total, 90.0)

    def test_line_discount_exact_to_the_cent(self):
        # 37.00 off 1234.57 is 2.997...%: stored with two decimals (3.00%) it
        # would make the line 1197.53 instead of 1197.57.
        payload = order_payload(
            "SO-1",
            lines=[
                self._line(quantity=1, price_unit="1234.57", discount_amount="37.00"),
                self._line(
                    external_id="L2",
                    sku="DS-TEST-2",
                    quantity=3,
                    price_unit="19.99",
                    discount_amount="5.97",
                ),
            ],
            total="1251.57",
        )
        message = self._import(payload)
        self.assertEqual(message.state, "done", message.last_error)
        order = self._order()
        big = order.order_line.filtered(lambda line: line.product_id == self.product)
        small = order.order_line - big
        self.assertAlmostEqual(big.price_subtotal, 1197.57)
        # 5.97 off 3 x 19.99 is 9.954...%: 9.95% gives 54.00 to the cent.
        self.assertAlmostEqual(small.discount, 9.95)
        self.assertAlmostEqual(small.price_unit, 19.99)
        self.assertAlmostEqual(small.price_subtotal, 54.0)
        self.assertEqual(
            float_compare(order.amount_total, 1251.57, precision_digits=2), 0
        )
        self.assertEqual(order.state, "sale")

    def test_shipping_lines(self):
        payload = order_payload(
            "SO-1",
            shipping=[{"code": "STD", "title": "Standard delivery", "price": "5.00"}],
            total="25.00",
        )
        message = self._import(payload)
        self.assertEqual(message.state, "done", message.last_error)
        order = self._order()
        shipping = order.order_line.filtered(
            lambda line: line.product_id == self.backend.shipping_product_id
        )
        self.assertEqual(len(shipping), 1)
        self.assertEqual(shipping.name, "Standard delivery")
        self.assertAlmostEqual(shipping.price_unit, 5.0)
        self.assertEqual(shipping.product_uom_qty, 1)
        self.assertAlmostEqual(order.amount_total, 25.0)

    def test_shipping_discount(self):
        payload = order_payload(
            "SO-1",
            shipping=[
                {"code": "STD", "price": "8.00", "discount_amount": "2.00"},
                # 12.34 off 987.65 is 1.249...%: 1.25% would give 975.30.
                {"code": "FREIGHT", "price": "987.65", "discount_amount": "12.34"},
            ],
            total="1001.31",
        )
        message = self._import(payload)
        self.assertEqual(message.state, "done", message.last_error)
        order = self._order()
        shipping = order.order_line.filtered(
            lambda line: line.product_id == self.backend.shipping_product_id
        )
        self.assertEqual(sorted(shipping.mapped("price_subtotal")), [6.0, 975.31])
        self.assertAlmostEqual(
            shipping.filtered(lambda line: line.name == "STD").discount, 25.0
        )
        self.assertAlmostEqual(order.amount_total, 1001.31)

    # -------------------------------------------------------------- currency
    def test_currency_without_pricelist(self):
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", "CHF")])
        )
        self.assertTrue(currency)
        self.env["product.pricelist"].with_context(active_test=False).search(
            [("currency_id", "=", currency.id)]
        ).unlink()
        message = self._import(order_payload("SO-1", currency="CHF"))
        self.assertEqual(message.state, "blocked")
        self.assertFalse(self._order())
        exception = self._open_exceptions(message)
        self.assertEqual(exception.category, "mapping")
        self.assertEqual(exception.value, "CHF")
        self.assertIn("CHF", exception.name)

    def test_currency_with_pricelist(self):
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", "CHF")])
        )
        currency.active = True
        pricelist = self.env["product.pricelist"].create(
            {"name": "CHF prices", "currency_id": currency.id}
        )
        message = self._import(order_payload("SO-1", currency="CHF"))
        self.assertEqual(message.state, "done", message.last_error)
        order = self._order()
        self.assertEqual(order.pricelist_id, pricelist)
        self.assertEqual(order.currency_id, currency)
        self.assertAlmostEqual(order.amount_total, 20.0)

    # ----------------------------------------------------------- cancellation
    def test_cancel_unshipped_order(self):
        self._import(order_payload("SO-1"))
        order = self._order()
        self.assertEqual(order.state, "sale")
        message = self._import({"external_id": "SO-1"}, topic="order/cancel")
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(order.state, "cancel")
        self.assertFalse(self._open_exceptions(message))

    def test_cancel_unknown_order_is_skipped(self):
        message = self._import({"external_id": "SO-404"}, topic="order/cancel")
        self.assertEqual(message.state, "skipped")

    def _ship(self, order):
        picking = order.picking_ids.filtered(
            lambda p: p.picking_type_code == "outgoing"
        )
        self.assertEqual(len(picking), 1)
        picking.action_assign()
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
            move.picked = True
        picking.with_context(skip_backorder=True).button_validate()
        self.assertEqual(picking.state, "done")
        return picking

    def test_cancel_shipped_order_is_conflict(self):
        self._import(order_payload("SO-1"))
        order = self._order()
        self._ship(order)
        message = self._import({"external_id": "SO-1"}, topic="order/cancel")
        self.assertEqual(message.state, "blocked")
        self.assertEqual(order.state, "sale")
        exception = self._open_exceptions(message)
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.category, "conflict")
        self.assertEqual(
            (exception.res_model, exception.res_id), ("sale.order", order.id)
        )
        self.assertIn("return", exception.name)

    # ---------------------------------------------------------------- updates
    def test_confirmed_order_line_change_is_conflict(self):
        self._import(order_payload("SO-1"), event_id="E-1")
        order = self._order()
        self.assertEqual(order.state, "sale")
        message = self._import(
            order_payload(
                "SO-1",
                name="#SO-1-B",
                updated_at="2026-01-10T11:00:00Z",
                lines=[self._line(sku="DS-TEST-2", quantity=4, price_unit="5.00")],
                total="20.00",
            ),
            event_id="E-2",
        )
        self.assertEqual(order.client_order_ref, "#SO-1-B")
        self.assertEqual(order.order_line.product_id, self.product)
        self.assertEqual(order.order_line.product_uom_qty, 2)
        self.assertEqual(order.state, "sale")
        exception = self._open_exceptions(message, "conflict")
        self.assertEqual(len(exception), 1)
        self.assertIn(order.name, exception.name)
        self.assertEqual(
            (exception.res_model, exception.res_id), ("sale.order", order.id)
        )
        self.assertEqual(len(self._orders_by_ref("#SO-1-B")), 1)
