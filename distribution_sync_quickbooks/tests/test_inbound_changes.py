# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import QuickbooksCase


@tagged("post_install", "-at_install")
class TestInboundChanges(QuickbooksCase):
    """Invoices changed in QuickBooks are conflicts; change data capture
    repairs a missed webhook."""

    def test_invoice_edited_in_quickbooks_is_a_conflict(self):
        move = self.sync_invoice()
        qb_id = self.qb_id(move)
        lines = self.fake.get("Invoice", qb_id)["Line"]
        item_line = next(
            line for line in lines if line.get("DetailType") == "SalesItemLineDetail"
        )
        item_line["SalesItemLineDetail"]["Qty"] = 3
        item_line["Amount"] = "30.00"
        self.fake.edit(
            "Invoice",
            qb_id,
            {
                "Line": [
                    line
                    for line in lines
                    if line.get("DetailType") != "SubTotalLineDetail"
                ]
            },
        )
        message = self.notify([("Invoice", qb_id, "Update")])
        self.assertEqual(message.state, "done", message.last_error)
        conflict = self.qb_exceptions(move, category="conflict")
        self.assertEqual(len(conflict), 1)
        self.assertIn(move.name, conflict.name)
        self.assertIn("quantity 3", conflict.name)
        self.assertEqual(move.amount_total, 21.60)

    def test_invoice_deleted_in_quickbooks_is_a_conflict(self):
        move = self.sync_invoice()
        qb_id = self.qb_id(move)
        self.fake.remove("Invoice", qb_id)
        self.notify([("Invoice", qb_id, "Delete")])
        conflict = self.qb_exceptions(move, category="conflict")
        self.assertEqual(len(conflict), 1)
        self.assertIn("deleted", conflict.name)

    def test_invoice_voided_in_quickbooks_is_a_conflict(self):
        move = self.sync_invoice()
        qb_id = self.qb_id(move)
        self.fake.void_object("Invoice", qb_id)
        self.notify([("Invoice", qb_id, "Void")])
        conflict = self.qb_exceptions(move, category="conflict")
        self.assertEqual(len(conflict), 1)
        self.assertIn("voided", conflict.name)

    def test_payment_only_changes_balance_no_conflict(self):
        move = self.sync_invoice()
        payment_id = self.pay_in_quickbooks([(move, "10.00")])
        self.notify(
            [("Payment", payment_id, "Create"), ("Invoice", self.qb_id(move), "Update")]
        )
        self.assertFalse(self.qb_exceptions(move, category="conflict"))
        self.assertFalse(self.qb_exceptions())

    def test_update_of_unknown_invoice_is_skipped(self):
        message = self.notify([("Invoice", "4242", "Update")])
        self.assertEqual(message.state, "skipped")
        self.assertFalse(self.qb_exceptions())

    def test_cdc_stores_events_once_and_applies_payment(self):
        move = self.sync_invoice()
        payment_id = self.pay_in_quickbooks([(move, "21.60")])
        self.qb._fetch_changes_job()
        fetched = self.qb_messages().filtered(lambda m: m.direction == "inbound")
        topics = sorted(fetched.mapped("topic"))
        self.assertIn("payment/create", topics)
        self.assertIn("invoice/update", topics)
        self.assertEqual(
            fetched.filtered(lambda m: m.topic == "payment/create").external_id,
            payment_id,
        )
        self.qb._fetch_changes_job(move_checkpoint=False)
        again = self.qb_messages().filtered(lambda m: m.direction == "inbound")
        self.assertEqual(again, fetched)
        self.run_qb_jobs()
        self.assertEqual(move.payment_state, "paid")
        self.assertFalse(self.qb_exceptions())
        self.assertTrue(self.qb.fetch_checkpoint)

    def test_fetch_changes_verb_reads_the_window(self):
        move = self.sync_invoice()
        events, cursor = self.qb._call("fetch_changes", None, None)
        self.assertIsNone(cursor)
        ids = [(e["topic"], e["external_id"]) for e in events]
        self.assertIn(("invoice/update", self.qb_id(move)), ids)
        cdc = [r for r in self.fake.requests if r["operation"] == "cdc"]
        self.assertEqual(len(cdc), 1)
        self.assertIn("Payment", cdc[0]["query"]["entities"])

    def _edit_quantity(self, move, quantity):
        qb_id = self.qb_id(move)
        lines = self.fake.get("Invoice", qb_id)["Line"]
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

    def test_conflict_stays_single_across_events(self):
        move = self.sync_invoice()
        qb_id = self._edit_quantity(move, 3)
        self.notify([("Invoice", qb_id, "Update")])
        self._edit_quantity(move, 4)
        self.notify([("Invoice", qb_id, "Update")], shape="legacy_event")
        conflict = self.qb_exceptions(move, category="conflict")
        self.assertEqual(len(conflict), 1)

    def test_quickbooks_owning_invoices_reports_no_conflict(self):
        move = self.sync_invoice()
        qb_id = self._edit_quantity(move, 3)
        self.set_owner("invoice", "channel")
        message = self.notify([("Invoice", qb_id, "Update")])
        self.assertEqual(message.state, "skipped")
        self.assertFalse(self.qb_exceptions(move))

    def test_cdc_reports_deleted_invoice_as_conflict(self):
        move = self.sync_invoice()
        self.fake.remove("Invoice", self.qb_id(move))
        self.qb._fetch_changes_job()
        deleted = self.qb_messages(topic="invoice/delete")
        self.assertEqual(len(deleted), 1)
        self.run_qb_jobs()
        self.assertEqual(deleted.state, "done", deleted.last_error)
        conflict = self.qb_exceptions(move, category="conflict")
        self.assertEqual(len(conflict), 1)
        self.assertIn("deleted", conflict.name)

    def test_cdc_window_is_at_most_29_days(self):
        since = fields.Datetime.now() - timedelta(days=60)
        events, _cursor = self.qb._call("fetch_changes", since, None)
        self.assertEqual(events, [])
        cdc = [r for r in self.fake.requests if r["operation"] == "cdc"]
        self.assertEqual(len(cdc), 1)
        asked = fields.Datetime.to_datetime(
            cdc[0]["query"]["changedSince"][:19].replace("T", " ")
        )
        self.assertGreater(asked, fields.Datetime.now() - timedelta(days=30))
