# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo.tests import HttpCase, tagged

from .browser import BrowserTourMixin
from .common import DistributionSyncCase, order_payload


@tagged("post_install", "-at_install")
class TestTourOrderDesk(BrowserTourMixin, DistributionSyncCase, HttpCase):
    """The order desk in a real browser: from the overview's held orders to the
    quotation a check held, released."""

    def setUp(self):
        super().setUp()
        payload = order_payload("TOUR-DESK-1", total="25.00")
        payload["customer"] = dict(
            payload["customer"], name="Held Desk Customer", email="held@example.com"
        )
        payload["billing_address"] = dict(
            payload["billing_address"], name="Held Desk Customer"
        )
        self.message = self.process(self.intake("order/upsert", payload))
        self.assertEqual(self.message.state, "blocked")
        self.order = self.bindings._find_record(
            self.backend, "sale.order", "TOUR-DESK-1"
        )
        self.assertEqual(self.order.state, "draft")

    def test_release_a_held_order_from_the_overview(self):
        self.run_tour(
            "/odoo",
            "distribution_sync_order_desk_tour",
            login="admin",
            screenshot="order_desk",
        )
        self.assertEqual(self.order.state, "sale")
        self.assertEqual(self.message.state, "done")
        self.assertFalse(
            self.exceptions.search(
                [
                    ("res_model", "=", "sale.order"),
                    ("res_id", "=", self.order.id),
                    ("state", "=", "open"),
                ]
            )
        )
