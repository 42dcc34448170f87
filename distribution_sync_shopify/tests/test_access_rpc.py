# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
"""The Shopify channel's share of the access sweep (see the core's
``test_access_rpc``): its backend buttons, its locations and its import
wizard, over XML-RPC, for each group; its access token never readable."""

from odoo import fields
from odoo.tests import HttpCase, tagged

from odoo.addons.distribution_sync.tests.test_access_rpc import GROUPS, AccessSweep

from .fake_shopify import FakeShopify

# As in the core's matrix: user, manager, plain internal user, portal user.
MATRIX = """
model                   operation                      user manager internal portal
backend                 action_shopify_import_orders   .    x       .        .
backend                 action_shopify_fetch_locations .    x       .        .
backend                 action_shopify_load_samples    .    x       .        .
backend                 action_shopify_push_stock      .    x       .        .
shopify.location        read                           x    x       .        .
shopify.location        search                         x    x       .        .
shopify.location        create                         .    x       .        .
shopify.location        write                          .    x       .        .
shopify.location        unlink                         .    x       .        .
shopify.import.wizard   read                           .    x       .        .
shopify.import.wizard   search                         .    x       .        .
shopify.import.wizard   create                         .    x       .        .
shopify.import.wizard   write                          .    x       .        .
shopify.import.wizard   unlink                         .    .       .        .
shopify.import.wizard   action_import                  .    x       .        .
"""

WRITABLE_FIELDS = {"shopify.location": "*"}


@tagged("post_install", "-at_install")
class TestShopifyAccessRpc(AccessSweep, HttpCase):
    PACKAGE = "odoo.addons.distribution_sync_shopify."
    MATRIX = MATRIX
    WRITABLE_FIELDS = WRITABLE_FIELDS

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.warehouses = {}
        for company, records in (
            (cls.company, cls.records),
            (cls.company_b, cls.records_b),
        ):
            cls.make_records(company, records)

    @classmethod
    def make_records(cls, company, records):
        """A sandbox Shopify backend with its two secrets and one mapped
        location, of ``company``; in company A an import wizard per group."""
        env = cls.env
        tag = "a" if company == cls.company else "b"
        secrets = {
            "webhook_secret": f"shpss_sweep_{tag}_41d84b0f9e6a5c3d",
            "shopify_access_token": f"shpat_sweep_{tag}_3a4e5f60718293a4",
        }
        shop = env["distribution.sync.backend"].create(
            dict(
                secrets,
                name=f"Sweep Shopify {tag}",
                backend_type="shopify",
                environment="sandbox",
                company_id=company.id,
                shopify_shop_domain=f"sweep-{tag}.myshopify.com",
            )
        )
        cls.secrets[shop] = secrets
        # A shop to answer the buttons that read it (Fetch locations).
        fake = FakeShopify(
            access_token=secrets["shopify_access_token"],
            api_version=shop.shopify_api_version,
        )
        cls.addClassCleanup(fake.stop)
        fake.add_location(41 if tag == "a" else 42, f"Sweep store {tag}")
        shop.api_url = fake.url
        warehouse = env["stock.warehouse"].search(
            [("company_id", "=", company.id)], limit=1
        )
        if not warehouse:
            warehouse = env["stock.warehouse"].create(
                {"name": f"Sweep {tag}", "code": f"SW{tag}", "company_id": company.id}
            )
        cls.warehouses[company] = warehouse
        records["backend"] = shop
        records["shopify.location"] = env["distribution.sync.shopify.location"].create(
            {
                "backend_id": shop.id,
                "shopify_location_id": f"gid://shopify/Location/{tag}1",
                "warehouse_id": warehouse.id,
            }
        )
        if company == cls.company:
            # Wizards are seen by their creator only: one per group.
            wizards = env["distribution.sync.shopify.import.wizard"]
            records["shopify.import.wizard"] = {
                who: wizards.with_user(cls.users[who] if who == "manager" else env.user)
                .create({"backend_id": shop.id})
                .sudo()
                for who in GROUPS
            }

    def crud_values(self, model):
        shop = self.records["backend"]
        return {
            "backend": (
                {
                    "name": "Sweep created",
                    "backend_type": "shopify",
                    "shopify_shop_domain": "sweep-new.myshopify.com",
                },
                {"sequence": 11},
            ),
            "shopify.location": (
                {
                    "backend_id": shop.id,
                    "shopify_location_id": "gid://shopify/Location/new",
                    "warehouse_id": self.warehouses[self.company].id,
                },
                {"name": "Back store"},
            ),
            "shopify.import.wizard": (
                {"backend_id": shop.id},
                {"date_from": fields.Date.to_string(fields.Date.today())},
            ),
        }[model]
