# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import fields, models


class SaleOrder(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "distribution.sync.document.mixin"]

    distribution_sync_milestone_ids = fields.One2many(
        "distribution.sync.milestone",
        "sale_order_id",
        string="Sync milestones",
        groups="distribution_sync.group_distribution_sync_user",
    )
