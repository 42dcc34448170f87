# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import json
from datetime import datetime, timedelta, timezone

from odoo.tests import tagged

from .common import LABEL_PREFIX, CarrierCase


@tagged("post_install", "-at_install")
class TestLabelFlow(CarrierCase):
    """A validated delivery gets one label, bought once, attached, tracked."""

    def test_validated_delivery_gets_its_label_once(self):
        picking = self.ship_and_label()
        shipment = picking.distribution_sync_shipment_ids
        self.assertEqual(len(shipment), 1)
        self.assertEqual(shipment.state, "bought")
        self.assertEqual(self.fake.buys[shipment.external_id], 1)
        self.assertEqual(picking.carrier_tracking_ref, shipment.tracking_code)
        self.assertTrue(shipment.label_attachment_id.raw.startswith(b"%PDF"))
        self.assertEqual(shipment.label_attachment_id.res_id, picking.id)
        self.assertAlmostEqual(shipment.quoted_amount, 9.10)
        self.assertAlmostEqual(shipment.charged_amount, 9.11)
        self.assertEqual(
            self.carrier_messages(picking).mapped("state"), ["done", "done"]
        )
        self.assertEqual(
            self.bindings._find_record(
                self.carrier_backend, "stock.picking", shipment.external_id
            ),
            picking,
        )

    def test_lost_buy_answer_buys_nothing_more(self):
        order = self.sell()
        picking = self.validate(self.delivery_of(order))
        create = self.carrier_messages(picking, topic="shipment/create")
        self.process(create)
        buy = self.carrier_messages(picking, topic="shipment/buy")
        self.fake.fail_next("buy", "drop")
        self.process(buy)
        self.assertEqual(buy.state, "queued")
        self.assertFalse(picking.carrier_tracking_ref)
        self.process(buy)
        self.assertEqual(buy.state, "done")
        shipment = picking.distribution_sync_shipment_ids
        self.assertEqual(self.fake.buys[shipment.external_id], 1)
        self.assertEqual(picking.carrier_tracking_ref, shipment.tracking_code)

    def test_tracking_webhooks_move_the_status_forward_only(self):
        picking = self.ship_and_label()
        tracker = picking.distribution_sync_shipment_ids.tracker_ref
        start = datetime.now(timezone.utc) + timedelta(hours=1)
        self.fake.advance(tracker, "in_transit", "Departed facility", when=start)
        self.receive_tracker_event(tracker, event_id="evt_a")
        self.assertEqual(picking.distribution_sync_tracking_status, "in_transit")
        self.fake.advance(
            tracker,
            "delivered",
            "Delivered, front door",
            when=start + timedelta(days=1),
        )
        message = self.receive_tracker_event(tracker, event_id="evt_b")
        self.assertEqual(message.state, "done")
        self.assertEqual(picking.distribution_sync_tracking_status, "delivered")
        scans = len(picking.distribution_sync_tracking_event_ids)
        again = self.post_tracker_event(tracker, event_id="evt_b")
        self.assertEqual(again, message)
        self.assertEqual(len(picking.distribution_sync_tracking_event_ids), scans)

    # ------------------------------------------------------------ packages
    def test_one_label_per_package(self):
        washers = self.weighed_product("Bag of washers", weight=1.0)
        order = self.sell(quantity=2)
        order.order_line = [(0, 0, {"product_id": washers.id, "product_uom_qty": 3})]
        picking = self.delivery_of(order)
        picking.action_assign()
        crate_lines = picking.move_line_ids.filtered(
            lambda ml: ml.product_id == self.heavy
        )
        washer_lines = picking.move_line_ids - crate_lines
        crate_box = self.put_in_pack(picking, crate_lines, shipping_weight=5.5)
        washer_box = self.put_in_pack(picking, washer_lines, shipping_weight=3.2)
        self.validate_packed(picking)
        self.run_carrier_jobs(picking)
        shipments = picking.distribution_sync_shipment_ids.sorted("id")
        self.assertEqual(len(shipments), 2)
        self.assertEqual(shipments.package_id, crate_box | washer_box)
        self.assertEqual(set(shipments.mapped("state")), {"bought"})
        by_package = {s.package_id: s for s in shipments}
        self.assertAlmostEqual(by_package[crate_box].weight_kg, 5.5)
        self.assertAlmostEqual(by_package[washer_box].weight_kg, 3.2)
        # EasyPost weighs in ounces, rounded up to a tenth.
        sent = sorted(
            r["json"]["shipment"]["parcel"]["weight"]
            for r in self.fake_requests("create_shipment")
        )
        self.assertEqual(sent, [112.9, 194.1])
        for shipment in shipments:
            self.assertEqual(self.fake.buys[shipment.external_id], 1)
        self.assertEqual(
            sorted(picking.carrier_tracking_ref.split(",")),
            sorted(shipments.mapped("tracking_code")),
        )
        self.assertEqual(len(self.labels(picking)), 2)
        self.assertEqual(
            shipments.label_attachment_id, self.labels(picking), "one label each"
        )

    def test_package_and_loose_items_make_two_parcels(self):
        washers = self.weighed_product("Bag of washers", weight=1.0)
        order = self.sell(quantity=2)
        order.order_line = [(0, 0, {"product_id": washers.id, "product_uom_qty": 3})]
        picking = self.delivery_of(order)
        picking.action_assign()
        package = self.env["stock.quant.package"].create({"name": "CRATE-BOX"})
        picking.move_line_ids.filtered(
            lambda ml: ml.product_id == self.heavy
        ).result_package_id = package
        self.validate_packed(picking)
        self.run_carrier_jobs(picking)
        shipments = picking.distribution_sync_shipment_ids
        self.assertEqual(
            sorted(shipments.mapped("parcel_key")), [f"package:{package.id}", "picking"]
        )
        weights = {s.parcel_key: s.weight_kg for s in shipments}
        # The package: its products (2 x 2.5 kg); the rest: 3 x 1 kg.
        self.assertAlmostEqual(weights[f"package:{package.id}"], 5.0)
        self.assertAlmostEqual(weights["picking"], 3.0)
        self.assertEqual(sum(self.fake.buys[s.external_id] for s in shipments), 2)

    def test_backorder_gets_its_own_label(self):
        order = self.sell(quantity=4)
        first = self.validate(self.delivery_of(order), {self.heavy: 1})
        self.run_carrier_jobs(first)
        backorder = self.delivery_of(order)
        self.assertEqual(backorder.backorder_id, first)
        self.assertFalse(backorder.distribution_sync_shipment_ids)
        self.assertFalse(self.carrier_messages(backorder), "nothing before it ships")
        self.assertAlmostEqual(first.distribution_sync_shipment_ids.weight_kg, 2.5)
        self.validate(backorder)
        self.run_carrier_jobs(backorder)
        label = backorder.distribution_sync_shipment_ids
        self.assertEqual(len(label), 1)
        self.assertEqual(label.state, "bought")
        self.assertAlmostEqual(label.weight_kg, 7.5)
        self.assertEqual(backorder.carrier_tracking_ref, label.tracking_code)
        self.assertNotEqual(backorder.carrier_tracking_ref, first.carrier_tracking_ref)
        self.assertEqual(len(first.distribution_sync_shipment_ids), 1)
        self.assertEqual(self.fake_count("buy"), 2)

    # --------------------------------------------------------------- labels
    def test_label_format_png(self):
        self.carrier_backend.carrier_label_format = "PNG"
        picking = self.ship_and_label()
        shipment = picking.distribution_sync_shipment_ids
        label = shipment.label_attachment_id
        self.assertEqual(shipment.label_format, "PNG")
        self.assertTrue(label.name.endswith(".png"), label.name)
        self.assertTrue(label.raw.startswith(b"\x89PNG\r\n"))
        self.assertEqual(label.mimetype, "image/png")
        sent = self.fake_requests("create_shipment")[0]["json"]["shipment"]
        self.assertEqual(sent["options"]["label_format"], "PNG")

    def test_label_format_zpl(self):
        self.carrier_backend.carrier_label_format = "ZPL"
        picking = self.ship_and_label()
        shipment = picking.distribution_sync_shipment_ids
        label = shipment.label_attachment_id
        self.assertEqual(shipment.label_format, "ZPL")
        self.assertEqual(label.name, f"{LABEL_PREFIX}-{shipment.tracking_code}.zpl")
        self.assertTrue(label.raw.startswith(b"^XA"))
        self.assertIn(shipment.tracking_code.encode(), label.raw)

    def test_label_named_like_odoo_carriers_labels(self):
        picking = self.ship_and_label()
        shipment = picking.distribution_sync_shipment_ids
        prefix = self.delivery_method._get_delivery_label_prefix()
        self.assertEqual(prefix, LABEL_PREFIX)
        self.assertEqual(
            shipment.label_attachment_id.name,
            f"{prefix}-{shipment.tracking_code}.pdf",
        )
        self.assertEqual(shipment.label_attachment_id.mimetype, "application/pdf")
        self.assertEqual(self.labels(picking), shipment.label_attachment_id)
        # The label file came from the carrier's file host, without the key.
        download = self.fake_requests("label")
        self.assertEqual(len(download), 1)
        self.assertNotIn(
            "authorization", {key.lower() for key in download[0]["headers"]}
        )

    # ---------------------------------------------------------------- costs
    def test_real_cost_goes_on_the_order_when_invoiced_at_real_cost(self):
        self.delivery_method.invoice_policy = "real"
        order = self.sell()
        picking = self.ship_and_label(order)
        self.assertAlmostEqual(picking.carrier_price, 9.10)
        line = order.order_line.filtered("is_delivery")
        self.assertEqual(len(line), 1)
        self.assertEqual(line.product_id, self.ship_product)
        self.assertAlmostEqual(line.price_unit, 9.10)

    def test_estimated_cost_leaves_the_order_alone(self):
        order = self.sell()
        picking = self.ship_and_label(order)
        self.assertEqual(self.delivery_method.invoice_policy, "estimated")
        self.assertAlmostEqual(picking.carrier_price, 9.10)
        self.assertFalse(order.order_line.filtered("is_delivery"))

    def test_quoted_and_charged_amounts_of_the_service_bought(self):
        method = self.make_method("USPS/Priority")
        picking = self.ship_and_label(carrier=method)
        shipment = picking.distribution_sync_shipment_ids
        self.assertEqual((shipment.carrier, shipment.service), ("USPS", "Priority"))
        self.assertAlmostEqual(shipment.quoted_amount, 7.58)
        # Postage plus EasyPost's label fee.
        self.assertAlmostEqual(shipment.charged_amount, 7.59)
        self.assertEqual(shipment.currency_id, self.usd)
        bought = self.fake_shipment(shipment)["selected_rate"]
        self.assertEqual((bought["carrier"], bought["service"]), ("USPS", "Priority"))
        self.assertAlmostEqual(picking.carrier_price, 7.58)

    def test_chatter_tells_the_tracking_number(self):
        picking = self.ship_and_label()
        bodies = " ".join(picking.message_ids.mapped("body"))
        self.assertIn("Shipment sent to carrier", bodies)
        self.assertIn(picking.carrier_tracking_ref, bodies)

    # ------------------------------------------------------------- messages
    def test_create_then_buy_messages(self):
        order = self.sell()
        picking = self.validate(self.delivery_of(order))
        create = self.carrier_messages(picking)
        self.assertEqual(create.topic, "shipment/create")
        self.assertEqual(create.state, "queued")
        self.assertEqual(create.direction, "outbound")
        self.assertEqual(
            json.loads(create.payload), {"picking": picking.name, "is_return": False}
        )
        self.assertTrue(create.job_uuid)
        self.process(create)
        self.assertEqual(create.state, "done", create.last_error)
        shipment = picking.distribution_sync_shipment_ids
        self.assertEqual(shipment.state, "created")
        self.assertEqual(create.external_id, shipment.external_id)
        self.assertEqual(self.fake_count("buy"), 0, "bought by the next job")
        buy = self.carrier_messages(picking, topic="shipment/buy")
        self.assertEqual(buy.state, "queued")
        self.process(buy)
        self.assertEqual(buy.state, "done", buy.last_error)
        self.assertIn(shipment.tracking_code, buy.result_summary)
        self.assertEqual(self.carrier_messages(picking), create | buy)

    def test_send_to_shipper_after_validation_queues_nothing_more(self):
        order = self.sell()
        picking = self.validate(self.delivery_of(order))
        picking.send_to_shipper()
        self.assertEqual(len(self.carrier_messages(picking)), 1)
        self.run_carrier_jobs(picking)
        picking.send_to_shipper()
        self.run_carrier_jobs(picking)
        self.assertEqual(
            self.carrier_messages(picking).mapped("topic"),
            ["shipment/create", "shipment/buy"],
        )
        self.assertEqual(self.fake_count("create_shipment"), 1)
        self.assertEqual(self.fake_count("buy"), 1)

    def test_shipment_request_from_warehouse_to_delivery_contact(self):
        picking = self.ship_and_label()
        sent = self.fake_requests("create_shipment")[0]
        self.assertTrue(sent["auth_ok"])
        body = sent["json"]["shipment"]
        self.assertEqual(body["to_address"]["name"], "Dana Receiver")
        self.assertEqual(body["to_address"]["street1"], "179 N Harbor Dr")
        self.assertEqual(body["to_address"]["zip"], "90277")
        self.assertEqual(body["to_address"]["state"], "CA")
        self.assertEqual(body["to_address"]["country"], "US")
        self.assertEqual(body["from_address"]["street1"], "417 Montgomery Street")
        self.assertEqual(body["from_address"]["zip"], "94104")
        # 2 x 2.5 kg = 176.4 oz.
        self.assertEqual(body["parcel"]["weight"], 176.4)
        self.assertFalse(body["is_return"])
        self.assertTrue(body["reference"].startswith(picking.name))

    def test_other_delivery_methods_buy_nothing(self):
        fixed = self.env["delivery.carrier"].create(
            {
                "name": "Own van",
                "delivery_type": "fixed",
                "fixed_price": 5.0,
                "product_id": self.ship_product.id,
            }
        )
        order = self.sell(carrier=fixed)
        picking = self.validate(self.delivery_of(order))
        self.run_carrier_jobs(picking)
        self.assertFalse(self.carrier_messages(picking))
        self.assertFalse(picking.distribution_sync_shipment_ids)
        self.assertEqual(self.fake_requests(), [])
