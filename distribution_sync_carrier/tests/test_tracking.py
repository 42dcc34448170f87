# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import json
from datetime import timedelta
from unittest import mock

from odoo import fields
from odoo.tests import tagged

from ..core.client import EasyPostClient
from .common import (
    EASYPOST_KEY,
    SHIPPO_TOKEN,
    SHIPPO_WEBHOOK_TOKEN,
    CarrierCase,
    shippo_track_body,
)


def naive(moment):
    """A scan time as the database keeps it (naive UTC, to the second)."""
    return moment.replace(tzinfo=None, microsecond=0)


@tagged("post_install", "-at_install")
class TestTracking(CarrierCase):
    """EasyPost tracker events on the delivery: one row per scan, a status
    that never moves back, delivery problems in the inbox."""

    def setUp(self):
        super().setUp()
        self.picking = self.ship_and_label()
        self.trk = self.tracker(self.picking)

    def scans(self, picking=None):
        return (picking or self.picking).distribution_sync_tracking_event_ids

    # ------------------------------------------------------------ scan rows
    def test_one_row_per_scan_however_often_repeated(self):
        self.fake.advance(
            self.trk,
            "in_transit",
            "Arrived at facility",
            when=self.later(1),
            status_detail="arrived_at_facility",
            location={
                "city": "Oakland",
                "state": "CA",
                "zip": "94607",
                "country": "US",
            },
        )
        self.receive_tracker_event(self.trk)
        # EasyPost sends the whole history again with each update.
        self.receive_tracker_event(self.trk)
        self.fake.advance(
            self.trk, "out_for_delivery", "On the van", when=self.later(2)
        )
        self.receive_tracker_event(self.trk)
        self.receive_tracker_event(self.trk)
        scans = self.scans()
        self.assertEqual(len(scans), 3)
        self.assertEqual(
            scans.sorted("event_time").mapped("status"),
            ["pre_transit", "in_transit", "out_for_delivery"],
        )
        arrived = scans.filtered(lambda s: s.status == "in_transit")
        self.assertEqual(arrived.description, "Arrived at facility")
        self.assertEqual(arrived.status_detail, "arrived_at_facility")
        self.assertIn("Oakland", arrived.location)
        self.assertEqual(arrived.tracking_code, self.picking.carrier_tracking_ref)
        self.assertEqual(arrived.backend_id, self.carrier_backend)

    def test_status_follows_the_newest_scan(self):
        when = self.later(5)
        self.fake.advance(self.trk, "in_transit", "Departed", when=when)
        message = self.receive_tracker_event(self.trk)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(
            (message.res_model, message.res_id), ("stock.picking", self.picking.id)
        )
        self.assertEqual(self.picking.distribution_sync_tracking_status, "in_transit")
        self.assertEqual(self.picking.distribution_sync_tracking_date, naive(when))
        self.assertEqual(self.picking.distribution_sync_tracking_message, "Departed")

    def test_late_older_event_does_not_move_back(self):
        self.fake.advance(self.trk, "in_transit", "Departed", when=self.later(1))
        late = self.post_tracker_event(self.trk, event_id="evt_older")
        newest = self.later(2)
        self.fake.advance(self.trk, "out_for_delivery", "On the van", when=newest)
        self.receive_tracker_event(self.trk, event_id="evt_newer")
        self.assertEqual(
            self.picking.distribution_sync_tracking_status, "out_for_delivery"
        )
        scans = len(self.scans())
        self.process(late)
        self.assertEqual(late.state, "done", late.last_error)
        self.assertEqual(
            self.picking.distribution_sync_tracking_status, "out_for_delivery"
        )
        self.assertEqual(self.picking.distribution_sync_tracking_date, naive(newest))
        self.assertEqual(len(self.scans()), scans)

    def test_duplicate_event_makes_one_message(self):
        self.fake.advance(self.trk, "in_transit", "Departed", when=self.later(1))
        body, headers = self.fake.tracker_event(self.trk, event_id="evt_twice")
        first, is_new = self.carrier_backend._store_webhook(
            body, headers, json.loads(body)
        )
        self.assertTrue(is_new)
        again, is_new = self.carrier_backend._store_webhook(
            body, headers, json.loads(body)
        )
        self.assertFalse(is_new)
        self.assertEqual(again, first)
        self.assertEqual(
            self.messages.search_count(
                [
                    ("backend_id", "=", self.carrier_backend.id),
                    ("idempotency_key", "=", first.idempotency_key),
                ]
            ),
            1,
        )
        self.assertEqual(first.topic, "tracker.updated")
        self.assertEqual(first.external_id, self.trk)

    def test_delivered_stays_unless_a_newer_scan(self):
        delivered = self.later(2)
        self.fake.advance(
            self.trk, "delivered", "Delivered, front door", when=delivered
        )
        self.receive_tracker_event(self.trk)
        self.assertEqual(self.picking.distribution_sync_tracking_status, "delivered")
        # A scan the carrier reports late, dated before the delivery.
        self.fake.advance(
            self.trk, "in_transit", "Late facility scan", when=self.later(1)
        )
        self.receive_tracker_event(self.trk)
        self.assertEqual(self.picking.distribution_sync_tracking_status, "delivered")
        self.assertEqual(self.picking.distribution_sync_tracking_date, naive(delivered))
        self.assertIn("Late facility scan", self.scans().mapped("description"))
        # A newer scan does move it on.
        self.fake.advance(self.trk, "return_to_sender", "Refused", when=self.later(3))
        self.receive_tracker_event(self.trk)
        self.assertEqual(self.picking.distribution_sync_tracking_status, "returned")

    # ----------------------------------------------------- delivery problems
    def test_return_to_sender_opens_a_delivery_exception_for_the_owner(self):
        self.fake.advance(
            self.trk,
            "return_to_sender",
            "Return to sender: addressee unknown",
            when=self.later(2),
        )
        message = self.receive_tracker_event(self.trk)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(self.picking.distribution_sync_tracking_status, "returned")
        exception = self.open_exceptions(self.picking, "delivery")
        self.assertEqual(len(exception), 1)
        self.assertIn("addressee unknown", exception.name)
        self.assertIn(self.picking.name, exception.name)
        activity = exception.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.owner)

    def test_failure_opens_a_delivery_exception(self):
        self.fake.advance(
            self.trk,
            "failure",
            "Delivery attempt failed: no access",
            when=self.later(2),
        )
        self.receive_tracker_event(self.trk)
        self.assertEqual(self.picking.distribution_sync_tracking_status, "exception")
        exception = self.open_exceptions(self.picking, "delivery")
        self.assertEqual(len(exception), 1)
        self.assertIn("no access", exception.name)

    def test_repeated_problem_keeps_one_exception(self):
        self.fake.advance(self.trk, "failure", "Attempt 1 failed", when=self.later(1))
        self.receive_tracker_event(self.trk)
        self.receive_tracker_event(self.trk)
        self.assertEqual(len(self.open_exceptions(self.picking, "delivery")), 1)

    def test_problem_stays_open_until_the_carrier_delivers(self):
        self.fake.advance(self.trk, "failure", "Attempt 1 failed", when=self.later(1))
        self.receive_tracker_event(self.trk)
        exception = self.open_exceptions(self.picking, "delivery")
        # Another scan that is no delivery: the problem is still there.
        self.fake.advance(self.trk, "in_transit", "Back at depot", when=self.later(2))
        self.receive_tracker_event(self.trk)
        self.assertEqual(exception.state, "open")
        self.fake.advance(self.trk, "delivered", "Delivered", when=self.later(3))
        self.receive_tracker_event(self.trk)
        self.assertEqual(exception.state, "resolved")
        self.assertIn("delivered", exception.resolution_note)

    def test_normal_scans_open_no_exception(self):
        self.fake.advance(self.trk, "in_transit", "Departed", when=self.later(1))
        self.fake.advance(self.trk, "delivered", "Delivered", when=self.later(2))
        self.receive_tracker_event(self.trk)
        self.assertFalse(self.open_exceptions())

    # ---------------------------------------------------------- which picking
    def test_unknown_tracking_code_is_skipped(self):
        client = EasyPostClient(self.fake.url, EASYPOST_KEY)
        stranger = client.create_tracker("9400100000000000099999", "USPS")
        message = self.receive_tracker_event(stranger["id"])
        self.assertEqual(message.state, "skipped", message.last_error)
        self.assertIn("9400100000000000099999", message.result_summary)
        self.assertFalse(message.exception_ids)
        self.assertFalse(
            self.env["distribution.sync.tracking.event"].search(
                [("tracking_code", "=", "9400100000000000099999")]
            )
        )

    def test_found_by_its_shipment(self):
        shipment = self.picking.distribution_sync_shipment_ids
        shipment.sudo().tracker_ref = False
        # The carrier's own number: only the shipment id links the tracker.
        self.fake.trackers[self.trk]["tracking_code"] = "1ZSHIPMENTLINK01"
        self.fake.advance(self.trk, "in_transit", "Departed", when=self.later(1))
        message = self.receive_tracker_event(self.trk)
        self.assertEqual(message.res_id, self.picking.id)
        self.assertEqual(self.picking.distribution_sync_tracking_status, "in_transit")

    def test_found_by_its_tracker(self):
        self.fake.trackers[self.trk]["shipment_id"] = None
        self.fake.trackers[self.trk]["tracking_code"] = "1ZTRACKERLINK001"
        self.fake.advance(self.trk, "in_transit", "Departed", when=self.later(1))
        message = self.receive_tracker_event(self.trk)
        self.assertEqual(message.res_id, self.picking.id)
        self.assertEqual(self.picking.distribution_sync_tracking_status, "in_transit")

    def test_tracker_created_event_is_applied_too(self):
        self.fake.advance(self.trk, "in_transit", "Departed", when=self.later(1))
        body, headers = self.fake.tracker_event(self.trk, description="tracker.created")
        message, _new = self.carrier_backend._store_webhook(
            body, headers, json.loads(body)
        )
        self.process(message)
        self.assertEqual(message.topic, "tracker.created")
        self.assertEqual(self.picking.distribution_sync_tracking_status, "in_transit")

    def test_other_events_are_skipped(self):
        body = json.dumps(
            {
                "id": "evt_batch_0001",
                "object": "Event",
                "description": "batch.created",
                "result": {"id": "batch_0001", "object": "Batch"},
            }
        ).encode()
        headers = {"X-Hmac-Signature": self.fake.sign(body)}
        self.assertTrue(self.carrier_backend._call("webhook_verify", body, headers, {}))
        message, _new = self.carrier_backend._store_webhook(
            body, headers, json.loads(body)
        )
        self.process(message)
        self.assertEqual(message.state, "skipped", message.last_error)
        self.assertFalse(message.exception_ids)

    # --------------------------------------------------------- awaiting scan
    def awaiting(self):
        return self.env["distribution.sync.shipment"].search(
            [("awaiting_scan", "=", True)]
        )

    def test_awaiting_the_first_scan(self):
        shipment = self.picking.distribution_sync_shipment_ids
        self.assertTrue(shipment.bought_date)
        self.assertNotIn(shipment, self.awaiting())
        shipment.sudo().bought_date = fields.Datetime.now() - timedelta(hours=25)
        self.assertIn(shipment, self.awaiting())
        self.assertTrue(shipment.awaiting_scan)
        self.assertNotIn(
            shipment,
            self.env["distribution.sync.shipment"].search(
                [("awaiting_scan", "=", False)]
            ),
        )
        action = self.carrier_backend.action_open_awaiting_scan()
        self.assertIn(
            shipment, self.env["distribution.sync.shipment"].search(action["domain"])
        )
        # The label-created event is no scan; an arrival is.
        self.receive_tracker_event(self.trk)
        self.assertIn(shipment, self.awaiting())
        self.fake.advance(self.trk, "in_transit", "Picked up", when=self.later(0))
        self.receive_tracker_event(self.trk)
        self.assertTrue(shipment.first_scan_date)
        self.assertNotIn(shipment, self.awaiting())
        self.assertFalse(shipment.awaiting_scan)

    def test_awaiting_scan_follows_the_backend_hours(self):
        self.carrier_backend.carrier_scan_hours = 48
        shipment = self.picking.distribution_sync_shipment_ids
        shipment.sudo().bought_date = fields.Datetime.now() - timedelta(hours=25)
        self.assertNotIn(shipment, self.awaiting())
        shipment.sudo().bought_date = fields.Datetime.now() - timedelta(hours=49)
        self.assertIn(shipment, self.awaiting())

    # ---------------------------------------------------------- document event
    def test_tracking_changed_is_told_to_the_channels(self):
        backend_class = type(self.env["distribution.sync.backend"])
        original = backend_class._notify
        calls = []

        def spy(backends, event, records):
            calls.append((event, records))
            return original(backends, event, records)

        with mock.patch.object(backend_class, "_notify", spy):
            picking = self.ship_and_label()
            self.assertIn(("tracking_changed", picking), calls, "the tracking number")
            trk = self.tracker(picking)
            self.fake.advance(trk, "in_transit", "Departed", when=self.later(1))
            calls.clear()
            self.receive_tracker_event(trk)
            self.assertEqual(
                [c for c in calls if c[0] == "tracking_changed"],
                [("tracking_changed", picking)],
            )
            calls.clear()
            # Same status again (a repeated update): nothing to tell.
            self.receive_tracker_event(trk)
            self.assertFalse([c for c in calls if c[0] == "tracking_changed"])


