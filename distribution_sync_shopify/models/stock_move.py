# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import models


class StockMove(models.Model):
    _inherit = "stock.move"

    def _action_done(self, cancel_backorder=False):
        moves = super()._action_done(cancel_backorder=cancel_backorder)
        moves._shopify_enqueue_stock_push()
        return moves

    def _shopify_enqueue_stock_push(self):
        """Queue the stock push of each Shopify backend of the done moves'
        companies (one pending job per backend gathers them all)."""
        done = self.filtered(lambda m: m.state == "done" and m.product_id.is_storable)
        if not done:
            return
        backends = (
            self.env["distribution.sync.backend"]
            .sudo()
            .search(
                [
                    ("backend_type", "=", "shopify"),
                    ("company_id", "in", done.company_id.ids),
                    ("shopify_location_ids", "!=", False),
                ]
            )
        )
        for backend in backends:
            if backend._ownership_matrix().may_push("stock"):
                backend._shopify_enqueue_stock_push()
