# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL


class DistributionSyncShipment(models.Model):
    """One parcel sent through a carrier backend: the carrier's shipment,
    its label and what it cost.

    A row is written in the job that created the shipment at the carrier,
    before anything is bought (the buy is the next job): a buy that lost its
    answer finds the shipment here and reads it back instead of buying again.
    ``parcel_key`` (one per package of a picking) keeps one shipment per
    parcel; ``external_id`` is unique per backend.
    """

    _name = "distribution.sync.shipment"
    _description = "Carrier shipment"
    _order = "id desc"
    _rec_name = "tracking_code"

    backend_id = fields.Many2one(
        "distribution.sync.backend", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    picking_id = fields.Many2one(
        "stock.picking", required=True, ondelete="cascade", index=True
    )
    package_id = fields.Many2one("stock.quant.package", ondelete="set null")
    parcel_key = fields.Char(required=True)
    external_id = fields.Char(string="Carrier shipment", required=True, index=True)
    is_return = fields.Boolean(string="Return label")
    state = fields.Selection(
        [
            ("created", "Created"),
            ("bought", "Label bought"),
            ("refund_requested", "Refund requested"),
            ("refunded", "Refunded"),
        ],
        required=True,
        default="created",
        index=True,
    )
    carrier = fields.Char()
    service = fields.Char()
    tracking_code = fields.Char(index=True)
    tracker_ref = fields.Char(string="Carrier tracker", index=True)
    public_url = fields.Char(string="Tracking page")
    currency_id = fields.Many2one("res.currency")
    quoted_amount = fields.Monetary(
        string="Rate quoted", help="The rate Odoo chose when it bought the label."
    )
    charged_amount = fields.Monetary(
        string="Postage charged",
        help="What the carrier charged (its fees), for the carrier bill check.",
    )
    weight_kg = fields.Float(string="Weight (kg)", digits="Stock Weight")
    label_attachment_id = fields.Many2one("ir.attachment", ondelete="set null")
    label_format = fields.Char()
    bought_date = fields.Datetime(index=True)
    first_scan_date = fields.Datetime(
        help="Time of the first carrier scan after the label was created."
    )
    awaiting_scan = fields.Boolean(
        string="Awaiting first scan",
        compute="_compute_awaiting_scan",
        search="_search_awaiting_scan",
    )

    _sql_constraints = [
        (
            "external_uniq",
            "unique(backend_id, external_id)",
            "This carrier shipment is recorded already.",
        ),
        (
            "parcel_uniq",
            "unique(picking_id, parcel_key, is_return)",
            "This parcel has a shipment already.",
        ),
    ]

    @api.depends("state", "first_scan_date", "bought_date")
    def _compute_awaiting_scan(self):
        now = fields.Datetime.now()
        for shipment in self:
            hours = shipment.backend_id.carrier_scan_hours or 0
            shipment.awaiting_scan = bool(
                shipment.state == "bought"
                and not shipment.is_return
                and not shipment.first_scan_date
                and shipment.bought_date
                and shipment.bought_date + timedelta(hours=hours) <= now
            )

    def _search_awaiting_scan(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise NotImplementedError(operator)
        # One query, with each backend's own number of hours, on what is
        # written so far in this transaction.
        self.flush_model(
            ["state", "is_return", "first_scan_date", "bought_date", "backend_id"]
        )
        self.env["distribution.sync.backend"].flush_model(["carrier_scan_hours"])
        query = SQL(
            """(
            SELECT s.id FROM distribution_sync_shipment s
              JOIN distribution_sync_backend b ON b.id = s.backend_id
             WHERE s.state = 'bought' AND NOT COALESCE(s.is_return, false)
               AND s.first_scan_date IS NULL
               AND s.bought_date
                   + make_interval(hours => COALESCE(b.carrier_scan_hours, 0))
                   <= %s
            )""",
            fields.Datetime.now(),
        )
        positive = (operator == "=") == value
        return [("id", "in" if positive else "not in", query)]

    def _is_scan(self, status):
        """Whether a status proves the carrier has the parcel."""
        return status not in ("pre_transit", "unknown")

    def _note_scans(self, events):
        """Record the first carrier scan among ``events`` (canonical ones)."""
        scans = [e["event_time"] for e in events if self._is_scan(e["status"])]
        for shipment in self.filtered(lambda s: not s.first_scan_date):
            if scans:
                shipment.first_scan_date = min(scans).replace(tzinfo=None)

    def action_open_picking(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "stock.picking",
            "res_id": self.picking_id.id,
            "view_mode": "form",
        }
