# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from decimal import Decimal

from odoo.tests import tagged

from .common import QuickbooksCase

STALE = {
    "Fault": {
        "Error": [
            {
                "Message": "Stale Object Error",
                "Detail": "Stale Object Error : You and Fake Accountant were "
                "working on this at the same time.",
                "code": "5010",
                "element": "",
            }
        ],
        "type": "ValidationFault",
    },
    "time": "2026-01-10T10:00:00.000-07:00",
}


@tagged("post_install", "-at_install")
class TestInvoiceLifecycle(QuickbooksCase):
    """Exactly one QuickBooks object per Odoo document across lost answers,
    refusals, re-posts, credit notes and cancellations."""

    def _creates(self, entity="Invoice"):
        return [
            r
            for r in self.fake.requests
            if r["operation"] == "create" and r["entity"] == entity
        ]

    def test_lost_answer_makes_one_invoice_with_one_request_id(self):
        move = self.make_invoice()
        self.fake.fail_next("create:Invoice", "drop")
        self.run_qb_jobs(move)
        self.assertEqual(self.qb_messages(move).state, "done")
        self.assertEqual(self.fake.created.get("Invoice"), 1)
        request_ids = {r["request_id"] for r in self._creates()}
        self.assertEqual(len(request_ids), 1, request_ids)
        self.assertEqual(len(self.fake.find("Invoice")), 1)

    def test_every_fifth_answer_dropped_still_one_object_each(self):
        moves = [
            self.make_invoice([(self.product, n + 1, 10.0, self.tax)]) for n in range(4)
        ]
        self.fake.drop_every(5)
        self.run_qb_jobs(rounds=8)
        self.fake.drop_every(0)
        states = self.qb_messages(topic="invoice/create").mapped("state")
        self.assertEqual(states, ["done"] * 4, states)
        self.assertEqual(self.fake.created.get("Invoice"), 4)
        self.assertEqual(self.fake.created.get("Customer"), 1)
        self.assertEqual(self.fake.created.get("Item"), 1)
        ids = {self.qb_id(move) for move in moves}
        self.assertEqual(len(ids), 4)
        for move in moves:
            total = self.fake.get("Invoice", self.qb_id(move))["TotalAmt"]
            self.assertEqual(Decimal(str(total)), Decimal(str(move.amount_total)))
        self.assertTrue(any(r["status"] is None for r in self.fake.requests))

    def test_refusal_fixed_then_retried_uses_a_new_request_id(self):
        self.sync_invoice()
        item_id = self.qb_id(self.product)
        self.fake.edit("Item", item_id, {"Active": False})
        move = self.make_invoice()
        message = self.run_qb_jobs(move)
        self.assertIn(message.state, ("blocked", "error"), message.last_error)
        self.assertTrue(self.qb_exceptions(move) or message.exception_ids)
        self.fake.edit("Item", item_id, {"Active": True})
        self.process(message)
        self.assertEqual(message.state, "done", message.last_error)
        creates = self._creates()[1:]
        self.assertEqual(len(creates), 2)
        self.assertNotEqual(creates[0]["request_id"], creates[1]["request_id"])
        self.assertEqual(self.fake.created.get("Invoice"), 2)
        self.assertEqual(self.fake.replays, 0)

    def test_reposted_invoice_updates_quickbooks_with_sync_token(self):
        move = self.sync_invoice()
        qb_id = self.qb_id(move)
        token = self.fake.get("Invoice", qb_id)["SyncToken"]
        move.button_draft()
        move.invoice_line_ids.price_unit = 15.0
        move.action_post()
        self.run_qb_jobs(move)
        invoice = self.fake.get("Invoice", qb_id)
        self.assertEqual(Decimal(str(invoice["TotalAmt"])), Decimal("32.40"))
        self.assertNotEqual(invoice["SyncToken"], token)
        updates = [r for r in self.fake.requests if r["operation"] == "update"]
        self.assertEqual(updates[-1]["json"]["SyncToken"], token)
        self.assertEqual(self.fake.created.get("Invoice"), 1)

    def test_update_with_stale_sync_token_reads_again(self):
        move = self.sync_invoice()
        qb_id = self.qb_id(move)
        # Someone in QuickBooks saves meanwhile: the token read first is
        # refused once.
        self.fake.fail_next("update:Invoice", 400, body=STALE)
        move.button_draft()
        move.invoice_line_ids.price_unit = 12.0
        move.action_post()
        result = self.env["distribution.sync.quickbooks.exporter"]._export_move(
            self.qb, move
        )
        self.assertEqual(result["external_id"], qb_id)
        self.assertEqual(self.fake.count("update"), 2)
        self.assertEqual(self.fake.count("read"), 2)
        invoice = self.fake.get("Invoice", qb_id)
        self.assertEqual(Decimal(str(invoice["TotalAmt"])), Decimal("25.92"))
        self.assertFalse(result["problems"])

    def test_credit_note_becomes_a_credit_memo(self):
        refund = self.make_invoice(move_type="out_refund")
        message = self.qb_messages(refund)
        self.assertEqual(message.topic, "creditmemo/create")
        self.run_qb_jobs(refund)
        self.assertEqual(message.state, "done", message.last_error)
        memo = self.fake.get("CreditMemo", self.qb_id(refund))
        self.assertEqual(Decimal(str(memo["TotalAmt"])), Decimal("21.60"))
        self.assertFalse(self.fake.created.get("Invoice"))
        self.assertEqual(self.fake.created.get("CreditMemo"), 1)

    def test_cancelled_invoice_is_voided(self):
        move = self.sync_invoice()
        qb_id = self.qb_id(move)
        move.button_draft()
        move.button_cancel()
        void = self.qb_messages(move, topic="invoice/void")
        self.assertEqual(len(void), 1)
        self.run_qb_jobs(move)
        self.assertEqual(void.state, "done", void.last_error)
        invoice = self.fake.get("Invoice", qb_id)
        self.assertEqual(Decimal(str(invoice["TotalAmt"])), Decimal(0))
        self.assertIn("Voided", invoice.get("PrivateNote", ""))
        self.assertEqual(self.fake.count("void"), 1)

    def test_cancelled_invoice_never_sent_queues_no_void(self):
        move = self.make_invoice(post=False)
        move.button_cancel()
        self.assertFalse(self.qb_messages(move))
        self.assertFalse(self.fake.requests)

    def test_vendor_bill_is_not_sent(self):
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.customer.id,
                "invoice_date": "2026-01-10",
                "invoice_line_ids": [
                    (0, 0, {"name": "Paper", "quantity": 1, "price_unit": 5.0})
                ],
            }
        )
        bill.action_post()
        self.assertFalse(self.qb_messages(bill))
