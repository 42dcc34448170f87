# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import models


class StockMove(models.Model):
    _inherit = "stock.move"

    def _action_done(self, cancel_backorder=False):
        moves = super()._action_done(cancel_backorder=cancel_backorder)
        self.env["distribution.sync.backend"]._notify(
            "stock_moved",
            moves.filtered(lambda m: m.state == "done" and m.product_id.is_storable),
        )
        return moves
