# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import json
from unittest import mock

import psycopg2
import psycopg2.errorcodes

from odoo.tests import HttpCase, tagged

from odoo.addons.queue_job.job import Job

from .common import SECRET, DistributionSyncCase, order_payload, sign

MAX_BODY_PARAM = "distribution_sync.webhook_max_bytes"


class SerializationConflict(psycopg2.errors.SerializationFailure):
    """What PostgreSQL raises when another worker wrote the same rows."""

    pgcode = psycopg2.errorcodes.SERIALIZATION_FAILURE


@tagged("post_install", "-at_install")
class TestWebhook(DistributionSyncCase, HttpCase):
    """The webhook route, through a real HTTP request."""

    def setUp(self):
        super().setUp()
        self.jobs = self.env["queue.job"]

    def url(self, backend=None):
        backend_id = (
            backend if isinstance(backend, int) else (backend or self.backend).id
        )
        return f"/distribution_sync/webhook/{backend_id}"

    def post(
        self,
        body,
        *,
        topic="order/upsert",
        event_id="evt-1",
        signature=None,
        backend=None,
        signed=True,
    ):
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Sync-Topic": topic,
            "X-Sync-Event-Id": event_id,
        }
        if signature is not None:
            headers["X-Sync-Signature"] = signature
        elif signed:
            headers["X-Sync-Signature"] = sign(body)
        self.env.flush_all()
        response = self.url_open(
            self.url(backend), data=body, headers=headers, timeout=60
        )
        self.env.invalidate_all()
        return response

    def backend_messages(self, backend=None):
        return self.messages.search([("backend_id", "=", (backend or self.backend).id)])

    def order_body(self, external_id="W-1", **overrides):
        return json.dumps(order_payload(external_id, **overrides)).encode()

    # ------------------------------------------------------------ first delivery
    def test_valid_delivery_stored_once_and_queued(self):
        # Odd spacing, key order and a non-ASCII name: kept byte for byte.
        body = (
            '{"name": "#W-1",   "external_id": "W-1", "note": "Zo\u00eb \u2014 ok",\n'
            ' "lines": [], "total": "0.00"}'
        ).encode()
        jobs_before = self.jobs.search_count([])
        response = self.post(body, event_id="evt-first")
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["status"], "accepted")
        message = self.backend_messages()
        self.assertEqual(len(message), 1)
        self.assertEqual(message.state, "queued")
        self.assertEqual(message.direction, "inbound")
        self.assertEqual(message.topic, "order/upsert")
        self.assertEqual(message.idempotency_key, "event:evt-first")
        self.assertEqual(message.external_id, "W-1")
        self.assertEqual(message.payload.encode("utf-8"), body)
        headers = {k.lower(): v for k, v in json.loads(message.headers).items()}
        self.assertEqual(headers["x-sync-topic"], "order/upsert")
        self.assertEqual(headers["x-sync-event-id"], "evt-first")
        self.assertFalse([k for k in headers if "signature" in k or "cookie" in k])
        self.assertNotIn(sign(body)[7:], message.headers)
        # Its job: one, as the technical user, in the backend's channel.
        self.assertEqual(self.jobs.search_count([]), jobs_before + 1)
        job = self.jobs.search([("uuid", "=", message.job_uuid)])
        self.assertEqual(len(job), 1)
        self.assertEqual(job.state, "pending")
        self.assertEqual(job.user_id, self.backend.user_id)
        self.assertEqual(job.channel, self.backend.channel_id.complete_name)
        self.assertEqual(job.channel, "root.distribution_sync.generic")
        self.assertEqual(job.model_name, "distribution.sync.message")
        self.assertEqual(job.method_name, "_process_job")
        self.assertEqual(job.records, message)
        self.assertEqual(job.company_id, self.backend.company_id)

    def test_body_is_read_again_when_odoo_retries_the_request(self):
        # Odoo runs the route again after a serialization failure (another
        # worker wrote the same rows): the body must still be there.
        backend_class = type(self.env["distribution.sync.backend"])
        original = backend_class._webhook_intake
        calls = []

        def conflict_once(backend, body, headers):
            calls.append(body)
            if len(calls) == 1:
                raise SerializationConflict()
            return original(backend, body, headers)

        body = self.order_body("W-RETRY")
        with (
            mock.patch.object(backend_class, "_webhook_intake", conflict_once),
            mock.patch("odoo.service.model.random.uniform", return_value=0.0),
        ):
            response = self.post(body, event_id="evt-retry")
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(calls, [body, body])
        message = self.backend_messages()
        self.assertEqual(len(message), 1)
        self.assertEqual(message.payload.encode(), body)

    def test_duplicate_delivery_creates_nothing(self):
        body = self.order_body("W-2")
        first = self.post(body, event_id="evt-dup")
        self.assertEqual(first.status_code, 200)
        message = self.backend_messages()
        job_count = self.jobs.search_count([])
        second = self.post(body, event_id="evt-dup")
        self.assertEqual(second.status_code, 200)
        self.assertEqual(second.json()["status"], "duplicate")
        self.assertEqual(self.backend_messages(), message)
        self.assertEqual(self.jobs.search_count([]), job_count)
        # Even a redelivery with another body is the same event.
        third = self.post(self.order_body("W-2", note="again"), event_id="evt-dup")
        self.assertEqual(third.status_code, 200)
        self.assertEqual(self.backend_messages(), message)
        self.assertEqual(message.payload.encode(), body)
        self.assertEqual(self.jobs.search_count([]), job_count)

    # ---------------------------------------------------------------- refusals
    def test_missing_signature_refused(self):
        job_count = self.jobs.search_count([])
        response = self.post(self.order_body(), signed=False)
        self.assertEqual(response.status_code, 401)
        self.assertFalse(self.backend_messages())
        self.assertEqual(self.jobs.search_count([]), job_count)

    def test_wrong_signature_refused(self):
        body = self.order_body("W-3")
        response = self.post(body, signature=sign(body, secret="not-the-secret"))
        self.assertEqual(response.status_code, 401)
        # A signature of another body does not fit either.
        response = self.post(body, signature=sign(self.order_body("W-4")))
        self.assertEqual(response.status_code, 401)
        response = self.post(body, signature="sha256=")
        self.assertEqual(response.status_code, 401)
        self.assertFalse(self.backend_messages())
        # The right one is accepted (the refusals were not for another reason).
        self.assertEqual(self.post(body, signature=sign(body, SECRET)).status_code, 200)

    def test_unknown_backend_is_not_found(self):
        last = (
            self.env["distribution.sync.backend"]
            .with_context(active_test=False)
            .search([], order="id desc", limit=1)
        )
        response = self.post(self.order_body(), backend=last.id + 1000)
        self.assertEqual(response.status_code, 404)
        self.assertFalse(
            self.messages.search([("idempotency_key", "=", "event:evt-1")])
        )

    def test_archived_backend_is_not_found(self):
        self.backend.active = False
        response = self.post(self.order_body())
        self.assertEqual(response.status_code, 404)
        self.assertFalse(self.backend_messages())

    def test_body_over_limit_refused(self):
        body = self.order_body("W-5")
        self.env["ir.config_parameter"].set_param(MAX_BODY_PARAM, str(len(body) - 1))
        response = self.post(body, event_id="evt-big")
        self.assertEqual(response.status_code, 413)
        self.assertFalse(self.backend_messages())
        # At the limit exactly, it is accepted.
        self.env["ir.config_parameter"].set_param(MAX_BODY_PARAM, str(len(body)))
        response = self.post(body, event_id="evt-big")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(self.backend_messages()), 1)

    def test_body_not_json_stored_in_error(self):
        body = b'{"external_id": "W-6", "name": '
        job_count = self.jobs.search_count([])
        response = self.post(body, event_id="evt-broken")
        self.assertEqual(response.status_code, 200)
        message = self.backend_messages()
        self.assertEqual(len(message), 1)
        self.assertEqual(message.state, "error")
        self.assertEqual(message.payload.encode(), body)
        self.assertFalse(message.job_uuid)
        self.assertEqual(self.jobs.search_count([]), job_count)
        exception = self.exceptions.search([("message_id", "=", message.id)])
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.category, "validation")
        self.assertEqual(exception.state, "open")
        self.assertEqual(exception.backend_id, self.backend)
        self.assertIn("JSON", exception.name)
        # A redelivery is a duplicate: still one message, one exception.
        self.assertEqual(self.post(body, event_id="evt-broken").status_code, 200)
        self.assertEqual(self.backend_messages(), message)
        self.assertEqual(
            self.exceptions.search_count([("message_id", "=", message.id)]), 1
        )

    # -------------------------------------------------------------- end to end
    def test_order_webhook_to_confirmed_order(self):
        body = self.order_body("E2E-1")
        response = self.post(body, event_id="evt-e2e")
        self.assertEqual(response.status_code, 200)
        message = self.backend_messages()
        self.assertEqual(message.state, "queued")
        self.assertFalse(
            self.env["sale.order"].search([("client_order_ref", "=", "#E2E-1")])
        )
        # Run the job as the runner would: loaded from the queue, as its user.
        job = Job.load(self.env, message.job_uuid)
        self.assertEqual(job.user_id, self.backend.user_id.id)
        job.perform()
        self.env.invalidate_all()
        order = self.env["sale.order"].search([("client_order_ref", "=", "#E2E-1")])
        self.assertEqual(len(order), 1)
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.company_id, self.backend.company_id)
        self.assertEqual(order.partner_id.email, "jane@example.com")
        self.assertEqual(order.order_line.product_id, self.product)
        self.assertEqual(order.order_line.product_uom_qty, 2)
        self.assertAlmostEqual(order.amount_total, 20.0)
        binding = self.bindings.search(
            [
                ("backend_id", "=", self.backend.id),
                ("res_model", "=", "sale.order"),
                ("external_id", "=", "E2E-1"),
            ]
        )
        self.assertEqual(len(binding), 1)
        self.assertEqual(binding.res_id, order.id)
        self.assertEqual(message.state, "done")
        self.assertEqual(message.res_model, "sale.order")
        self.assertEqual(message.res_id, order.id)
        self.assertFalse(self.exceptions.search([("message_id", "=", message.id)]))

    def test_unpaid_order_stays_quotation(self):
        body = self.order_body("E2E-2", financial_status="pending")
        self.assertEqual(self.post(body, event_id="evt-e2e-2").status_code, 200)
        message = self.backend_messages()
        Job.load(self.env, message.job_uuid).perform()
        self.env.invalidate_all()
        order = self.env["sale.order"].search([("client_order_ref", "=", "#E2E-2")])
        self.assertEqual(len(order), 1)
        self.assertEqual(order.state, "draft")
        self.assertEqual(message.state, "done")
