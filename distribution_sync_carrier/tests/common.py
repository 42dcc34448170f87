# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import copy
import json
import socket
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from unittest import mock
from urllib.parse import urlsplit

from odoo.tests import new_test_user
from odoo.tests.common import _super_send

from odoo.addons.distribution_sync.tests.common import DistributionSyncCase

from .fake_easypost import FakeEasyPost

EASYPOST_KEY = "EZTK0123456789abcdef"
EASYPOST_SECRET = "sécret-for-tests"
SHIPPO_TOKEN = "shippo_test_0123456789abcdef"
SHIPPO_WEBHOOK_TOKEN = "shippo-url-token-for-tests"
LABEL_PREFIX = "LabelShipping-distribution_sync"
RETURN_PREFIX = "LabelReturn-distribution_sync"


def closed_port_url():
    """An API URL on a local port nobody listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v2"


def shippo_track_body(number, history, carrier="usps", transaction=None):
    """A Shippo ``track_updated`` body shaped like Shippo's test webhook:
    ``history`` is ``[(status, details, datetime)]`` oldest first, the last
    one being the current ``tracking_status``."""

    def status(index, item):
        code, details, when = item
        return {
            "location": {
                "country": "US",
                "zip": "94103",
                "state": "CA",
                "city": "San Francisco",
            },
            "substatus": None,
            "status_date": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "status_details": details,
            "status": code,
            "object_id": f"{number.lower()}{index:04d}",
            "object_updated": None,
            "object_created": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        }

    items = [status(index, item) for index, item in enumerate(history)]
    return {
        "metadata": "Shippo test webhook",
        "event": "track_updated",
        "data": {
            "test": True,
            "transaction": transaction,
            "tracking_history": copy.deepcopy(items),
            "tracking_status": items[-1],
            "metadata": None,
            "messages": [],
            "carrier": carrier,
            "tracking_number": number,
            "address_from": {"country": "US", "zip": "94103"},
            "address_to": {"country": "US", "zip": "90277"},
            "eta": None,
            "original_eta": None,
            "servicelevel": {"name": None, "token": "usps_priority"},
        },
        "carrier": "shippo",
        "test": True,
    }


class CarrierCase(DistributionSyncCase):
    """An EasyPost backend talking to a local fake EasyPost, a delivery
    method of that backend, a customer with a full address and products
    with weights; helpers to sell, validate and run the queued messages."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake = FakeEasyPost(api_key=EASYPOST_KEY, webhook_secret=EASYPOST_SECRET)
        cls.addClassCleanup(cls.fake.stop)
        cls.owner = new_test_user(
            cls.env,
            login="carrier_owner",
            groups="base.group_user,distribution_sync.group_distribution_sync_user",
        )
        cls.carrier_backend = cls.env["distribution.sync.backend"].create(
            {
                "name": "EasyPost test",
                "backend_type": "easypost",
                "api_url": cls.fake.url,
                "easypost_api_key": EASYPOST_KEY,
                "webhook_secret": EASYPOST_SECRET,
                "request_timeout": 5,
                "responsible_user_id": cls.owner.id,
            }
        )
        cls.ship_product = cls.env["product.product"].create(
            {
                "name": "UPS Ground (test)",
                "type": "service",
                "list_price": 0.0,
                "taxes_id": [(5, 0, 0)],
            }
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

    def setUp(self):
        super().setUp()
        # The fake serves the whole class: failures injected by a test never
        # leak into the next one, and counts are taken from this test on.
        self.addCleanup(self.fake.clear_failures)
        self.mark = len(self.fake.requests)

    # ------------------------------------------------------------------ fake
    def fake_requests(self, operation=None):
        """Requests the fake received during this test (of ``operation``)."""
        return [
            r
            for r in self.fake.requests[self.mark :]
            if operation is None or r["operation"] == operation
        ]

    def fake_count(self, operation):
        return len(self.fake_requests(operation))

    def patch_fake(self, **values):
        """Change attributes of the shared fake for this test only."""
        for name, value in values.items():
            self.addCleanup(setattr, self.fake, name, getattr(self.fake, name))
            setattr(self.fake, name, value)

    @contextmanager
    def short_timeouts(self):
        """Odoo's test harness raises request timeouts under 10 s to 10 s;
        the slow-answer tests need the backend's own timeout (local URLs
        only, as the harness allows)."""

        def send(cls, session, request, **kwargs):
            self.assertEqual(urlsplit(request.url).hostname, "127.0.0.1")
            return _super_send(session, request, **kwargs)

        with mock.patch.object(type(self), "_request_handler", classmethod(send)):
            yield

    def fake_shipment(self, shipment):
        """The fake's Shipment of a ``distribution.sync.shipment``."""
        return self.fake.shipments[shipment.external_id]

    # ------------------------------------------------------------------ data
    def weighed_product(self, name="Box of nuts", weight=1.0, **values):
        product = self.env["product.product"].create(
            dict(
                {
                    "name": name,
                    "is_storable": True,
                    "type": "consu",
                    "weight": weight,
                    "list_price": 10.0,
                    "taxes_id": [(5, 0, 0)],
                },
                **values,
            )
        )
        self.env["stock.quant"]._update_available_quantity(
            product, self.warehouse.lot_stock_id, 1000
        )
        return product

    def make_customer(self, **values):
        return self.customer.copy(dict({"name": "Other Receiver"}, **values))

    def make_method(self, service, **values):
        """Another delivery method of the test backend, for ``service``."""
        return self.delivery_method.copy(
            dict(
                {"name": f"{service} (test)", "distribution_sync_service": service},
                **values,
            )
        )

    def open_exceptions(self, record=None, category=None, backend=None):
        domain = [
            ("backend_id", "=", (backend or self.carrier_backend).id),
            ("state", "=", "open"),
        ]
        if record is not None:
            domain += [("res_model", "=", record._name), ("res_id", "=", record.id)]
        if category:
            domain.append(("category", "=", category))
        return self.exceptions.search(domain)

    def labels(self, picking, prefix=LABEL_PREFIX):
        return self.env["ir.attachment"].search(
            [
                ("res_model", "=", "stock.picking"),
                ("res_id", "=", picking.id),
                ("name", "=like", f"{prefix}%"),
            ]
        )

    def tracker(self, picking):
        """The carrier tracker id of the (single) label of ``picking``."""
        shipment = picking.distribution_sync_shipment_ids.filtered(
            lambda s: s.state == "bought" and not s.is_return
        )
        self.assertEqual(len(shipment), 1)
        return shipment.tracker_ref

    @staticmethod
    def later(hours=1):
        """An aware UTC time ``hours`` from now (carrier scans of the test)."""
        return datetime.now(timezone.utc) + timedelta(hours=hours)

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
                .with_context(**result["context"])
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

    def put_in_pack(self, picking, move_lines, shipping_weight=None):
        """Pack ``move_lines`` as a person does from the delivery (Put in
        Pack, then the package wizard of the delivery method); return the
        package."""
        move_lines.picked = True
        action = picking.action_put_in_pack()
        self.assertEqual(action["res_model"], "choose.delivery.package")
        values = {}
        if shipping_weight is not None:
            values["shipping_weight"] = shipping_weight
        wizard = (
            self.env["choose.delivery.package"]
            .with_context(**action["context"])
            .create(values)
        )
        wizard.action_put_in_pack()
        package = move_lines.result_package_id
        self.assertEqual(len(package), 1)
        return package

    def validate_packed(self, picking):
        """Validate a delivery whose move lines are set already (packed)."""
        picking.move_ids.picked = True
        picking.with_context(skip_backorder=True).button_validate()
        self.assertEqual(picking.state, "done")
        return picking

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
