# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.distribution_sync.core.errors import SyncError
from odoo.addons.distribution_sync.core.shipment import validate_shipment

from ..core import easypost


class DeliveryCarrier(models.Model):
    """The ``distribution_sync`` shipping provider: one for every carrier
    backend. ``distribution_sync_backend_id`` is the backend that buys the
    labels and ``distribution_sync_service`` the carrier and service bought
    (``USPS/Priority``). The provider methods dispatch to the backend's type
    (``_<type>_...`` of ``stock.picking`` and this model)."""

    _inherit = "delivery.carrier"

    delivery_type = fields.Selection(
        selection_add=[("distribution_sync", "Distribution Sync carrier")],
        ondelete={
            "distribution_sync": lambda carriers: carriers.write(
                {"delivery_type": "fixed", "fixed_price": 0}
            )
        },
    )
    distribution_sync_backend_id = fields.Many2one(
        "distribution.sync.backend",
        string="Carrier backend",
        domain=[("backend_type", "=", "easypost")],
        ondelete="restrict",
        help="The carrier backend that rates shipments and buys the labels.",
    )
    distribution_sync_service = fields.Char(
        string="Carrier service",
        help="Carrier and service to buy, as the carrier backend names them, "
        "e.g. USPS/Priority or UPS/Ground.",
    )

    @api.depends("delivery_type")
    def _compute_can_generate_return(self):
        res = super()._compute_can_generate_return()
        for carrier in self.filtered(lambda c: c.delivery_type == "distribution_sync"):
            carrier.can_generate_return = True
        return res

    def _distribution_sync_backend(self):
        self.ensure_one()
        backend = self.distribution_sync_backend_id.sudo()
        if not backend or not backend.active:
            raise SyncError(
                self.env._(
                    "The delivery method %s has no active carrier backend.", self.name
                ),
                hint=self.env._("Choose its carrier backend, then retry."),
            )
        return backend

    # ---------------------------------------------------------- provider API
    def distribution_sync_rate_shipment(self, order):
        """Odoo's "get rate": the price of this method's service for the
        order's weight and delivery address, in the company's currency."""
        self.ensure_one()
        try:
            backend = self._distribution_sync_backend()
            request = self.env["stock.picking"]._distribution_sync_order_request(
                order, self
            )
            problems = validate_shipment(request)
            if problems:
                raise SyncError(" ".join(problems))
            shipment = easypost.parse_shipment(
                backend._easypost_client().create_shipment(
                    easypost.shipment_request(request)
                )
            )
            rate = easypost.select_rate(
                shipment["rates"], self.distribution_sync_service or ""
            )
        except SyncError as exc:
            return {
                "success": False,
                "price": 0.0,
                "error_message": str(exc),
                "warning_message": False,
            }
        price = self._distribution_sync_company_amount(
            rate["rate"], rate.get("currency"), order.company_id
        )
        return {
            "success": True,
            "price": price,
            "error_message": False,
            "warning_message": False,
        }

    def _distribution_sync_company_amount(self, amount, currency_code, company):
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", currency_code or "USD")], limit=1)
        )
        amount = float(amount or 0)
        if currency and currency != company.currency_id:
            return currency._convert(
                amount, company.currency_id, company, fields.Date.context_today(self)
            )
        return amount

    def distribution_sync_send_shipping(self, pickings):
        """Buy the labels of ``pickings`` (one shipment per package): what is
        bought already is read back, never bought again. One
        ``{"exact_price", "tracking_number"}`` per picking."""
        self.ensure_one()
        backend = self._distribution_sync_backend()
        return [picking._distribution_sync_send(backend) for picking in pickings]

    def distribution_sync_get_tracking_link(self, picking):
        shipments = picking.distribution_sync_shipment_ids.filtered(
            lambda s: s.public_url and s.state == "bought"
        )
        return shipments[:1].public_url or False

    def distribution_sync_cancel_shipment(self, pickings):
        """Ask the carrier to refund the unused labels of ``pickings``."""
        self.ensure_one()
        try:
            backend = self._distribution_sync_backend()
            for picking in pickings:
                picking._distribution_sync_refund(backend, {})
        except SyncError as exc:
            raise UserError(str(exc)) from exc

    def distribution_sync_get_return_label(
        self, pickings, tracking_number=None, origin_date=None
    ):
        """Queue a return label for each return picking (EasyPost
        ``is_return``): the customer's address becomes the sender."""
        self.ensure_one()
        backend = self._distribution_sync_backend()
        for picking in pickings:
            picking._distribution_sync_queue_label(backend, is_return=True)
