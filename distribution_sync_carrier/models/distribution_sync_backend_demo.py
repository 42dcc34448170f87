# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import json
from pathlib import Path

from odoo import models
from odoo.exceptions import UserError

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "demo" / "samples"
# EasyPost's test tracking codes the bundled tracker events are about.
SAMPLE_CODES = ("EZ4000000004", "EZ5000000005")
SAMPLE_ORIGIN = "EasyPost sample"
SAMPLE_PRODUCT_CODE = "DS-PARCEL-SAMPLE"
SAMPLE_PARTNER_EMAIL = "parcel.sample@example.com"


class DistributionSyncBackend(models.Model):
    """The demo's sample tracking events: apart from the channel's code,
    which never depends on them."""

    _inherit = "distribution.sync.backend"  # pylint: disable=consider-merging-classes-inherited

    def action_carrier_load_samples(self):
        """Two done deliveries of this backend's delivery method, with
        EasyPost's test tracking numbers, and the bundled tracker events about
        them fed through the normal intake: once processed, one delivery is
        ``delivered`` with its scans, the other ``returned`` with a
        ``delivery`` exception.

        Sandbox EasyPost backends only (made-up customer and deliveries).
        Nothing is sent to EasyPost: the tracking numbers are written as a
        label purchase writes them, without registering trackers. A second
        call adds nothing.
        """
        self.check_access("write")
        self.ensure_one()
        if self.backend_type != "easypost" or self.environment != "sandbox":
            raise UserError(
                self.env._(
                    "Sample tracking events can only be loaded into an EasyPost "
                    "sandbox backend; %s is not one.",
                    self.name,
                )
            )
        # The samples are the backend's: whoever may configure it loads them,
        # with or without rights on deliveries and products.
        self.sudo().with_company(self.company_id)._carrier_sample_deliveries()
        loaded = self.env["distribution.sync.message"]
        for path in sorted(SAMPLES_DIR.glob("*.json")):
            body = path.read_bytes()
            headers = {"Content-Type": "application/json"}
            message, is_new = self._store_webhook(body, headers, json.loads(body))
            if is_new:
                loaded |= message
        loaded._enqueue()
        return self.action_open_messages()

    def _carrier_sample_deliveries(self):
        """The done sample delivery of this backend's delivery method for each
        of ``SAMPLE_CODES`` (made when missing): a customer with a US address,
        one parcel of a storable product with a weight. A tracker event finds
        the newest delivery of its tracking number in the company."""
        carrier = self.env["delivery.carrier"].search(
            [
                ("delivery_type", "=", "distribution_sync"),
                ("distribution_sync_backend_id", "=", self.id),
                ("company_id", "in", [self.company_id.id, False]),
            ],
            limit=1,
        )
        if not carrier:
            raise UserError(
                self.env._(
                    "%s has no delivery method: create one (delivery type "
                    "Distribution Sync carrier), then load the samples.",
                    self.name,
                )
            )
        warehouse = self.env["stock.warehouse"].search(
            [("company_id", "=", self.company_id.id)], limit=1
        )
        if not warehouse:
            raise UserError(
                self.env._("%s has no warehouse to ship from.", self.company_id.name)
            )
        pickings = self.env["stock.picking"]
        for code in SAMPLE_CODES:
            picking = pickings.search(
                [
                    ("company_id", "=", self.company_id.id),
                    ("picking_type_code", "=", "outgoing"),
                    ("carrier_id", "=", carrier.id),
                    ("carrier_tracking_ref", "=", code),
                ],
                limit=1,
            )
            pickings |= picking or self._carrier_sample_delivery(
                carrier, warehouse, code
            )
        return pickings

    def _carrier_sample_partner(self):
        partners = self.env["res.partner"]
        return partners.search(
            [("email", "=", SAMPLE_PARTNER_EMAIL)], limit=1
        ) or partners.create(
            {
                "name": "Sam Parcel (sample)",
                "email": SAMPLE_PARTNER_EMAIL,
                "street": "388 Townsend Street",
                "street2": "Apt 20",
                "city": "San Francisco",
                "zip": "94107",
                "state_id": self.env.ref("base.state_us_5").id,
                "country_id": self.env.ref("base.us").id,
            }
        )

    def _carrier_sample_product(self, warehouse):
        products = self.env["product.product"]
        product = products.search(
            [("default_code", "=", SAMPLE_PRODUCT_CODE)], limit=1
        ) or products.create(
            {
                "name": "Sample parcel (carrier demo)",
                "default_code": SAMPLE_PRODUCT_CODE,
                "type": "consu",
                "is_storable": True,
                "weight": 2.0,
                "sale_ok": False,
                "purchase_ok": False,
            }
        )
        if product.with_context(warehouse_id=warehouse.id).free_qty < 1:
            # Counted in, so that the sample delivery ships stock that exists.
            self.env["stock.quant"].with_context(inventory_mode=True).create(
                {
                    "product_id": product.id,
                    "location_id": warehouse.lot_stock_id.id,
                    "inventory_quantity": 1
                    + product.with_context(
                        location=warehouse.lot_stock_id.id
                    ).qty_available,
                }
            )._apply_inventory()
        return product

    def _carrier_sample_delivery(self, carrier, warehouse, code):
        """One done delivery of a sample parcel with tracking number ``code``."""
        product = self._carrier_sample_product(warehouse)
        picking_type = warehouse.out_type_id
        source = picking_type.default_location_src_id or warehouse.lot_stock_id
        destination = self.env.ref("stock.stock_location_customers")
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "partner_id": self._carrier_sample_partner().id,
                "carrier_id": carrier.id,
                "origin": f"{SAMPLE_ORIGIN} {code}",
                "location_id": source.id,
                "location_dest_id": destination.id,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": product.display_name,
                            "product_id": product.id,
                            "product_uom_qty": 1,
                            "product_uom": product.uom_id.id,
                            "location_id": source.id,
                            "location_dest_id": destination.id,
                        },
                    )
                ],
            }
        )
        picking.action_confirm()
        picking.action_assign()
        for move in picking.move_ids:
            move.write({"quantity": move.product_uom_qty, "picked": True})
        # As a label purchase writes it: no tracker is registered, and a
        # delivery that has a tracking number is not labelled again.
        picking.with_context(distribution_sync_send=True).carrier_tracking_ref = code
        picking.with_context(skip_sms=True, cancel_backorder=True)._action_done()
        return picking
