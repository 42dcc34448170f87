# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import fields, models


class DistributionSyncMessageDryRun(models.TransientModel):
    """What a replay of a message would do, computed without writing."""

    _name = "distribution.sync.message.dry.run"
    _description = "Distribution Sync Message Dry Run"

    message_id = fields.Many2one(
        "distribution.sync.message", required=True, ondelete="cascade"
    )
    report = fields.Text(readonly=True)

    def action_replay(self):
        self.ensure_one()
        self.message_id.action_replay()
        return {"type": "ir.actions.act_window_close"}
