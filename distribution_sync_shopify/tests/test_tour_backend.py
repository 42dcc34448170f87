# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from datetime import date
from unittest.mock import patch

from odoo.tests import HttpCase, tagged

from odoo.addons.distribution_sync.tests.browser import BrowserTourMixin
from odoo.addons.distribution_sync.tests.common import ensure_secret_key

from ..core import client as client_module
from ..core import versions
from .fake_shopify import FakeShopify

SHOP = "acme-tour.myshopify.com"


@tagged("post_install", "-at_install")
class TestTourShopifyBackend(BrowserTourMixin, HttpCase):
    """A consultant creates and configures a Shopify backend in a real browser,
    against the fake shop (the shop's address leads to it)."""

    def setUp(self):
        super().setUp()
        ensure_secret_key()
        self.fake = FakeShopify(
            access_token="shpat_tour_token",
            api_version=versions.current_version(date.today()),
            shop_name="Acme Tour Shop",
            shop_domain=SHOP,
        )
        self.addCleanup(self.fake.stop)
        self.fake.add_location(4242, "Tour Warehouse Street")
        # One warehouse: fetched locations are put on it.
        warehouses = self.env["stock.warehouse"].search(
            [("company_id", "=", self.env.company.id)]
        )
        warehouses[1:].write({"active": False})
        # The shop's address resolves to the fake shop (as a hosts file would):
        # the real client talks HTTP to it.
        real_init = client_module.ShopifyClient.__init__
        fake_url = self.fake.url

        def init(client, base_url, *args, **kwargs):
            if str(base_url).rstrip("/") == f"https://{SHOP}":
                base_url = fake_url
            return real_init(client, base_url, *args, **kwargs)

        patcher = patch.object(client_module.ShopifyClient, "__init__", init)
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_consultant_configures_a_shopify_backend(self):
        self.run_tour(
            "/odoo",
            "distribution_sync_shopify_backend_tour",
            login="admin",
            screenshot="shopify_backend",
        )
        backend = self.env["distribution.sync.backend"].search(
            [("name", "=", "Acme Shopify")]
        )
        self.assertEqual(backend.backend_type, "shopify")
        self.assertEqual(backend.shopify_shop_domain, SHOP)
        self.assertEqual(
            backend._get_secret("shopify_access_token"), "shpat_tour_token"
        )
        self.assertEqual(
            backend.shopify_api_version, versions.current_version(date.today())
        )
        self.assertEqual(backend.api_version, backend.shopify_api_version)
        self.assertNotIn("authorized", backend.confirm_statuses.split(","))
        self.assertIn("paid", backend.confirm_statuses.split(","))
        location = backend.shopify_location_ids
        self.assertEqual(location.name, "Tour Warehouse Street")
        self.assertTrue(location.warehouse_id)
        # The connection test and the locations: both reached the shop.
        self.assertGreaterEqual(len(self.fake.requests), 2)
