# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import fields, models
from odoo.tools import float_compare, float_round


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    distribution_sync_line_ref = fields.Char(
        string="Channel line id",
        index="btree_not_null",
        copy=False,
        help="Id of the line in the channel, to match later refunds and fulfilments.",
    )
    distribution_sync_channel_qty = fields.Float(
        string="Channel quantity",
        digits="Product Unit of Measure",
        copy=False,
        help="The quantity as the channel counts it (e.g. cases), for what is "
        "reported back to it; the line's own quantity is in Odoo units.",
    )

    def _distribution_sync_channel_quantity(self, quantity):
        """``quantity`` of this line's unit in the channel's units (cases of a
        pack variant), as ``(channel units, partial)``. A channel counts whole
        units: a started one counts as one (``partial`` is then true), so that
        what ships in several deliveries is never left unreported."""
        self.ensure_one()
        if not self.distribution_sync_channel_qty or not self.product_uom_qty:
            return quantity, False
        per_channel_unit = self.product_uom_qty / self.distribution_sync_channel_qty
        exact = quantity / per_channel_unit
        whole = float_round(exact, precision_rounding=1.0, rounding_method="UP")
        partial = float_compare(whole, exact, precision_digits=6) != 0
        return int(whole), partial
