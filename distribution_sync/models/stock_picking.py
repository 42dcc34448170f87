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

    def write(self, vals):
        # The tracking reference comes with stock_delivery, when installed.
        tracked = (
            self.filtered(
                lambda p: p.carrier_tracking_ref != vals["carrier_tracking_ref"]
            )
            if "carrier_tracking_ref" in vals
            else self.browse()
        )
        res = super().write(vals)
        self.env["distribution.sync.backend"]._notify("tracking_changed", tracked)
        return res
