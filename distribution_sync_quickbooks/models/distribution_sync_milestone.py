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
              FROM (
                SELECT DISTINCT t.order_id, am.id AS move_id
                  FROM {self._orders_table} t
                  JOIN sale_order_line sol ON sol.order_id = t.order_id
                  JOIN sale_order_line_invoice_rel rel
                    ON rel.order_line_id = sol.id
                  JOIN account_move_line aml ON aml.id = rel.invoice_line_id
                  JOIN account_move am ON am.id = aml.move_id
                 WHERE am.move_type = 'out_invoice' AND am.state = 'posted'
              ) inv
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
