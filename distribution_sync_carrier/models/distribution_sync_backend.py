# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import json

from odoo import api, fields, models

from odoo.addons.distribution_sync.core.errors import PayloadError, SyncError
from odoo.addons.distribution_sync.core.idempotency import body_key

from ..core import easypost, shippo
from ..core import topics as carrier_topics
from ..core.client import EasyPostClient

EASYPOST_URL = "https://api.easypost.com/v2"
SHIPPO_URL = "https://api.goshippo.com"
CARRIER_TYPES = ("easypost", "shippo")
# Outbound topics of a carrier backend (record: the picking).
TOPIC_CREATE = "shipment/create"
TOPIC_BUY = "shipment/buy"
TOPIC_REFUND = "shipment/refund"
TOPIC_TRACKER = "tracker/create"
TRACKER_TOPICS = ("tracker.created", "tracker.updated", "track_updated")


class DistributionSyncBackend(models.Model):
    """Carrier channels: ``easypost`` (labels and tracking) and ``shippo``
    (tracking of shipments labelled elsewhere).

    Labels: the ``distribution_sync`` delivery method of ``delivery.carrier``
    names the backend and the service to buy. A validated delivery queues
    ``shipment/create`` (checks, then one EasyPost shipment per package,
    recorded on ``distribution.sync.shipment``), whose job queues
    ``shipment/buy``: the shipment is read back before it is bought, so a
    buy whose answer was lost, or a retried job, never buys twice.

    Tracking: tracker webhooks (EasyPost: HMAC of the body; Shippo: the
    ``token`` of the webhook URL) become one ``distribution.sync.tracking.event``
    per carrier scan on the picking; its status follows the newest scan and
    never moves back (``core.tracking``); ``exception``/``returned`` open a
    ``delivery`` exception on the picking.
    """

    _inherit = "distribution.sync.backend"

    backend_type = fields.Selection(
        selection_add=[("easypost", "EasyPost"), ("shippo", "Shippo (tracking)")],
        ondelete={
            "easypost": lambda backends: backends._carrier_keep_on_uninstall(),
            "shippo": lambda backends: backends._carrier_keep_on_uninstall(),
        },
    )

    def _carrier_topic_labels(self):
        """Readable labels of the carrier topics, in the user's language."""
        return {
            key: self.env._(label) for key, label in carrier_topics.TOPIC_LABELS.items()
        }

    def _easypost_topic_labels(self):
        return self._carrier_topic_labels()

    def _shippo_topic_labels(self):
        return self._carrier_topic_labels()

    easypost_api_key = fields.Char(
        string="EasyPost API key",
        compute="_compute_secret_fields",
        inverse="_inverse_easypost_api_key",
        help="Stored encrypted, never shown again: type a new value to replace it.",
    )
    shippo_api_token = fields.Char(
        string="Shippo API token",
        compute="_compute_secret_fields",
        inverse="_inverse_shippo_api_token",
        help="Stored encrypted, never shown again: type a new value to replace it.",
    )
    easypost_api_key_set = fields.Boolean(
        compute="_compute_secret_fields", string="API key is set"
    )
    shippo_api_token_set = fields.Boolean(
        compute="_compute_secret_fields", string="API token is set"
    )
    carrier_label_format = fields.Selection(
        [("PDF", "PDF"), ("PNG", "PNG"), ("ZPL", "ZPL (thermal printers)")],
        string="Label format",
        default="PDF",
    )
    carrier_scan_hours = fields.Integer(
        string="First scan expected within (hours)",
        default=24,
        help="A label bought longer ago than this without any carrier scan is "
        "listed under Shipments awaiting the first scan.",
    )
    carrier_postage_tolerance = fields.Float(
        string="Postage tolerance",
        default=0.5,
        digits="Product Price",
        help="Reconciliation reports a label whose postage charged differs "
        "from the rate quoted by more than this amount.",
    )
    carrier_invoice_on_delivery = fields.Boolean(
        string="Invoice on delivery",
        help="Post the customer invoice of the order when the carrier reports "
        "the delivery delivered (for distributors who invoice on proof of "
        "delivery).",
    )
    carrier_track_other_shipments = fields.Boolean(
        string="Track shipments labelled elsewhere",
        default=True,
        help="A tracking number typed on a delivery of this company gets a "
        "tracker of this backend, so its scans arrive too.",
    )

    def _secret_fields(self):
        return super()._secret_fields() + ["easypost_api_key", "shippo_api_token"]

    def _inverse_easypost_api_key(self):
        self._inverse_secret("easypost_api_key")

    def _inverse_shippo_api_token(self):
        self._inverse_secret("shippo_api_token")

    @api.model_create_multi
    def create(self, vals_list):
        defaults = {"easypost": EASYPOST_URL, "shippo": SHIPPO_URL}
        for vals in vals_list:
            if vals.get("backend_type") in defaults and not vals.get("api_url"):
                vals["api_url"] = defaults[vals["backend_type"]]
        return super().create(vals_list)

    def _carrier_keep_on_uninstall(self):
        # As delivery.carrier providers fall back to "fixed": the backends,
        # their bindings and messages stay, archived.
        self.write({"backend_type": "generic", "active": False})

    # ------------------------------------------------------------------ verbs
    def _carrier_default_ownership(self):
        """Odoo owns every document; the carrier only reports tracking."""
        return [
            {"entity": row["entity"], "owner": "odoo"}
            for row in self._default_default_ownership()
        ]

    _easypost_default_ownership = _carrier_default_ownership
    _shippo_default_ownership = _carrier_default_ownership

    def _easypost_client(self):
        self.ensure_one()
        return EasyPostClient(
            self.api_url or EASYPOST_URL,
            self._get_secret("easypost_api_key") or "",
            timeout=self.request_timeout or 20,
        )

    def _shippo_client(self):
        self.ensure_one()
        return shippo.ShippoClient(
            self.api_url or SHIPPO_URL,
            self._get_secret("shippo_api_token") or "",
            timeout=self.request_timeout or 20,
        )

    def _easypost_credentials_set(self):
        # The API URL defaults to EasyPost's: the key is what is missing.
        return self.easypost_api_key_set

    def _shippo_credentials_set(self):
        return self.shippo_api_token_set

    def _easypost_test_connection(self):
        self._easypost_client().test_connection()
        return self.env._("Connected to EasyPost (%s mode).", self.environment)

    def _shippo_test_connection(self):
        self._shippo_client().test_connection()
        return self.env._("Connected to Shippo.")

    def _easypost_webhook_verify(self, body, headers, query=None):
        secret = self._get_secret("webhook_secret")
        return bool(secret) and easypost.verify_signature(secret, body, headers)

    def _shippo_webhook_verify(self, body, headers, query=None):
        secret = self._get_secret("webhook_secret")
        return bool(secret) and shippo.verify_token(secret, query or {})

    def _easypost_webhook_identity(self, body, headers, data):
        return self._carrier_identity(easypost.event_identity, body, data)

    def _shippo_webhook_identity(self, body, headers, data):
        return self._carrier_identity(shippo.event_identity, body, data)

    def _carrier_identity(self, identity, body, data):
        """The vendor's identity of an event; a body that is no event is still
        stored once (by its digest) and ends as an exception."""
        try:
            if not isinstance(data, dict):
                raise PayloadError(self.env._("The body is not a JSON object."))
            return identity(data)
        except PayloadError:
            return {"topic": "invalid", "idempotency_key": body_key(body)}

    def _easypost_process_message(self, message):
        return self._carrier_process_tracking(
            message, easypost.event_identity, easypost.parse_event
        )

    def _shippo_process_message(self, message):
        return self._carrier_process_tracking(
            message, shippo.event_identity, shippo.parse_track
        )

    def _carrier_process_tracking(self, message, identity, parse):
        try:
            data = json.loads(message.payload or "")
        except ValueError as exc:
            raise PayloadError(
                self.env._("The message body is not valid JSON: %s", exc)
            ) from exc
        if message.topic == "invalid":
            # Stored without an identity: say what is wrong with it.
            if not isinstance(data, dict):
                raise PayloadError(self.env._("The body is not a JSON object."))
            identity(data)
        if message.topic not in TRACKER_TOPICS:
            return {
                "state": "skipped",
                "summary": self.env._("%s events are not used.", message.topic),
            }
        # The vendor's parser gives a checked canonical update and says which
        # key of the body is wrong.
        update = parse(data)
        picking = self.env["stock.picking"]._distribution_sync_find_tracked(
            self, update
        )
        if not picking:
            return {
                "state": "skipped",
                "canonical": update,
                "summary": self.env._(
                    "No delivery with tracking number %s: stored, nothing to do.",
                    update["tracking_code"],
                ),
            }
        summary = picking._distribution_sync_apply_tracking(self, update, message)
        return {
            "state": "done",
            "res_model": "stock.picking",
            "res_id": picking.id,
            "canonical": update,
            "summary": summary,
        }

    # --------------------------------------------------------------- outbound
    def _easypost_push_record(self, message):
        picking = message._document()
        if picking._name != "stock.picking" or not picking:
            raise PayloadError(
                self.env._("The delivery of %s no longer exists.", message.display_name)
            )
        payload = json.loads(message.payload or "{}")
        if message.topic == TOPIC_CREATE:
            return picking._distribution_sync_create_shipments(self, payload)
        if message.topic == TOPIC_BUY:
            return picking._distribution_sync_buy(self, payload)
        if message.topic == TOPIC_REFUND:
            return picking._distribution_sync_refund(self, payload)
        if message.topic == TOPIC_TRACKER:
            return self._carrier_register_tracker(picking, payload)
        raise PayloadError(
            self.env._("Odoo does not send %s to EasyPost.", message.topic),
            value=message.topic,
        )

    def _shippo_push_record(self, message):
        picking = message._document()
        if message.topic != TOPIC_TRACKER or not picking:
            raise PayloadError(
                self.env._("Odoo does not send %s to Shippo.", message.topic),
                value=message.topic,
            )
        return self._carrier_register_tracker(
            picking, json.loads(message.payload or "{}")
        )

    def _carrier_register_tracker(self, picking, payload):
        """Register the tracking number typed on ``picking`` with the
        carrier, so that its scans come in as webhooks."""
        number, carrier = payload.get("tracking_code"), payload.get("carrier")
        if self.backend_type == "shippo":
            if not carrier:
                raise SyncError(
                    self.env._(
                        "Shippo needs the carrier of tracking number %s.", number
                    ),
                    value=number,
                    hint=self.env._(
                        "Add a carrier mapping for the delivery method, then retry."
                    ),
                )
            self._shippo_client().register_track(carrier, number, metadata=picking.name)
            return {"summary": self.env._("Shippo tracks %s.", number)}
        tracker = self._easypost_client().create_tracker(number, carrier)
        return {
            "external_id": tracker.get("id"),
            "summary": self.env._(
                "EasyPost tracker %(id)s for %(number)s.",
                id=tracker.get("id"),
                number=number,
            ),
        }

    # ---------------------------------------------------------- document events
    def _easypost_on_delivery_validated(self, pickings):
        """Queue the label of each validated delivery shipped with a delivery
        method of this backend."""
        for picking in pickings._distribution_sync_to_label(self):
            picking._distribution_sync_queue_label(self)

    @api.model
    def _carrier_tracker_backend(self, picking):
        """The backend that tracks ``picking``'s typed tracking number: its
        delivery method's, else the first carrier backend of its company that
        tracks shipments labelled elsewhere."""
        carrier = picking.carrier_id
        if carrier.delivery_type == "distribution_sync" and (
            carrier.distribution_sync_backend_id.active
        ):
            return carrier.distribution_sync_backend_id
        return self.sudo().search(
            [
                ("backend_type", "in", CARRIER_TYPES),
                ("company_id", "=", picking.company_id.id),
                ("carrier_track_other_shipments", "=", True),
            ],
            limit=1,
            order="sequence, id",
        )

    # ------------------------------------------------------------------ actions
    def action_open_awaiting_scan(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "distribution_sync_carrier.action_distribution_sync_shipment_awaiting"
        )
        action["domain"] = [("backend_id", "=", self.id), ("awaiting_scan", "=", True)]
        return action

    def _carrier_code(self, delivery_carrier):
        """The carrier's code of an Odoo delivery method (``UPS``): a
        ``carrier`` mapping whose Odoo code is the method's name, else the
        carrier part of its service; ``None`` lets the carrier guess."""
        self.ensure_one()
        if not delivery_carrier:
            return None
        mapping = (
            self.env["distribution.sync.mapping"]
            .sudo()
            .search(
                [
                    ("mapping_type", "=", "carrier"),
                    ("backend_id", "in", [self.id, False]),
                    ("odoo_code", "=ilike", delivery_carrier.name),
                ],
                order="backend_id desc nulls last, id",
                limit=1,
            )
        )
        if mapping:
            return mapping.external_code
        service = delivery_carrier.distribution_sync_service or ""
        return service.split("/", 1)[0].strip() or None
