# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import json
import socket
import zlib
from datetime import timedelta
from unittest import mock

import psycopg2
import psycopg2.errorcodes

from odoo import fields
from odoo.exceptions import UserError
from odoo.sql_db import db_connect
from odoo.tools import mute_logger

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job
from odoo.addons.queue_job.tests.common import trap_jobs

from ..core.errors import TransientError
from ..models.distribution_sync_backend_rules_mixin import JOB_CACHE_KEY
from .common import DistributionSyncCase, order_payload

LOCK_NAMESPACE = 7919


def closed_local_port():
    """A TCP port on 127.0.0.1 that nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DistributionSyncJobCase(DistributionSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.orders = cls.env["sale.order"]
        cls.retry_pattern = (
            cls.env["queue.job.function"]
            .sudo()
            .job_config("<distribution.sync.message>._process_job")
            .retry_pattern
        )

    def order_binding(self, external_id):
        return self.bindings.search(
            [
                ("backend_id", "=", self.backend.id),
                ("res_model", "=", "sale.order"),
                ("external_id", "=", external_id),
            ]
        )

    def orders_of(self, external_id):
        return self.orders.search([("client_order_ref", "=", f"#{external_id}")])

    def open_exceptions(self, message, category=None):
        domain = [("message_id", "=", message.id), ("state", "=", "open")]
        if category:
            domain.append(("category", "=", category))
        return self.exceptions.search(domain)

    def hold_work_lock(self, message):
        """Take the work lock of ``message`` from another connection, as the
        job of another worker would (until the test ends); True when taken."""
        cr2 = db_connect(self.env.cr.dbname).cursor()
        self.addCleanup(cr2.close)
        self.addCleanup(cr2.rollback)
        cr2.execute(
            "SELECT pg_try_advisory_xact_lock(%s, %s)",
            (LOCK_NAMESPACE, self.lock_key(message)),
        )
        return cr2.fetchone()[0]

    def lock_key(self, message):
        work = message.work_key or message.idempotency_key
        key = zlib.crc32(f"{message.backend_id.id}:{work}".encode())
        # pg_try_advisory_xact_lock(int4, int4): the same signed value.
        return key - 2**32 if key >= 2**31 else key


class TestEnqueue(DistributionSyncJobCase):
    def test_enqueue_one_job_in_backend_channel(self):
        message = self.intake("order/upsert", order_payload("Q-1"), event_id="q1")
        with trap_jobs() as trap:
            message._enqueue()
            trap.assert_jobs_count(1)
            trap.assert_jobs_count(1, only=message._process_job)
            trap.assert_enqueued_job(
                message._process_job,
                properties={
                    "channel": self.backend._job_channel(),
                    "identity_key": f"distribution_sync:{message.id}:1",
                    "max_retries": 0,
                },
            )
            job = trap.enqueued_jobs[0]
        self.assertEqual(self.backend._job_channel(), "root.distribution_sync.generic")
        self.assertEqual(job.user_id, self.backend.user_id.id)
        self.assertEqual(message.state, "queued")
        self.assertEqual(message.job_uuid, job.uuid)

    def test_enqueue_same_attempt_twice_keeps_one_job(self):
        message = self.intake("order/upsert", order_payload("Q-2"), event_id="q2")
        with trap_jobs() as trap:
            message._enqueue()
            message._enqueue()
            trap.assert_jobs_count(1, only=message._process_job)

    def test_identity_key_dedupes_stored_jobs(self):
        """Without the trap: the real queue keeps one job per attempt."""
        message = self.intake("order/upsert", order_payload("Q-3"), event_id="q3")
        message._enqueue()
        first_uuid = message.job_uuid
        message._enqueue()
        jobs = self.env["queue.job"].search(
            [("identity_key", "=", f"distribution_sync:{message.id}:1")]
        )
        self.assertEqual(len(jobs), 1)
        self.assertEqual(jobs.uuid, first_uuid)
        self.assertEqual(message.job_uuid, first_uuid)
        self.assertEqual(jobs.channel, "root.distribution_sync.generic")
        self.assertEqual(jobs.method_name, "_process_job")
        self.assertEqual(jobs.user_id, self.backend.user_id)

    def test_perform_enqueued_job_creates_order(self):
        message = self.intake("order/upsert", order_payload("Q-4"), event_id="q4")
        with trap_jobs() as trap:
            message._enqueue()
            trap.perform_enqueued_jobs()
        order = self.orders_of("Q-4")
        self.assertEqual(len(order), 1)
        self.assertEqual(message.state, "done")
        self.assertEqual(message.attempt_count, 1)
        self.assertEqual((message.res_model, message.res_id), ("sale.order", order.id))
        self.assertEqual(self.order_binding("Q-4").res_id, order.id)
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.create_uid, self.backend.user_id)

    def test_rerun_after_success_is_a_noop(self):
        message = self.intake("order/upsert", order_payload("Q-5"), event_id="q5")
        with trap_jobs() as trap:
            message._enqueue()
            job = trap.enqueued_jobs[0]
            job.perform()
            self.assertEqual(message.state, "done")
            second = job.perform()
            # No follow-up job was queued by either run.
            self.assertEqual(trap.enqueued_jobs, [job])
        self.assertTrue(second.startswith("Nothing to do"), second)
        self.assertEqual(len(self.orders_of("Q-5")), 1)
        self.assertEqual(len(self.order_binding("Q-5")), 1)
        self.assertEqual(message.attempt_count, 1)
        self.assertEqual(message._process_job(), "Nothing to do: message is done.")


class TestRetries(DistributionSyncJobCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend.write(
            {
                "max_attempts": 3,
                "api_url": f"http://127.0.0.1:{closed_local_port()}",
                "request_timeout": 5,
            }
        )

    def outbound(self, key="out-1"):
        body = json.dumps({"external_id": "P-1", "name": "Jane Buyer"})
        message, is_new = self.messages._intake(
            self.backend,
            "outbound",
            "partner/upsert",
            key,
            body,
            work_key="res.partner:1",
        )
        self.assertTrue(is_new)
        return message

    def assert_retry_scheduled(self, message, trap, attempt, before):
        delay = self.retry_pattern[attempt]
        self.assertEqual(message.state, "queued")
        self.assertEqual(message.attempt_count, attempt)
        self.assertIn("127.0.0.1", message.last_error)
        self.assertGreaterEqual(
            message.next_retry_at, before + timedelta(seconds=delay)
        )
        self.assertLessEqual(
            message.next_retry_at,
            fields.Datetime.now() + timedelta(seconds=delay),
        )
        # The next attempt is a new job, delayed by the same backoff.
        trap.assert_jobs_count(1, only=message._send_job)
        trap.assert_enqueued_job(
            message._send_job,
            properties={
                "eta": delay,
                "identity_key": f"distribution_sync:{message.id}:{attempt + 1}",
            },
        )
        self.assertEqual(message.job_uuid, trap.enqueued_jobs[0].uuid)
        self.assertFalse(self.open_exceptions(message))

    def test_network_failure_backoff_then_dead(self):
        """A real refused connection: retried with the XML pattern, then dead."""
        self.assertEqual(self.retry_pattern[1], 10)
        self.assertEqual(self.retry_pattern[2], 30)
        message = self.outbound()
        with trap_jobs() as trap:
            message._enqueue()
            trap.assert_jobs_count(1, only=message._send_job)
            for attempt in (1, 2):
                before = fields.Datetime.now()
                trap.perform_enqueued_jobs()
                self.assert_retry_scheduled(message, trap, attempt, before)
            trap.perform_enqueued_jobs()
            # Attempt 3 of 3: given up, no new job.
            trap.assert_jobs_count(0)
        self.assertEqual(message.state, "dead")
        self.assertEqual(message.attempt_count, 3)
        self.assertFalse(message.next_retry_at)
        exceptions = self.exceptions.search([("message_id", "=", message.id)])
        self.assertEqual(len(exceptions), 1)
        self.assertEqual(exceptions.category, "transient")
        self.assertEqual(exceptions.state, "open")
        self.assertEqual(exceptions.occurrence_count, 1)
        self.assertIn("3 attempts", exceptions.name)

    def test_transient_processing_error_is_retried(self):
        message = self.intake("order/upsert", order_payload("R-1"), event_id="r1")
        backend_class = type(self.backend)
        with (
            mock.patch.object(
                backend_class,
                "_generic_process_message",
                side_effect=TransientError("Channel busy (429)"),
                autospec=True,
            ) as process,
            trap_jobs() as trap,
        ):
            message._enqueue()
            before = fields.Datetime.now()
            trap.perform_enqueued_jobs()
            self.assertEqual(process.call_count, 1)
            self.assertEqual(message.state, "queued")
            self.assertEqual(message.attempt_count, 1)
            self.assertEqual(message.last_error, "Channel busy (429)")
            self.assertGreaterEqual(
                message.next_retry_at, before + timedelta(seconds=10)
            )
            trap.assert_enqueued_job(
                message._process_job,
                properties={
                    "eta": 10,
                    "identity_key": f"distribution_sync:{message.id}:2",
                },
            )
            self.assertFalse(self.open_exceptions(message))
        # The channel is back: the next attempt succeeds.
        with trap_jobs() as trap:
            message._enqueue()
            trap.perform_enqueued_jobs()
        self.assertEqual(message.state, "done")
        self.assertEqual(message.attempt_count, 2)
        self.assertEqual(len(self.orders_of("R-1")), 1)

    def test_retry_job_stored_by_the_technical_user(self):
        """Outside the trap: the runner's retry is a real job with an eta."""
        message = self.intake("order/upsert", order_payload("R-3"), event_id="r3")
        message._enqueue()
        first = self.env["queue.job"].search([("uuid", "=", message.job_uuid)])
        self.assertEqual(first.user_id, self.backend.user_id)
        with mock.patch.object(
            type(self.backend),
            "_generic_process_message",
            side_effect=TransientError("Channel busy (503)"),
            autospec=True,
        ):
            result = Job.load(self.env, first.uuid).perform()
        self.assertIn("queued", result)
        retry = self.env["queue.job"].search(
            [("identity_key", "=", f"distribution_sync:{message.id}:2")]
        )
        self.assertEqual(len(retry), 1)
        self.assertEqual(message.job_uuid, retry.uuid)
        self.assertEqual(retry.user_id, self.backend.user_id)
        self.assertEqual(retry.channel, "root.distribution_sync.generic")
        self.assertTrue(retry.eta)
        self.assertGreaterEqual(retry.eta, first.date_created + timedelta(seconds=10))
        self.assertAlmostEqual(
            retry.eta, message.next_retry_at, delta=timedelta(seconds=2)
        )

    def test_permanent_error_is_not_retried(self):
        message = self.intake(
            "order/upsert",
            order_payload(
                "R-2", lines=[{"sku": "NOPE", "quantity": 1, "price_unit": "10.00"}]
            ),
            event_id="r2",
        )
        with trap_jobs() as trap:
            message._enqueue()
            trap.perform_enqueued_jobs()
            trap.assert_jobs_count(0)
        self.assertEqual(message.state, "blocked")
        self.assertEqual(message.attempt_count, 1)
        self.assertFalse(message.next_retry_at)
        self.assertFalse(self.orders_of("R-2"))
        exception = self.open_exceptions(message)
        self.assertEqual(exception.category, "mapping")
        self.assertEqual(exception.value, "NOPE")


