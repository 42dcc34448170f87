# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import hashlib
import hmac
import json

from odoo.tests import HttpCase, tagged

from odoo.addons.queue_job.job import Job

from .common import (
    DEMO_ORDER_ID,
    SHOPIFY_SECRET,
    ShopifyCase,
    order_variant,
    sample_bytes,
)


@tagged("post_install", "-at_install")
class TestShopifyWebhook(ShopifyCase, HttpCase):
    """Shopify deliveries through the real route."""

    def setUp(self):
        super().setUp()
        self.jobs = self.env["queue.job"]

    def post(self, topic, body, backend=None, headers=None, **header_kw):
        headers = (
            headers
            if headers is not None
            else self.shopify_headers(topic, body, **header_kw)
        )
        self.env.flush_all()
        response = self.url_open(
            f"/distribution_sync/webhook/{(backend or self.shop).id}",
            data=body,
            headers=headers,
            timeout=60,
        )
        self.env.invalidate_all()
        return response

    def shop_messages(self):
        return self.messages.search([("backend_id", "=", self.shop.id)])

    def run_job(self, message):
        job = Job.load(self.env, message.job_uuid)
        self.assertEqual(job.user_id, self.shop.user_id.id)
        job.perform()
        self.env.invalidate_all()

    # ---------------------------------------------------------------- intake
    def test_signed_order_stored_and_queued(self):
        body = sample_bytes("demo_order_1001.json")
        jobs_before = self.jobs.search_count([])
        response = self.post(
            "orders/create", body, event_id="evt-100", api_version="2025-10"
        )
        self.assertEqual(response.status_code, 200, response.text)
        message = self.shop_messages()
        self.assertEqual(len(message), 1)
        self.assertEqual(message.topic, "orders/create")
        self.assertEqual(message.direction, "inbound")
        self.assertEqual(message.state, "queued")
        self.assertEqual(message.idempotency_key, "event:evt-100")
        self.assertEqual(message.external_id, DEMO_ORDER_ID)
        self.assertEqual(message.work_key, f"order:{DEMO_ORDER_ID}")
        # The version the payload was written in, not the backend's.
        self.assertEqual(message.api_version, "2025-10")
        self.assertEqual(message.payload.encode(), body)
        stored = {k.lower(): v for k, v in json.loads(message.headers).items()}
        self.assertEqual(stored["x-shopify-topic"], "orders/create")
        self.assertNotIn("x-shopify-hmac-sha256", stored)
        # One job, in the Shopify channel, as the technical user.
        self.assertEqual(self.jobs.search_count([]), jobs_before + 1)
        job = self.jobs.search([("uuid", "=", message.job_uuid)])
        self.assertEqual(job.state, "pending")
        self.assertEqual(job.channel, "root.distribution_sync.shopify")
        self.assertEqual(job.method_name, "_process_job")
        self.assertEqual(job.records, message)
        self.assertEqual(job.user_id, self.shop.user_id)
        # No order before the job runs.
        self.assertFalse(self.orders_with_ref("#1001"))

    def test_api_version_defaults_to_backend(self):
        body = sample_bytes("demo_order_1001.json")
        response = self.post("orders/create", body, event_id="evt-101", api_version="")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.shop_messages().api_version, "2025-07")

    def test_duplicate_event_id_stores_nothing_new(self):
        body = sample_bytes("demo_order_1001.json")
        first = self.post("orders/create", body, event_id="evt-dup", webhook_id="w-1")
        self.assertEqual(first.status_code, 200)
        message = self.shop_messages()
        job_count = self.jobs.search_count([])
        # Redelivered, and delivered to a second subscription (same event,
        # another webhook id): both duplicates.
        for webhook_id in ("w-1", "w-2"):
            with self.subTest(webhook_id=webhook_id):
                again = self.post(
                    "orders/create", body, event_id="evt-dup", webhook_id=webhook_id
                )
                self.assertEqual(again.status_code, 200)
                self.assertEqual(again.json()["status"], "duplicate")
        self.assertEqual(self.shop_messages(), message)
        self.assertEqual(self.jobs.search_count([]), job_count)

    def test_webhook_id_is_the_fallback_key(self):
        body = sample_bytes("demo_order_1001.json")
        first = self.post("orders/create", body, webhook_id="wh-7")
        self.assertEqual(first.status_code, 200)
        message = self.shop_messages()
        self.assertEqual(message.idempotency_key, "webhook:wh-7")
        again = self.post("orders/create", body, webhook_id="wh-7")
        self.assertEqual(again.status_code, 200)
        self.assertEqual(again.json()["status"], "duplicate")
        self.assertEqual(self.shop_messages(), message)
        # Another webhook id is another delivery.
        other = self.post("orders/create", body, webhook_id="wh-8")
        self.assertEqual(other.json()["status"], "accepted")
        self.assertEqual(len(self.shop_messages()), 2)

    def test_wrong_hmac_refused(self):
        body = sample_bytes("demo_order_1001.json")
        headers = self.shopify_headers(
            "orders/create", body, event_id="evt-bad", secret="not-the-app-secret"
        )
        self.assertEqual(
            self.post("orders/create", body, headers=headers).status_code, 401
        )
        # The signature of another body does not fit either.
        headers = self.shopify_headers("orders/create", body + b"\n", event_id="e")
        self.assertEqual(
            self.post("orders/create", body, headers=headers).status_code, 401
        )
        headers.pop("X-Shopify-Hmac-Sha256")
        self.assertEqual(
            self.post("orders/create", body, headers=headers).status_code, 401
        )
        self.assertFalse(self.shop_messages())

    def test_hex_signature_refused(self):
        body = sample_bytes("demo_order_1001.json")
        headers = self.shopify_headers("orders/create", body, event_id="evt-hex")
        headers["X-Shopify-Hmac-Sha256"] = hmac.new(
            SHOPIFY_SECRET.encode(), body, hashlib.sha256
        ).hexdigest()
        response = self.post("orders/create", body, headers=headers)
        self.assertEqual(response.status_code, 401)
        self.assertFalse(self.shop_messages())
        self.assertFalse(
            self.messages.search([("idempotency_key", "=", "event:evt-hex")])
        )

    # ------------------------------------------------------------ end to end
    def test_paid_order_end_to_end(self):
        body = sample_bytes("demo_order_1001.json")
        self.assertEqual(
            self.post("orders/create", body, event_id="evt-e2e").status_code, 200
        )
        message = self.shop_messages()
        self.run_job(message)
        self.assertEqual(message.state, "done", message.last_error)
        order = self.orders_with_ref("#1001")
        self.assertEqual(len(order), 1)
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.company_id, self.shop.company_id)
        self.assertAlmostEqual(order.amount_total, 63.60, places=2)
        binding = self.bindings.search(
            [("backend_id", "=", self.shop.id), ("res_id", "=", order.id)]
        )
        self.assertEqual(len(binding), 1)
        self.assertEqual(binding.res_model, "sale.order")
        self.assertEqual(binding.external_id, DEMO_ORDER_ID)
        self.assertEqual(binding.external_name, "#1001")
        self.assertEqual((message.res_model, message.res_id), ("sale.order", order.id))
        self.assertFalse(self.open_exceptions())

    def test_confirmation_follows_financial_status(self):
        expected = {
            "paid": "sale",
            "partially_paid": "sale",
            "authorized": "sale",
            "pending": "draft",
        }
        for index, (status, state) in enumerate(expected.items()):
            with self.subTest(financial_status=status):
                order_id = f"56100000020{index:02d}"
                payload = order_variant(
                    "demo_order_1001.json", order_id, financial_status=status
                )
                body = json.dumps(payload).encode()
                response = self.post(
                    "orders/create", body, event_id=f"evt-status-{status}"
                )
                self.assertEqual(response.status_code, 200)
                message = self.messages.search(
                    [("idempotency_key", "=", f"event:evt-status-{status}")]
                )
                self.run_job(message)
                self.assertEqual(message.state, "done", message.last_error)
                order = self.order_of(order_id)
                self.assertEqual(order.client_order_ref, payload["name"])
                self.assertEqual(order.state, state)

    def test_signed_body_not_json_kept_in_error(self):
        body = b'{"id": 5610000001009, "name": "#1009", "line_items": ['
        response = self.post("orders/create", body, event_id="evt-broken")
        self.assertEqual(response.status_code, 200)
        message = self.shop_messages()
        self.assertEqual(len(message), 1)
        self.assertEqual(message.state, "error")
        self.assertEqual(message.payload.encode(), body)
        self.assertFalse(message.job_uuid)
        exception = self.open_exceptions(message)
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.category, "validation")
        self.assertIn("JSON", exception.name)
        # Redelivered: a duplicate, still one message and one exception.
        again = self.post("orders/create", body, event_id="evt-broken")
        self.assertEqual(again.status_code, 200)
        self.assertEqual(self.shop_messages(), message)
        self.assertEqual(len(self.open_exceptions()), 1)