@tagged("post_install", "-at_install")
class TestTypedTracking(CarrierCase):
    """Tracking numbers typed on a delivery (labelled elsewhere) get a
    tracker, so that their scans come in too."""

    def test_typed_number_gets_a_tracker(self):
        order = self.sell()
        picking = self.delivery_of(order)
        picking.carrier_tracking_ref = "1Z999AA10123456784"
        self.validate(picking)
        self.assertFalse(
            self.carrier_messages(picking, topic="shipment/create"),
            "labelled elsewhere: nothing to buy",
        )
        message = self.carrier_messages(picking, topic="tracker/create")
        self.assertEqual(len(message), 1)
        self.assertEqual(
            json.loads(message.payload),
            {"tracking_code": "1Z999AA10123456784", "carrier": "UPS"},
        )
        self.process(message)
        self.assertEqual(message.state, "done", message.last_error)
        tracker = self.fake.trackers[message.external_id]
        self.assertEqual(tracker["tracking_code"], "1Z999AA10123456784")
        self.assertEqual(tracker["carrier"], "UPS")
        # Its scans now find the delivery by its tracking number.
        self.fake.advance(tracker["id"], "in_transit", "Departed", when=self.later(1))
        event = self.receive_tracker_event(tracker["id"])
        self.assertEqual(event.res_id, picking.id)
        self.assertEqual(picking.distribution_sync_tracking_status, "in_transit")
        self.assertEqual(len(picking.distribution_sync_tracking_event_ids), 2)

    def test_typed_number_of_another_carrier_method(self):
        others = self.env["distribution.sync.backend"].search(
            [
                ("backend_type", "in", ("easypost", "shippo")),
                ("id", "!=", self.carrier_backend.id),
            ]
        )
        others.active = False
        van = self.env["delivery.carrier"].create(
            {
                "name": "Partner courier",
                "delivery_type": "fixed",
                "product_id": self.ship_product.id,
            }
        )
        picking = self.validate(self.delivery_of(self.sell(carrier=van)))
        picking.carrier_tracking_ref = "EZ2000000002"
        message = self.carrier_messages(picking, topic="tracker/create")
        self.assertEqual(len(message), 1)
        self.process(message)
        tracker = self.fake.trackers[message.external_id]
        event = self.receive_tracker_event(tracker["id"])
        self.assertEqual(event.res_id, picking.id)
        # EasyPost's test code reports in transit, with its history.
        self.assertEqual(picking.distribution_sync_tracking_status, "in_transit")
        # Not tracked when the backend does not follow other shipments.
        self.carrier_backend.carrier_track_other_shipments = False
        picking.carrier_tracking_ref = "EZ2000000003"
        self.assertEqual(len(self.carrier_messages(picking, topic="tracker/create")), 1)

    def test_typed_number_is_registered_once(self):
        picking = self.delivery_of(self.sell())
        picking.carrier_tracking_ref = "1Z999AA10123456785"
        picking.carrier_tracking_ref = "1Z999AA10123456785"
        picking.carrier_tracking_ref = "1Z999AA10123456785, 1Z999AA10123456786"
        messages = self.carrier_messages(picking, topic="tracker/create")
        self.assertEqual(
            sorted(json.loads(m.payload)["tracking_code"] for m in messages),
            ["1Z999AA10123456785", "1Z999AA10123456786"],
        )
        for message in messages:
            self.process(message)
        self.assertEqual(set(messages.mapped("state")), {"done"})
        self.assertEqual(self.fake_count("create_tracker"), 2)

    def test_own_labels_get_no_second_tracker(self):
        picking = self.ship_and_label()
        self.assertFalse(self.carrier_messages(picking, topic="tracker/create"))
        self.assertEqual(self.fake_count("create_tracker"), 0)


