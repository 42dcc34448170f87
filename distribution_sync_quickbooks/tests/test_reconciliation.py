# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from decimal import Decimal

from odoo.tests import tagged

from .common import QuickbooksCase


@tagged("post_install", "-at_install")
class TestQuickbooksReconciliation(QuickbooksCase):
    """Odoo against what QuickBooks last told us of each invoice (kept on
    its binding by the exporter and the importer), every posted invoice in
    QuickBooks, and the accounted step of channel orders."""

    # ---------------------------------------------------------------- helpers
    def reconcile(self):
        """A reconciliation run of the QuickBooks test backend only."""
        run = self.env["distribution.sync.reconciliation"].create(
            {"backend_ids": [(6, 0, self.qb.ids)]}
        )
        run.action_run()
        self.assertEqual(run.state, "done")
        return run

    def differences(self, record, code=None, state="open"):
        domain = [
            ("category", "=", "reconciliation"),
            ("work_key", "=like", "reconcile:%"),
            ("res_model", "=", record._name),
            ("res_id", "=", record.id),
            ("state", "=", state),
        ]
        if code:
            domain.append(("reconciliation_check", "=", code))
        return self.exceptions.search(domain)

    def binding_of(self, record):
        binding = self.bindings.search(
            [
                ("backend_id", "=", self.qb.id),
                ("res_model", "=", record._name),
                ("res_id", "=", record.id),
            ]
        )
        self.assertEqual(len(binding), 1)
        return binding

    def qb_invoice(self, move):
        return self.fake.get("Invoice", self.qb_id(move))

    def post_unconnected(self):
        """A posted invoice queued nowhere (posted before the connection)."""
        realm = self.qb.quickbooks_realm_id
        self.qb.quickbooks_realm_id = False
        move = self.make_invoice()
        self.qb.quickbooks_realm_id = realm
        self.assertFalse(self.qb_messages(move))
        return move

    def edit_quantity(self, move, quantity):
        """The accountant changes the quantity of the invoice in QuickBooks."""
        qb_id = self.qb_id(move)
        lines = self.qb_invoice(move)["Line"]
        for line in lines:
            if line.get("DetailType") == "SalesItemLineDetail":
                line["SalesItemLineDetail"]["Qty"] = quantity
                line["Amount"] = str(10 * quantity)
        self.fake.edit(
            "Invoice",
            qb_id,
            {"Line": [x for x in lines if x.get("DetailType") != "SubTotalLineDetail"]},
        )
        return qb_id

    # ------------------------------------------------------ what QuickBooks said
    def test_exported_invoice_keeps_quickbooks_amounts(self):
        move = self.sync_invoice()
        binding = self.binding_of(move)
        invoice = self.qb_invoice(move)
        self.assertAlmostEqual(binding.remote_amount, move.amount_total)
        self.assertAlmostEqual(binding.remote_amount, float(invoice["TotalAmt"]))
        self.assertAlmostEqual(binding.remote_residual, float(invoice["Balance"]))
        self.assertAlmostEqual(binding.remote_residual, 21.60)
        self.assertEqual(binding.remote_state, "posted")
        run = self.reconcile()
        self.assertFalse(self.differences(move))
        checked = {line.check_code: line.checked_count for line in run.line_ids}
        for code in ("move_total", "move_state", "move_balance", "not_in_accounting"):
            self.assertGreaterEqual(checked[code], 1, code)

    def test_reposted_invoice_refreshes_the_amounts(self):
        move = self.sync_invoice()
        move.button_draft()
        move.invoice_line_ids.price_unit = 15.0
        move.action_post()
        self.run_qb_jobs(move)
        binding = self.binding_of(move)
        self.assertAlmostEqual(binding.remote_amount, 32.40)
        self.assertAlmostEqual(binding.remote_residual, 32.40)
        self.reconcile()
        self.assertFalse(self.differences(move))

    # -------------------------------------------------------- not_in_accounting
    def test_posted_invoice_not_in_quickbooks_until_sent(self):
        move = self.post_unconnected()
        run = self.reconcile()
        found = self.differences(move, "not_in_accounting")
        self.assertEqual(len(found), 1)
        self.assertEqual(found.backend_id, self.qb)
        self.assertIn(move.name, found.name)
        self.assertIn(self.qb.name, found.name)
        self.assertAlmostEqual(found.amount_odoo, move.amount_total)
        self.assertFalse(found.amount_channel)
        self.assertEqual(found.currency_id, move.currency_id)
        self.assertGreaterEqual(
            run.line_ids.filtered(
                lambda x: x.check_code == "not_in_accounting"
            ).discrepancy_count,
            1,
        )

        self.qb.action_quickbooks_send_invoices()
        message = self.qb_messages(move)
        self.assertEqual(len(message), 1)
        # On its way: not reported meanwhile, and not resolved either.
        self.reconcile()
        self.assertFalse(self.differences(move, "not_in_accounting"))
        self.assertEqual(found.state, "resolved")

        self.run_qb_jobs(move)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertTrue(self.qb_id(move))
        self.reconcile()
        self.assertFalse(self.differences(move))

    def test_refused_invoice_is_not_in_quickbooks(self):
        self.sync_invoice()
        item_id = self.qb_id(self.product)
        self.fake.edit("Item", item_id, {"Active": False})
        move = self.make_invoice()
        # Queued: on its way.
        self.reconcile()
        self.assertFalse(self.differences(move, "not_in_accounting"))
        message = self.run_qb_jobs(move)
        self.assertEqual(message.state, "blocked", message.last_error)
        self.reconcile()
        self.assertEqual(len(self.differences(move, "not_in_accounting")), 1)

    def test_quickbooks_owning_invoices_checks_nothing(self):
        self.set_owner("invoice", "channel")
        move = self.post_unconnected()
        run = self.reconcile()
        self.assertFalse(self.differences(move, "not_in_accounting"))
        line = run.line_ids.filtered(lambda x: x.check_code == "not_in_accounting")
        self.assertEqual(line.checked_count, 0)
        self.assertEqual(line.discrepancy_count, 0)

    # ------------------------------------------------------------ move_balance
    def test_payment_in_quickbooks_lowers_the_open_balance(self):
        move = self.sync_invoice()
        payment_id = self.pay_in_quickbooks([(move, "10.00")])
        message = self.notify([("Payment", payment_id, "Create")])
        self.assertEqual(message.state, "done", message.last_error)
        self.assertAlmostEqual(move.amount_residual, 11.60)
        binding = self.binding_of(move)
        self.assertAlmostEqual(binding.remote_residual, 11.60)
        self.assertAlmostEqual(binding.remote_amount, 21.60)
        payment = self.payments_of(move)
        self.assertAlmostEqual(self.binding_of(payment).remote_amount, 10.0)
        self.reconcile()
        self.assertFalse(self.differences(move))
        self.assertFalse(self.differences(payment))

        # The balance QuickBooks reports afterwards is the same.
        self.notify([("Invoice", self.qb_id(move), "Update")])
        self.assertAlmostEqual(binding.remote_residual, 11.60)
        self.reconcile()
        self.assertFalse(self.differences(move))

    def test_invoice_notice_before_its_payment_keeps_the_balance(self):
        """Known defect: the payment import lowers the balance the invoice
        notice already read from QuickBooks (counted twice)."""
        move = self.sync_invoice()
        payment_id = self.pay_in_quickbooks([(move, "10.00")])
        # QuickBooks' notices of one change come in any order: the invoice's
        # (its balance read after the payment) first.
        self.notify(
            [("Invoice", self.qb_id(move), "Update"), ("Payment", payment_id, "Create")]
        )
        self.assertAlmostEqual(move.amount_residual, 11.60)
        self.assertAlmostEqual(
            float(self.qb_invoice(move)["Balance"]), move.amount_residual
        )
        self.assertAlmostEqual(self.binding_of(move).remote_residual, 11.60)
        self.reconcile()
        self.assertFalse(self.differences(move, "move_balance"))

    def test_payment_in_odoo_only_is_a_balance_difference(self):
        move = self.sync_invoice()
        # QuickBooks owns payments: one registered in Odoo is not sent.
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids
        ).create({})._create_payments()
        self.assertEqual(move.payment_state, "paid")
        self.reconcile()
        found = self.differences(move, "move_balance")
        self.assertEqual(len(found), 1)
        self.assertAlmostEqual(found.amount_odoo, 0.0)
        self.assertAlmostEqual(found.amount_channel, 21.60)
        self.assertAlmostEqual(found.amount_difference, 21.60)
        self.assertIn("21.60", found.name)
        self.assertIn("0.00", found.name)
        self.assertIn(move.name, found.name)

        # The accountant records it in QuickBooks too; its invoice notice
        # brings the new balance.
        self.pay_in_quickbooks([(move, "21.60")])
        self.notify([("Invoice", self.qb_id(move), "Update")])
        self.assertAlmostEqual(self.binding_of(move).remote_residual, 0.0)
        self.reconcile()
        self.assertFalse(self.differences(move, "move_balance"))
        self.assertEqual(found.state, "resolved")

    # -------------------------------------------------------------- move_total
    def test_total_changed_in_quickbooks(self):
        move = self.sync_invoice()
        qb_id = self.edit_quantity(move, 3)
        theirs = Decimal(str(self.qb_invoice(move)["TotalAmt"]))
        self.assertNotEqual(theirs, Decimal("21.60"))
        message = self.notify([("Invoice", qb_id, "Update")])
        self.assertEqual(message.state, "done", message.last_error)
        binding = self.binding_of(move)
        self.assertAlmostEqual(binding.remote_amount, float(theirs))
        self.reconcile()
        found = self.differences(move, "move_total")
        self.assertEqual(len(found), 1)
        self.assertAlmostEqual(found.amount_odoo, 21.60)
        self.assertAlmostEqual(found.amount_channel, float(theirs))
        self.assertAlmostEqual(
            found.amount_difference, abs(float(theirs) - 21.60), places=2
        )
        self.assertIn(f"{theirs:.2f}", found.name)
        self.assertIn("21.60", found.name)
        self.assertIn(move.name, found.name)
        self.assertEqual(found.value, qb_id)
        self.assertEqual(found.work_key, f"reconcile:move_total:{move.id}")

        # Put back in QuickBooks: the next run resolves it.
        self.edit_quantity(move, 2)
        self.notify([("Invoice", qb_id, "Update")])
        self.reconcile()
        self.assertFalse(self.differences(move, "move_total"))
        self.assertEqual(found.state, "resolved")

    # -------------------------------------------------------------- move_state
    def test_cancelled_in_odoo_and_voided_in_quickbooks_agree(self):
        move = self.sync_invoice()
        move.button_draft()
        move.button_cancel()
        self.run_qb_jobs(move)
        void = self.qb_messages(move, topic="invoice/void")
        self.assertEqual(void.state, "done", void.last_error)
        binding = self.binding_of(move)
        self.assertEqual(binding.remote_state, "voided")
        self.assertEqual(move.state, "cancel")
        self.reconcile()
        self.assertFalse(self.differences(move))

    def test_voided_in_quickbooks_only_is_a_state_difference(self):
        move = self.sync_invoice()
        qb_id = self.qb_id(move)
        self.fake.void_object("Invoice", qb_id)
        self.notify([("Invoice", qb_id, "Void")])
        self.assertEqual(self.binding_of(move).remote_state, "voided")
        self.reconcile()
        found = self.differences(move, "move_state")
        self.assertEqual(len(found), 1)
        self.assertIn(move.name, found.name)
        self.assertIn("voided", found.name)
        # Not a total nor a balance difference: the invoice is gone there.
        self.assertFalse(self.differences(move, "move_total"))
        self.assertFalse(self.differences(move, "move_balance"))

        move.button_draft()
        move.button_cancel()
        self.reconcile()
        self.assertFalse(self.differences(move, "move_state"))
        self.assertEqual(found.state, "resolved")

    # --------------------------------------------------------------- milestone
    def test_accounted_once_the_order_invoice_is_in_quickbooks(self):
        self.product.invoice_policy = "order"
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [
                    (
                        0,
                        0,
                        {
                            "product_id": self.product.id,
                            "product_uom_qty": 2,
                            "price_unit": 10.0,
                            "tax_id": [(6, 0, self.tax.ids)],
                        },
                    )
                ],
            }
        )
        order.action_confirm()
        self.bindings._bind(self.backend, order, "QB-ORDER-1")
        invoice = order._create_invoices()
        invoice.action_post()
        milestones = self.env["distribution.sync.milestone"]
        milestones._refresh(order_ids=order.ids)

        def step(code):
            return order.distribution_sync_milestone_ids.filtered(
                lambda m: m.step == code
            )

        self.assertTrue(step("invoiced").reached_at)
        self.assertFalse(step("accounted").reached_at)
        self.assertEqual(step("accounted").anchor_at, step("invoiced").reached_at)

        self.run_qb_jobs(invoice)
        binding = self.binding_of(invoice)
        milestones._refresh(order_ids=order.ids)
        self.assertEqual(step("accounted").reached_at, binding.create_date)
        self.assertEqual(step("accounted").state, "on_time")

    # --------------------------------------------------------------- dashboard
    def test_dashboard_invoices_not_in_quickbooks(self):
        # Other QuickBooks backends of the company (demo data) are not
        # these tests' business.
        self.env["distribution.sync.backend"].search(
            [("backend_type", "=", "quickbooks"), ("id", "!=", self.qb.id)]
        ).active = False
        dashboards = self.env["distribution.sync.dashboard"]
        before = dashboards.create({}).invoices_unsynced_count
        move = self.make_invoice()
        dashboard = dashboards.create({})
        self.assertEqual(dashboard.invoices_unsynced_count, before + 1)
        action = dashboard.action_open_invoices_unsynced()
        self.assertEqual(action["res_model"], "account.move")
        self.assertIn(move, self.env["account.move"].search(action["domain"]))

        self.run_qb_jobs(move)
        dashboard = dashboards.create({})
        self.assertEqual(dashboard.invoices_unsynced_count, before)
        self.assertNotIn(
            move,
            self.env["account.move"].search(
                dashboard.action_open_invoices_unsynced()["domain"]
            ),
        )

    def test_dashboard_figure_is_the_list_with_two_backends(self):
        """Known defect: the figure counts an invoice once per QuickBooks
        backend of its company, the list once."""
        self.env["distribution.sync.backend"].search(
            [("backend_type", "=", "quickbooks"), ("id", "!=", self.qb.id)]
        ).active = False
        self.qb.copy({"name": "QuickBooks second company"})
        self.make_invoice()
        dashboard = self.env["distribution.sync.dashboard"].create({})
        listed = self.env["account.move"].search(
            dashboard.action_open_invoices_unsynced()["domain"]
        )
        self.assertEqual(dashboard.invoices_unsynced_count, len(listed))

    def test_dashboard_counts_nothing_when_quickbooks_owns_invoices(self):
        self.env["distribution.sync.backend"].search(
            [("backend_type", "=", "quickbooks"), ("id", "!=", self.qb.id)]
        ).active = False
        self.set_owner("invoice", "channel")
        self.make_invoice()
        self.assertEqual(
            self.env["distribution.sync.dashboard"].create({}).invoices_unsynced_count,
            0,
        )

    def test_health_is_the_refresh_token_expiry(self):
        self.sync_invoice()
        self.assertTrue(self.qb.quickbooks_refresh_expires_at)
        self.assertEqual(
            self.qb._quickbooks_health(),
            {"token_expires_at": self.qb.quickbooks_refresh_expires_at},
        )
        self.qb.invalidate_recordset(["health_token_expires_at"])
        self.assertEqual(
            self.qb.health_token_expires_at, self.qb.quickbooks_refresh_expires_at
        )
