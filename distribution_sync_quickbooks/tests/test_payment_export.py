# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo.tests import tagged

from .common import QuickbooksCase


@tagged("post_install", "-at_install")
class TestPaymentExport(QuickbooksCase):
    """When Odoo owns payments (e.g. paid by the web shop), each Odoo payment
    becomes one QuickBooks ``Payment`` linked to the invoices it settles."""

    def setUp(self):
        super().setUp()
        self.set_owner("payment", "odoo")

    def register_payment(self, moves, amount=None):
        """Pay ``moves`` in Odoo with one payment (the Register Payment
        button)."""
        values = {"group_payment": True}
        if amount is not None:
            values.update(amount=amount, payment_difference_handling="open")
        wizard = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=moves.ids)
            .create(values)
        )
        return wizard._create_payments()

    def payments_in_quickbooks(self):
        return self.fake.find("Payment")

    def test_odoo_payment_becomes_one_quickbooks_payment(self):
        move = self.sync_invoice()
        payment = self.register_payment(move)
        message = self.qb_messages(payment, topic="payment/create")
        self.assertEqual(len(message), 1)
        self.run_qb_jobs(payment)
        self.assertEqual(message.state, "done", message.last_error)
        [sent] = self.payments_in_quickbooks()
        self.assertEqual(str(sent["TotalAmt"]), "21.60")
        self.assertEqual(
            [line["LinkedTxn"] for line in sent["Line"]],
            [[{"TxnId": self.qb_id(move), "TxnType": "Invoice"}]],
        )
        self.assertEqual(
            str(self.fake.get("Invoice", self.qb_id(move))["Balance"]), "0.00"
        )
        self.assertEqual(self.qb_id(payment), sent["Id"])
        self.assertEqual(
            sent["CustomerRef"]["value"],
            self.fake.get("Invoice", self.qb_id(move))["CustomerRef"]["value"],
        )
        self.assertFalse(self.qb_exceptions())

    def test_one_payment_of_two_invoices_partly(self):
        first = self.sync_invoice()
        second = self.sync_invoice([(self.product, 1, 50.0, self.tax)])
        payment = self.register_payment(first | second, amount=50.0)
        self.run_qb_jobs(payment)
        [sent] = self.payments_in_quickbooks()
        applied = {
            line["LinkedTxn"][0]["TxnId"]: str(line["Amount"]) for line in sent["Line"]
        }
        odoo = {
            self.qb_id(move): f"{move.amount_total - move.amount_residual:.2f}"
            for move in first | second
        }
        self.assertEqual(applied, odoo)
        self.assertEqual(str(sent["TotalAmt"]), "50.00")
        for move in first | second:
            self.assertEqual(
                str(self.fake.get("Invoice", self.qb_id(move))["Balance"]),
                f"{move.amount_residual:.2f}",
            )

    def test_payment_waits_for_its_invoice(self):
        move = self.make_invoice()
        payment = self.register_payment(move)
        message = self.qb_messages(payment)
        self.process(message)
        self.assertEqual(message.state, "queued")
        self.assertIn("waits for", message.last_error)
        self.assertFalse(self.payments_in_quickbooks())
        self.run_qb_jobs(move)
        self.process(message)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(len(self.payments_in_quickbooks()), 1)

    def test_lost_answer_makes_no_second_payment(self):
        move = self.sync_invoice()
        payment = self.register_payment(move)
        self.fake.fail_next("create:Payment", "drop")
        message = self.qb_messages(payment)
        self.process(message)
        self.assertEqual(message.state, "queued")
        self.assertEqual(len(self.payments_in_quickbooks()), 1)
        self.process(message)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(len(self.payments_in_quickbooks()), 1)
        self.assertGreaterEqual(self.fake.replays, 1)

    def test_invoice_never_sent_is_an_exception(self):
        move = self.make_invoice(post=False)
        self.qb.quickbooks_realm_id, realm = False, self.qb.quickbooks_realm_id
        move.action_post()  # not queued: the backend was not connected
        self.qb.quickbooks_realm_id = realm
        payment = self.register_payment(move)
        message = self.qb_messages(payment)
        self.process(message)
        self.assertEqual(message.state, "blocked")
        [exception] = self.qb_exceptions(payment)
        self.assertIn("not in QuickBooks", exception.name)

    def test_own_payment_notice_registers_nothing_again(self):
        move = self.sync_invoice()
        payment = self.register_payment(move)
        self.run_qb_jobs(payment)
        [sent] = self.payments_in_quickbooks()
        self.notify([("Payment", sent["Id"], "Create")])
        self.assertEqual(self.payments_of(move), payment)

    def test_quickbooks_owns_payments_nothing_sent(self):
        self.set_owner("payment", "channel")
        move = self.sync_invoice()
        payment = self.register_payment(move)
        self.assertFalse(self.qb_messages(payment))