@tagged("post_install", "-at_install")
class TestShippoTracking(CarrierCase):
    """Shippo ``track_updated`` webhooks (authenticated by the URL's token)
    on the delivery with that tracking number."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shippo = cls.env["distribution.sync.backend"].create(
            {
                "name": "Shippo test",
                "backend_type": "shippo",
                "shippo_api_token": SHIPPO_TOKEN,
                "webhook_secret": SHIPPO_WEBHOOK_TOKEN,
            }
        )

    def receive_track(self, body, token=SHIPPO_WEBHOOK_TOKEN):
        raw = json.dumps(body).encode()
        self.assertTrue(self.shippo._call("webhook_verify", raw, {}, {"token": token}))
        message, _new = self.shippo._store_webhook(raw, {}, json.loads(raw))
        return self.process(message)

    def test_shippo_token_is_checked(self):
        raw = b"{}"
        verify = self.shippo._call
        self.assertFalse(verify("webhook_verify", raw, {}, {"token": "wrong"}))
        self.assertFalse(verify("webhook_verify", raw, {}, {}))

    def test_track_updated_moves_the_delivery(self):
        picking = self.validate(self.delivery_of(self.sell()))
        picking.carrier_tracking_ref = "9205590164917312751089"
        start = self.later(1)
        body = shippo_track_body(
            "9205590164917312751089",
            [
                ("PRE_TRANSIT", "Label created", start),
                ("TRANSIT", "Departed from the origin", start + timedelta(hours=3)),
            ],
        )
        message = self.receive_track(body)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(message.res_id, picking.id)
        self.assertEqual(picking.distribution_sync_tracking_status, "in_transit")
        scans = picking.distribution_sync_tracking_event_ids
        self.assertEqual(len(scans), 2, "the current status is the last scan")
        self.assertEqual(scans.backend_id, self.shippo)
        # Delivered later; the same delivery again changes nothing.
        body["data"]["tracking_history"].append(
            dict(
                body["data"]["tracking_status"],
                status="DELIVERED",
                status_details="Delivered",
                object_id="delivered0001",
                status_date=(start + timedelta(hours=20)).strftime(
                    "%Y-%m-%dT%H:%M:%S.000Z"
                ),
            )
        )
        body["data"]["tracking_status"] = body["data"]["tracking_history"][-1]
        delivered = self.receive_track(body)
        again = self.receive_track(body)
        self.assertEqual(again, delivered, "a redelivery is the same message")
        self.assertEqual(picking.distribution_sync_tracking_status, "delivered")
        self.assertEqual(len(picking.distribution_sync_tracking_event_ids), 3)
