# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import fields, models


class DistributionSyncReconciliationLine(models.Model):
    """What one check of a run compared and found."""

    _name = "distribution.sync.reconciliation.line"
    _description = "Reconciliation check result"
    _order = "id"

    reconciliation_id = fields.Many2one(
        "distribution.sync.reconciliation", required=True, ondelete="cascade"
    )
    company_id = fields.Many2one(
        related="reconciliation_id.company_id", store=True, index=True, precompute=True
    )
    check_code = fields.Char(string="Check code", required=True)
    name = fields.Char(string="Check", required=True)
    checked_count = fields.Integer(string="Compared")
    discrepancy_count = fields.Integer(string="Differences")
    duration_ms = fields.Integer(string="Duration (ms)")
