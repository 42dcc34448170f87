# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def _action_done(self):
        res = super()._action_done()
        self._shopify_push_fulfillments()
        return res

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
        carrier = self["carrier_id"] if "carrier_id" in self._fields else None
        return {
            "order_id": order_external_id,
            "picking": self.name,
            "lines": lines,
            "tracking": {
                "number": self["carrier_tracking_ref"]
                if "carrier_tracking_ref" in self._fields
                else None,
                "company": carrier.name if carrier else None,
                "url": self["carrier_tracking_url"]
                if "carrier_tracking_url" in self._fields
                else None,
            },
        }

    def _shopify_push_fulfillments(self):
        """Queue one fulfillment per validated delivery of a Shopify order.

        Partial deliveries push what they shipped; backorders push later;
        the same delivery is never pushed twice (idempotency key)."""
        bindings = self.env["distribution.sync.binding"].sudo()
        for picking in self.filtered(
            lambda p: p.picking_type_code == "outgoing" and p.sale_id
        ):
            for binding in bindings.search(
                [
                    ("res_model", "=", "sale.order"),
                    ("res_id", "=", picking.sale_id.id),
                    ("backend_id.backend_type", "=", "shopify"),
                ]
            ):
                payload = picking._shopify_fulfillment_payload(binding.external_id)
                if payload["lines"]:
                    binding.backend_id._push(
                        picking, "fulfillments/create", payload, "shipment"
                    )
