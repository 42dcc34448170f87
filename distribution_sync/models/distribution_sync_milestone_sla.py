# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import api, fields, models

from ..core import milestones as core_milestones


class DistributionSyncMilestoneSla(models.Model):
    """A backend's promise for one step of its orders: reached within
    ``hours`` working-day hours of the step it counts from. Without a line a
    step keeps the default of ``core.milestones``; ``tracked`` off leaves the
    step out for the backend's orders (a shop whose parcels nobody tracks has
    no ``delivered`` step)."""

    _name = "distribution.sync.milestone.sla"
    _description = "Order milestone SLA"
    _order = "backend_id, sequence, id"

    backend_id = fields.Many2one(
        "distribution.sync.backend", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        related="backend_id.company_id", store=True, index=True, precompute=True
    )
    step = fields.Selection(core_milestones.STEP_SELECTION, required=True)
    sequence = fields.Integer(compute="_compute_sequence", store=True)
    anchor = fields.Selection(
        core_milestones.STEP_SELECTION,
        string="Counted from",
        compute="_compute_sequence",
        store=True,
    )
    hours = fields.Float(
        string="Within (working hours)",
        help="Hours on the company's working days (24 a day) from the step it "
        "counts from; 0: no deadline.",
    )
    tracked = fields.Boolean(default=True)

    _sql_constraints = [
        (
            "backend_step_uniq",
            "unique(backend_id, step)",
            "A backend has one SLA per step.",
        ),
        ("hours_positive", "CHECK(hours >= 0)", "An SLA cannot be negative."),
    ]

    @api.depends("step")
    def _compute_sequence(self):
        order = [code for code, *_rest in core_milestones.STEPS]
        for sla in self:
            sla.sequence = order.index(sla.step) if sla.step in order else 0
            sla.anchor = core_milestones.ANCHORS.get(sla.step) or False

    @api.onchange("step")
    def _onchange_step(self):
        if self.step and not self.hours:
            self.hours = core_milestones.DEFAULT_SLA_HOURS.get(self.step, 0)
