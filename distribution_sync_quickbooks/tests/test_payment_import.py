# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo.tests import tagged

from .common import QuickbooksCase


@tagged("post_install", "-at_install")
class TestPaymentImport(QuickbooksCase):
    """Payments recorded in QuickBooks settle the Odoo invoices."""

    def test_payment_pays_and_reconciles_invoice(self):
        move = self.sync_invoice()
        payment_id = self.pay_in_quickbooks([(move, "21.60")])
        message = self.notify([("Payment", payment_id, "Create")])
        self.assertEqual(message.state, "done", message.sudo().error_details)
        self.assertEqual(move.payment_state, "paid")
        self.assertAlmostEqual(move.amount_residual, 0.0)
        payment = self.payments_of(move)
        self.assertEqual(len(payment), 1)
        self.assertAlmostEqual(payment.amount, 21.60)
        self.assertEqual(payment.state, "paid")
        self.assertEqual(
            self.qb_id(payment), f"payment:{payment_id}:{self.qb_id(move)}"
        )
        self.assertFalse(self.qb_exceptions())

    def test_legacy_payment_event(self):
        move = self.sync_invoice()
        payment_id = self.pay_in_quickbooks([(move, "21.60")])
        self.notify([("Payment", payment_id, "Create")], shape="legacy_event")
        self.assertEqual(move.payment_state, "paid")

    def test_partial_payment_leaves_residual(self):
        move = self.sync_invoice()
        payment_id = self.pay_in_quickbooks([(move, "10.00")])
        self.notify([("Payment", payment_id, "Create")])
        self.assertEqual(move.payment_state, "partial")
        self.assertAlmostEqual(move.amount_residual, 11.60)

    def test_one_payment_over_two_invoices(self):
        first = self.sync_invoice()
        second = self.sync_invoice([(self.product, 1, 50.0, self.tax)])
        payment_id = self.pay_in_quickbooks([(first, "21.60"), (second, "54.00")])
        message = self.notify([("Payment", payment_id, "Create")])
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(first.payment_state, "paid")
        self.assertEqual(second.payment_state, "paid")
        self.assertEqual(len(self.payments_of(first) | self.payments_of(second)), 2)

    def test_same_payment_event_twice_registers_once(self):
        move = self.sync_invoice()
        payment_id = self.pay_in_quickbooks([(move, "10.00")])
        self.notify([("Payment", payment_id, "Create")])
        # A second notice (another event id) for the same payment.
        message = self.notify([("Payment", payment_id, "Update")])
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(len(self.payments_of(move)), 1)
        self.assertAlmostEqual(move.amount_residual, 11.60)

    def test_payment_for_unknown_invoice_is_a_reconciliation_exception(self):
        customer = self.fake.add("Customer", {"DisplayName": "Walk-in"})
        invoice = self.fake.add(
            "Invoice",
            {
                "CustomerRef": {"value": customer["Id"]},
                "Line": [
                    {
                        "Amount": "30.00",
                        "DetailType": "SalesItemLineDetail",
                        "SalesItemLineDetail": {
                            "ItemRef": {"value": self.qb.quickbooks_default_item_ref}
                        },
                    }
                ],
            },
        )
        payment = self.fake.add(
            "Payment",
            {
                "CustomerRef": {"value": customer["Id"]},
                "TotalAmt": "30.00",
                "Line": [
                    {
                        "Amount": "30.00",
                        "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}],
                    }
                ],
            },
        )
        message = self.notify([("Payment", payment["Id"], "Create")])
        exception = self.qb_exceptions(category="reconciliation")
        self.assertEqual(len(exception), 1, message.last_error)
        self.assertIn(invoice["Id"], exception.name)
        self.assertEqual(exception.value, invoice["Id"])
        self.assertFalse(
            self.env["account.payment"].search(
                [("memo", "=", f"QuickBooks payment {payment['Id']}")]
            )
        )

    def test_odoo_owns_payments_skips(self):
        move = self.sync_invoice()
        self.set_owner("payment", "odoo")
        payment_id = self.pay_in_quickbooks([(move, "21.60")])
        message = self.notify([("Payment", payment_id, "Create")])
        self.assertEqual(message.state, "skipped")
        self.assertEqual(move.payment_state, "not_paid")
        self.assertFalse(self.payments_of(move))

    def test_journal_from_payment_method_mapping(self):
        move = self.sync_invoice()
        journal = self.env["account.journal"].create(
            {"name": "QB checks", "code": "QBCHK", "type": "bank"}
        )
        method = self.fake.find("PaymentMethod", Name="Check")[0]
        self.env["distribution.sync.mapping"].create(
            {
                "backend_id": self.qb.id,
                "mapping_type": "payment_method",
                "external_code": method["Id"],
                "journal_id": journal.id,
            }
        )
        payment_id = self.pay_in_quickbooks(
            [(move, "21.60")], PaymentMethodRef={"value": method["Id"]}
        )
        self.notify([("Payment", payment_id, "Create")])
        self.assertEqual(self.payments_of(move).journal_id, journal)

    def test_without_mapping_first_bank_journal(self):
        move = self.sync_invoice()
        payment_id = self.pay_in_quickbooks([(move, "21.60")])
        self.notify([("Payment", payment_id, "Create")])
        bank = self.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", self.qb.company_id.id)],
            order="sequence, id",
            limit=1,
        )
        self.assertEqual(self.payments_of(move).journal_id, bank)

    def test_payment_over_residual_is_a_reconciliation_exception(self):
        move = self.sync_invoice()
        # Paid in Odoo by hand meanwhile: QuickBooks' payment finds nothing
        # left to pay.
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids
        ).create({})._create_payments()
        self.assertEqual(move.payment_state, "paid")
        payment_id = self.pay_in_quickbooks([(move, "21.60")])
        message = self.notify([("Payment", payment_id, "Create")])
        self.assertNotEqual(message.state, "done")
        exception = self.qb_exceptions(move, category="reconciliation")
        self.assertEqual(len(exception), 1, message.last_error)
        self.assertIn("left to pay", exception.name)
        self.assertEqual(len(self.payments_of(move)), 1)

    def test_deleted_payment_changes_nothing(self):
        message = self.notify([("Payment", "4040", "Delete")])
        self.assertEqual(message.state, "skipped")
        self.assertFalse(self.qb_exceptions())


