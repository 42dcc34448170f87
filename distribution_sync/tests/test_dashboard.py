# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from datetime import timedelta

from odoo import Command, fields

from .common import DistributionSyncCase, order_payload


class TestDashboard(DistributionSyncCase):
    """The overview's figures follow the data, and each opens its documents.

    Figures are compared before and after: other records may count too."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create({"name": "Overview customer"})

    def figures(self):
        """A fresh overview: its figures are read when first shown."""
        return self.env["distribution.sync.dashboard"].create({})

    def snapshot(self):
        """The figures now, kept."""
        return self.env["distribution.sync.dashboard"]._dashboard_figures()

    def make_order(self, confirm=True, **remote):
        return self.bound_order(self.customer, confirm=confirm, prefix="OV", **remote)

    def found(self, action, record):
        """``record`` is among what ``action`` opens."""
        self.assertEqual(action["type"], "ir.actions.act_window")
        self.assertEqual(action["res_model"], record._name)
        return record in self.env[record._name].search(action["domain"])

    def test_held_quotation(self):
        before = self.snapshot()
        order = self.make_order(confirm=False)
        self.exceptions._open(
            self.backend, "validation", "Price below floor", record=order
        )
        after = self.figures()
        self.assertEqual(after.orders_held_count, before["orders_held_count"] + 1)
        self.assertIn("Validation", after.orders_held_reasons)
        action = after.action_open_orders_held()
        self.assertTrue(self.found(action, order))

    def test_confirmed_or_unbound_order_is_not_held(self):
        before = self.snapshot()
        confirmed = self.make_order()
        unbound = self.env["sale.order"].create({"partner_id": self.customer.id})
        for order in (confirmed, unbound):
            self.exceptions._open(self.backend, "validation", "Check", record=order)
        after = self.figures()
        self.assertEqual(after.orders_held_count, before["orders_held_count"])
        self.assertFalse(self.found(after.action_open_orders_held(), confirmed))

    def test_late_delivery(self):
        before = self.snapshot()
        order = self.make_order()
        confirmed = fields.Datetime.now() - timedelta(days=10)
        self.env.flush_all()
        self.env.cr.execute(
            """UPDATE sale_order
                  SET date_order = %s, distribution_sync_confirmed_at = %s
                WHERE id = %s""",
            (confirmed, confirmed, order.id),
        )
        self.env.invalidate_all()
        self.env["distribution.sync.milestone"]._refresh(order_ids=order.ids)
        shipped = order.distribution_sync_milestone_ids.filtered(
            lambda m: m.step == "shipped"
        )
        self.assertEqual(shipped.state, "late")
        picking = order.picking_ids
        self.assertEqual(len(picking), 1)
        self.assertNotIn(picking.state, ("done", "cancel"))
        after = self.figures()
        self.assertEqual(after.late_delivery_count, before["late_delivery_count"] + 1)
        self.assertEqual(after.late_step_count, before["late_step_count"] + 1)
        self.assertTrue(self.found(after.action_open_late_deliveries(), picking))
        self.assertTrue(self.found(after.action_open_late_steps(), shipped))

    def test_on_time_delivery_is_not_late(self):
        before = self.snapshot()
        order = self.make_order()
        self.env["distribution.sync.milestone"]._refresh(order_ids=order.ids)
        after = self.figures()
        self.assertEqual(after.late_delivery_count, before["late_delivery_count"])
        self.assertFalse(
            self.found(after.action_open_late_deliveries(), order.picking_ids)
        )

    def test_differences(self):
        before = self.snapshot()
        order = self.make_order(remote_amount=25.0)
        run = self.env["distribution.sync.reconciliation"].create(
            {"backend_ids": [Command.set(self.backend.ids)]}
        )
        run.action_run()
        exc = self.exceptions.search(
            [("category", "=", "reconciliation"), ("res_id", "=", order.id)]
        )
        self.assertEqual(len(exc), 1)
        after = self.figures()
        self.assertEqual(after.difference_count, before["difference_count"] + 1)
        self.assertAlmostEqual(
            after.difference_amount, before["difference_amount"] + 5.0, places=2
        )
        self.assertTrue(after.difference_oldest)
        self.assertLessEqual(after.difference_oldest, exc.create_date)
        self.assertGreaterEqual(after.last_reconciliation_at, run.run_at)
        self.assertTrue(self.found(after.action_open_differences(), exc))
        self.assertIn(self.backend, after.backend_ids)

        exc.action_resolve()
        resolved = self.figures()
        self.assertEqual(resolved.difference_count, before["difference_count"])

    def test_orders_waiting_and_not_imported(self):
        before = self.snapshot()
        waiting = self.intake("order/create", order_payload("OV-W1"))
        stuck = self.intake("order/create", order_payload("OV-S1"))
        self.env.flush_all()
        self.env.cr.execute(
            """UPDATE distribution_sync_message SET state = 'dead', create_date = %s
                WHERE id = %s""",
            (fields.Datetime.now() - timedelta(hours=2), stuck.id),
        )
        self.env.invalidate_all()
        self.env["distribution.sync.reconciliation"].create(
            {"backend_ids": [Command.set(self.backend.ids)]}
        ).action_run()
        after = self.figures()
        self.assertEqual(after.orders_waiting_count, before["orders_waiting_count"] + 1)
        self.assertTrue(self.found(after.action_open_orders_waiting(), waiting))
        self.assertEqual(
            after.orders_not_imported_count, before["orders_not_imported_count"] + 1
        )
        exc = self.exceptions.search([("message_id", "=", stuck.id)])
        self.assertTrue(self.found(after.action_open_orders_not_imported(), exc))

    def test_unmatched_payment(self):
        before = self.snapshot()
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.customer.id,
                "amount": 42.0,
            }
        )
        payment.action_post()
        after = self.figures()
        self.assertEqual(
            after.payments_unmatched_count, before["payments_unmatched_count"] + 1
        )
        self.assertTrue(self.found(after.action_open_payments_unmatched(), payment))

    def test_refresh_opens_the_overview(self):
        order = self.make_order()
        action = self.figures().action_refresh()
        self.assertEqual(action["res_model"], "distribution.sync.dashboard")
        self.assertTrue(
            self.env["distribution.sync.dashboard"].browse(action["res_id"]).exists()
        )
        self.assertTrue(order.distribution_sync_milestone_ids, "milestones refreshed")
