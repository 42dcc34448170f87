# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo.tests import HttpCase, tagged

from .browser import BrowserTourMixin
from .common import DistributionSyncCase, order_payload


@tagged("post_install", "-at_install")
class TestTourInbox(BrowserTourMixin, DistributionSyncCase, HttpCase):
    """Fixing a missing SKU from the inbox in a real browser: create the
    mapping from the exception, retry, see the order."""

    def setUp(self):
        super().setUp()
        self.gadget = self.env["product.product"].create(
            {
                "name": "Tour Gadget",
                "default_code": "TG-1",
                "type": "consu",
                "list_price": 10.0,
                "taxes_id": [(5,)],
            }
        )
        self.message = self.process(
            self.intake(
                "order/upsert",
                order_payload(
                    "TOUR-INBOX-1",
                    lines=[{"sku": "TOUR-SKU-1", "quantity": 2, "price_unit": "10.00"}],
                ),
            )
        )
        self.assertEqual(self.message.state, "blocked")

    def test_fix_missing_sku_from_the_inbox(self):
        self.run_tour(
            "/odoo", "distribution_sync_inbox_tour", login="admin", screenshot="inbox"
        )
        self.assertEqual(self.message.state, "done", self.message.last_error)
        order = self.bindings._find_record(self.backend, "sale.order", "TOUR-INBOX-1")
        self.assertEqual(order.order_line.product_id, self.gadget)
        mapping = self.env["distribution.sync.mapping"].search(
            [("backend_id", "=", self.backend.id), ("external_code", "=", "TOUR-SKU-1")]
        )
        self.assertEqual(mapping.product_id, self.gadget)
