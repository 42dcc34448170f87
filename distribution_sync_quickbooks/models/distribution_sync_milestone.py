# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import api, models


class DistributionSyncMilestone(models.Model):
    _inherit = "distribution.sync.milestone"

    @api.model
    def _milestone_sources(self):
        """``accounted``: every posted invoice of the order is in QuickBooks
        (when the last one got there)."""
        sources = super()._milestone_sources()
        sources["accounted"] = f"""
            SELECT inv.order_id, max(qb.create_date)
              FROM ({self._order_invoices_sql()}) inv
              LEFT JOIN LATERAL (
                SELECT min(b.create_date) AS create_date
                  FROM distribution_sync_binding b
                  JOIN distribution_sync_backend be ON be.id = b.backend_id
                 WHERE be.backend_type = 'quickbooks'
                   AND b.res_model = 'account.move' AND b.res_id = inv.move_id
              ) qb ON true
             GROUP BY inv.order_id
            HAVING bool_and(qb.create_date IS NOT NULL)"""
        return sources
