# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import fields, models


class DistributionSyncShopifyLocation(models.Model):
    """One Shopify location fed with the stock of one Odoo warehouse
    (rows are typed in or read from the shop with "Fetch locations")."""

    _name = "distribution.sync.shopify.location"
    _description = "Distribution Sync Shopify Location"
    _order = "backend_id, id"

    backend_id = fields.Many2one(
        "distribution.sync.backend", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        related="backend_id.company_id", store=True, index=True
    )
    shopify_location_id = fields.Char(
        string="Shopify location",
        required=True,
        help="Numeric id or GraphQL id (gid://shopify/Location/...) of the "
        "Shopify location.",
    )
    name = fields.Char()
    warehouse_id = fields.Many2one(
        "stock.warehouse",
        ondelete="restrict",
        check_company=True,
        help="The free quantity of this warehouse is the location's available "
        "stock in Shopify. A location without one (e.g. just fetched from "
        "Shopify) gets no stock until it is set.",
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        (
            "location_uniq",
            "unique(backend_id, shopify_location_id)",
            "This Shopify location is already mapped for this backend.",
        ),
    ]

    def write(self, vals):
        res = super().write(vals)
        if not self.env.su:
            # Record rules are checked before a write, not after it: nobody
            # moves a location into a company they do not work in.
            self.check_access("write")
        return res
