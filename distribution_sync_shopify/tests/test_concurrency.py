# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
"""Two workers on the same Shopify order at the same moment, for real.

Each worker is a thread with its own database connection, transaction and
environment, and commits like a queue_job worker (or the webhook route)
does. The test transaction of ``TransactionCase`` is invisible to those
connections, so everything the workers need is committed beforehand and
everything committed is deleted afterwards (and counted: the class fails when
a row is left behind).
"""

import copy
import json
import secrets
import sys
import threading
import time
import traceback
from contextlib import contextmanager
from unittest.mock import patch

from psycopg2 import errorcodes

from odoo import SUPERUSER_ID, api
from odoo.api import Transaction
from odoo.sql_db import db_connect
from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL, mute_logger

from odoo.addons.base.tests.common import DISABLED_MAIL_CONTEXT
from odoo.addons.distribution_sync.tests.common import ensure_secret_key
from odoo.addons.queue_job.exception import RetryableJobError

from .common import SHOPIFY_SECRET, SHOPIFY_TOKEN, order_variant, shopify_hmac

# Seconds a worker waits for the other one (barrier, events, row locks), and
# a test for a worker to finish: a broken guarantee fails, it never hangs.
WAIT = 30
JOIN = 60

# Tables counted before and after the class: all that the backend, the
# imports and the webhook intake can write to.
COUNTED_TABLES = (
    "bus_bus",
    "discuss_channel_member",
    "distribution_sync_audit",
    "distribution_sync_backend",
    "distribution_sync_binding",
    "distribution_sync_exception",
    "distribution_sync_message",
    "distribution_sync_ownership",
    "distribution_sync_secret",
    "distribution_sync_validation_rule",
    "ir_attachment",
    "mail_activity",
    "mail_followers",
    "mail_mail",
    "mail_message",
    "mail_notification",
    "procurement_group",
    "product_product",
    "product_template",
    "queue_job",
    "queue_job_channel",
    "res_partner",
    "res_users",
    "sale_order",
    "sale_order_line",
    "stock_move",
    "stock_picking",
)


class Worker(threading.Thread):
    """One worker: its own connection, transaction and environment.

    ``work(env)`` runs as the superuser (what it runs decides the user, as a
    job runner or an HTTP route does); the worker commits what it did, or
    rolls it back and keeps the error for the test.
    """

    def __init__(self, registry, name, work):
        super().__init__(name=name, daemon=True)
        self.registry = registry
        self.work = work
        self.result = self.error = self.pid = None

    def run(self):
        cr = db_connect(self.registry.db_name).cursor()
        try:
            self.pid = cr._cnx.get_backend_pid()
            # A worker stuck behind a lock that nobody releases fails.
            cr.execute("SET LOCAL lock_timeout = %s", (f"{WAIT}s",))
            self.result = self.work(new_env(cr, self.registry))
            cr.commit()  # pylint: disable=invalid-commit
        except Exception as exc:  # kept for the test's assertions
            cr.rollback()
            self.error = exc
        finally:
            cr.close()


def new_env(cr, registry, context=None):
    """A superuser environment on ``cr``. The registry is handed over, not
    looked up by name: the test runner holds the registries' lock while the
    post-install tests run, so a lookup from another thread would wait."""
    cr.transaction = Transaction(registry)
    return api.Environment(cr, SUPERUSER_ID, context or {})


def wait_for(event, what):
    if not event.wait(WAIT):
        raise AssertionError(f"Timed out waiting for {what}.")


def process_as_job(env, message_id):
    """What queue_job runs for the job of one inbound message: its method,
    as the backend's technical user and company."""
    message = env["distribution.sync.message"].browse(message_id)
    runner = message.backend_id._with_technical_user()
    return message.with_env(runner.env)._process_job()


