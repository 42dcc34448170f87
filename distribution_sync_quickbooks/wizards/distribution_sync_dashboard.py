# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import api, fields, models

from ..models.distribution_sync_reconciliation import POSTED_OF_BACKENDS, UNBOUND


class DistributionSyncDashboard(models.TransientModel):
    _inherit = "distribution.sync.dashboard"

    invoices_unsynced_count = fields.Integer(
        string="Invoices not yet in QuickBooks", compute="_compute_figures"
    )

    def _unsynced_invoice_ids(self):
        """Posted customer invoices and credit notes of the companies of
        QuickBooks backends where Odoo owns invoices, not bound there."""
        backends = (
            self.env["distribution.sync.backend"]
            .sudo()
            .search(
                [
                    ("backend_type", "=", "quickbooks"),
                    ("company_id", "in", self._company_ids()),
                ]
            )
            .filtered(lambda b: b._ownership_matrix().may_push("invoice"))
        )
        if not backends:
            return []
        self.env.cr.execute(
            f"SELECT DISTINCT am.id {POSTED_OF_BACKENDS} {UNBOUND}",
            {"pushing_ids": backends.ids},
        )
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _dashboard_figures(self):
        figures = super()._dashboard_figures()
        figures["invoices_unsynced_count"] = (
            len(self._unsynced_invoice_ids())
            if self.env["account.move"].has_access("read")
            else 0
        )
        return figures

    def action_open_invoices_unsynced(self):
        return self._open_list(
            "account.move",
            [("id", "in", self._unsynced_invoice_ids())],
            self.env._("Invoices not yet in QuickBooks"),
        )
