# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import models


class StockPicking(models.Model):
    _name = "stock.picking"
    _inherit = ["stock.picking", "distribution.sync.document.mixin"]

    def _distribution_sync_tracking(self):
        """``{"number", "url", "company"}`` of this delivery's shipment: its
        tracking reference and link and its carrier's name when
        ``stock_delivery`` is installed (each falsy when unknown), else all
        None. Carrier addons may extend it; channels send what it says."""
        self.ensure_one()
        own_fields = self._fields
        carrier = self["carrier_id"] if "carrier_id" in own_fields else None
        return {
            "number": self["carrier_tracking_ref"]
            if "carrier_tracking_ref" in own_fields
            else None,
            "url": self["carrier_tracking_url"]
            if "carrier_tracking_url" in own_fields
            else None,
            "company": carrier.name if carrier else None,
        }

    def _action_done(self):
        res = super()._action_done()
        self.env["distribution.sync.backend"]._notify(
            "delivery_validated",
            self.filtered(
                lambda p: p.state == "done" and p.picking_type_code == "outgoing"
            ),
        )
        return res
