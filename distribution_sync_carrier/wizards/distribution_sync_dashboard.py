# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import api, fields, models


class DistributionSyncDashboard(models.TransientModel):
    _inherit = "distribution.sync.dashboard"

    awaiting_scan_count = fields.Integer(
        string="Awaiting the first carrier scan", compute="_compute_figures"
    )

    def _awaiting_scan_domain(self):
        return [
            ("distribution_sync_shipment_ids.awaiting_scan", "=", True),
            ("company_id", "in", self._company_ids()),
        ]

    @api.model
    def _dashboard_figures(self):
        figures = super()._dashboard_figures()
        pickings = self.env["stock.picking"]
        figures["awaiting_scan_count"] = (
            pickings.search_count(self._awaiting_scan_domain())
            if pickings.has_access("read")
            else 0
        )
        return figures

    def action_open_awaiting_scan(self):
        return self._open_list(
            "stock.picking",
            self._awaiting_scan_domain(),
            self.env._("Shipments awaiting the first carrier scan"),
        )
