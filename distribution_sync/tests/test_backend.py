# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest.mock import patch
from urllib.parse import parse_qs, urlsplit

from odoo import fields
from odoo.exceptions import UserError

from odoo.addons.queue_job.tests.common import trap_jobs

from ..core import ownership as core_ownership
from ..core import reference
from ..core.signature import hmac_sha256_hex
from .common import SECRET, DistributionSyncCase, order_payload


class _RecordingHandler(BaseHTTPRequestHandler):
    """Answers from ``server.answers`` ({path: (status, json[, headers])}, or a
    function of the query giving that) and records every request in
    ``server.received``."""

    def log_message(self, *args):
        return

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        self.server.received.append(
            {
                "method": self.command,
                "path": url.path,
                "query": parse_qs(url.query),
                "headers": dict(self.headers.items()),
                "body": body,
            }
        )
        answer = self.server.answers.get(url.path, (200, {"id": 42}))
        if callable(answer):
            answer = answer(parse_qs(url.query))
        status, answer, *headers = answer
        data = json.dumps(answer).encode()
        self.send_response(status)
        for name, value in (headers[0] if headers else {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = _answer
    do_POST = _answer


class TestBackendSetup(DistributionSyncCase):
    def test_created_with_contract_fields_only(self):
        def no_http(*args, **kwargs):
            raise AssertionError("Creating a backend must not call the channel.")

        with (
            patch("requests.request", side_effect=no_http),
            patch("requests.Session.request", side_effect=no_http),
        ):
            backend = self.env["distribution.sync.backend"].create(
                {
                    "name": "Integrator shop",
                    "backend_type": "generic",
                    "webhook_secret": "integrator-secret",
                }
            )
        self.assertEqual(backend.company_id, self.env.company)
        self.assertTrue(backend.active)
        # Technical user: internal, active, allowed to work the sync.
        user = backend.user_id
        self.assertTrue(user)
        self.assertTrue(user.active)
        self.assertFalse(user.share)
        self.assertTrue(
            user.has_group("distribution_sync.group_distribution_sync_user")
        )
        self.assertTrue(user.has_group("sales_team.group_sale_salesman_all_leads"))
        self.assertFalse(user.has_group("base.group_system"))
        self.assertEqual(user.company_id, backend.company_id)
        # Job channel.
        self.assertEqual(
            backend.channel_id.complete_name, "root.distribution_sync.generic"
        )
        self.assertEqual(backend._job_channel(), "root.distribution_sync.generic")
        # Ownership: a row for every entity, orders and customers to the channel.
        owners = {
            rule.entity: rule.owner
            for rule in backend.ownership_ids
            if not rule.field_name
        }
        self.assertEqual(set(owners), set(core_ownership.ENTITIES))
        for entity, owner in owners.items():
            expected = "channel" if entity in ("order", "customer") else "odoo"
            self.assertEqual(owner, expected, entity)
        # Validation rules.
        rules = backend.validation_rule_ids
        self.assertEqual(
            set(rules.mapped("rule_type")),
            {"total_tolerance", "lines_mapped", "price_deviation"},
        )
        self.assertEqual(
            rules.filtered(lambda r: r.rule_type == "total_tolerance").severity,
            "block",
        )
        # Shipping product and secret.
        self.assertEqual(backend.shipping_product_id.type, "service")
        self.assertTrue(backend.webhook_secret_set)
        self.assertFalse(backend.webhook_secret)
        self.assertEqual(backend._get_secret("webhook_secret"), "integrator-secret")

    def test_backends_share_channel_and_get_own_user(self):
        other = self.env["distribution.sync.backend"].create(
            {"name": "Second", "backend_type": "generic", "webhook_secret": SECRET}
        )
        self.assertEqual(other.channel_id, self.backend.channel_id)
        self.assertNotEqual(other.user_id, self.backend.user_id)

    def test_new_backend_imports_at_once(self):
        backend = self.env["distribution.sync.backend"].create(
            {"name": "Fresh", "backend_type": "generic", "webhook_secret": SECRET}
        )
        message = self.process(
            self.intake("order/upsert", order_payload("SO-FRESH"), backend=backend)
        )
        self.assertEqual(message.state, "done", message.last_error)
        order = self.bindings._find_record(backend, "sale.order", "SO-FRESH")
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.create_uid, backend.user_id)


class TestBackendOperations(DistributionSyncCase):
    def _order_count(self, ref):
        return self.env["sale.order"].search_count([("client_order_ref", "=", ref)])

    # --------------------------------------------------------------- dry run
    def test_dry_run_writes_nothing(self):
        message = self.intake("order/upsert", order_payload("SO-DRY"))
        partners = self.env["res.partner"].search_count([])
        report = json.loads(message._dry_run())
        self.assertEqual(report["outcome"], "ok")
        self.assertEqual(report["result"]["res_model"], "sale.order")
        self.assertEqual(report["result"]["odoo_values"]["client_order_ref"], "#SO-DRY")
        self.assertEqual(self._order_count("#SO-DRY"), 0)
        self.assertEqual(self.env["res.partner"].search_count([]), partners)
        self.assertFalse(self.bindings._find(self.backend, "sale.order", "SO-DRY"))
        self.assertEqual(message.state, "received")
        self.assertFalse(message.res_id)

    def test_dry_run_action_and_failure(self):
        message = self.intake(
            "order/upsert",
            order_payload(
                "SO-DRY", lines=[{"sku": "NOPE", "quantity": 1, "price_unit": "1"}]
            ),
        )
        action = message.action_dry_run()
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        report = json.loads(wizard.report)
        self.assertEqual(report["outcome"], "failure")
        self.assertEqual(report["category"], "mapping")
        self.assertIn("NOPE", report["error"])
        self.assertEqual(message.state, "received")
        self.assertFalse(message.exception_ids)

    # ---------------------------------------------------------------- replay
    def test_replay_applies_mapping_change(self):
        mapping = self.env["distribution.sync.mapping"].create(
            {
                "backend_id": self.backend.id,
                "mapping_type": "uom",
                "external_code": "CASE",
                "factor": 6,
            }
        )
        message = self.process(
            self.intake(
                "order/upsert",
                order_payload(
                    "SO-RP",
                    financial_status="pending",
                    lines=[
                        {
                            "sku": "DS-TEST-1",
                            "quantity": 2,
                            "uom": "CASE",
                            "price_unit": "60.00",
                        }
                    ],
                    total="120.00",
                ),
            )
        )
        self.assertEqual(message.state, "done", message.last_error)
        order = self.bindings._find_record(self.backend, "sale.order", "SO-RP")
        self.assertEqual(order.order_line.product_uom_qty, 12)

        mapping.factor = 12
        message.action_replay()

        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(self._order_count("#SO-RP"), 1)
        self.assertEqual(
            self.bindings._find_record(self.backend, "sale.order", "SO-RP"), order
        )
        self.assertEqual(order.order_line.product_uom_qty, 24)
        self.assertAlmostEqual(order.order_line.price_unit, 5.0)
        self.assertAlmostEqual(order.amount_total, 120.0)
        self.assertTrue(
            self.env["distribution.sync.audit"].search_count(
                [
                    ("action", "=", "replay"),
                    ("res_model", "=", message._name),
                    ("res_id", "=", message.id),
                ]
            )
        )

    def test_replay_confirmed_order_is_idempotent(self):
        message = self.process(self.intake("order/upsert", order_payload("SO-RP2")))
        order = self.bindings._find_record(self.backend, "sale.order", "SO-RP2")
        message.action_replay()
        message.action_replay()
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(self._order_count("#SO-RP2"), 1)
        self.assertEqual(len(order.order_line), 1)
        self.assertEqual(order.state, "sale")

    # ------------------------------------------------------------- dashboard
    def test_dashboard_counts(self):
        backend = self.env["distribution.sync.backend"].create(
            {"name": "Dashboard", "backend_type": "generic", "webhook_secret": SECRET}
        )
        now = fields.Datetime.now()
        states = [
            "received",
            "received",
            "queued",
            "queued",
            "error",
            "dead",
            "dead",
            "blocked",
            "skipped",
            "done",
            "done",
            "done",
        ]
        messages = self.messages
        for index, state in enumerate(states):
            message, _new = self.messages._intake(
                backend, "inbound", "order/upsert", f"dash:{index}", "{}", state=state
            )
            messages |= message
        done = messages.filtered(lambda m: m.state == "done")
        done[0].processed_at = now - timedelta(hours=1)
        done[1].processed_at = now - timedelta(hours=2)
        done[2].processed_at = now - timedelta(days=3)
        backend._open_exception("validation", "First problem", value="A")
        backend._open_exception("mapping", "Second problem", value="B")
        backend._open_exception("mapping", "Third problem", value="C").action_resolve()
        backend.invalidate_recordset()

        self.assertEqual(backend.count_pending, 4)
        self.assertEqual(backend.count_error, 1)
        self.assertEqual(backend.count_dead, 2)
        self.assertEqual(backend.count_blocked, 1)
        self.assertEqual(backend.count_open_exceptions, 2)
        self.assertEqual(backend.count_overdue_exceptions, 0)
        self.assertEqual(backend.count_done_24h, 2)
        self.assertEqual(backend.last_success_date, now - timedelta(hours=1))
        self.assertIn("Validation: 1", backend.exception_summary)
        # Another backend's figures are its own.
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.count_dead, 0)


