# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import api, fields, models


class DistributionSyncQuickbooksBatch(models.Model):
    """A message sent in a QuickBooks batch request: the batch's
    ``requestid``. Written in a transaction of its own before the batch goes
    (a row of its own, so that the job's transaction can still write the
    message afterwards); any later attempt of the message asks that batch
    first, and QuickBooks answers what it did with it."""

    _name = "distribution.sync.quickbooks.batch"
    _description = "Distribution Sync: message sent in a QuickBooks batch"
    _log_access = False
    _order = "id desc"

    message_id = fields.Many2one(
        "distribution.sync.message", required=True, ondelete="cascade", index=True
    )
    request_id = fields.Char(required=True)

    @api.model
    def _remember(self, messages, request_id):
        """Record, committed at once, that ``messages`` go in batch
        ``request_id``."""
        with self.env.registry.cursor() as cr:
            cr.execute(
                "INSERT INTO distribution_sync_quickbooks_batch"
                " (message_id, request_id) SELECT id, %s FROM unnest(%s) AS id",
                [request_id, list(messages.ids)],
            )
        messages.invalidate_recordset(["quickbooks_batch_request"])
