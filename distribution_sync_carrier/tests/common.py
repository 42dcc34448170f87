# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import json

from odoo.addons.distribution_sync.tests.common import DistributionSyncCase

from .fake_easypost import FakeEasyPost

EASYPOST_KEY = "EZTK0123456789abcdef"
EASYPOST_SECRET = "sécret-for-tests"


class CarrierCase(DistributionSyncCase):
    """An EasyPost backend talking to a local fake EasyPost, a delivery
    method of that backend, a customer with a full address and products
    with weights; helpers to sell, validate and run the queued messages."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake = FakeEasyPost(api_key=EASYPOST_KEY, webhook_secret=EASYPOST_SECRET)
        cls.addClassCleanup(cls.fake.stop)
        cls.carrier_backend = cls.env["distribution.sync.backend"].create(
            {
                "name": "EasyPost test",
                "backend_type": "easypost",
                "api_url": cls.fake.url,
                "easypost_api_key": EASYPOST_KEY,
                "webhook_secret": EASYPOST_SECRET,
                "request_timeout": 5,
            }
        )
        cls.ship_product = cls.env["product.product"].create(
            {"name": "UPS Ground (test)", "type": "service", "list_price": 0.0}
        )
        cls.delivery_method = cls.env["delivery.carrier"].create(
            {
                "name": "UPS Ground (EasyPost test)",
                "delivery_type": "distribution_sync",
                "product_id": cls.ship_product.id,
                "distribution_sync_backend_id": cls.carrier_backend.id,
                "distribution_sync_service": "UPS/Ground",
            }
        )
        us = cls.env.ref("base.us")
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.env.company.id)], limit=1
        )
        cls.warehouse.partner_id.write(
            {
                "street": "417 Montgomery Street",
                "city": "San Francisco",
                "zip": "94104",
                "state_id": cls.env.ref("base.state_us_5").id,
                "country_id": us.id,
                "phone": "4155559999",
            }
        )
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Dana Receiver",
                "street": "179 N Harbor Dr",
                "city": "Redondo Beach",
                "zip": "90277",
                "state_id": cls.env.ref("base.state_us_5").id,
                "country_id": us.id,
                "email": "dana@example.com",
            }
        )
        cls.heavy = cls.env["product.product"].create(
            {
                "name": "Crate of bolts",
                "default_code": "DS-CRATE",
                "is_storable": True,
                "type": "consu",
                "weight": 2.5,
                "list_price": 40.0,
                "taxes_id": [(5, 0, 0)],
            }
        )
        cls.env["stock.quant"]._update_available_quantity(
            cls.heavy, cls.warehouse.lot_stock_id, 1000
        )

    # ------------------------------------------------------------------ flow
    def sell(self, quantity=2, product=None, partner=None, carrier=None):
        """A confirmed sale order shipped with ``carrier`` (the test method)."""
        order = self.env["sale.order"].create(
            {
                "partner_id": (partner or self.customer).id,
                "carrier_id": (carrier or self.delivery_method).id,
                "order_line": [
                    (
                        0,
                        0,
                        {
                            "product_id": (product or self.heavy).id,
                            "product_uom_qty": quantity,
                        },
                    )
                ],
            }
        )
        order.action_confirm()
        return order

    def delivery_of(self, order):
        return order.picking_ids.filtered(
            lambda p: p.picking_type_code == "outgoing" and p.state != "cancel"
        ).sorted("id")[-1]

    def validate(self, picking, quantities=None):
        """Validate ``picking``, in full or with ``quantities`` per product
        (the rest goes to a backorder)."""
        picking.action_assign()
        for move in picking.move_ids:
            move.quantity = (quantities or {}).get(
                move.product_id, move.product_uom_qty
            )
        result = picking.with_context(skip_backorder=not quantities).button_validate()
        if (
            isinstance(result, dict)
            and result.get("res_model") == "stock.backorder.confirmation"
        ):
            wizard = (
                self.env["stock.backorder.confirmation"]
                .with_context(result["context"])
                .create({})
            )
            wizard.process()
        return picking

    def carrier_messages(self, picking=None, topic=None, states=None):
        domain = [("backend_id", "=", self.carrier_backend.id)]
        if picking:
            domain += [("res_model", "=", "stock.picking"), ("res_id", "=", picking.id)]
        if topic:
            domain.append(("topic", "=", topic))
        if states:
            domain.append(("state", "in", states))
        return self.messages.search(domain, order="id")

    def run_carrier_jobs(self, picking=None, rounds=4):
        """Run the open outbound messages of the carrier backend (the buy is
        queued by the create job), as the job runner would."""
        for _round in range(rounds):
            todo = self.carrier_messages(picking, states=("received", "queued"))
            if not todo:
                break
            for message in todo:
                self.process(message)
        return self.carrier_messages(picking)

    def ship_and_label(self, order=None, **kwargs):
        order = order or self.sell(**kwargs)
        picking = self.validate(self.delivery_of(order))
        self.run_carrier_jobs(picking)
        return picking

    # -------------------------------------------------------------- webhooks
    def post_tracker_event(self, tracker_id, event_id=None, backend=None):
        """Store an EasyPost tracker event as the route does; return the message."""
        body, headers = self.fake.tracker_event(tracker_id, event_id=event_id)
        backend = backend or self.carrier_backend
        self.assertTrue(backend._call("webhook_verify", body, headers, {}))
        message, _is_new = backend._store_webhook(body, headers, json.loads(body))
        return message

    def receive_tracker_event(self, tracker_id, event_id=None):
        return self.process(self.post_tracker_event(tracker_id, event_id))
