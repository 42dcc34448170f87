# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def _shopify_fulfillment_payload(self, order_external_id):
        """What Shopify must know of this delivery (lines by Shopify line id)."""
        self.ensure_one()
        lines = []
        for move in self.move_ids.filtered(
            lambda m: m.state == "done" and m.sale_line_id.distribution_sync_line_ref
        ):
            sale_line = move.sale_line_id
            # Shopify counts its own units: a case sold as a variant of its
            # own ships as 12 units in Odoo and 1 in Shopify.
            quantity, partial = sale_line._distribution_sync_channel_quantity(
                move.product_uom._compute_quantity(move.quantity, sale_line.product_uom)
            )
            lines.append(
                {
                    "line_item_id": sale_line.distribution_sync_line_ref,
                    "sku": move.product_id.default_code or None,
                    "quantity": quantity,
                    "partial": partial,
                }
            )
        return {
            "order_id": order_external_id,
            "picking": self.name,
            "lines": lines,
            "tracking": self._distribution_sync_tracking(),
        }

    def _shopify_shipped_quantities(self):
        """What Odoo has shipped in all of each Shopify line of this
        delivery's order (every done move to a customer), in Shopify units."""
        self.ensure_one()
        shipped = {}
        for sale_line in self.sale_id.order_line.filtered("distribution_sync_line_ref"):
            quantity = sum(
                move.product_uom._compute_quantity(move.quantity, sale_line.product_uom)
                for move in sale_line.move_ids
                if move.state == "done" and move.location_dest_id.usage == "customer"
            )
            ref = sale_line.distribution_sync_line_ref
            channel_quantity = sale_line._distribution_sync_channel_quantity(quantity)
            shipped[ref] = shipped.get(ref, 0) + channel_quantity[0]
        return shipped
