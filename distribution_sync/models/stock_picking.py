# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import models


class StockPicking(models.Model):
    _name = "stock.picking"
    _inherit = ["stock.picking", "distribution.sync.document.mixin"]

    def _action_done(self):
        res = super()._action_done()
        self.env["distribution.sync.backend"]._notify(
            "delivery_validated",
            self.filtered(
                lambda p: p.state == "done" and p.picking_type_code == "outgoing"
            ),
        )
        return res
