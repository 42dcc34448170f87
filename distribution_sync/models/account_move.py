# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import models


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "distribution.sync.document.mixin"]

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        self.env["distribution.sync.backend"]._notify(
            "invoice_posted",
            posted.filtered(
                lambda m: (
                    m.state == "posted" and m.move_type in ("out_invoice", "out_refund")
                )
            ),
        )
        return posted
