# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import api, models


class DistributionSyncImporter(models.AbstractModel):
    """What differs for Shopify documents; refunds become credit notes through
    the core's ``_import_credit_note`` (``core.refund_mapper`` gives the
    canonical refund, Shopify's line ids are the order lines' channel ids)."""

    _inherit = "distribution.sync.importer"

    @api.model
    def _find_product(self, backend, table, line):
        """Shopify line items carry no barcode: many shops key their products
        by it, so an SKU that is no internal reference is also tried as a
        barcode (before the mapping table)."""
        if backend.backend_type == "shopify" and line.get("sku"):
            line = dict(line, barcode=line.get("barcode") or line["sku"])
        return super()._find_product(backend, table, line)
