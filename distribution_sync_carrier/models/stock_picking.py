# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from datetime import timezone
from decimal import Decimal

from odoo import fields, models
from odoo.exceptions import UserError

from odoo.addons.distribution_sync.core import tracking as core_tracking
from odoo.addons.distribution_sync.core.errors import SyncError, TransientError
from odoo.addons.distribution_sync.core.shipment import validate_shipment

from ..core import easypost
from ..core.client import PostageExists

LABEL_EXTENSIONS = {"PDF": "pdf", "PNG": "png", "ZPL": "zpl"}


class StockPicking(models.Model):
    _inherit = "stock.picking"

    distribution_sync_tracking_status = fields.Selection(
        list(core_tracking.STATUSES),
        string="Carrier status",
        copy=False,
        index=True,
        tracking=True,
    )
    distribution_sync_tracking_date = fields.Datetime(
        string="Carrier status date",
        copy=False,
        help="Time of the carrier scan that set the status.",
    )
    distribution_sync_tracking_message = fields.Char(
        string="Carrier message", copy=False
    )
    distribution_sync_tracking_event_ids = fields.One2many(
        "distribution.sync.tracking.event", "picking_id", string="Carrier scans"
    )
    distribution_sync_shipment_ids = fields.One2many(
        "distribution.sync.shipment", "picking_id", string="Carrier shipments"
    )

    def _distribution_sync_tracking(self):
        """With a label of ours: the carrier that carries it (``UPS``, which
        shops turn into their own tracking links) and its tracking page."""
        tracking = super()._distribution_sync_tracking()
        shipment = self.sudo().distribution_sync_shipment_ids.filtered(
            lambda s: s.state == "bought" and not s.is_return
        )[:1]
        if shipment:
            tracking["company"] = shipment.carrier or tracking["company"]
            tracking["url"] = shipment.public_url or tracking["url"]
        return tracking

    # ------------------------------------------------------------------ labels
    def _distribution_sync_to_label(self, backend):
        """The validated deliveries of ``self`` whose label ``backend`` buys."""
        return self.filtered(
            lambda p: (
                p.picking_type_code == "outgoing"
                and p.carrier_id.delivery_type == "distribution_sync"
                and p.carrier_id.distribution_sync_backend_id == backend
                and not p.carrier_tracking_ref
            )
        )

    def _distribution_sync_queue_label(self, backend, is_return=False):
        """Queue the creation of this picking's shipments (then their buy);
        asking twice queues nothing more."""
        self.ensure_one()
        return backend._push(
            self,
            "shipment/create",
            {"picking": self.name, "is_return": bool(is_return)},
            "shipment",
            key=f"carrier:create:{self.id}:{int(bool(is_return))}",
            work_key=f"stock.picking:{self.id}",
        )

    def send_to_shipper(self):
        """Odoo asks for the label when a delivery is validated: with a
        carrier backend it is bought by the picking's jobs, not in the click."""
        self.ensure_one()
        if (
            self.carrier_id.delivery_type == "distribution_sync"
            and not self.env.context.get("distribution_sync_send")
        ):
            try:
                backend = self.carrier_id._distribution_sync_backend()
            except SyncError as exc:
                raise UserError(str(exc)) from exc
            self._distribution_sync_queue_label(backend)
            return None
        return super().send_to_shipper()

    def _distribution_sync_weight_kg(self, weight):
        uom = self.env["product.template"]._get_weight_uom_id_from_ir_config_parameter()
        kg = self.env.ref("uom.product_uom_kgm")
        return uom._compute_quantity(weight, kg, round=False) if uom != kg else weight

    def _distribution_sync_parcels(self):
        """``[(parcel_key, package, weight in kg)]``: one parcel per package
        of the delivery, or the whole delivery when nothing is packed."""
        self.ensure_one()
        parcels = []
        packages = self.move_line_ids.result_package_id
        for package in packages.sorted("id"):
            lines = self.move_line_ids.filtered(
                lambda ml, p=package: ml.result_package_id == p
            )
            weight = package.shipping_weight or sum(
                ml.product_id.weight
                * ml.product_uom_id._compute_quantity(ml.quantity, ml.product_id.uom_id)
                for ml in lines
            ) + (package.package_type_id.base_weight or 0.0)
            parcels.append(
                (
                    f"package:{package.id}",
                    package,
                    self._distribution_sync_weight_kg(weight),
                )
            )
        unpacked = self.move_line_ids.filtered(lambda ml: not ml.result_package_id)
        if unpacked or not parcels:
            weight = (
                self.shipping_weight
                if not parcels and self.shipping_weight
                else sum(
                    ml.product_id.weight
                    * ml.product_uom_id._compute_quantity(
                        ml.quantity, ml.product_id.uom_id
                    )
                    for ml in unpacked
                )
            )
            if not self.move_line_ids:
                weight = self._get_estimated_weight()
            parcels.append(
                (
                    "picking",
                    self.env["stock.quant.package"],
                    self._distribution_sync_weight_kg(weight),
                )
            )
        return parcels

    @staticmethod
    def _distribution_sync_address(partner):
        return {
            "name": partner.name or "",
            "company": partner.commercial_partner_id.name
            if partner.commercial_partner_id != partner
            else "",
            "street": partner.street or "",
            "street2": partner.street2 or "",
            "city": partner.city or "",
            "state": partner.state_id.code or "",
            "zip": partner.zip or "",
            "country": partner.country_id.code or "",
            "phone": partner.phone or partner.mobile or "",
            "email": partner.email or "",
        }

    def _distribution_sync_origin(self):
        warehouse = self.picking_type_id.warehouse_id
        return warehouse.partner_id or self.company_id.partner_id

    def _prepare_distribution_sync_request(self, backend, weight_kg, is_return, key):
        """The canonical shipment request of one parcel of this picking."""
        origin = self._distribution_sync_address(self._distribution_sync_origin())
        customer = self._distribution_sync_address(self.partner_id)
        return {
            "reference": f"{self.name}/{key}",
            "is_return": bool(is_return),
            "label_format": backend.carrier_label_format or "PDF",
            # A return label carries the parcel from the customer back.
            "from_address": customer if is_return else origin,
            "to_address": origin if is_return else customer,
            "parcel": {"weight_kg": Decimal(str(round(weight_kg, 4)))},
        }

    def _distribution_sync_order_request(self, order, carrier):
        """The canonical shipment request of a sale order, to rate it."""
        weight = sum(
            line.product_id.weight
            * line.product_uom._compute_quantity(
                line.product_uom_qty, line.product_id.uom_id
            )
            for line in order.order_line
            if not line.is_delivery and line.product_id
        )
        warehouse = order.warehouse_id
        origin = warehouse.partner_id or order.company_id.partner_id
        return {
            "reference": order.name,
            "is_return": False,
            "label_format": "PDF",
            "from_address": self._distribution_sync_address(origin),
            "to_address": self._distribution_sync_address(order.partner_shipping_id),
            "parcel": {
                "weight_kg": Decimal(
                    str(round(self._distribution_sync_weight_kg(weight), 4))
                )
            },
        }

    def _distribution_sync_service(self, backend):
        carrier = self.carrier_id
        if (
            carrier.delivery_type == "distribution_sync"
            and carrier.distribution_sync_service
        ):
            return carrier.distribution_sync_service
        raise SyncError(
            self.env._(
                "The delivery method of %s names no carrier service.", self.name
            ),
            hint=self.env._(
                "Set the carrier service (e.g. USPS/Priority) on the delivery method, "
                "then retry."
            ),
        )

    def _distribution_sync_create_rows(self, backend, is_return=False):
        """Create at the carrier the shipments this picking lacks (one per
        parcel) and record them; nothing is bought here. Every problem a
        person must fix is raised before the first shipment is created."""
        self.ensure_one()
        shipments = self.env["distribution.sync.shipment"].sudo()
        existing = set(
            shipments.search(
                [("picking_id", "=", self.id), ("is_return", "=", bool(is_return))]
            ).mapped("parcel_key")
        )
        service = self._distribution_sync_service(backend)
        todo = []
        problems = []
        for key, package, weight in self._distribution_sync_parcels():
            if key in existing:
                continue
            request = self._prepare_distribution_sync_request(
                backend, weight, is_return, key
            )
            for problem in validate_shipment(request):
                if problem not in problems:
                    problems.append(problem)
            todo.append((key, package, weight, request))
        if problems:
            raise SyncError(
                self.env._(
                    "%(picking)s cannot be shipped yet: %(problems)s",
                    picking=self.name,
                    problems=" ".join(problems),
                ),
                hint=self.env._(
                    "Fix the weights or the addresses, then retry: nothing was bought."
                ),
            )
        client = backend._easypost_client()
        created = shipments
        for key, package, weight, request in todo:
            data = easypost.parse_shipment(
                client.create_shipment(easypost.shipment_request(request))
            )
            rate = easypost.select_rate(data["rates"], service)
            created |= shipments.create(
                self._prepare_distribution_sync_shipment_vals(
                    backend, key, package, weight, is_return, data, rate
                )
            )
        return created

    def _prepare_distribution_sync_shipment_vals(
        self, backend, key, package, weight, is_return, data, rate
    ):
        currency = self.env["res.currency"].search(
            [("name", "=", rate.get("currency") or "USD")], limit=1
        )
        return {
            "backend_id": backend.id,
            "picking_id": self.id,
            "package_id": package.id or False,
            "parcel_key": key,
            "is_return": bool(is_return),
            "external_id": data["id"],
            "carrier": rate.get("carrier"),
            "service": rate.get("service"),
            "quoted_amount": float(rate["rate"]),
            "currency_id": currency.id,
            "weight_kg": weight,
        }

    def _distribution_sync_create_shipments(self, backend, payload):
        """Job of ``shipment/create``: record the shipments, then queue their
        buy in a job of its own (the shipments are then safely stored)."""
        self.ensure_one()
        is_return = bool(payload.get("is_return"))
        created = self._distribution_sync_create_rows(backend, is_return)
        shipments = self.distribution_sync_shipment_ids.filtered(
            lambda s: s.is_return == is_return
        )
        if shipments and not is_return:
            self.env["distribution.sync.binding"]._bind(
                backend, self, shipments.sorted("id")[0].external_id
            )
        backend._push(
            self,
            "shipment/buy",
            {"picking": self.name, "is_return": is_return},
            "shipment",
            key=f"carrier:buy:{self.id}:{int(is_return)}",
            work_key=f"stock.picking:{self.id}",
        )
        return {
            "external_id": shipments[:1].external_id,
            "summary": self.env._(
                "%(count)s shipment(s) created for %(picking)s; the label is "
                "bought next.",
                count=len(created),
                picking=self.name,
            ),
        }

    def _distribution_sync_buy(self, backend, payload=None):
        """Job of ``shipment/buy``: Odoo's send-to-shipper for deliveries
        (tracking number, shipping cost on the order, chatter), the return
        label for returns."""
        self.ensure_one()
        is_return = bool((payload or {}).get("is_return"))
        if is_return or self.carrier_id.delivery_type != "distribution_sync":
            result = self._distribution_sync_send(backend, is_return=is_return)
            if result["tracking_number"] and not self.carrier_tracking_ref:
                self.with_context(
                    distribution_sync_send=True
                ).carrier_tracking_ref = result["tracking_number"]
        else:
            self.with_context(distribution_sync_send=True).send_to_shipper()
        bought = self.distribution_sync_shipment_ids.filtered(
            lambda s: s.state == "bought" and s.is_return == is_return
        )
        return {
            "summary": self.env._(
                "Label(s) %(codes)s for %(picking)s.",
                codes=", ".join(bought.mapped("tracking_code")),
                picking=self.name,
            )
        }

    def _distribution_sync_send(self, backend, is_return=False):
        """Buy what is not bought of this picking's shipments (creating them
        first when called outside the jobs). Each shipment is read back
        before it is bought: one bought by an attempt whose answer was lost
        is recorded, never bought again."""
        self.ensure_one()
        shipments = (
            self.env["distribution.sync.shipment"]
            .sudo()
            .search(
                [
                    ("picking_id", "=", self.id),
                    ("is_return", "=", bool(is_return)),
                    ("state", "in", ("created", "bought")),
                ]
            )
        )
        if not shipments:
            shipments = self._distribution_sync_create_rows(backend, is_return)
        client = backend._easypost_client()
        for shipment in shipments.filtered(lambda s: s.state == "created"):
            data = easypost.parse_shipment(client.get_shipment(shipment.external_id))
            if not data["bought"]:
                rate = easypost.select_rate(
                    data["rates"],
                    self._distribution_sync_service(backend)
                    if not shipment.service
                    else f"{shipment.carrier}/{shipment.service}",
                )
                try:
                    data = easypost.parse_shipment(
                        client.buy_shipment(shipment.external_id, rate["id"])
                    )
                except PostageExists:
                    data = easypost.parse_shipment(
                        client.get_shipment(shipment.external_id)
                    )
            self._distribution_sync_record_label(backend, client, shipment, data)
        bought = shipments.filtered(lambda s: s.state == "bought")
        return {
            "exact_price": sum(
                self.carrier_id._distribution_sync_company_amount(
                    s.quoted_amount, s.currency_id.name, self.company_id
                )
                for s in bought
            ),
            "tracking_number": ",".join(bought.mapped("tracking_code")) or False,
        }

    def _distribution_sync_record_label(self, backend, client, shipment, data):
        """Store what the buy gave: tracking, postage charged, the label."""
        if not data["bought"]:
            raise TransientError(
                self.env._(
                    "EasyPost has no label for shipment %s yet.", shipment.external_id
                )
            )
        attachment = self.env["ir.attachment"]
        if data.get("label_url"):
            content, _content_type = client.download(data["label_url"])
            label_format = data.get("label_format") or backend.carrier_label_format
            prefix = (
                self.carrier_id.get_return_label_prefix()
                if shipment.is_return
                else self.carrier_id._get_delivery_label_prefix()
            )
            attachment = attachment.create(
                {
                    "name": f"{prefix}-{data['tracking_code'] or shipment.external_id}."
                    f"{LABEL_EXTENSIONS.get(label_format, 'pdf')}",
                    "raw": content,
                    "res_model": "stock.picking",
                    "res_id": self.id,
                }
            )
        shipment.write(
            {
                "state": "bought",
                "tracking_code": data.get("tracking_code"),
                "tracker_ref": data.get("tracker_id"),
                "public_url": data.get("public_url"),
                "carrier": data.get("carrier") or shipment.carrier,
                "service": data.get("service") or shipment.service,
                "quoted_amount": float(data["rate"])
                if data.get("rate") is not None
                else shipment.quoted_amount,
                "charged_amount": float(data.get("fees_total") or 0),
                "label_attachment_id": attachment.id or False,
                "label_format": data.get("label_format"),
                "bought_date": fields.Datetime.now(),
            }
        )

    def _distribution_sync_refund(self, backend, payload):
        """Ask the carrier to refund the unused labels of this picking."""
        self.ensure_one()
        client = backend._easypost_client()
        shipments = self.sudo().distribution_sync_shipment_ids.filtered(
            lambda s: s.state == "bought" and s.backend_id == backend
        )
        for shipment in shipments:
            client.refund_shipment(shipment.external_id)
            shipment.state = "refund_requested"
        return {"summary": self.env._("Refund asked for %s label(s).", len(shipments))}

    # ---------------------------------------------------------------- tracking
    def write(self, vals):
        if "carrier_tracking_ref" not in vals:
            return super().write(vals)
        before = {picking.id: picking.carrier_tracking_ref for picking in self}
        res = super().write(vals)
        changed = self.filtered(lambda p: p.carrier_tracking_ref != before[p.id])
        if changed:
            if not self.env.context.get("distribution_sync_send"):
                changed._distribution_sync_track_typed()
            self.env["distribution.sync.backend"]._notify("tracking_changed", changed)
        return res

    def _distribution_sync_track_typed(self):
        """Give each tracking number typed by hand a tracker of the carrier
        backend that follows this delivery, so that its scans come in."""
        backends = self.env["distribution.sync.backend"]
        for picking in self.sudo().filtered("carrier_tracking_ref"):
            known = set(picking.distribution_sync_shipment_ids.mapped("tracking_code"))
            backend = backends._carrier_tracker_backend(picking)
            if not backend:
                continue
            for number in picking.carrier_tracking_ref.split(","):
                number = number.strip()
                if not number or number in known:
                    continue
                backend._push(
                    picking,
                    "tracker/create",
                    {
                        "tracking_code": number,
                        "carrier": backend._carrier_code(picking.carrier_id),
                    },
                    "shipment",
                    work_key=f"stock.picking:{picking.id}",
                )

    def _distribution_sync_find_tracked(self, backend, update):
        """The delivery a tracking update is about: by its shipment, else its
        tracker, else the tracking number of a delivery of the backend's
        company (newest first: carriers recycle numbers)."""
        shipments = self.env["distribution.sync.shipment"].sudo()
        for field, value in (
            ("external_id", update.get("shipment_id")),
            ("tracker_ref", update.get("tracker_id")),
        ):
            if value:
                found = shipments.search(
                    [("backend_id", "=", backend.id), (field, "=", value)], limit=1
                )
                if found:
                    return found.picking_id
        if update.get("shipment_id"):
            picking = self.env["distribution.sync.binding"]._find_record(
                backend, "stock.picking", update["shipment_id"]
            )
            if picking:
                return picking
        code = update.get("tracking_code")
        if not code:
            return self.browse()
        candidates = self.sudo().search(
            [
                ("company_id", "=", backend.company_id.id),
                ("carrier_tracking_ref", "ilike", code),
            ],
            order="id desc",
            limit=20,
        )
        return candidates.filtered(
            lambda p: code in [n.strip() for n in p.carrier_tracking_ref.split(",")]
        )[:1]

    def _distribution_sync_apply_tracking(self, backend, update, message):
        """Record the new carrier scans of ``update`` on this delivery and
        move its status to the newest one (never back); return a summary."""
        self.ensure_one()
        # Two trackers of one delivery (two packages) must not race.
        self.env.cr.execute(
            "SELECT id FROM stock_picking WHERE id = %s FOR NO KEY UPDATE", [self.id]
        )
        events = self.env["distribution.sync.tracking.event"].sudo()
        known = set(events.search([("picking_id", "=", self.id)]).mapped("scan_key"))
        new = [e for e in update["events"] if e["key"] not in known]
        events.create(
            [
                {
                    "picking_id": self.id,
                    "backend_id": backend.id,
                    "status": event["status"],
                    "status_detail": event.get("status_detail"),
                    "description": event.get("description"),
                    "event_time": event["event_time"].replace(tzinfo=None),
                    "location": event.get("location"),
                    "tracking_code": update.get("tracking_code"),
                    "scan_key": event["key"],
                }
                for event in new
            ]
        )
        shipments = self.sudo().distribution_sync_shipment_ids.filtered(
            lambda s: (
                s.tracking_code == update.get("tracking_code")
                or (update.get("tracker_id") and s.tracker_ref == update["tracker_id"])
            )
        )
        shipments._note_scans(update["events"])
        current_time = self.distribution_sync_tracking_date
        if current_time:
            current_time = current_time.replace(tzinfo=timezone.utc)
        moved = core_tracking.next_status(
            self.distribution_sync_tracking_status, current_time, update
        )
        if not moved:
            return self.env._(
                "%(count)s new scan(s); status stays %(status)s.",
                count=len(new),
                status=self.distribution_sync_tracking_status or "-",
            )
        status, when = moved
        old = self.distribution_sync_tracking_status
        self.sudo().write(
            {
                "distribution_sync_tracking_status": status,
                "distribution_sync_tracking_date": when.replace(tzinfo=None),
                "distribution_sync_tracking_message": (update.get("message") or "")[
                    :250
                ]
                or False,
            }
        )
        if status != old:
            self.env["distribution.sync.backend"]._notify("tracking_changed", self)
            if status in core_tracking.PROBLEM_STATUSES:
                self._distribution_sync_delivery_problem(backend, update, message)
            if status == "delivered":
                self._distribution_sync_delivered_after_all()
                if backend.carrier_invoice_on_delivery:
                    self._distribution_sync_invoice_on_delivery(backend, message)
        return self.env._(
            "%(count)s new scan(s); status %(status)s.", count=len(new), status=status
        )

    def _distribution_sync_delivery_problem(self, backend, update, message):
        label = dict(core_tracking.STATUSES)[update["status"]]
        backend._open_exception(
            "delivery",
            self.env._(
                "%(picking)s: the carrier reports %(status)s: %(text)s",
                picking=self.name,
                status=label.lower(),
                text=update.get("message") or update.get("status_detail") or "-",
            ),
            # Not the message's: its success would close it at once. It is
            # the picking's, until a person resolves it or the carrier
            # delivers after all.
            record=self,
            value=update.get("tracking_code"),
            hint=self.env._(
                "Call the customer or the carrier, then resolve this exception "
                "with what was agreed (reship, refund or return)."
            ),
            work_key=self._distribution_sync_problem_key(),
        )

    def _distribution_sync_problem_key(self):
        return f"stock.picking:{self.id}:delivery"

    def _distribution_sync_delivered_after_all(self):
        """The carrier delivered: its earlier delivery problem is over."""
        self.env["distribution.sync.exception"].sudo().search(
            [
                ("state", "=", "open"),
                ("work_key", "=", self._distribution_sync_problem_key()),
            ]
        )._close(
            "resolved",
            note=self.env._("Resolved automatically: the carrier delivered it."),
        )

    def _distribution_sync_invoice_on_delivery(self, backend, message):
        """Post the customer invoice of the delivered order (the draft one,
        else a new one for what is to invoice)."""
        order = self.sale_id
        if not order:
            return
        invoices = order.invoice_ids.filtered(
            lambda m: m.state == "draft" and m.move_type == "out_invoice"
        )
        try:
            with self.env.cr.savepoint():
                if not invoices and order.invoice_status == "to invoice":
                    invoices = order.sudo()._create_invoices()
                invoices.sudo().action_post()
        except UserError as exc:
            backend._open_exception(
                "validation",
                self.env._(
                    "%(order)s was delivered but its invoice could not be posted: "
                    "%(error)s",
                    order=order.name,
                    error=exc,
                ),
                record=order,
                hint=self.env._("Fix the invoice, then post it by hand."),
                work_key=f"sale.order:{order.id}:invoice_on_delivery",
            )
            return
        if invoices:
            self.message_post(
                body=self.env._(
                    "Delivered: invoice %s posted.", ", ".join(invoices.mapped("name"))
                )
            )
