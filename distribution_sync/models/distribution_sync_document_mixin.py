# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import fields, models


class DistributionSyncDocumentMixin(models.AbstractModel):
    """Shows a document's open sync exceptions (smart button) and bindings."""

    _name = "distribution.sync.document.mixin"
    _description = "Distribution Sync Document Mixin"

    distribution_sync_exception_count = fields.Integer(
        compute="_compute_distribution_sync_exception_count",
        string="Sync exceptions",
        groups="distribution_sync.group_distribution_sync_user",
    )

    def _compute_distribution_sync_exception_count(self):
        counts = dict(
            self.env["distribution.sync.exception"]._read_group(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "in", self.ids),
                    ("state", "=", "open"),
                ],
                ["res_id"],
                ["__count"],
            )
        )
        for record in self:
            record.distribution_sync_exception_count = counts.get(record.id, 0)

    def action_view_distribution_sync_exceptions(self):
        self.check_access("read")
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Sync exceptions"),
            "res_model": "distribution.sync.exception",
            "view_mode": "list,form",
            "domain": [("res_model", "=", self._name), ("res_id", "=", self.id)],
            "context": {"search_default_open": 1},
        }
