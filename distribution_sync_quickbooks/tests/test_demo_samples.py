# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.distribution_sync.tests.common import DistributionSyncCase

from ..models.distribution_sync_backend_demo import SAMPLE_INVOICES

SAMPLE_IDS = [external_id for external_id, _quantity in SAMPLE_INVOICES]
SAMPLE_PAYMENT_ID = "SAMPLE-101"


@tagged("post_install", "-at_install")
class TestDemoSamples(DistributionSyncCase):
    """The sandbox action that shows a new user QuickBooks invoices marked
    sent and a QuickBooks payment settling one, without QuickBooks."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A company of its own: the samples' invoices reach every QuickBooks
        # backend of their company, and a demo database has one already.
        cls.qb_company = cls.env["res.company"].create(
            {
                "name": "QuickBooks samples test company",
                "country_id": cls.env.ref("base.us").id,
                "currency_id": cls.usd.id,
            }
        )
        cls.env["account.chart.template"].try_loading(
            "generic_coa", cls.qb_company, install_demo=False
        )
        cls.qb = cls.env["distribution.sync.backend"].create(
            {
                "name": "QuickBooks samples test",
                "backend_type": "quickbooks",
                "environment": "sandbox",
                "company_id": cls.qb_company.id,
                "quickbooks_realm_id": "4620816365999999999",
            }
        )

    def setUp(self):
        super().setUp()
        last = self.env["queue.job"].search([], order="id desc", limit=1)
        self.last_job = last.id or 0
        # Nothing may leave for QuickBooks (or anywhere): the samples are
        # local only.
        network = patch(
            "requests.Session.send",
            side_effect=AssertionError("The samples must not call out."),
        )
        network.start()
        self.addCleanup(network.stop)

    # ---------------------------------------------------------------- helpers
    def sample_bindings(self, backend=None):
        return self.bindings.search(
            [
                ("backend_id", "=", (backend or self.qb).id),
                ("res_model", "=", "account.move"),
                ("external_id", "in", SAMPLE_IDS),
            ]
        )

    def sample_moves(self, backend=None):
        moves = self.env["account.move"]
        for binding in self.sample_bindings(backend).sorted("external_id"):
            moves |= moves.browse(binding.res_id)
        return moves

    def backend_messages(self, backend=None, direction=None):
        domain = [("backend_id", "=", (backend or self.qb).id)]
        if direction:
            domain.append(("direction", "=", direction))
        return self.messages.search(domain, order="id")

    def new_jobs(self):
        return self.env["queue.job"].search([("id", ">", self.last_job)])

    def company_moves(self):
        return self.env["account.move"].search(
            [("company_id", "=", self.qb_company.id), ("move_type", "=", "out_invoice")]
        )

    def assert_samples(self, backend):
        """Three posted invoices bound to QuickBooks, the first paid in Odoo
        by the sample payment, every message done, no job left to run."""
        bindings = self.sample_bindings(backend)
        self.assertEqual(sorted(bindings.mapped("external_id")), SAMPLE_IDS)
        moves = self.sample_moves(backend)
        self.assertEqual(len(moves), 3)
        self.assertEqual(set(moves.mapped("state")), {"posted"})
        self.assertEqual(set(moves.mapped("move_type")), {"out_invoice"})
        self.assertEqual(len(moves.partner_id), 1)
        paid, *unpaid = moves
        self.assertIn(paid.payment_state, ("paid", "in_payment"))
        self.assertAlmostEqual(paid.amount_residual, 0.0)
        payment = paid._get_reconciled_payments()
        self.assertEqual(len(payment), 1)
        self.assertAlmostEqual(payment.amount, paid.amount_total)
        self.assertEqual(
            self.bindings._for_record(backend, payment).external_id,
            f"payment:{SAMPLE_PAYMENT_ID}:{SAMPLE_IDS[0]}",
        )
        for move in unpaid:
            self.assertEqual(move.payment_state, "not_paid")
            self.assertFalse(move._get_reconciled_payments())

        outbound = self.backend_messages(backend, "outbound").filtered(
            lambda m: m.res_model == "account.move" and m.res_id in moves.ids
        )
        self.assertEqual(len(outbound), 3)
        self.assertEqual(set(outbound.mapped("topic")), {"invoice/create"})
        self.assertEqual(
            set(outbound.mapped("state")), {"done"}, outbound.mapped("last_error")
        )
        self.assertEqual(sorted(outbound.mapped("external_id")), SAMPLE_IDS)
        for message in outbound:
            self.assertIn("not sent", message.result_summary)
        jobs = self.env["queue.job"].search(
            [("uuid", "in", [uuid for uuid in outbound.mapped("job_uuid") if uuid])]
        )
        self.assertFalse(jobs.filtered(lambda j: j.state not in ("done", "cancelled")))

        inbound = self.backend_messages(backend, "inbound").filtered(
            lambda m: m.external_id == SAMPLE_PAYMENT_ID
        )
        self.assertEqual(len(inbound), 1)
        self.assertEqual(inbound.topic, "payment/create")
        self.assertEqual(inbound.state, "done", inbound.last_error)
        self.assertFalse(inbound.job_uuid)
        self.assertEqual((inbound.res_model, inbound.res_id), (paid._name, paid.id))

        self.assertFalse(
            self.exceptions.search(
                [
                    ("backend_id", "=", backend.id),
                    ("state", "=", "open"),
                    ("message_id", "in", (outbound | inbound).ids),
                ]
            )
        )
        return moves

    # ------------------------------------------------------------------ tests
    def test_samples_are_three_synced_invoices_one_paid(self):
        action = self.qb.action_quickbooks_load_samples()
        self.assertEqual(action["res_model"], "distribution.sync.message")
        moves = self.assert_samples(self.qb)
        self.assertEqual(self.company_moves(), moves)
        self.assertTrue(all(move.amount_tax > 0 for move in moves))
        self.assertEqual(len(self.backend_messages()), 4)
        self.assertFalse(
            self.exceptions.search(
                [("backend_id", "=", self.qb.id), ("state", "=", "open")]
            )
        )
        # One job per sample invoice was queued by posting, and cancelled.
        jobs = self.new_jobs()
        self.assertEqual(len(jobs), 3)
        self.assertEqual(set(jobs.mapped("state")), {"cancelled"})

    def test_second_call_adds_nothing(self):
        self.qb.action_quickbooks_load_samples()
        moves = self.company_moves()
        messages, bindings = self.backend_messages(), self.bindings.search([])
        payments = self.env["account.payment"].search(
            [("company_id", "=", self.qb_company.id)]
        )
        jobs = self.new_jobs()
        self.qb.action_quickbooks_load_samples()
        self.assertEqual(self.company_moves(), moves)
        self.assertEqual(self.backend_messages(), messages)
        self.assertEqual(self.bindings.search([]), bindings)
        self.assertEqual(
            self.env["account.payment"].search(
                [("company_id", "=", self.qb_company.id)]
            ),
            payments,
        )
        self.assertEqual(self.new_jobs(), jobs)
        self.assert_samples(self.qb)

    def test_production_backend_refuses(self):
        self.qb.environment = "production"
        with self.assertRaises(UserError):
            self.qb.action_quickbooks_load_samples()
        self.assertFalse(self.company_moves())
        self.assertFalse(self.backend_messages())
        self.assertFalse(self.new_jobs())

    def test_refused_when_another_quickbooks_backend_would_send_them(self):
        self.env["distribution.sync.backend"].create(
            {
                "name": "QuickBooks production",
                "backend_type": "quickbooks",
                "environment": "production",
                "company_id": self.qb_company.id,
                "quickbooks_realm_id": "4620816365888888888",
            }
        )
        with self.assertRaises(UserError):
            self.qb.action_quickbooks_load_samples()
        self.assertFalse(self.company_moves())
        self.assertFalse(self.new_jobs())

    def test_a_sync_manager_loads_them_a_sync_user_may_not(self):
        companies = [Command.set((self.env.company | self.qb_company).ids)]
        manager = new_test_user(
            self.env,
            login="quickbooks_demo_manager",
            groups="base.group_user,distribution_sync.group_distribution_sync_manager",
            company_ids=companies,
        )
        self.sync_user.company_ids = companies
        backend = self.qb.with_company(self.qb_company)
        with self.assertRaises(AccessError):
            backend.with_user(self.sync_user).action_quickbooks_load_samples()
        self.assertFalse(self.company_moves())
        backend.with_user(manager).action_quickbooks_load_samples()
        self.assert_samples(self.qb)

    def test_demo_database_has_them(self):
        demo = self.env.ref(
            "distribution_sync_quickbooks.demo_backend_quickbooks",
            raise_if_not_found=False,
        )
        if not demo:
            self.skipTest("No demo data in this database.")
        self.assert_samples(demo)
        tax = self.env["distribution.sync.mapping"].search(
            [("backend_id", "=", demo.id), ("mapping_type", "=", "tax")]
        )
        self.assertEqual(tax.external_code, "TAX")
        self.assertEqual(tax.tax_id, demo.company_id.account_sale_tax_id)
        self.assertEqual(self.sample_moves(demo).invoice_line_ids.tax_ids, tax.tax_id)
        method = self.env["distribution.sync.mapping"].search(
            [("backend_id", "=", demo.id), ("mapping_type", "=", "payment_method")]
        )
        self.assertEqual(method.journal_id.type, "bank")
        self.assertEqual(
            self.sample_moves(demo)[0]._get_reconciled_payments().journal_id,
            method.journal_id,
        )
