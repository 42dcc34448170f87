# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import time
from decimal import Decimal

from odoo.tests import tagged

from .common import QuickbooksCase
from .test_invoice_lifecycle import STALE


@tagged("post_install", "-at_install")
class TestProtocol(QuickbooksCase):
    """What every request carries, and how refusals by code are handled."""

    def test_every_request_has_minor_version_and_creates_a_request_id(self):
        self.sync_invoice()
        api = [r for r in self.fake.requests if r["path"].startswith("/v3/company/")]
        self.assertTrue(api)
        for request in api:
            self.assertIn(f"/v3/company/{self.fake.realm_id}/", request["path"])
            self.assertGreaterEqual(int(request["query"]["minorversion"]), 75)
        creates = [r for r in api if r["operation"] == "create"]
        self.assertEqual(len(creates), 3)  # customer, item, invoice
        ids = [r["request_id"] for r in creates]
        self.assertTrue(all(ids), ids)
        self.assertEqual(len(set(ids)), 3)
        self.assertTrue(all(len(i) <= 50 for i in ids))

    def test_request_id_is_stable_per_record_and_operation(self):
        move = self.make_invoice()
        first = self.qb._quickbooks_request_id(move, "create")
        self.assertEqual(first, self.qb._quickbooks_request_id(move, "create"))
        self.assertNotEqual(first, self.qb._quickbooks_request_id(move, "void"))
        other = self.make_invoice()
        self.assertNotEqual(first, self.qb._quickbooks_request_id(other, "create"))

    def test_every_request_holds_a_slot_of_the_company_limits(self):
        self.assertEqual(self.qb._request_limits(), (500, 60, 10))
        self.sync_invoice()
        slots = (
            self.env["distribution.sync.request.slot"]
            .sudo()
            .search([("backend_id", "=", self.qb.id)])
        )
        api = [r for r in self.fake.requests if r["path"].startswith("/v3/company/")]
        self.assertEqual(len(slots), len(api))
        self.assertTrue(all(slots.mapped("released_at")))

    def test_requests_wait_for_the_window_instead_of_a_429(self):
        # QuickBooks scaled down: 2 requests in any second. The limiter waits
        # for room; QuickBooks never has to refuse one.
        self.use_fake(per_minute=2, window_seconds=1)
        self.qb.write({"request_limit": 2, "request_limit_window": 1})
        started = time.monotonic()
        self.sync_invoice()
        api = [r for r in self.fake.requests if r["path"].startswith("/v3/company/")]
        self.assertGreaterEqual(len(api), 5)
        self.assertEqual(self.fake.throttled, 0)
        # n requests at 2 a second take at least (n - 2) / 2 seconds.
        self.assertGreaterEqual(time.monotonic() - started, (len(api) - 2) / 2 - 0.1)

    def test_throttled_create_waits_and_retries(self):
        move = self.make_invoice()
        self.fake.fail_next("create:Invoice", 429)
        message = self.qb_messages(move)
        self.process(message)
        self.assertEqual(message.state, "queued", message.last_error)
        self.process(message)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(self.fake.created.get("Invoice"), 1)
        self.assertEqual(self.fake.throttled, 0)  # injected, not counted

    def test_server_error_is_retried(self):
        move = self.make_invoice()
        self.fake.fail_next("create:Invoice", 503)
        message = self.qb_messages(move)
        self.process(message)
        self.assertEqual(message.state, "queued")
        self.assertFalse(self.qb_exceptions(category="technical"))
        self.process(message)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(self.fake.created.get("Invoice"), 1)

    def test_void_with_stale_token_reads_again(self):
        move = self.sync_invoice()
        self.fake.fail_next("void", 400, body=STALE)
        move.button_draft()
        move.button_cancel()
        self.run_qb_jobs(move)
        void = self.qb_messages(move, topic="invoice/void")
        self.assertEqual(void.state, "done", void.last_error)
        self.assertEqual(self.fake.count("void"), 2)
        invoice = self.fake.get("Invoice", self.qb_id(move))
        self.assertEqual(Decimal(str(invoice["TotalAmt"])), Decimal(0))

    def test_draft_invoice_is_not_sent(self):
        move = self.make_invoice(post=False)
        self.assertFalse(self.qb_messages(move))

    def test_bindings_are_reused(self):
        self.sync_invoice()
        queries = self.fake.count("query")
        self.sync_invoice()
        self.assertEqual(self.fake.count("query"), queries)
        self.assertEqual(self.fake.created.get("Customer"), 1)
        self.assertEqual(self.fake.created.get("Item"), 1)
        self.assertEqual(self.fake.created.get("Invoice"), 2)

    def test_customer_payload(self):
        self.customer.write({"phone": "+1 555 0100", "city": "Springfield"})
        self.sync_invoice()
        customer = self.fake.get("Customer", self.qb_id(self.customer))
        self.assertEqual(customer["PrimaryEmailAddr"]["Address"], "ada@example.com")
        self.assertEqual(customer["BillAddr"]["City"], "Springfield")

    def test_invoice_carries_number_and_currency(self):
        move = self.sync_invoice()
        invoice = self.fake.get("Invoice", self.qb_id(move))
        self.assertEqual(invoice["DocNumber"], move.name[-21:])
        self.assertEqual(invoice["CurrencyRef"]["value"], move.currency_id.name)

    def test_test_connection_names_the_company(self):
        text = self.qb._quickbooks_test_connection()
        company = self.fake.company().company_info()
        name = (company.get("CompanyInfo") or company)["CompanyName"]
        self.assertEqual(text, f"Connected to QuickBooks company {name}.")
        self.assertEqual(self.fake.count("read"), 1)

    def test_sandbox_environment_sets_sandbox_url(self):
        backend = self.env["distribution.sync.backend"].create(
            {"name": "QB sandbox", "backend_type": "quickbooks"}
        )
        backend.environment = "sandbox"
        backend._onchange_quickbooks_environment()
        self.assertEqual(backend.api_url, "https://sandbox-quickbooks.api.intuit.com")
        backend.environment = "production"
        backend._onchange_quickbooks_environment()
        self.assertEqual(backend.api_url, "https://quickbooks.api.intuit.com")

    def test_quickbooks_owning_invoices_sends_nothing(self):
        self.set_owner("invoice", "channel")
        move = self.make_invoice()
        self.assertFalse(self.qb_messages(move))
        self.assertFalse(self.fake.requests)

    def test_customer_update_event_is_skipped(self):
        message = self.notify([("Customer", "58", "Update")])
        self.assertEqual(message.state, "skipped")
        self.assertFalse(self.fake.requests)