@tagged("post_install", "-at_install")
class TestPaymentCreditMemos(QuickbooksCase):
    """A QuickBooks payment that applies credit memos: the credit note is
    reconciled with the invoice in Odoo, the money pays the rest."""

    def setUp(self):
        super().setUp()
        self.invoice = self.sync_invoice()  # 21.60
        self.credit = self.sync_invoice(
            [(self.product, 1, 5.0, self.tax)], move_type="out_refund"
        )  # 5.40

    def test_credit_memo_and_money_settle_the_invoice(self):
        payment_id = self.pay_in_quickbooks(
            [(self.invoice, "21.60"), (self.credit, "5.40")], total="16.20"
        )
        message = self.notify([("Payment", payment_id, "Create")])
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(self.invoice.payment_state, "paid")
        self.assertEqual(self.credit.payment_state, "paid")
        [payment] = self.payments_of(self.invoice)
        self.assertAlmostEqual(payment.amount, 16.20)
        self.assertFalse(self.qb_exceptions())
        # The same notice again: nothing new.
        message = self.notify([("Payment", payment_id, "Update")])
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(len(self.payments_of(self.invoice)), 1)
        self.assertFalse(self.qb_exceptions())

    def test_credit_memo_alone_applied_to_the_invoice(self):
        payment_id = self.pay_in_quickbooks(
            [(self.invoice, "5.40"), (self.credit, "5.40")], total="0"
        )
        message = self.notify([("Payment", payment_id, "Create")])
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(self.invoice.payment_state, "partial")
        self.assertAlmostEqual(self.invoice.amount_residual, 16.20)
        self.assertEqual(self.credit.payment_state, "paid")
        self.assertFalse(self.payments_of(self.invoice))

    def test_part_of_a_credit_memo_is_for_the_accountant(self):
        payment_id = self.pay_in_quickbooks(
            [(self.invoice, "3.00"), (self.credit, "3.00")], total="0"
        )
        message = self.notify([("Payment", payment_id, "Create")])
        self.assertEqual(message.state, "done", message.last_error)
        [exception] = self.qb_exceptions(self.invoice, category="reconciliation")
        self.assertIn("3.00", exception.name)
        self.assertIn(self.credit.name, exception.name)
        self.assertEqual(self.credit.payment_state, "not_paid")
