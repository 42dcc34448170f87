# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import json
from datetime import timedelta

from odoo.tests import HttpCase, tagged

from .common import (
    SHIPPO_TOKEN,
    SHIPPO_WEBHOOK_TOKEN,
    CarrierCase,
    shippo_track_body,
)


@tagged("post_install", "-at_install")
class TestTrackingWebhook(CarrierCase, HttpCase):
    """Carrier webhooks through the real route
    ``POST /distribution_sync/webhook/<backend id>``."""

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

    def post(self, body, headers=None, backend=None, query=""):
        backend = backend or self.carrier_backend
        self.env.flush_all()
        response = self.url_open(
            f"/distribution_sync/webhook/{backend.id}{query}",
            data=body,
            headers=dict({"Content-Type": "application/json"}, **(headers or {})),
            timeout=60,
        )
        self.env.invalidate_all()
        return response

    def inbound(self, backend=None):
        return self.messages.search(
            [
                ("backend_id", "=", (backend or self.carrier_backend).id),
                ("direction", "=", "inbound"),
            ]
        )

    # ---------------------------------------------------------------- EasyPost
    def test_signed_event_is_accepted_queued_then_applied(self):
        picking = self.ship_and_label()
        tracker = self.tracker(picking)
        self.fake.advance(tracker, "in_transit", "Departed", when=self.later(1))
        body, headers = self.fake.tracker_event(tracker, event_id="evt_route_1")
        response = self.post(body, headers)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json(), {"status": "accepted"})
        message = self.inbound()
        self.assertEqual(len(message), 1)
        self.assertEqual(message.state, "queued")
        self.assertEqual(message.topic, "tracker.updated")
        self.assertEqual(message.payload.encode(), body)
        self.assertTrue(self.env["queue.job"].search([("uuid", "=", message.job_uuid)]))
        self.assertFalse(
            picking.distribution_sync_tracking_status, "not in the request"
        )
        self.process(message)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(picking.distribution_sync_tracking_status, "in_transit")

    def test_bad_signature_is_refused_and_nothing_stored(self):
        picking = self.ship_and_label()
        body, _headers = self.fake.tracker_event(self.tracker(picking))
        response = self.post(body, {"X-Hmac-Signature": "hmac-sha256-hex=" + "0" * 64})
        self.assertEqual(response.status_code, 401)
        self.assertFalse(self.inbound())

    def test_missing_signature_is_refused(self):
        picking = self.ship_and_label()
        body, _headers = self.fake.tracker_event(self.tracker(picking))
        response = self.post(body)
        self.assertEqual(response.status_code, 401)
        self.assertFalse(self.inbound())

    def test_same_event_twice_is_a_duplicate(self):
        picking = self.ship_and_label()
        body, headers = self.fake.tracker_event(
            self.tracker(picking), event_id="evt_route_twice"
        )
        self.assertEqual(self.post(body, headers).json(), {"status": "accepted"})
        second = self.post(body, headers)
        self.assertEqual(second.status_code, 200)
        self.assertEqual(second.json(), {"status": "duplicate"})
        self.assertEqual(len(self.inbound()), 1)

    def test_signed_body_that_is_not_json_is_stored_with_an_error(self):
        body = b'{"id": "evt_broken", "description": "tracker.updated", '
        response = self.post(body, {"X-Hmac-Signature": self.fake.sign(body)})
        self.assertEqual(response.status_code, 200)
        self.assertIn("stored with error", response.json()["status"])
        message = self.inbound()
        self.assertEqual(len(message), 1)
        self.assertEqual(message.state, "error")
        self.assertEqual(message.payload.encode(), body)
        self.assertEqual(message.exception_ids.category, "validation")

    def test_archived_backend_answers_not_found(self):
        picking = self.ship_and_label()
        body, headers = self.fake.tracker_event(self.tracker(picking))
        self.carrier_backend.active = False
        response = self.post(body, headers)
        self.assertEqual(response.status_code, 404)
        self.assertFalse(self.inbound())

    # ------------------------------------------------------------------ Shippo
    def shippo_body(self, number):
        start = self.later(1)
        return json.dumps(
            shippo_track_body(
                number,
                [
                    ("PRE_TRANSIT", "Label created", start),
                    ("TRANSIT", "Departed from the origin", start + timedelta(hours=2)),
                ],
            )
        ).encode()

    def test_shippo_webhook_with_its_token(self):
        picking = self.validate(self.delivery_of(self.sell()))
        picking.carrier_tracking_ref = "9205590164917312751090"
        body = self.shippo_body("9205590164917312751090")
        response = self.post(
            body, backend=self.shippo, query=f"?token={SHIPPO_WEBHOOK_TOKEN}"
        )
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json(), {"status": "accepted"})
        message = self.inbound(self.shippo)
        self.assertEqual(message.topic, "track_updated")
        self.assertEqual(message.external_id, "9205590164917312751090")
        self.process(message)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(picking.distribution_sync_tracking_status, "in_transit")
        self.assertEqual(len(picking.distribution_sync_tracking_event_ids), 2)

    def test_shippo_webhook_with_a_wrong_token(self):
        body = self.shippo_body("9205590164917312751091")
        response = self.post(body, backend=self.shippo, query="?token=guessed")
        self.assertEqual(response.status_code, 401)
        self.assertFalse(self.inbound(self.shippo))

    def test_shippo_webhook_without_token(self):
        body = self.shippo_body("9205590164917312751092")
        response = self.post(body, backend=self.shippo)
        self.assertEqual(response.status_code, 401)
        self.assertFalse(self.inbound(self.shippo))
