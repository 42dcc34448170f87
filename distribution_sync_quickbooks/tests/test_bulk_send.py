# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import QuickbooksCase


@tagged("post_install", "-at_install")
class TestBulkSend(QuickbooksCase):
    """Send posted invoices: what QuickBooks does not have goes ten per
    batch request, each invoice still its own message, exactly once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Posted while the backend was not connected: nothing was queued.
        realm = cls.qb.quickbooks_realm_id
        cls.qb.quickbooks_realm_id = False
        cls.moves = cls.env["account.move"].create(
            [
                {
                    "move_type": "out_refund" if index == 11 else "out_invoice",
                    "partner_id": cls.customer.id,
                    "invoice_line_ids": [
                        (
                            0,
                            0,
                            {
                                "product_id": cls.product.id,
                                "quantity": 1 + index,
                                "price_unit": 10.0,
                                "tax_ids": [(6, 0, cls.tax.ids)],
                            },
                        )
                    ],
                }
                for index in range(12)
            ]
        )
        cls.moves.action_post()
        cls.qb.quickbooks_realm_id = realm
        # Invoices of the demo data are QuickBooks' already, as far as these
        # tests go: they count only their own.
        for move in cls.env["account.move"].search(
            [
                ("company_id", "=", cls.qb.company_id.id),
                ("state", "=", "posted"),
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("id", "not in", cls.moves.ids),
            ]
        ):
            cls.env["distribution.sync.binding"]._bind(cls.qb, move, f"old-{move.id}")

    def setUp(self):
        super().setUp()
        self.assertFalse(self.qb_messages())

    def batch_jobs(self):
        return self.env["queue.job"].search(
            [("method_name", "=", "_quickbooks_send_batch_job")], order="id"
        )

    def run_batch_jobs(self):
        for job in self.batch_jobs():
            job.records.with_user(self.qb.user_id)._quickbooks_send_batch_job()

    def in_quickbooks(self):
        return self.fake.find("Invoice") + self.fake.find("CreditMemo")

    def batch_requests(self):
        return [r for r in self.fake.requests if r["operation"] == "batch"]

    def test_bulk_send_goes_in_batches(self):
        action = self.qb.action_quickbooks_send_invoices()
        self.assertIn("12 invoices", action["params"]["message"])
        messages = self.qb_messages()
        self.assertEqual(len(messages), 12)
        self.assertEqual(set(messages.mapped("state")), {"queued"})
        self.assertEqual([len(job.records) for job in self.batch_jobs()], [10, 2])
        self.run_batch_jobs()
        self.assertEqual(
            set(messages.mapped("state")), {"done"}, messages.mapped("last_error")
        )
        self.assertEqual(len(self.batch_requests()), 2)
        self.assertEqual(len(self.in_quickbooks()), 12)
        # Batch requests count against QuickBooks' batch limit too.
        slots = self.env["distribution.sync.request.slot"].sudo()
        self.assertEqual(
            slots.search_count(
                [("backend_id", "=", self.qb.id), ("bucket", "=", "batch")]
            ),
            2,
        )
        for move in self.moves:
            qbo = self.fake.get(
                "CreditMemo" if move.move_type == "out_refund" else "Invoice",
                self.qb_id(move),
            )
            self.assertEqual(f"{qbo['TotalAmt']:.2f}", f"{move.amount_total:.2f}")
        self.assertFalse(self.qb_exceptions())
        # Nothing left to send: a second click sends nothing.
        action = self.qb.action_quickbooks_send_invoices()
        self.assertIn("every posted invoice", action["params"]["message"])
        self.assertEqual(len(self.qb_messages()), 12)

    def test_lost_batch_answer_makes_no_second_object(self):
        self.qb.action_quickbooks_send_invoices()
        self.fake.fail_next("batch", "drop")
        self.run_batch_jobs()
        self.assertEqual(len(self.in_quickbooks()), 12)  # applied, answer lost
        waiting = self.qb_messages(states=("queued",))
        self.assertEqual(len(waiting), 10)
        self.assertEqual(len(set(waiting.mapped("quickbooks_batch_request"))), 1)
        # Their own retries ask that batch again: QuickBooks answers what it
        # did, nothing is created twice.
        for message in waiting:
            self.process(message)
        self.assertEqual(set(self.qb_messages().mapped("state")), {"done"})
        self.assertEqual(len(self.in_quickbooks()), 12)
        self.assertEqual(len(set(self.moves.mapped(self.qb_id))), 12)
        self.assertGreaterEqual(self.fake.replays, 10)

    def test_batch_never_received_runs_on_retry(self):
        self.qb.action_quickbooks_send_invoices()
        self.fake.fail_next("batch", 503)
        self.run_batch_jobs()
        self.assertEqual(len(self.in_quickbooks()), 2)  # the second batch only
        waiting = self.qb_messages(states=("queued",))
        self.assertEqual(len(waiting), 10)
        for message in waiting:
            self.process(message)
        self.assertEqual(set(self.qb_messages().mapped("state")), {"done"})
        self.assertEqual(len(self.in_quickbooks()), 12)

    def test_one_refused_document_the_others_go(self):
        fake = self.use_fake(custom_doc_numbers=True)
        # A document number QuickBooks has already (6210) for one invoice.
        refused = self.moves[3]
        self.qb.action_quickbooks_send_invoices()
        customer = fake.add("Customer", {"DisplayName": "Somebody else"})
        taken = fake.add(
            "Invoice",
            {
                "DocNumber": refused.name,
                "CustomerRef": {"value": customer["Id"]},
                "Line": [
                    {
                        "Amount": 1,
                        "DetailType": "SalesItemLineDetail",
                        "SalesItemLineDetail": {
                            "ItemRef": {"value": fake.find("Item")[0]["Id"]}
                        },
                    }
                ],
            },
        )
        self.run_batch_jobs()
        message = self.qb_messages(refused)
        self.assertEqual(message.state, "blocked")
        [exception] = self.qb_exceptions(refused)
        self.assertIn("6210", exception.name + (exception.value or ""))
        others = self.qb_messages() - message
        self.assertEqual(set(others.mapped("state")), {"done"})
        # The number freed in QuickBooks, a retry sends it on its own.
        fake.remove("Invoice", taken["Id"])
        exception.action_retry()
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(len(self.in_quickbooks()), 12)

    def test_needs_a_connection_and_invoices_owned_by_odoo(self):
        self.set_owner("invoice", "channel")
        with self.assertRaises(UserError):
            self.qb.action_quickbooks_send_invoices()
