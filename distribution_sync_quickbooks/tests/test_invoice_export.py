# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from decimal import Decimal

from odoo.tests import tagged

from .common import QuickbooksCase


@tagged("post_install", "-at_install")
class TestInvoiceExport(QuickbooksCase):
    """A posted invoice becomes one QuickBooks invoice, with its customer and
    items, the same totals, whatever the retries."""

    def test_posted_invoice_is_created_once(self):
        move = self.make_invoice()
        message = self.qb_messages(move, topic="invoice/create")
        self.assertEqual(len(message), 1)
        self.process(message)
        self.assertEqual(message.state, "done", message.error_details)
        invoice = self.fake.get("Invoice", self.qb_id(move))
        self.assertEqual(Decimal(str(invoice["TotalAmt"])), Decimal("21.60"))
        self.assertEqual(invoice["CustomerRef"]["value"], self.qb_id(self.customer))
        self.assertEqual(
            self.fake.created.get("Invoice"),
            1,
            [(r["operation"], r["path"], r["status"]) for r in self.fake.requests],
        )

    def test_lost_answer_makes_no_second_invoice(self):
        move = self.make_invoice()
        message = self.qb_messages(move, topic="invoice/create")
        self.fake.fail_next("create:Invoice", "drop")
        self.process(message)
        self.assertEqual(message.state, "queued", message.last_error)
        self.process(message)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(
            self.fake.created.get("Invoice"),
            1,
            [
                (r["operation"], r["path"], r["request_id"], r["status"])
                for r in self.fake.requests
            ],
        )
        self.assertEqual(self.fake.replays, 1)

    def test_refresh_token_rotates_and_is_never_reused(self):
        self.make_invoice()
        self.run_qb_jobs()
        self.fake.expire_access_tokens()
        self.make_invoice()
        self.run_qb_jobs()
        used = self.fake.refresh_tokens_used
        self.assertEqual(len(used), len(set(used)), used)
        self.assertEqual(self.fake.invalid_grants, 0)