class TestConcurrency(DistributionSyncJobCase):
    def other_cursor(self):
        cr = db_connect(self.env.cr.dbname).cursor()
        self.addCleanup(cr.close)
        self.addCleanup(cr.rollback)
        return cr

    def test_duplicate_idempotency_key_refused_by_database(self):
        message = self.intake("order/upsert", order_payload("C-1"), event_id="c1")
        vals = {
            "backend_id": self.backend.id,
            "direction": "inbound",
            "topic": "order/upsert",
            "idempotency_key": message.idempotency_key,
            "payload": "{}",
        }
        with (
            self.assertRaises(psycopg2.IntegrityError),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self.messages.create(vals)
        # The same key in the other direction is another event.
        other = self.messages.create(dict(vals, direction="outbound"))
        self.assertTrue(other)

    def test_intake_of_existing_key_returns_existing(self):
        body = json.dumps(order_payload("C-2"))
        first, is_new = self.messages._intake(
            self.backend, "inbound", "order/upsert", "event:c2", body
        )
        self.assertTrue(is_new)
        again, is_new = self.messages._intake(
            self.backend, "inbound", "order/upsert", "event:c2", body + " "
        )
        self.assertFalse(is_new)
        self.assertEqual(again, first)
        self.assertEqual(again.payload, body)
        self.assertEqual(
            self.messages.search_count(
                [
                    ("backend_id", "=", self.backend.id),
                    ("idempotency_key", "=", "event:c2"),
                ]
            ),
            1,
        )

    def test_advisory_lock_excludes_other_transactions(self):
        message = self.intake("order/upsert", order_payload("C-3"), event_id="c3")
        other = self.intake("order/upsert", order_payload("C-4"), event_id="c4")
        self.assertTrue(message._lock_work())
        # Re-entrant in the same transaction.
        self.assertTrue(message._lock_work())
        cr2 = self.other_cursor()
        cr2.execute(
            "SELECT pg_try_advisory_xact_lock(%s, %s)",
            (LOCK_NAMESPACE, self.lock_key(message)),
        )
        self.assertFalse(cr2.fetchone()[0])
        cr2.execute(
            "SELECT pg_try_advisory_xact_lock(%s, %s)",
            (LOCK_NAMESPACE, self.lock_key(other)),
        )
        self.assertTrue(cr2.fetchone()[0])

    def test_job_waits_while_another_worker_holds_the_work(self):
        message = self.intake("order/upsert", order_payload("C-5"), event_id="c5")
        message._enqueue()
        cr2 = self.other_cursor()
        cr2.execute(
            "SELECT pg_try_advisory_xact_lock(%s, %s)",
            (LOCK_NAMESPACE, self.lock_key(message)),
        )
        self.assertTrue(cr2.fetchone()[0])
        with self.assertRaises(RetryableJobError) as caught:
            message.with_user(self.backend.user_id)._process_job()
        self.assertTrue(caught.exception.ignore_retry)
        self.assertEqual(message.state, "queued")
        self.assertEqual(message.attempt_count, 0)
        self.assertFalse(self.orders_of("C-5"))
        # Once the other transaction ends, the work goes through.
        cr2.rollback()
        message.with_user(self.backend.user_id)._process_job()
        self.assertEqual(message.state, "done")
        self.assertEqual(len(self.orders_of("C-5")), 1)

    def test_lock_key_beyond_int4_range(self):
        """Any work key must map to a valid advisory lock key."""
        for index in range(1000):
            work_key = f"order:BIG-{index}"
            key = zlib.crc32(f"{self.backend.id}:{work_key}".encode())
            if key >= 2**31:
                break
        else:
            self.fail("No work key beyond the int4 range was found.")
        message = self.intake(
            "order/upsert", order_payload(f"BIG-{index}"), event_id="big"
        )
        self.assertEqual(message.work_key, work_key)
        self.assertTrue(message._lock_work())


class TestCrons(DistributionSyncJobCase):
    def set_date(self, message, column, age):
        self.env.flush_all()
        self.env.cr.execute(
            f"UPDATE distribution_sync_message SET {column} = %s WHERE id = %s",
            (fields.Datetime.now() - age, message.id),
        )
        message.invalidate_recordset()

    def test_requeue_message_whose_job_vanished(self):
        stuck = self.intake("order/upsert", order_payload("S-1"), event_id="s1")
        waiting = self.intake("order/upsert", order_payload("S-2"), event_id="s2")
        recent = self.intake("order/upsert", order_payload("S-3"), event_id="s3")
        (stuck | waiting | recent)._enqueue()
        lost_uuid = stuck.job_uuid
        self.env["queue.job"].search([("uuid", "=", lost_uuid)]).unlink()
        job = self.env["queue.job"].search([("uuid", "=", recent.job_uuid)])
        job.unlink()
        self.set_date(stuck, "write_date", timedelta(hours=2))
        self.set_date(waiting, "write_date", timedelta(hours=2))
        with trap_jobs() as trap:
            self.messages._cron_requeue_stuck(minutes=30)
            trap.assert_jobs_count(1, only=stuck._process_job)
            trap.assert_jobs_count(0, only=waiting._process_job)
            trap.assert_jobs_count(0, only=recent._process_job)
            new_uuid = trap.enqueued_jobs[0].uuid
        self.assertEqual(stuck.state, "queued")
        self.assertEqual(stuck.job_uuid, new_uuid)
        self.assertNotEqual(new_uuid, lost_uuid)
        # A message waiting for its next retry is left to its job.
        stuck.sudo().next_retry_at = fields.Datetime.now() + timedelta(minutes=5)
        self.set_date(stuck, "write_date", timedelta(hours=2))
        with trap_jobs() as trap:
            self.messages._cron_requeue_stuck(minutes=30)
            trap.assert_jobs_count(0, only=stuck._process_job)

    def test_purge_keeps_failures_and_exception_evidence(self):
        def make(state, key, age_days):
            message = self.messages.create(
                {
                    "backend_id": self.backend.id,
                    "direction": "inbound",
                    "topic": "order/upsert",
                    "idempotency_key": key,
                    "payload": "{}",
                    "state": state,
                }
            )
            self.set_date(message, "create_date", timedelta(days=age_days))
            return message

        self.assertEqual(self.backend.retention_days, 30)
        old_done = make("done", "p-done", 40)
        old_skipped = make("skipped", "p-skipped", 40)
        recent_done = make("done", "p-recent", 5)
        kept = {
            "error": make("error", "p-error", 40),
            "dead": make("dead", "p-dead", 40),
            "blocked": make("blocked", "p-blocked", 40),
        }
        with_exception = make("done", "p-exc", 40)
        self.backend._open_exception(
            "validation", "Kept for the audit trail", message=with_exception
        )
        purged = self.messages._cron_purge()
        self.assertGreaterEqual(purged, 2)
        self.assertFalse(old_done.exists())
        self.assertFalse(old_skipped.exists())
        self.assertTrue(recent_done.exists())
        self.assertTrue(with_exception.exists())
        for state, message in kept.items():
            self.assertTrue(message.exists(), state)


class TestBatchJobs(DistributionSyncJobCase):
    def test_batch_job_isolates_a_broken_message(self):
        good = self.intake("order/upsert", order_payload("B-1"), event_id="b1")
        broken = self.intake(
            "order/upsert",
            order_payload(
                "B-2", lines=[{"sku": "NOPE", "quantity": 1, "price_unit": "10.00"}]
            ),
            event_id="b2",
        )
        with trap_jobs() as trap:
            (good | broken)._enqueue_batch()
            trap.assert_jobs_count(1)
            self.assertEqual(trap.enqueued_jobs[0].method_name, "_process_batch_job")
            trap.perform_enqueued_jobs()
        self.assertEqual(good.state, "done")
        self.assertEqual(len(self.orders_of("B-1")), 1)
        self.assertEqual(broken.state, "blocked")
        self.assertFalse(self.orders_of("B-2"))
        self.assertEqual(self.open_exceptions(broken).value, "NOPE")
        # Processed messages are not processed again by a rerun.
        (good | broken).with_user(self.backend.user_id)._process_batch_job()
        self.assertEqual(good.attempt_count, 1)
        self.assertEqual(broken.attempt_count, 1)

    def test_batch_job_looks_products_up_once(self):
        messages = self.messages
        for index in range(3):
            messages |= self.intake(
                "order/upsert", order_payload(f"B-L{index}"), event_id=f"bl{index}"
            )
        products = type(self.env["product.product"])
        search = products.search
        by_sku = []

        def counting_search(records, domain, *args, **kwargs):
            if any(term[0] == "default_code" for term in domain if len(term) == 3):
                by_sku.append(domain)
            return search(records, domain, *args, **kwargs)

        with mock.patch.object(products, "search", counting_search):
            messages.with_user(self.backend.user_id)._process_batch_job()
        self.assertEqual(set(messages.mapped("state")), {"done"})
        self.assertEqual(len(by_sku), 1)
        self.assertNotIn(JOB_CACHE_KEY, self.env.cr.cache)

    def test_job_cache_scope(self):
        backends = self.env["distribution.sync.backend"]
        calls = []

        def compute():
            calls.append(1)
            return len(calls)

        # Outside a job: computed at each call.
        self.assertEqual(backends._job_cached(("k",), compute), 1)
        self.assertEqual(backends._job_cached(("k",), compute), 2)
        with backends._job_scope():
            self.assertEqual(backends._job_cached(("k",), compute), 3)
            with backends._job_scope():
                self.assertEqual(backends._job_cached(("k",), compute), 3)
            # The inner scope left the outer one's lookups alone.
            self.assertEqual(backends._job_cached(("k",), compute), 3)
            other_user = backends.with_user(self.backend.user_id)
            self.assertEqual(other_user._job_cached(("k",), compute), 4)
            other_companies = backends.with_company(self.company)
            self.assertNotEqual(other_companies.env.context, backends.env.context)
            self.assertEqual(other_companies._job_cached(("k",), compute), 5)
        self.assertNotIn(JOB_CACHE_KEY, self.env.cr.cache)
        # A failure is not kept, and the scope ends on it too.
        with self.assertRaises(ZeroDivisionError), backends._job_scope():
            self.assertEqual(backends._job_cached(("k",), compute), 6)
            backends._job_cached(("z",), lambda: 1 / 0)
        self.assertNotIn(JOB_CACHE_KEY, self.env.cr.cache)

    def test_batch_job_leaves_busy_work_open(self):
        free = self.intake("order/upsert", order_payload("B-3"), event_id="b3")
        busy = self.intake("order/upsert", order_payload("B-4"), event_id="b4")
        self.assertTrue(self.hold_work_lock(busy))
        summary = (free | busy).with_user(self.backend.user_id)._process_batch_job()
        self.assertEqual(free.state, "done")
        self.assertEqual(busy.state, "received")
        self.assertEqual(busy.attempt_count, 0)
        self.assertIn("left open: 1", summary)

    def test_enqueue_batch_splits_by_size(self):
        messages = self.messages
        for index in range(5):
            messages |= self.intake(
                "order/upsert", order_payload(f"B-S{index}"), event_id=f"bs{index}"
            )
        with trap_jobs() as trap:
            messages._enqueue_batch(size=2)
            trap.assert_jobs_count(3)
            keys = sorted(job.identity_key for job in trap.enqueued_jobs)
            # The same chunks are not queued twice.
            messages._enqueue_batch(size=2)
            trap.assert_jobs_count(3)
        ids = sorted(messages.ids)
        expected = sorted(
            "distribution_sync:batch:" + ",".join(str(i) for i in ids[n : n + 2])
            for n in (0, 2, 4)
        )
        self.assertEqual(keys, expected)
        self.assertEqual(set(messages.mapped("state")), {"queued"})
        self.assertEqual(len(set(messages.mapped("job_uuid"))), 3)
        self.assertEqual(
            {job.method_name for job in trap.enqueued_jobs}, {"_process_batch_job"}
        )


class TestBacklogDrain(DistributionSyncJobCase):
    """A job run by the runner goes on with the backlog of its backend."""

    def queue(self, count, prefix):
        messages = self.messages
        for index in range(count):
            messages |= self.intake(
                "order/upsert",
                order_payload(f"{prefix}-{index}"),
                event_id=f"{prefix}{index}",
            )
        messages._enqueue()
        return messages

    def job(self, message):
        return self.env["queue.job"].search([("uuid", "=", message.job_uuid)])

    def test_lone_message_is_processed_alone(self):
        message = self.queue(1, "DL")
        result = Job.load(self.env, message.job_uuid).perform()
        self.assertEqual(message.state, "done")
        self.assertNotIn("Backlog", result)

    def test_first_job_drains_the_waiting_messages(self):
        messages = self.queue(4, "DB")
        first, others = messages[0], messages[1:]
        self.assertEqual(set(self.job(first).mapped("state")), {"pending"})
        result = Job.load(self.env, first.job_uuid).perform()
        self.assertEqual(set(messages.mapped("state")), {"done"})
        for index in range(4):
            self.assertEqual(len(self.orders_of(f"DB-{index}")), 1)
        self.assertIn("Backlog: done: 3", result)
        # The drained messages' own jobs will not run: they are done.
        for message in others:
            job = self.job(message)
            self.assertEqual(job.state, "done")
            self.assertIn(first.job_uuid, job.result)
        # Should the runner start one anyway, it finds nothing to do.
        again = Job.load(self.env, others[0].job_uuid).perform()
        self.assertIn("Nothing to do", again)
        self.assertEqual(others[0].attempt_count, 1)

    def test_drain_is_bounded(self):
        messages = self.queue(4, "DS")
        model = type(self.env["distribution.sync.message"])
        with mock.patch.object(model, "_drain_size", 2):
            Job.load(self.env, messages[0].job_uuid).perform()
        # newest first: the runner starts the oldest ones
        left = messages[1]
        self.assertEqual((messages - left).mapped("state"), ["done"] * 3)
        self.assertEqual(left.state, "queued")
        self.assertEqual(self.job(left).state, "pending")

    def test_backlog_changed_by_the_runner_is_left_to_it(self):
        first, waiting = self.queue(2, "DC")
        model = type(self.env["distribution.sync.message"])
        conflict = psycopg2.errors.SerializationFailure()
        with mock.patch.object(model, "_lock_backlog_jobs", side_effect=conflict):
            result = Job.load(self.env, first.job_uuid).perform()
        self.assertEqual(first.state, "done")
        self.assertNotIn("Backlog", result)
        self.assertEqual(waiting.state, "queued")

    def test_retry_waiting_for_its_time_is_not_drained(self):
        first, later = self.queue(2, "DR")
        self.job(later).eta = fields.Datetime.now() + timedelta(hours=1)
        Job.load(self.env, first.job_uuid).perform()
        self.assertEqual(first.state, "done")
        self.assertEqual(later.state, "queued")
        self.assertEqual(self.job(later).state, "pending")

    def test_busy_work_is_left_to_its_own_job(self):
        first, busy = self.queue(2, "DW")
        self.assertTrue(self.hold_work_lock(busy))
        result = Job.load(self.env, first.job_uuid).perform()
        self.assertIn("left open: 1", result)
        self.assertEqual(busy.state, "queued")
        self.assertEqual(self.job(busy).state, "pending")


class TestActionsTakeTheWorkLock(DistributionSyncJobCase):
    """Retry and Replay by a person never run the work of an object a job is
    on: they refuse while a job holds its lock."""

    def message_held_by_a_job(self, state):
        message = self.intake("order/upsert", order_payload("L-1"), event_id="l1")
        # As a job left it (not processed here: this transaction would then
        # hold the lock itself).
        message.sudo().write({"state": state, "attempt_count": 1})
        self.assertTrue(self.hold_work_lock(message))
        return message

    def test_retry_refused_while_a_job_holds_the_work(self):
        message = self.message_held_by_a_job("error")
        with self.assertRaisesRegex(UserError, "A job is processing"):
            message.action_retry()
        self.assertEqual(message.state, "error")
        self.assertEqual(message.attempt_count, 1)
        self.assertFalse(self.orders_of("L-1"))

    def test_replay_refused_while_a_job_holds_the_work(self):
        message = self.message_held_by_a_job("done")
        with self.assertRaisesRegex(UserError, "A job is processing"):
            message.action_replay()
        self.assertEqual(message.attempt_count, 1)
        self.assertFalse(self.orders_of("L-1"))


class UniqueKeyTaken(psycopg2.errors.UniqueViolation):
    """What PostgreSQL raises when a unique key is taken."""

    pgcode = psycopg2.errorcodes.UNIQUE_VIOLATION


class TestConcurrencyRetriesAreBounded(DistributionSyncJobCase):
    """A unique violation is retried as a race a few times, then becomes an
    exception: never a job retried for ever without anybody told."""

    def test_conflict_still_there_after_the_retries_is_an_exception(self):
        message = self.intake("order/upsert", order_payload("U-1"), event_id="u1")
        message._enqueue()
        model = type(self.env["distribution.sync.message"])
        with mock.patch.object(model, "_do_work", side_effect=UniqueKeyTaken()):
            job = Job.load(self.env, message.job_uuid)
            with self.assertRaises(RetryableJobError):
                job.perform()
            self.assertEqual(message.state, "queued")
            stored = self.env["queue.job"].search([("uuid", "=", message.job_uuid)])
            stored.retry = model._concurrency_retries
            Job.load(self.env, message.job_uuid).perform()
        self.assertEqual(message.state, "error")
        exception = self.open_exceptions(message)
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.category, "technical")
