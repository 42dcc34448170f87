# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import socket
import time
from datetime import date
from unittest.mock import patch

from freezegun import freeze_time
from lxml import etree

from odoo.exceptions import UserError
from odoo.tests import Form

from odoo.addons.queue_job.tests.common import trap_jobs

from ..core import versions
from ..core.client import ShopifyClient
from .common import SHOPIFY_TOKEN, ShopifyCase
from .fake_shopify import FakeShopify


def closed_port_url():
    """A shop address on a local port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class TestShopifyBackendForm(ShopifyCase):
    """The Shopify backend form, filled in by a consultant alone."""

    def setUp(self):
        super().setUp()
        self.fake = FakeShopify(access_token=SHOPIFY_TOKEN, api_version="2025-07")
        self.addCleanup(self.fake.stop)
        self.shop.api_url = self.fake.url

    def form_arch(self):
        arch = self.env["distribution.sync.backend"].get_view(view_type="form")["arch"]
        return etree.fromstring(arch)

    # ------------------------------------------------------ button answers
    def test_connection_success_names_shop_and_version(self):
        action = self.shop.action_test_connection()
        self.assertEqual(action["tag"], "display_notification")
        message = action["params"]["message"]
        self.assertIn(self.fake.shop_domain, message)
        self.assertIn("API 2025-07", message)

    def test_unreachable_shop_is_a_quick_user_error(self):
        self.shop.api_url = closed_port_url()
        started = time.monotonic()
        with self.assertRaises(UserError) as caught:
            self.shop.action_test_connection()
        # One attempt: no back-off while a person waits.
        self.assertLess(time.monotonic() - started, 5)
        self.assertIn("Cannot reach Shopify at", str(caught.exception))

    def test_shopify_refusals_are_user_errors(self):
        for status, reason in ((401, None), (500, "Internal Server Error")):
            with self.subTest(status=status):
                self.fake.clear_failures()
                if status == 401:
                    self.shop.shopify_access_token = "shpat_wrong"
                else:
                    self.shop.shopify_access_token = SHOPIFY_TOKEN
                    self.fake.fail_next(status, times=5)
                before = len(self.fake.requests)
                with self.assertRaises(UserError) as caught:
                    self.shop.action_test_connection()
                self.assertIn(f"HTTP {status}", str(caught.exception))
                if reason:
                    self.assertIn(reason, str(caught.exception))
                self.assertEqual(len(self.fake.requests), before + 1)

    def test_import_orders_needs_credentials(self):
        backend = self.env["distribution.sync.backend"].create(
            {
                "name": "No token",
                "backend_type": "shopify",
                "shopify_shop_domain": "no-token.myshopify.com",
            }
        )
        self.assertFalse(backend.credentials_set)
        with self.assertRaises(UserError):
            backend.action_shopify_import_orders()
        action = self.shop.action_shopify_import_orders()
        self.assertEqual(action["context"], {"default_backend_id": self.shop.id})

    def test_fetch_changes_answers_a_notification(self):
        with trap_jobs() as trap:
            action = self.shop.action_fetch_changes()
            trap.assert_jobs_count(1, only=self.shop._fetch_changes_job)
        self.assertEqual(action["tag"], "display_notification")

    # ----------------------------------------------------------- webhook URL
    def test_webhook_url_is_on_the_form(self):
        self.assertTrue(
            self.shop.webhook_url.endswith(f"/distribution_sync/webhook/{self.shop.id}")
        )

    # ---------------------------------------------------------- API version
    def test_one_api_version_field_for_shopify(self):
        arch = self.form_arch()
        (core,) = arch.xpath("//field[@name='api_version']")
        self.assertIn("backend_type == 'shopify'", core.get("invisible"))
        self.assertEqual(len(arch.xpath("//field[@name='shopify_api_version']")), 1)
        self.shop.shopify_api_version = "2026-10"
        self.assertEqual(self.shop.api_version, "2026-10")

    @freeze_time("2026-12-02")
    def test_new_backends_default_to_a_supported_version(self):
        backend = self.env["distribution.sync.backend"].create(
            {"name": "New shop", "backend_type": "shopify"}
        )
        self.assertEqual(backend.shopify_api_version, "2026-10")
        self.assertEqual(backend.api_version, "2026-10")
        self.assertFalse(backend.shopify_api_version_warning)
        form = Form(self.env["distribution.sync.backend"])
        form.name = "Typed in"
        form.backend_type = "shopify"
        self.assertEqual(form.shopify_api_version, "2026-10")

    def test_warning_tense_follows_the_date(self):
        self.shop.shopify_api_version = "2025-07"
        with freeze_time("2026-12-02"):
            self.shop.invalidate_recordset(["shopify_api_version_warning"])
            ended = self.shop.shopify_api_version_warning
        self.assertIn("ended on 2026-07-01", ended)
        self.assertIn(versions.oldest_supported(date(2026, 12, 2)), ended)
        self.assertIn("2026-10", ended)
        with freeze_time("2026-05-01"):
            self.shop.invalidate_recordset(["shopify_api_version_warning"])
            ends = self.shop.shopify_api_version_warning
        self.assertIn("ends on 2026-07-01", ends)
        self.assertNotIn("ended", ends)

    # ------------------------------------------------------------- secrets
    def test_access_token_set_indicator(self):
        backend = self.env["distribution.sync.backend"].create(
            {"name": "Token later", "backend_type": "shopify"}
        )
        self.assertFalse(backend.shopify_access_token_set)
        backend.shopify_access_token = "shpat_later"
        self.assertTrue(backend.shopify_access_token_set)
        self.assertFalse(backend.shopify_access_token)
        self.assertTrue(
            self.form_arch().xpath("//field[@name='shopify_access_token_set']")
        )

    # --------------------------------------------------------- credentials
    def test_credentials_are_domain_and_token(self):
        backend = self.env["distribution.sync.backend"].create(
            {"name": "Half set", "backend_type": "shopify"}
        )
        self.assertFalse(backend.credentials_set)
        backend.shopify_shop_domain = "half.myshopify.com"
        self.assertFalse(backend.credentials_set)
        backend.shopify_access_token = "shpat_half"
        self.assertTrue(backend.credentials_set)
        arch = self.form_arch()
        for name in (
            "action_shopify_import_orders",
            "action_shopify_fetch_locations",
            "action_test_connection",
        ):
            with self.subTest(button=name):
                (button,) = arch.xpath(f"//button[@name='{name}']")
                self.assertIn("credentials_set", button.get("invisible"))

    # ----------------------------------------------------- confirm statuses
    def test_confirm_statuses_in_the_form(self):
        with Form(self.shop) as form:
            self.assertTrue(form.confirm_on_paid)
            form.confirm_on_authorized = False
            form.confirm_on_pending = True
        self.assertEqual(self.shop.confirm_statuses, "pending,partially_paid,paid")

    # ----------------------------------------------------------- locations
    def test_fetch_locations(self):
        warehouses = self.env["stock.warehouse"].search(
            [("company_id", "=", self.shop.company_id.id)]
        )
        self.assertEqual(len(warehouses), 1)
        self.fake.add_location("71", "Main store")
        self.fake.add_location("72", "Pop-up")
        self.fake.add_location("73", "Closed depot", active=False)
        locations = self.env["distribution.sync.shopify.location"].with_context(
            active_test=False
        )
        typed = locations.create(
            {
                "backend_id": self.shop.id,
                "shopify_location_id": "71",
                "name": "typed by hand",
                "warehouse_id": warehouses.id,
            }
        )
        action = self.shop.action_shopify_fetch_locations()
        self.assertEqual(action["tag"], "display_notification")
        self.assertIn("3 locations", action["params"]["message"])
        # The form reloads: the fetched rows show at once.
        self.assertEqual(action["params"]["next"]["tag"], "soft_reload")
        rows = locations.search([("backend_id", "=", self.shop.id)], order="id")
        self.assertEqual(len(rows), 3)
        self.assertEqual(rows[0], typed)
        self.assertEqual(typed.name, "Main store")
        self.assertEqual(typed.shopify_location_id, "71")
        self.assertEqual(
            rows[1:].mapped("shopify_location_id"),
            ["gid://shopify/Location/72", "gid://shopify/Location/73"],
        )
        self.assertEqual(rows[1:].mapped("name"), ["Pop-up", "Closed depot"])
        self.assertEqual(rows.mapped("active"), [True, True, False])
        # The company's only warehouse is the obvious choice.
        self.assertEqual(rows[1].warehouse_id, warehouses)
        # Asking again adds nothing.
        self.shop.action_shopify_fetch_locations()
        self.assertEqual(locations.search_count([("backend_id", "=", self.shop.id)]), 3)
        self.assertEqual(self.fake.count("locations"), 2)

    def test_fetched_locations_wait_for_a_warehouse(self):
        self.env["stock.warehouse"].create(
            {"name": "Second", "code": "WH2", "company_id": self.shop.company_id.id}
        )
        self.fake.add_location("81", "Outlet")
        self.shop.action_shopify_fetch_locations()
        row = self.shop.shopify_location_ids
        self.assertEqual(row.shopify_location_id, "gid://shopify/Location/81")
        self.assertFalse(row.warehouse_id, "several warehouses: the consultant picks")
        self.assertFalse(self.shop._shopify_stock_ready())
        self.assertEqual(
            self.shop._shopify_stock_quantities(self.env["distribution.sync.binding"]),
            [],
        )

    def test_fetch_locations_failure_is_a_user_error(self):
        self.shop.api_url = closed_port_url()
        with self.assertRaises(UserError) as caught:
            self.shop.action_shopify_fetch_locations()
        self.assertIn("Cannot reach Shopify", str(caught.exception))

    def test_import_wizard_failure_is_a_user_error(self):
        self.shop.api_url = closed_port_url()
        wizard = (
            self.env["distribution.sync.shopify.import.wizard"]
            .with_context(queue_job__no_delay=True)
            .create({"backend_id": self.shop.id})
        )
        # The job's own retries, without their waits.
        with (
            patch.object(ShopifyClient, "backoff_base", 0.0),
            self.assertRaises(UserError) as caught,
        ):
            wizard.action_import()
        self.assertIn("Cannot reach Shopify", str(caught.exception))
