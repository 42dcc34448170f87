# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from datetime import datetime, timedelta, timezone

from odoo.tests import tagged

from .common import CarrierCase


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
