# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import fields, models


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    distribution_sync_line_ref = fields.Char(
        string="Channel line id",
        index="btree_not_null",
        copy=False,
        help="Id of the line in the channel, to match later refunds and fulfilments.",
    )
