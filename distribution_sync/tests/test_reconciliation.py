# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from datetime import timedelta

from odoo import Command, fields

from ..models.distribution_sync_reconciliation import problem_key
from .common import DistributionSyncCase, order_payload


class ReconciliationCase(DistributionSyncCase):
    """Bound documents whose channel figures may differ from Odoo's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create({"name": "Reconcile customer"})

    def make_order(self, backend=None, confirm=True, **remote):
        return self.bound_order(self.customer, backend, confirm, "RC", **remote)

    def make_invoice(self, amount=100.0):
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Widgets",
                            "quantity": 1,
                            "price_unit": amount,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        move.action_post()
        return move

    def make_payment(self, amount=50.0):
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.customer.id,
                "amount": amount,
            }
        )
        payment.action_post()
        return payment

    def run_checks(self, backends=None):
        run = self.env["distribution.sync.reconciliation"].create(
            {"backend_ids": [Command.set((backends or self.backend).ids)]}
        )
        run.action_run()
        return run

    def differences(self, check=None, backend=None, state="open"):
        domain = [
            ("backend_id", "=", (backend or self.backend).id),
            ("category", "=", "reconciliation"),
            ("state", "=", state),
        ]
        if check:
            domain.append(("reconciliation_check", "=", check))
        return self.exceptions.search(domain)

    def line(self, run, check):
        return run.line_ids.filtered(lambda line: line.check_code == check)


class TestOrderChecks(ReconciliationCase):
    """Orders: totals, cancellations, deleted and never imported ones."""

    def test_order_total_difference_kept_single_and_resolved(self):
        order = self.make_order(remote_amount=25.0)
        self.assertEqual(order.amount_total, 20.0)
        run = self.run_checks()
        self.assertEqual(run.state, "done")
        self.assertTrue(run.run_at)
        exc = self.differences()
        self.assertEqual(len(exc), 1)
        self.assertEqual(exc.reconciliation_check, "order_total")
        self.assertEqual((exc.res_model, exc.res_id), ("sale.order", order.id))
        self.assertEqual(exc.work_key, f"reconcile:order_total:{order.id}")
        self.assertEqual(exc.amount_odoo, 20.0)
        self.assertEqual(exc.amount_channel, 25.0)
        self.assertEqual(exc.amount_difference, 5.0)
        self.assertEqual(exc.currency_id, order.currency_id)
        self.assertEqual(exc.value, f"#RC-{order.id}")
        self.assertIn(order.name, exc.name)
        self.assertIn("25.00", exc.name)
        self.assertIn("20.00", exc.name)
        self.assertTrue(exc.hint)
        self.assertEqual(exc.company_id, self.backend.company_id)
        # No message to run again; due as any exception: on working days.
        self.assertFalse(exc.retryable)
        self.assertEqual(
            exc.sla_deadline,
            self.backend.company_id._distribution_sync_due_at(
                run.run_at, self.backend.exception_sla_hours
            ),
        )
        self.assertEqual(exc.problem_key, problem_key(self.backend.id, exc.work_key))
        self.assertEqual(
            (run.discrepancy_count, run.new_count, run.resolved_count), (1, 1, 0)
        )
        self.assertGreater(run.checked_count, 0)
        self.assertEqual(self.line(run, "order_total").discrepancy_count, 1)
        self.assertEqual(self.line(run, "order_total").checked_count, 1)
        self.assertEqual(self.line(run, "order_state").discrepancy_count, 0)

        again = self.run_checks()
        self.assertEqual(self.differences(), exc)
        self.assertEqual(exc.occurrence_count, 2)
        self.assertEqual(
            (again.discrepancy_count, again.new_count, again.resolved_count),
            (1, 0, 0),
        )
        self.assertGreater(again.checked_count, 0)

        binding = self.bindings._for_record(self.backend, order)
        binding.sudo().write({"remote_amount": order.amount_total})
        fixed = self.run_checks()
        self.assertEqual(exc.state, "resolved")
        self.assertTrue(exc.resolved_date)
        self.assertIn(fixed.name, exc.resolution_note)
        self.assertEqual(
            (fixed.discrepancy_count, fixed.new_count, fixed.resolved_count),
            (0, 0, 1),
        )
        self.assertFalse(self.differences())

    def test_difference_below_rounding_is_none(self):
        self.make_order(remote_amount=20.004)
        run = self.run_checks()
        self.assertEqual(run.discrepancy_count, 0)
        self.assertFalse(self.differences())
        self.make_order(remote_amount=20.01)
        self.assertEqual(self.run_checks().discrepancy_count, 1)

    def test_ignored_difference_is_not_raised_again(self):
        self.make_order(remote_amount=30.0)
        self.run_checks()
        exc = self.differences()
        exc.action_ignore()
        self.assertEqual(exc.state, "ignored")
        run = self.run_checks()
        self.assertEqual((run.discrepancy_count, run.new_count), (0, 0))
        self.assertFalse(self.differences())
        self.assertEqual(exc.state, "ignored")
        self.assertEqual(exc.occurrence_count, 1)

    def test_order_cancelled_in_the_channel(self):
        order = self.make_order(remote_amount=20.0, remote_state="cancelled")
        self.run_checks()
        exc = self.differences()
        self.assertEqual(exc.reconciliation_check, "order_state")
        self.assertEqual(exc.res_id, order.id)
        self.assertIn(order.name, exc.name)
        self.assertIn("cancelled in the channel", exc.name)
        order._action_cancel()
        self.run_checks()
        self.assertEqual(exc.state, "resolved")
        self.assertFalse(self.differences())

    def test_order_cancelled_in_odoo_only(self):
        order = self.make_order(remote_amount=20.0, remote_state="paid")
        order._action_cancel()
        self.run_checks()
        exc = self.differences()
        self.assertEqual(exc.reconciliation_check, "order_state")
        self.assertIn("cancelled in Odoo", exc.name)

    def test_bound_order_deleted(self):
        order = self.make_order(confirm=False, remote_amount=20.0)
        external_id = f"RC-{order.id}"
        order.unlink()
        self.run_checks()
        exc = self.differences()
        self.assertEqual(exc.reconciliation_check, "document_missing")
        self.assertEqual(
            exc.work_key, f"reconcile:document_missing:sale.order:{external_id}"
        )
        self.assertFalse(exc.res_id)
        self.assertEqual(exc.value, f"#{external_id}")
        self.assertIn(external_id, exc.name)
        self.assertEqual(exc.amount_channel, 20.0)

    def test_binding_to_missing_id(self):
        order = self.make_order()
        self.env.flush_all()
        self.env.cr.execute(
            """UPDATE distribution_sync_binding SET res_id = %s
                WHERE res_model = 'sale.order' AND res_id = %s""",
            (order.id + 10_000_000, order.id),
        )
        self.env.invalidate_all()
        run = self.run_checks()
        self.assertEqual(self.line(run, "document_missing").discrepancy_count, 1)
        self.assertEqual(self.differences().reconciliation_check, "document_missing")

    def test_order_never_imported(self):
        stuck = self.intake("order/create", order_payload("NI-1"))
        fresh = self.intake("order/create", order_payload("NI-2"))
        self.assertEqual(stuck.work_key, "order:NI-1")
        self.env.flush_all()
        self.env.cr.execute(
            """UPDATE distribution_sync_message SET state = %s, create_date = %s
                WHERE id = %s""",
            ("dead", fields.Datetime.now() - timedelta(hours=2), stuck.id),
        )
        self.env.cr.execute(
            "UPDATE distribution_sync_message SET state = 'blocked' WHERE id = %s",
            (fresh.id,),
        )
        self.env.invalidate_all()
        run = self.run_checks()
        exc = self.differences()
        self.assertEqual(len(exc), 1, "a fresh message is still being worked on")
        self.assertEqual(exc.reconciliation_check, "order_not_imported")
        self.assertEqual(exc.message_id, stuck)
        # Its message can be run again from the inbox.
        self.assertTrue(exc.retryable)
        self.assertEqual(exc.work_key, "reconcile:order_not_imported:NI-1")
        self.assertIn("NI-1", exc.name)
        self.assertEqual(self.line(run, "order_not_imported").checked_count, 2)

    def test_imported_order_is_not_reported(self):
        message = self.intake("order/create", order_payload("NI-3"))
        self.env.flush_all()
        self.env.cr.execute(
            """UPDATE distribution_sync_message SET state = 'dead', create_date = %s
                WHERE id = %s""",
            (fields.Datetime.now() - timedelta(hours=2), message.id),
        )
        self.env.invalidate_all()
        order = self.env["sale.order"].create({"partner_id": self.customer.id})
        self.bindings._bind(self.backend, order, "NI-3")
        self.run_checks()
        self.assertFalse(self.differences("order_not_imported"))


class TestAccountingChecks(ReconciliationCase):
    """Invoices and payments against what the outside system recorded."""

    def test_move_total_and_balance(self):
        total_off = self.make_invoice(100.0)
        balance_off = self.make_invoice(80.0)
        agreed = self.make_invoice(60.0)
        self.bindings._bind(
            self.backend, total_off, "INV-1", remote_amount=90.0, remote_residual=100.0
        )
        self.bindings._bind(
            self.backend, balance_off, "INV-2", remote_amount=80.0, remote_residual=30.0
        )
        self.bindings._bind(
            self.backend, agreed, "INV-3", remote_amount=60.0, remote_residual=60.0
        )
        run = self.run_checks()
        total = self.differences("move_total")
        self.assertEqual(
            (total.res_model, total.res_id), ("account.move", total_off.id)
        )
        self.assertEqual((total.amount_odoo, total.amount_channel), (100.0, 90.0))
        self.assertIn(total_off.name, total.name)
        balance = self.differences("move_balance")
        self.assertEqual(balance.res_id, balance_off.id)
        self.assertEqual((balance.amount_odoo, balance.amount_channel), (80.0, 30.0))
        self.assertEqual(balance.amount_difference, 50.0)
        self.assertEqual(len(self.differences()), 2)
        self.assertEqual(self.line(run, "move_total").checked_count, 3)

    def test_move_voided_outside(self):
        move = self.make_invoice(40.0)
        self.bindings._bind(
            self.backend, move, "INV-4", remote_amount=40.0, remote_state="voided"
        )
        self.run_checks()
        exc = self.differences()
        self.assertEqual(exc.reconciliation_check, "move_state")
        self.assertIn(move.name, exc.name)

    def test_payment_amount(self):
        payment = self.make_payment(50.0)
        self.bindings._bind(self.backend, payment, "PAY-1", remote_amount=45.0)
        self.run_checks()
        exc = self.differences()
        self.assertEqual(exc.reconciliation_check, "payment_amount")
        self.assertEqual((exc.res_model, exc.res_id), ("account.payment", payment.id))
        self.assertEqual((exc.amount_odoo, exc.amount_channel), (50.0, 45.0))
        self.assertEqual(exc.currency_id, payment.currency_id)


class TestRunScope(ReconciliationCase):
    """Which backends a run compares, and who hears about it."""

    def test_backend_ids_limit_the_run(self):
        other = self.env["distribution.sync.backend"].create({"name": "Other shop"})
        mine = self.make_order(remote_amount=21.0)
        theirs = self.make_order(backend=other, remote_amount=22.0)
        self.run_checks(other)
        their_exc = self.differences(backend=other)
        self.assertEqual(their_exc.res_id, theirs.id)
        self.assertFalse(self.differences(), "this backend was not compared")

        run = self.run_checks()
        self.assertEqual(self.differences().res_id, mine.id)
        self.assertEqual(run.discrepancy_count, 1)
        self.assertEqual(run.resolved_count, 0)
        self.assertEqual(their_exc.state, "open", "not this run's backend")

    def test_run_without_backends_compares_all(self):
        other = self.env["distribution.sync.backend"].create({"name": "Other shop"})
        self.make_order(remote_amount=21.0)
        self.make_order(backend=other, remote_amount=22.0)
        run = self.env["distribution.sync.reconciliation"].create({})
        run.action_run()
        self.assertTrue(self.differences())
        self.assertTrue(self.differences(backend=other))
        self.assertGreaterEqual(run.discrepancy_count, 2)

    def test_one_activity_per_owner_and_run(self):
        self.backend.responsible_user_id = self.sync_user
        for amount in (21.0, 22.0, 23.0):
            self.make_order(remote_amount=amount)
        run = self.run_checks()
        self.assertEqual(run.new_count, 3)
        self.assertEqual(len(run.activity_ids), 1)
        self.assertEqual(run.activity_ids.user_id, self.sync_user)
        self.assertIn("3", run.activity_ids.summary)
        self.assertFalse(self.differences().activity_ids, "not one per difference")
        again = self.run_checks()
        self.assertFalse(again.activity_ids, "nothing new")

    def test_problem_key_matches_sql(self):
        self.make_order(remote_amount=19.0)
        self.run_checks()
        exc = self.differences()
        self.assertEqual(exc.problem_key, problem_key(self.backend.id, exc.work_key))
        self.assertNotEqual(
            exc.problem_key, problem_key(self.backend.id + 1, exc.work_key)
        )

    def test_open_differences_action(self):
        self.make_order(remote_amount=19.0)
        run = self.run_checks()
        action = run.action_open_differences()
        self.assertEqual(action["res_model"], "distribution.sync.exception")
        self.assertIn(self.differences(), self.exceptions.search(action["domain"]))
