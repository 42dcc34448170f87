# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import fields, models

from odoo.addons.distribution_sync.core import tracking as core_tracking


class DistributionSyncTrackingEvent(models.Model):
    """One carrier scan of a delivery (one entry of a tracker's history),
    however many webhooks repeat it: ``scan_key`` is unique per picking."""

    _name = "distribution.sync.tracking.event"
    _description = "Carrier tracking event"
    _order = "event_time desc, id desc"
    _rec_name = "description"

    picking_id = fields.Many2one(
        "stock.picking", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="picking_id.company_id", store=True)
    backend_id = fields.Many2one("distribution.sync.backend", ondelete="set null")
    status = fields.Selection(list(core_tracking.STATUSES), required=True)
    status_detail = fields.Char()
    description = fields.Char()
    event_time = fields.Datetime(required=True)
    location = fields.Char()
    tracking_code = fields.Char()
    scan_key = fields.Char(required=True)

    _sql_constraints = [
        (
            "scan_uniq",
            "unique(picking_id, scan_key)",
            "This carrier scan is recorded already.",
        )
    ]
