# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import api, fields, models


class DistributionSyncAudit(models.Model):
    """Who retried, replayed, resolved, ignored or reconfigured what."""

    _name = "distribution.sync.audit"
    _description = "Distribution Sync Audit Entry"
    _order = "id desc"
    _log_access = True

    date = fields.Datetime(default=fields.Datetime.now, required=True, readonly=True)
    user_id = fields.Many2one(
        "res.users", default=lambda self: self.env.user, required=True, readonly=True
    )
    backend_id = fields.Many2one(
        "distribution.sync.backend", ondelete="cascade", index=True, readonly=True
    )
    # Precomputed: part of the INSERT rather than an UPDATE after it.
    company_id = fields.Many2one(
        related="backend_id.company_id", store=True, index=True, precompute=True
    )
    action = fields.Selection(
        [
            ("retry", "Retry"),
            ("replay", "Replay"),
            ("requeue", "Requeue"),
            ("skip", "Skip"),
            ("resolve", "Resolve"),
            ("ignore", "Ignore"),
            ("reopen", "Reopen"),
            ("release", "Held order released"),
            ("unbind", "Unlink and re-import"),
            ("secret", "Secret changed"),
            ("test_connection", "Connection test"),
            ("connect", "Connected"),
            ("disconnect", "Disconnected"),
        ],
        required=True,
        readonly=True,
    )
    res_model = fields.Char(readonly=True)
    res_id = fields.Many2oneReference(model_field="res_model", readonly=True)
    record_name = fields.Char(readonly=True)
    note = fields.Text(readonly=True)

    @api.model
    def _log(self, action, backend=None, record=None, note=None):
        # Written with sudo: people may act without being allowed to write logs.
        return self.sudo().create(
            {
                "action": action,
                "user_id": self.env.user.id,
                "backend_id": backend.id if backend else False,
                "res_model": record._name if record else False,
                "res_id": record.id if record else False,
                "record_name": record.display_name if record else False,
                "note": note or False,
            }
        )