@tagged("post_install", "-at_install")
class TestRealConcurrency(TransactionCase):
    """One sale order per Shopify order id and backend, also when two
    committed transactions work on that order at the same time."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ensure_secret_key()
        # Unique names and ids: nothing committed here can meet the data of
        # another test, nor what a failed run may have left.
        cls.token = secrets.token_hex(4)
        cls.shop_domain = f"conc-{cls.token}.myshopify.com"
        cls.email = f"buyer-{cls.token}@example.com"
        cls.order_ids = iter(range(10**12 + secrets.randbelow(10**12), 10**14))
        cls.preexisting_channels = cls.preexisting_products = []
        cls.baseline = cls._row_counts()
        with cls.real_env() as env:
            env.cr.execute("SELECT COALESCE(max(id), 0) FROM bus_bus")
            cls.last_bus_id = env.cr.fetchone()[0]
        # Cleanups run last-in first-out: the purge, then the count.
        cls.addClassCleanup(cls._check_no_leftovers)
        cls.addClassCleanup(cls._purge, everything=True)
        with cls.real_env(commit=True) as env:
            cls.preexisting_channels = env["queue.job.channel"].search([]).ids
            cls.preexisting_products = env["product.product"].search([]).ids
            backend = env["distribution.sync.backend"].create(
                {
                    "name": f"Concurrency {cls.token}",
                    "backend_type": "shopify",
                    "shopify_shop_domain": cls.shop_domain,
                    "shopify_access_token": SHOPIFY_TOKEN,
                    "shopify_api_version": "2025-07",
                    "webhook_secret": SHOPIFY_SECRET,
                }
            )
            cls.backend_id = backend.id
            cls.skus = {}
            for sku, price in (("DS-WIDGET", 12.50), ("DS-BOLT-M8", 0.40)):
                cls.skus[sku] = f"CONC-{cls.token}-{sku}"
                env["product.product"].create(
                    {
                        "name": cls.skus[sku],
                        "default_code": cls.skus[sku],
                        "type": "consu",
                        "list_price": price,
                        "taxes_id": [(5, 0, 0)],
                    }
                )

    def setUp(self):
        super().setUp()
        self.addCleanup(self._purge)
        with self.real_env() as env:
            env.cr.execute("SELECT COALESCE(max(id), 0) FROM sale_order")
            self.last_order_id = env.cr.fetchone()[0]
            env.cr.execute("SELECT COALESCE(max(id), 0) FROM queue_job")
            self.last_job_id = env.cr.fetchone()[0]

    # ------------------------------------------------------------ committed
    @classmethod
    @contextmanager
    def real_env(cls, commit=False):
        """A superuser environment on a connection of its own (not the test
        transaction); committed at the end when ``commit``."""
        cr = db_connect(cls.registry.db_name).cursor()
        try:
            cr.execute("SET LOCAL lock_timeout = %s", (f"{WAIT}s",))
            yield new_env(cr, cls.registry, dict(DISABLED_MAIL_CONTEXT))
            if commit:
                cr.commit()  # pylint: disable=invalid-commit
        finally:
            cr.rollback()
            cr.close()

    @classmethod
    def _row_counts(cls):
        with cls.real_env() as env:
            env.cr.execute(
                SQL(
                    "SELECT %s",
                    SQL(", ").join(
                        SQL("(SELECT count(*) FROM %s)", SQL.identifier(table))
                        for table in COUNTED_TABLES
                    ),
                )
            )
            return dict(zip(COUNTED_TABLES, env.cr.fetchone(), strict=True))

    @classmethod
    def _check_no_leftovers(cls):
        after = cls._row_counts()
        left = {
            table: after[table] - count
            for table, count in cls.baseline.items()
            if after[table] != count
        }
        if left:
            raise AssertionError(f"Committed rows left behind: {left}")

    @classmethod
    def _purge(cls, everything=False):
        """Delete what the workers committed: orders with their deliveries,
        customers, bindings, messages, exceptions and jobs; with
        ``everything``, also the backend, what its creation made and the
        products."""
        with cls.real_env(commit=True) as env:
            backends = (
                env["distribution.sync.backend"]
                .with_context(active_test=False)
                .search([("shopify_shop_domain", "=", cls.shop_domain)])
            )
            bindings = env["distribution.sync.binding"].search(
                [("backend_id", "in", backends.ids)]
            )
            orders = env["sale.order"].search(
                [
                    "|",
                    ("client_order_ref", "like", cls.token),
                    (
                        "id",
                        "in",
                        bindings.filtered_domain(
                            [("res_model", "=", "sale.order")]
                        ).mapped("res_id"),
                    ),
                ]
            )
            partners = env["res.partner"].with_context(active_test=False)
            customers = (
                orders.partner_id
                | orders.partner_invoice_id
                | orders.partner_shipping_id
                | partners.search([("email", "=", cls.email)])
                | partners.browse(
                    bindings.filtered_domain(
                        [("res_model", "=", "res.partner")]
                    ).mapped("res_id")
                ).exists()
            ).commercial_partner_id
            if customers:
                customers = partners.search([("id", "child_of", customers.ids)])
            messages = env["distribution.sync.message"].search(
                [("backend_id", "in", backends.ids)]
            )
            jobs = env["queue.job"].search(
                [("uuid", "in", [uuid for uuid in messages.mapped("job_uuid") if uuid])]
            )
            pickings = orders.picking_ids
            groups = orders.procurement_group_id
            orders.filtered(lambda o: o.state != "cancel")._action_cancel()
            pickings.unlink()
            orders.unlink()
            groups.unlink()
            env["distribution.sync.exception"].with_context(active_test=False).search(
                [("backend_id", "in", backends.ids)]
            ).unlink()
            jobs.unlink()
            messages.unlink()
            bindings.unlink()
            customers.unlink()
            if not everything:
                return
            user = backends.user_id
            user_partner = user.partner_id
            channel = backends.channel_id.filtered(
                lambda c: c.id not in cls.preexisting_channels
            )
            made = backends.shipping_product_id.filtered(
                lambda p: p.id not in cls.preexisting_products
            )
            products = (
                env["product.product"]
                .with_context(active_test=False)
                .search([("default_code", "like", f"CONC-{cls.token}-")])
            )
            backends.unlink()
            user.unlink()
            user_partner.unlink()
            channel.unlink()
            (products | made).product_tmpl_id.unlink()
            # Notifications sent meanwhile (e.g. the technical user joining
            # the employees' discussion channel).
            env.cr.execute("DELETE FROM bus_bus WHERE id > %s", (cls.last_bus_id,))

    # --------------------------------------------------------------- payloads
    def order_versions(self, guest=False):
        """orders/create (pending) and orders/paid (a note added) of a new
        order: the demo order under a new id, number, customer and SKUs."""
        order_id = str(next(self.order_ids))
        ref = f"#{self.token}-{order_id[-4:]}"
        lines = copy.deepcopy(order_variant("demo_order_1001.json")["line_items"])
        for line in lines:
            line["sku"] = self.skus[line["sku"]]
        changes = {
            "email": self.email,
            "line_items": lines,
            # A guest checkout has no customer account, hence no customer
            # binding; otherwise the customer is bound like the order.
            "customer": None
            if guest
            else {
                "id": int(order_id) + 1,
                "email": self.email,
                "first_name": "Ana",
                "last_name": f"Buyer {self.token}",
            },
        }
        created = order_variant(
            "demo_order_1001.json",
            order_id=order_id,
            financial_status="pending",
            updated_at="2026-11-02T09:16:10-05:00",
            **changes,
        )
        paid = order_variant(
            "demo_order_1001.json",
            order_id=order_id,
            financial_status="paid",
            note="Leave at the back door",
            updated_at="2026-11-02T09:18:10-05:00",
            **changes,
        )
        # (order_variant's first argument is the sample's name.)
        created["name"] = paid["name"] = ref
        return order_id, ref, created, paid

    def webhook(self, topic, payload, event_id):
        """Body and headers of a delivery, signed as Shopify signs it."""
        body = json.dumps(payload, indent=2).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": shopify_hmac(body),
            "X-Shopify-Shop-Domain": self.shop_domain,
            "X-Shopify-API-Version": "2025-07",
            "X-Shopify-Event-Id": event_id,
            "X-Shopify-Triggered-At": "2026-11-02T14:18:10.000Z",
        }
        return body, headers

    def store(self, *deliveries):
        """Commit inbound messages as the webhook route stores them (not
        queued: the tests run their jobs); return their ids."""
        ids = []
        with self.real_env(commit=True) as env:
            backend = env["distribution.sync.backend"].browse(self.backend_id)
            for topic, payload in deliveries:
                body, headers = self.webhook(
                    topic, payload, f"conc-{self.token}-{secrets.token_hex(4)}"
                )
                message, is_new = backend._store_webhook(body, headers, payload)
                self.assertTrue(is_new)
                ids.append(message.id)
        return ids

    # ---------------------------------------------------------------- workers
    def start(self, **works):
        workers = {
            name: Worker(self.registry, name, work) for name, work in works.items()
        }
        for worker in workers.values():
            worker.start()
        return workers

    def join(self, workers):
        for worker in workers.values():
            worker.join(JOIN)
            if worker.is_alive():
                frame = sys._current_frames().get(worker.ident)
                stack = "".join(traceback.format_stack(frame)) if frame else ""
                self.fail(f"Worker {worker.name} is stuck:\n{stack}")

    def assert_one_order(self, env, order_id, ref):
        """Exactly one sale order and one binding for the Shopify order,
        and no other order committed since the test started."""
        orders = env["sale.order"].search([("client_order_ref", "=", ref)])
        self.assertEqual(len(orders), 1)
        self.assertEqual(
            env["sale.order"].search([("id", ">", self.last_order_id)]), orders
        )
        binding = env["distribution.sync.binding"].search(
            [
                ("backend_id", "=", self.backend_id),
                ("res_model", "=", "sale.order"),
                ("external_id", "=", order_id),
            ]
        )
        self.assertEqual(len(binding), 1)
        self.assertEqual(binding.res_id, orders.id)
        return orders

    def assert_retry_confirms_the_one_order(self, paid_id, order_id, ref):
        """The loser's retry, as queue_job runs it (a new transaction that
        commits), brings the one order to the paid version."""
        retry = self.start(paid=lambda env: process_as_job(env, paid_id))
        self.join(retry)
        self.assertIsNone(retry["paid"].error)
        with self.real_env() as env:
            order = self.assert_one_order(env, order_id, ref)
            paid_msg = env["distribution.sync.message"].browse(paid_id)
            self.assertEqual(paid_msg.state, "done", paid_msg.last_error)
            self.assertEqual(paid_msg.res_id, order.id)
            self.assertEqual(order.state, "sale", "the paid version confirms it")
            self.assertIn("back door", str(order.note))

    # ------------------------------------------------------------------ tests
    def test_two_workers_on_one_order_one_takes_the_work(self):
        """orders/create and orders/paid of one order processed at once:
        the first worker takes the order's work lock, the other one is left
        for its retry without writing anything; the retry then updates the
        one order to the paid version (confirmed)."""
        order_id, ref, created, paid = self.order_versions()
        create_id, paid_id = self.store(
            ("orders/create", created), ("orders/paid", paid)
        )
        message_class = self.registry["distribution.sync.message"]
        real_lock = message_class._lock_work
        both_in = threading.Barrier(2, timeout=WAIT)
        create_locked, paid_tried = threading.Event(), threading.Event()
        granted = {}

        def lock_work(message):
            if message.id not in (create_id, paid_id):
                return real_lock(message)
            # Both jobs are running, each in its own open transaction.
            both_in.wait()
            if message.id == create_id:
                granted["create"] = real_lock(message)
                create_locked.set()
                # The lock lasts until this transaction ends: go on (and
                # commit) only once the other worker has tried it.
                wait_for(paid_tried, "the paid worker's attempt")
                return granted["create"]
            try:
                wait_for(create_locked, "the create worker's lock")
                granted["paid"] = real_lock(message)
            finally:
                paid_tried.set()
            return granted["paid"]

        with patch.object(message_class, "_lock_work", lock_work):
            workers = self.start(
                create=lambda env: process_as_job(env, create_id),
                paid=lambda env: process_as_job(env, paid_id),
            )
            self.join(workers)
        self.assertIsNone(workers["create"].error)
        self.assertEqual(granted, {"create": True, "paid": False})
        error = workers["paid"].error
        self.assertIsInstance(error, RetryableJobError)
        self.assertTrue(error.ignore_retry, "waiting for the lock costs no attempt")

        with self.real_env() as env:
            order = self.assert_one_order(env, order_id, ref)
            self.assertEqual(order.state, "draft", "pending: a quotation")
            create_msg, paid_msg = env["distribution.sync.message"].browse(
                [create_id, paid_id]
            )
            self.assertEqual(create_msg.state, "done", create_msg.last_error)
            self.assertEqual(create_msg.res_id, order.id)
            self.assertEqual(paid_msg.state, "received", "left for its retry")
            self.assertEqual(paid_msg.attempt_count, 0)
            self.assertFalse(paid_msg.res_id)

        self.assert_retry_confirms_the_one_order(paid_id, order_id, ref)

    def test_without_the_lock_the_binding_index_keeps_one_order(self):
        """Same race with the work lock always granted: both transactions
        find no binding and each creates its own order (the paid one also
        confirms it); the second binding insert waits on the first one's
        unique index entry, then fails once that commits. The loser rolls
        back (its order and delivery are gone), is left for its retry, and
        the retry updates the one order."""
        # A guest checkout: no customer binding to race for, so the two
        # transactions meet at the order's binding only.
        order_id, ref, created, paid = self.order_versions(guest=True)
        create_id, paid_id = self.store(
            ("orders/create", created), ("orders/paid", paid)
        )
        message_class = self.registry["distribution.sync.message"]
        binding_class = self.registry["distribution.sync.binding"]
        real_find, real_bind = binding_class._find, binding_class._bind
        both_looked = threading.Barrier(2, timeout=WAIT)
        looked = set()
        create_bound, release_create = threading.Event(), threading.Event()
        bound = {}

        def find(model, backend, res_model, external_id):
            found = real_find(model, backend, res_model, external_id)
            name = threading.current_thread().name
            if res_model == "sale.order" and str(external_id) == order_id:
                if name not in looked:
                    looked.add(name)
                    self.assertFalse(found)
                    # Both transactions have read "no binding yet".
                    both_looked.wait()
            return found

        def bind(model, backend, record, external_id, **extra):
            if record._name != "sale.order" or str(external_id) != order_id:
                return real_bind(model, backend, record, external_id, **extra)
            bound[threading.current_thread().name] = (
                record.id,
                record.state,
                record.picking_ids.ids,
            )
            if threading.current_thread().name == "create":
                binding = real_bind(model, backend, record, external_id, **extra)
                create_bound.set()
                # Not committed yet: the other insert must wait on this row.
                wait_for(release_create, "the end of the race")
                return binding
            wait_for(create_bound, "the create worker's binding")
            return real_bind(model, backend, record, external_id, **extra)

        blockers = []
        with (
            patch.object(message_class, "_lock_work", lambda message: True),
            patch.object(binding_class, "_find", find),
            patch.object(binding_class, "_bind", bind),
            mute_logger("odoo.sql_db"),
        ):
            workers = self.start(
                create=lambda env: process_as_job(env, create_id),
                paid=lambda env: process_as_job(env, paid_id),
            )
            try:
                wait_for(create_bound, "the create worker's binding")
                with self.real_env() as env:
                    deadline = time.monotonic() + WAIT
                    while not blockers and time.monotonic() < deadline:
                        env.cr.execute(
                            "SELECT pg_blocking_pids(%s)", (workers["paid"].pid,)
                        )
                        blockers = env.cr.fetchone()[0]
                        time.sleep(0.05)
            finally:
                release_create.set()
                self.join(workers)
        self.assertEqual(looked, {"create", "paid"})
        self.assertEqual(
            blockers,
            [workers["create"].pid],
            "the paid worker's binding insert waited on the create worker",
        )
        self.assertIsNone(workers["create"].error)
        error = workers["paid"].error
        self.assertIsInstance(error, RetryableJobError)
        cause = error.__cause__
        self.assertEqual(cause.pgcode, errorcodes.UNIQUE_VIOLATION)
        self.assertEqual(
            cause.diag.constraint_name, "distribution_sync_binding_external_uniq"
        )
        self.assertIn(f"sale.order, {order_id}", cause.diag.message_detail)
        # Each transaction had its own order; the loser's was confirmed,
        # with its delivery, when its binding failed.
        loser_order_id, loser_state, loser_pickings = bound["paid"]
        self.assertNotEqual(loser_order_id, bound["create"][0])
        self.assertEqual(loser_state, "sale")
        self.assertTrue(loser_pickings)

        with self.real_env() as env:
            order = self.assert_one_order(env, order_id, ref)
            self.assertEqual(order.id, bound["create"][0])
            self.assertEqual(order.state, "draft")
            self.assertFalse(env["sale.order"].browse(loser_order_id).exists())
            self.assertFalse(env["stock.picking"].browse(loser_pickings).exists())
            # The loser's customer went with its rolled back transaction.
            self.assertEqual(
                env["res.partner"].search_count(
                    [("email", "=", self.email), ("parent_id", "=", False)]
                ),
                1,
            )
            paid_msg = env["distribution.sync.message"].browse(paid_id)
            self.assertEqual(paid_msg.state, "received", "left for its retry")
            self.assertEqual(paid_msg.attempt_count, 0)

        self.assert_retry_confirms_the_one_order(paid_id, order_id, ref)

    def test_same_event_delivered_twice_at_once_is_stored_once(self):
        """One event delivered twice at the same moment (Shopify retries a
        delivery it thinks was lost): both requests find no message for it
        and insert one; the unique index lets one in, the other request
        answers "duplicate". One message, one job."""
        order_id, _ref, created, _paid = self.order_versions()
        event_id = f"conc-{self.token}-{order_id}"
        body, headers = self.webhook("orders/create", created, event_id)
        message_class = self.registry["distribution.sync.message"]
        real_prepare = message_class._prepare_intake_vals
        both_searched = threading.Barrier(2, timeout=WAIT)

        def prepare(model, backend, direction, topic, key, payload, **extra):
            if key == f"event:{event_id}":
                # Both requests have searched and found no message.
                both_searched.wait()
            return real_prepare(model, backend, direction, topic, key, payload, **extra)

        def deliver(env):
            # What the webhook route runs; the worker then commits, as the
            # HTTP layer does before answering.
            backend = env["distribution.sync.backend"].browse(self.backend_id)
            self.assertTrue(backend._call("webhook_verify", body, headers))
            return backend._webhook_intake(body, headers)

        with (
            patch.object(message_class, "_prepare_intake_vals", prepare),
            mute_logger("odoo.sql_db"),
        ):
            workers = self.start(first=deliver, second=deliver)
            self.join(workers)
        for worker in workers.values():
            self.assertIsNone(worker.error)
        self.assertEqual(
            sorted(worker.result for worker in workers.values()),
            [(200, "accepted"), (200, "duplicate")],
        )
        with self.real_env() as env:
            message = env["distribution.sync.message"].search(
                [
                    ("backend_id", "=", self.backend_id),
                    ("idempotency_key", "=", f"event:{event_id}"),
                ]
            )
            self.assertEqual(len(message), 1)
            self.assertEqual(message.state, "queued")
            jobs = env["queue.job"].search([("id", ">", self.last_job_id)])
            self.assertEqual(jobs.mapped("uuid"), [message.job_uuid])
