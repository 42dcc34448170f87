# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import models


class AccountPayment(models.Model):
    _inherit = "account.payment"

    def action_post(self):
        res = super().action_post()
        self.env["distribution.sync.backend"]._notify(
            "payment_registered",
            self.filtered(
                lambda p: (
                    p.state not in ("draft", "canceled", "rejected")
                    and p.payment_type == "inbound"
                )
            ),
        )
        return res
