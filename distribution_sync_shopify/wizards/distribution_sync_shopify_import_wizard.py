# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

# Without the read_all_orders scope Shopify lists the last 60 days only.
DEFAULT_DAYS = 60


class DistributionSyncShopifyImportWizard(models.TransientModel):
    """Import the Shopify orders updated since a date (go-live backfill).

    One job per backend and date fetches them like the periodic fetch does;
    the backend's fetch checkpoint is left as it is."""

    _name = "distribution.sync.shopify.import.wizard"
    _description = "Import Shopify Orders Since a Date"

    backend_id = fields.Many2one(
        "distribution.sync.backend",
        required=True,
        ondelete="cascade",
        domain=[("backend_type", "=", "shopify")],
    )
    date_from = fields.Date(
        string="Orders updated since",
        required=True,
        default=lambda self: (
            fields.Date.context_today(self) - timedelta(days=DEFAULT_DAYS)
        ),
        help="Orders created or changed in Shopify from this day on (UTC) are "
        "imported; orders already imported at their latest version are left "
        "alone.",
    )

    @api.constrains("date_from")
    def _check_date_from(self):
        today = fields.Date.context_today(self)
        for wizard in self:
            if wizard.date_from > today:
                raise ValidationError(self.env._("The date cannot be in the future."))

    def action_import(self):
        self.ensure_one()
        backend = self.backend_id
        if backend.backend_type != "shopify" or not backend.api_url:
            raise UserError(
                self.env._("%s is not a Shopify backend with an API URL.", backend.name)
            )
        backend._check_credentials()
        with backend._outside_errors_as_user_errors():
            backend._shopify_enqueue_import(self.date_from)
        return backend._notification(
            self.env._("Import queued"),
            self.env._(
                "Orders updated since %(date)s are imported in the background.",
                date=self.date_from,
            ),
            next={"type": "ir.actions.act_window_close"},
        )
