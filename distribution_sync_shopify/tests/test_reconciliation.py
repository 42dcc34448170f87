# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from datetime import date

from .common import DEMO_ORDER_ID, ShopifyCase, order_variant


class TestShopifyReconciliation(ShopifyCase):
    """Shopify orders against their Odoo sale orders: what the shop last
    said of each order (its total, cancelled or not) is kept on the binding
    by the import, and a run compares it set-wise."""

    # ---------------------------------------------------------------- helpers
    def reconcile(self):
        """A reconciliation run of the Shopify test backend only."""
        run = self.env["distribution.sync.reconciliation"].create(
            {"backend_ids": [(6, 0, self.shop.ids)]}
        )
        run.action_run()
        self.assertEqual(run.state, "done")
        return run

    def differences(self, order, code=None, state="open"):
        domain = [
            ("category", "=", "reconciliation"),
            ("work_key", "=like", "reconcile:%"),
            ("res_model", "=", "sale.order"),
            ("res_id", "=", order.id),
            ("state", "=", state),
        ]
        if code:
            domain.append(("reconciliation_check", "=", code))
        return self.exceptions.search(domain)

    def binding_of(self, external_id):
        binding = self.bindings._find(self.shop, "sale.order", external_id)
        self.assertEqual(len(binding), 1)
        return binding

    def cancelled(self):
        return order_variant(
            "demo_order_1001.json",
            cancelled_at="2026-11-02T11:00:00-05:00",
            cancel_reason="customer",
            financial_status="refunded",
            updated_at="2026-11-02T11:00:05-05:00",
        )

    def imported(self):
        message = self.receive("orders/create", "demo_order_1001.json")
        self.assertEqual(message.state, "done", message.last_error)
        order = self.order_of(DEMO_ORDER_ID)
        self.assertEqual(order.state, "sale")
        return order

    # ------------------------------------------------------------------ import
    def test_import_keeps_the_shop_total_and_state(self):
        order = self.imported()
        binding = self.binding_of(DEMO_ORDER_ID)
        self.assertAlmostEqual(binding.remote_amount, 63.60)
        self.assertAlmostEqual(binding.remote_amount, order.amount_total)
        self.assertEqual(binding.remote_state, "paid")
        self.assertEqual(binding.external_name, "#1001")
        run = self.reconcile()
        self.assertFalse(self.differences(order))
        checked = {line.check_code: line.checked_count for line in run.line_ids}
        self.assertGreaterEqual(checked["order_total"], 1)
        self.assertGreaterEqual(checked["order_state"], 1)

    def test_total_differing_from_the_shop(self):
        payload = order_variant(
            "demo_order_1001.json", "6100000009101", total_price="70.00"
        )
        message = self.receive("orders/create", payload)
        self.assertEqual(message.state, "blocked")
        order = self.order_of("6100000009101")
        self.assertAlmostEqual(order.amount_total, 63.60)
        self.assertAlmostEqual(self.binding_of("6100000009101").remote_amount, 70.0)
        self.reconcile()
        found = self.differences(order, "order_total")
        self.assertEqual(len(found), 1)
        self.assertEqual(found.backend_id, self.shop)
        self.assertAlmostEqual(found.amount_odoo, 63.60)
        self.assertAlmostEqual(found.amount_channel, 70.0)
        self.assertAlmostEqual(found.amount_difference, 6.40)
        self.assertIn("70.00", found.name)
        self.assertIn("63.60", found.name)
        self.assertIn(order.name, found.name)
        self.assertEqual(found.value, payload["name"])

    # ----------------------------------------------------------- cancellations
    def test_cancelled_in_shopify_and_odoo_agree(self):
        order = self.imported()
        message = self.receive("orders/cancelled", self.cancelled())
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(self.binding_of(DEMO_ORDER_ID).remote_state, "cancelled")
        self.assertEqual(order.state, "cancel")
        self.reconcile()
        self.assertFalse(self.differences(order, "order_state"))
        # A cancelled order's total is not compared either.
        self.assertFalse(self.differences(order))

    def test_cancelled_in_odoo_only(self):
        order = self.imported()
        order.with_context(disable_cancel_warning=True).action_cancel()
        self.assertEqual(order.state, "cancel")
        self.assertEqual(self.binding_of(DEMO_ORDER_ID).remote_state, "paid")
        run = self.reconcile()
        found = self.differences(order, "order_state")
        self.assertEqual(len(found), 1)
        self.assertIn(order.name, found.name)
        self.assertIn("cancelled in Odoo", found.name)
        self.assertEqual(found.work_key, f"reconcile:order_state:{order.id}")
        self.assertFalse(self.differences(order, "order_total"))
        line = run.line_ids.filtered(lambda x: x.check_code == "order_state")
        self.assertGreaterEqual(line.discrepancy_count, 1)

        # Shopify cancels it too: the next run resolves it.
        self.receive("orders/cancelled", self.cancelled())
        self.reconcile()
        self.assertFalse(self.differences(order, "order_state"))
        self.assertEqual(found.state, "resolved")

    def test_cancelled_in_shopify_after_shipping(self):
        order = self.imported()
        self.ship(order)
        message = self.receive("orders/cancelled", self.cancelled())
        self.assertEqual(message.state, "blocked")
        self.assertEqual(order.state, "sale")
        self.assertEqual(self.binding_of(DEMO_ORDER_ID).remote_state, "cancelled")
        self.reconcile()
        found = self.differences(order, "order_state")
        self.assertEqual(len(found), 1)
        self.assertIn("cancelled in the channel", found.name)

    # ------------------------------------------------------------------ health
    def test_health_is_the_api_version_support_end(self):
        self.assertEqual(self.shop.shopify_api_version, "2025-07")
        self.assertEqual(
            self.shop._shopify_health(), {"api_support_end": date(2026, 7, 1)}
        )
        self.assertEqual(self.shop.health_api_end, date(2026, 7, 1))
        self.shop.shopify_api_version = "2026-01"
        self.assertEqual(
            self.shop._shopify_health()["api_support_end"], date(2027, 1, 1)
        )