class TestBackendHttp(DistributionSyncCase):
    """Outbound calls against a real HTTP server on the loopback interface."""

    def setUp(self):
        super().setUp()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _RecordingHandler)
        self.server.received = []
        self.server.answers = {}
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()

        def stop():
            self.server.shutdown()
            self.server.server_close()
            thread.join(5)

        self.addCleanup(stop)
        host, port = self.server.server_address[:2]
        self.backend.api_url = f"http://{host}:{port}/api"
        self.backend.request_timeout = 5

    def _outbound(self, payload=None):
        with trap_jobs() as trap:
            message = self.backend._push(
                self.product,
                "product/upsert",
                payload or {"sku": "DS-TEST-1", "name": "Test widget café"},
                "product",
            )
            trap.assert_jobs_count(1, only=message._send_job)
        self.assertEqual(message.state, "queued")
        return message

    def test_send_done_with_remote_id(self):
        message = self._outbound()
        message._send_job()
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(message.external_id, "42")
        self.assertEqual(message.attempt_count, 1)
        self.assertEqual(len(self.server.received), 1)
        request = self.server.received[0]
        self.assertEqual(request["method"], "POST")
        self.assertEqual(request["path"], "/api/product/upsert")
        headers = {key.lower(): value for key, value in request["headers"].items()}
        self.assertEqual(
            headers[reference.EVENT_ID_HEADER.lower()], message.idempotency_key
        )
        self.assertEqual(json.loads(request["body"]), json.loads(message.payload))
        # The signature covers the bytes that were sent.
        self.assertEqual(
            headers[reference.SIGNATURE_HEADER.lower()],
            "sha256=" + hmac_sha256_hex(SECRET, request["body"]),
        )
        # A finished message is not sent twice.
        message._send_job()
        self.assertEqual(len(self.server.received), 1)

    def test_delivered_outbound_message_is_not_replayed(self):
        message = self._outbound()
        message._send_job()
        self.assertEqual(message.state, "done")
        with self.assertRaisesRegex(UserError, "delivered already"):
            message.action_replay()
        self.assertEqual(len(self.server.received), 1)

    def test_send_server_error_is_retried(self):
        self.server.answers["/api/product/upsert"] = (500, {"error": "busy"})
        message = self._outbound()
        with trap_jobs() as trap:
            message._send_job()
            trap.assert_jobs_count(1, only=message._send_job)
        self.assertEqual(message.state, "queued")
        self.assertEqual(message.attempt_count, 1)
        self.assertTrue(message.next_retry_at)
        self.assertIn("500", message.last_error)
        self.assertFalse(message.exception_ids)

    def test_send_rate_limited_waits_as_asked(self):
        self.server.answers["/api/product/upsert"] = (
            429,
            {"error": "slow down"},
            {"Retry-After": "3600"},
        )
        message = self._outbound()
        before = fields.Datetime.now()
        with trap_jobs() as trap:
            message._send_job()
            trap.assert_jobs_count(1, only=message._send_job)
            eta = trap.enqueued_jobs[0].eta
        self.assertEqual(message.state, "queued")
        self.assertGreaterEqual(message.next_retry_at, before + timedelta(seconds=3599))
        self.assertGreaterEqual(eta, before + timedelta(seconds=3599))

    def test_send_refused_is_error_without_retry(self):
        self.server.answers["/api/product/upsert"] = (422, {"error": "bad sku"})
        message = self._outbound()
        with trap_jobs() as trap:
            message._send_job()
            trap.assert_jobs_count(0)
        self.assertEqual(message.state, "error")
        self.assertIn("422", message.last_error)
        exception = message.exception_ids
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.state, "open")
        self.assertEqual(exception.category, "validation")
        self.assertEqual(exception.value, "422")

    def test_send_unreachable_is_retried(self):
        message = self._outbound()
        self.backend.api_url = "http://127.0.0.1:9/api"
        with trap_jobs():
            message._send_job()
        self.assertEqual(message.state, "queued")

    def test_connection(self):
        self.server.answers["/api/ping"] = (200, {"pong": True})
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn(self.backend.api_url, action["params"]["message"])
        self.assertEqual(self.server.received[0]["method"], "GET")
        self.assertEqual(self.server.received[0]["path"], "/api/ping")
        self.assertTrue(
            self.env["distribution.sync.audit"].search_count(
                [
                    ("backend_id", "=", self.backend.id),
                    ("action", "=", "test_connection"),
                ]
            )
        )

    def test_fetch_changes(self):
        partner = {"external_id": "C-F1", "name": "Fetched", "email": "f@example.com"}
        self.server.answers["/api/events"] = (
            200,
            {
                "events": [
                    {
                        "id": "EV-1",
                        "topic": "order/upsert",
                        "data": order_payload("SO-F1"),
                    },
                    {"id": "EV-2", "topic": "partner/upsert", "data": partner},
                ]
            },
        )
        self.assertFalse(self.backend.fetch_checkpoint)
        before = fields.Datetime.now().replace(microsecond=0)
        with trap_jobs() as trap:
            self.backend._fetch_changes_job()
            trap.assert_jobs_count(2)
        messages = self.messages.search(
            [("backend_id", "=", self.backend.id), ("direction", "=", "inbound")]
        )
        self.assertEqual(len(messages), 2)
        self.assertEqual(
            set(messages.mapped("idempotency_key")), {"event:EV-1", "event:EV-2"}
        )
        order_message = messages.filtered(lambda m: m.topic == "order/upsert")
        self.assertEqual(order_message.external_id, "SO-F1")
        self.assertEqual(order_message.work_key, "order:SO-F1")
        self.assertEqual(order_message.state, "queued")
        checkpoint = self.backend.fetch_checkpoint
        self.assertGreaterEqual(checkpoint, before)
        self.assertFalse(self.server.received[0]["query"])

        # The same events again: nothing new; the overlap is asked for.
        with trap_jobs() as trap:
            self.backend._fetch_changes_job()
            trap.assert_jobs_count(0)
        self.assertEqual(
            self.messages.search_count(
                [("backend_id", "=", self.backend.id), ("direction", "=", "inbound")]
            ),
            2,
        )
        since = self.server.received[1]["query"]["since"][0]
        expected = checkpoint - timedelta(minutes=self.backend.fetch_overlap_minutes)
        self.assertEqual(since, expected.isoformat())
        self.assertGreaterEqual(self.backend.fetch_checkpoint, checkpoint)

        # The fetched events import like webhooks.
        self.process(order_message)
        self.assertEqual(order_message.state, "done", order_message.last_error)
        self.assertTrue(self.bindings._find_record(self.backend, "sale.order", "SO-F1"))

    def test_fetch_changes_one_page_per_job(self):
        """A long listing is fetched one page per job, each job queuing the
        next; the checkpoint moves once the last page is in, to when the
        first one started."""
        pages = {
            None: {"events": [{"id": "EV-P1", "topic": "order/upsert"}]},
            "p2": {
                "events": [{"id": "EV-P2", "topic": "order/upsert"}],
                "next_cursor": "p3",
            },
            "p3": {"events": [{"id": "EV-P3", "topic": "order/upsert"}]},
        }
        pages[None]["next_cursor"] = "p2"
        for index, page in enumerate(pages.values(), start=1):
            page["events"][0]["data"] = order_payload(f"SO-P{index}")
        self.server.answers["/api/events"] = lambda query: (
            200,
            pages[(query.get("cursor") or [None])[0]],
        )
        before = fields.Datetime.now().replace(microsecond=0)
        fetch_key = f"distribution_sync:fetch:{self.backend.id}"
        with trap_jobs() as trap:
            self.backend._fetch_changes_job()
            trap.assert_jobs_count(1, only=self.backend._fetch_changes_job)
            follow = trap.enqueued_jobs[-1]
            self.assertEqual(follow.identity_key, fetch_key)
            self.assertEqual(follow.kwargs["cursor"], "p2")
            self.assertFalse(self.backend.fetch_checkpoint, "not before the end")
            # The cron asking again meanwhile queues nothing more.
            self.backend.action_fetch_changes()
            trap.assert_jobs_count(1, only=self.backend._fetch_changes_job)
        with trap_jobs() as trap:
            follow.perform()
            trap.assert_jobs_count(1, only=self.backend._fetch_changes_job)
            last = trap.enqueued_jobs[-1]
            self.assertEqual(last.kwargs["cursor"], "p3")
            self.assertFalse(self.backend.fetch_checkpoint)
            last.perform()
            trap.assert_jobs_count(1, only=self.backend._fetch_changes_job)
        self.assertGreaterEqual(self.backend.fetch_checkpoint, before)
        self.assertEqual(
            fields.Datetime.to_string(self.backend.fetch_checkpoint),
            follow.kwargs["started"],
        )
        self.assertEqual(
            [r["query"].get("cursor") for r in self.server.received],
            [None, ["p2"], ["p3"]],
        )
        self.assertEqual(
            set(
                self.messages.search(
                    [
                        ("backend_id", "=", self.backend.id),
                        ("direction", "=", "inbound"),
                    ]
                ).mapped("idempotency_key")
            ),
            {"event:EV-P1", "event:EV-P2", "event:EV-P3"},
        )
