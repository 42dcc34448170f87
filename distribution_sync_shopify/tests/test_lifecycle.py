# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged

from odoo.addons.queue_job.job import Job
from odoo.addons.queue_job.tests.common import trap_jobs

from ..models.distribution_sync_backend import SAMPLES_DIR
from .common import ShopifyCase, sample_bytes


class TestShopifyTopics(ShopifyCase):
    def test_unknown_topic_skipped_without_exception(self):
        body = b'{"id": 841564295, "title": "Summer collection", "handle": "summer"}'
        message = self.receive("collections/update", body)
        self.assertEqual(message.topic, "collections/update")
        self.assertEqual(message.state, "skipped")
        self.assertIn("collections/update", message.result_summary)
        self.assertFalse(message.exception_ids)
        self.assertFalse(self.open_exceptions())

    def test_load_samples_once(self):
        bundled = sorted(SAMPLES_DIR.glob("*.json"))
        self.assertTrue(bundled)
        with trap_jobs() as trap:
            action = self.shop.action_shopify_load_samples()
            trap.assert_jobs_count(len(bundled))
            jobs = trap.enqueued_jobs
        loaded = self.messages.search(
            [
                ("backend_id", "=", self.shop.id),
                ("idempotency_key", "=like", "event:sample-%"),
            ]
        )
        self.assertEqual(len(loaded), len(bundled))
        self.assertEqual({job.method_name for job in jobs}, {"_process_job"})
        self.assertEqual(self.messages.union(*(job.recordset for job in jobs)), loaded)
        self.assertEqual({job.user_id for job in jobs}, {self.shop.user_id.id})
        self.assertEqual(set(loaded.mapped("state")), {"queued"})
        self.assertEqual(
            set(loaded.mapped("topic")), {"orders/create", "customers/create"}
        )
        self.assertEqual(self.messages.search(action["domain"]), loaded)
        for message in loaded:
            stem = message.idempotency_key.removeprefix("event:sample-")
            path = SAMPLES_DIR / f"{stem}.json"
            self.assertEqual(message.payload.encode(), path.read_bytes())
        # A second click adds nothing.
        with trap_jobs() as trap:
            self.shop.action_shopify_load_samples()
            trap.assert_jobs_count(0)
        self.assertEqual(
            self.messages.search_count(
                [
                    ("backend_id", "=", self.shop.id),
                    ("idempotency_key", "=like", "event:sample-%"),
                ]
            ),
            len(bundled),
        )

    def test_load_samples_refused_in_production(self):
        self.shop.environment = "production"
        with trap_jobs() as trap, self.assertRaises(UserError):
            self.shop.action_shopify_load_samples()
        trap.assert_jobs_count(0)
        self.assertFalse(self.messages.search([("backend_id", "=", self.shop.id)]))


@tagged("post_install", "-at_install")
class TestShopifyUninstall(ShopifyCase, HttpCase):
    def post(self, topic, body, event_id):
        self.env.flush_all()
        response = self.url_open(
            f"/distribution_sync/webhook/{self.shop.id}",
            data=body,
            headers=self.shopify_headers(topic, body, event_id),
            timeout=60,
        )
        self.env.invalidate_all()
        return response

    def test_app_uninstalled_archives_backend(self):
        body = sample_bytes("app_uninstalled.json")
        response = self.post("app/uninstalled", body, "evt-uninstall")
        self.assertEqual(response.status_code, 200, response.text)
        message = self.messages.search([("backend_id", "=", self.shop.id)])
        self.assertEqual(message.work_key, "shop:acme-test.myshopify.com")
        Job.load(self.env, message.job_uuid).perform()
        self.env.invalidate_all()
        self.assertEqual(message.state, "done", message.last_error)
        self.assertFalse(self.shop.active)
        exception = self.open_exceptions(message)
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.severity, "critical")
        self.assertIn("uninstalled", exception.name)
        self.assertIn("acme-test.myshopify.com", exception.name)
        # Nothing comes in any more, whatever the signature.
        order = sample_bytes("demo_order_1001.json")
        response = self.post("orders/create", order, "evt-after-uninstall")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(
            self.messages.search_count([("backend_id", "=", self.shop.id)]), 1
        )
