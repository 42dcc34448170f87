# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from .browser import BrowserTourMixin
from .common import DistributionSyncCase


@tagged("post_install", "-at_install")
class TestTourOverview(BrowserTourMixin, DistributionSyncCase, HttpCase):
    """The overview in a real browser: its late deliveries figure opens the
    late pickings, and the late one opens."""

    def setUp(self):
        super().setUp()
        partner = self.env["res.partner"].create({"name": "Late Tour Customer"})
        order = self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "order_line": [
                    fields.Command.create(
                        {"product_id": self.product.id, "product_uom_qty": 2}
                    )
                ],
            }
        )
        self.bindings._bind(self.backend, order, "TOUR-LATE-1", remote_amount=20.0)
        order.action_confirm()
        self.env.flush_all()
        # Confirmed a week ago and never shipped: late whatever the calendar.
        week_ago = fields.Datetime.now() - timedelta(days=7)
        self.env.cr.execute(
            """UPDATE sale_order
                  SET date_order = %s, distribution_sync_confirmed_at = %s
                WHERE id = %s""",
            (week_ago, week_ago, order.id),
        )
        self.env.cr.execute(
            """UPDATE distribution_sync_binding SET create_date = %s
                WHERE res_model = 'sale.order' AND res_id = %s""",
            (week_ago, order.id),
        )
        self.env.invalidate_all()
        self.env["distribution.sync.milestone"]._refresh([order.id])
        self.picking = order.picking_ids
        shipped = order.distribution_sync_milestone_ids.filtered(
            lambda m: m.step == "shipped"
        )
        self.assertEqual(shipped.state, "late")
        self.assertIn(
            self.picking.id,
            self.env["distribution.sync.dashboard"]
            .create({})
            .action_open_late_deliveries()["domain"][0][2],
        )

    def test_overview_drills_into_late_deliveries(self):
        self.run_tour(
            "/odoo",
            "distribution_sync_overview_tour",
            login="admin",
            screenshot="overview",
        )
