# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import fields, models


class DistributionSyncMessage(models.Model):
    _inherit = "distribution.sync.message"

    quickbooks_batch_request = fields.Char(
        string="QuickBooks batch",
        compute="_compute_quickbooks_batch_request",
        help="Request id of the QuickBooks batch this message was sent in: a "
        "later attempt asks that batch first, so a lost answer never makes a "
        "second object.",
    )

    def _compute_quickbooks_batch_request(self):
        rows = (
            self.env["distribution.sync.quickbooks.batch"]
            .sudo()
            .search([("message_id", "in", self.ids)])
        )
        newest = {}
        for row in rows:  # newest first
            newest.setdefault(row.message_id.id, row.request_id)
        for message in self:
            message.quickbooks_batch_request = newest.get(message.id, False)

    def _quickbooks_send_batch_job(self):
        """queue_job entry point: send these outbound messages of one
        QuickBooks backend in batch requests (the bulk send)."""
        backend = self.backend_id
        backend.ensure_one()
        with backend._job_scope():
            states = self.env["distribution.sync.quickbooks.exporter"]._send_batch(
                backend, self
            )
        return self._states_summary(states)
