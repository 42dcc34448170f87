# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import api, models


class DistributionSyncMilestone(models.Model):
    _inherit = "distribution.sync.milestone"

    @api.model
    def _milestone_sources(self):
        """``delivered``: every delivery of the order left the warehouse and
        the carrier delivered it (when the last of them was delivered)."""
        sources = super()._milestone_sources()
        sources["delivered"] = f"""
            SELECT t.order_id, max(p.distribution_sync_tracking_date)
              FROM {self._orders_table} t
              JOIN stock_picking p ON p.sale_id = t.order_id
              JOIN stock_picking_type pt ON pt.id = p.picking_type_id
             WHERE pt.code = 'outgoing' AND p.state != 'cancel'
             GROUP BY t.order_id
            HAVING bool_and(p.state = 'done' AND p.distribution_sync_tracking_status
                            IS NOT DISTINCT FROM 'delivered')"""
        return sources
