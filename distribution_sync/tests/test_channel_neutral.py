# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import json
from unittest import mock

from odoo.tests import HttpCase, tagged

from .common import SECRET, DistributionSyncCase, order_payload, sign


def split_by_account(backend, body, headers, data):
    """A channel whose deliveries hold the events of several accounts, as
    QuickBooks sends one POST for several companies: each event goes to the
    backend named by its ``account``."""
    backends = backend.env["distribution.sync.backend"].sudo()
    events = []
    for event in data["events"]:
        target = backends.with_context(active_test=False).search(
            [("name", "=", event["account"])], limit=1
        )
        entry = {
            "topic": "order/upsert",
            "idempotency_key": f"event:{event['id']}",
            "external_id": event["order"]["external_id"],
            "work_key": f"order:{event['order']['external_id']}",
            "payload": json.dumps(event["order"]),
            "backend": target,
        }
        if not target and event["account"] == "Elsewhere":
            entry.update(
                backend=backend, skip=f"Account {event['account']} is not followed."
            )
        elif not target:
            entry.update(
                backend=backend,
                problem=f"No backend for account {event['account']}.",
            )
        events.append(entry)
    return events


@tagged("post_install", "-at_install")
class TestWebhookFanOut(DistributionSyncCase, HttpCase):
    """One delivery holding several events: one message per event, each on
    the backend it is routed to, through the real route."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls.env["distribution.sync.backend"].create(
            {"name": "Second account", "backend_type": "generic"}
        )

    def post(self, payload):
        body = json.dumps(payload).encode()
        backend_class = type(self.env["distribution.sync.backend"])
        self.env.flush_all()
        with mock.patch.object(
            backend_class,
            "_generic_webhook_events",
            lambda backend, body, headers, data: split_by_account(
                backend, body, headers, data
            ),
            create=True,
        ):
            response = self.url_open(
                f"/distribution_sync/webhook/{self.backend.id}",
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Sync-Topic": "batch",
                    "X-Sync-Event-Id": "delivery-1",
                    "X-Sync-Signature": sign(body),
                },
                timeout=60,
            )
        self.env.invalidate_all()
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()["status"]

    def batch(self, *events):
        return {
            "events": [
                {"id": event_id, "account": account, "order": order_payload(ref)}
                for event_id, account, ref in events
            ]
        }

    def messages_of(self, backend):
        return self.messages.search(
            [("backend_id", "=", backend.id)], order="external_id"
        )

    def test_one_message_per_event_on_its_backend(self):
        payload = self.batch(
            ("e1", "Test shop", "FO-1"),
            ("e2", "Second account", "FO-2"),
            ("e3", "Test shop", "FO-3"),
        )
        self.assertEqual(self.post(payload), "accepted 3 of 3 events")
        mine, theirs = self.messages_of(self.backend), self.messages_of(self.other)
        self.assertEqual(mine.mapped("external_id"), ["FO-1", "FO-3"])
        self.assertEqual(theirs.mapped("external_id"), ["FO-2"])
        # Each message holds its own event, not the whole delivery.
        self.assertEqual(json.loads(theirs.payload)["external_id"], "FO-2")
        self.assertEqual((mine | theirs).mapped("state"), ["queued"] * 3)
        self.assertEqual(theirs.job_uuid and len(theirs.job_uuid) > 0, True)
        job = self.env["queue.job"].search([("uuid", "=", theirs.job_uuid)])
        self.assertEqual(job.user_id, self.other.user_id)

    def test_redelivery_makes_nothing_and_a_new_event_only_itself(self):
        payload = self.batch(
            ("e1", "Test shop", "FO-1"), ("e2", "Second account", "FO-2")
        )
        self.post(payload)
        self.assertEqual(self.post(payload), "duplicate")
        payload["events"].append(
            {"id": "e3", "account": "Second account", "order": order_payload("FO-3")}
        )
        self.assertEqual(self.post(payload), "accepted 1 of 3 events")
        self.assertEqual(len(self.messages_of(self.backend)), 1)
        self.assertEqual(len(self.messages_of(self.other)), 2)

    def test_an_event_nobody_can_take_is_stored_with_an_exception(self):
        payload = self.batch(("e1", "Test shop", "FO-1"), ("e9", "Nobody", "FO-9"))
        self.assertEqual(self.post(payload), "accepted 1 of 2 events")
        lost = self.messages.search([("external_id", "=", "FO-9")])
        self.assertEqual(lost.backend_id, self.backend)
        self.assertEqual(lost.state, "error")
        exception = self.exceptions.search([("message_id", "=", lost.id)])
        self.assertEqual(exception.category, "payload")
        self.assertIn("No backend for account Nobody", exception.name)

    def test_an_event_for_nobody_here_is_stored_as_skipped(self):
        payload = self.batch(("e1", "Test shop", "FO-1"), ("e7", "Elsewhere", "FO-7"))
        self.assertEqual(self.post(payload), "accepted 1 of 2 events")
        kept = self.messages.search([("external_id", "=", "FO-7")])
        self.assertEqual(kept.state, "skipped")
        self.assertEqual(kept.result_summary, "Account Elsewhere is not followed.")
        self.assertFalse(self.exceptions.search([("message_id", "=", kept.id)]))
        self.assertFalse(kept.job_uuid)
        self.assertEqual(self.post(payload), "duplicate")

    def test_an_event_for_another_channel_is_kept_here(self):
        self.other.active = False
        payload = self.batch(("e1", "Second account", "FO-1"))
        self.assertEqual(self.post(payload), "stored with error")
        kept = self.messages.search([("external_id", "=", "FO-1")])
        self.assertEqual(kept.backend_id, self.backend)
        self.assertEqual(kept.state, "error")


@tagged("post_install", "-at_install")
class TestOrderChannelSettings(DistributionSyncCase):
    """Shop settings (shipping product, confirming statuses, sale-order
    checks) belong to channels that bring orders."""

    def test_order_channel_gets_the_order_setup(self):
        self.assertTrue(self.backend.order_channel)
        self.assertTrue(self.backend.shipping_product_id)
        self.assertIn(
            "sale_order", self.backend.validation_rule_ids.mapped("document_type")
        )

    def test_other_channels_get_no_order_setup(self):
        backend_class = type(self.env["distribution.sync.backend"])
        with mock.patch.object(
            backend_class, "_generic_order_channel", lambda self: False
        ):
            backend = self.env["distribution.sync.backend"].create(
                {"name": "Tracking only", "backend_type": "generic"}
            )
            self.assertFalse(backend.order_channel)
            self.assertFalse(backend.shipping_product_id)
            self.assertFalse(backend.validation_rule_ids)
            # Still a complete backend: user, channel and ownership rows.
            self.assertTrue(backend.user_id and backend.channel_id)
            self.assertTrue(backend.ownership_ids)

    def test_webhook_verify_gets_the_query(self):
        # Senders that sign nothing prove themselves with a token in the URL.
        backend_class = type(self.env["distribution.sync.backend"])
        seen = {}

        def verify(backend, body, headers, query=None):
            seen.update(query or {})
            return False

        with mock.patch.object(backend_class, "_generic_webhook_verify", verify):
            self.assertFalse(
                self.backend._call("webhook_verify", b"{}", {}, {"token": SECRET})
            )
        self.assertEqual(seen, {"token": SECRET})
