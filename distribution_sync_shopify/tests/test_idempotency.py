# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import itertools
from unittest.mock import patch

import psycopg2

from odoo.tools import mute_logger

from odoo.addons.queue_job.exception import RetryableJobError

from .common import DEMO_ORDER_ID, ShopifyCase, order_variant


class TestShopifyIdempotency(ShopifyCase):
    """One sale order per Shopify order, whatever arrives and in what order."""

    def versions(self):
        """orders/create (pending), orders/updated (a note added) and
        orders/paid of the demo order, each one minute later."""
        created = order_variant(
            "demo_order_1001.json",
            financial_status="pending",
            updated_at="2026-11-02T09:16:10-05:00",
        )
        updated = order_variant(
            "demo_order_1001.json",
            financial_status="pending",
            note="Leave at the back door",
            updated_at="2026-11-02T09:17:10-05:00",
        )
        paid = order_variant(
            "demo_order_1001.json",
            financial_status="paid",
            note="Leave at the back door",
            updated_at="2026-11-02T09:18:10-05:00",
        )
        return [
            ("orders/create", created),
            ("orders/updated", updated),
            ("orders/paid", paid),
        ]

    def test_create_updated_paid_make_one_order(self):
        messages = [
            self.receive(topic, payload, event_id=f"evt-{topic}")
            for topic, payload in self.versions()
        ]
        self.assertEqual([m.state for m in messages], ["done"] * 3)
        order = self.order_of(DEMO_ORDER_ID)
        self.assertEqual(len(self.orders_with_ref("#1001")), 1)
        self.assertEqual({m.res_id for m in messages}, {order.id})
        self.assertEqual(order.state, "sale")
        self.assertEqual(str(order.note), "<p>Leave at the back door</p>")
        self.assertEqual(
            self.bindings.search_count(
                [
                    ("backend_id", "=", self.shop.id),
                    ("res_model", "=", "sale.order"),
                    ("external_id", "=", DEMO_ORDER_ID),
                ]
            ),
            1,
        )

    def test_same_body_twice_is_skipped(self):
        first = self.receive("orders/create", "demo_order_1001.json", "evt-a")
        again = self.receive("orders/updated", "demo_order_1001.json", "evt-b")
        self.assertEqual(first.state, "done")
        self.assertEqual(again.state, "skipped")
        self.assertIn("Unchanged", again.result_summary)
        self.assertEqual(len(self.orders_with_ref("#1001")), 1)

    def test_older_version_after_newer_is_stale(self):
        created, _updated, paid = (payload for _topic, payload in self.versions())
        newer = self.receive("orders/paid", paid, "evt-paid")
        self.assertEqual(newer.state, "done", newer.last_error)
        older = self.receive("orders/create", created, "evt-create")
        self.assertEqual(older.state, "skipped")
        self.assertIn("Stale", older.result_summary)
        order = self.order_of(DEMO_ORDER_ID)
        # The newer version stays applied: paid, confirmed, with its note.
        self.assertEqual(order.state, "sale")
        self.assertIn("back door", str(order.note))
        self.assertEqual(len(self.orders_with_ref("#1001")), 1)

    def test_any_processing_order_gives_one_order(self):
        versions = self.versions()
        for run, permutation in enumerate(itertools.permutations(range(3))):
            with self.subTest(order=permutation), self.env.cr.savepoint() as sp:
                messages = [
                    self.deliver(
                        versions[i][0], versions[i][1], event_id=f"evt-{run}-{i}"
                    )
                    for i in range(3)
                ]
                for i in permutation:
                    self.process(messages[i])
                    self.assertIn(messages[i].state, ("done", "skipped"))
                self.assertEqual(len(self.orders_with_ref("#1001")), 1)
                order = self.order_of(DEMO_ORDER_ID)
                # Whatever came last, the newest version (paid) wins.
                self.assertEqual(order.state, "sale")
                sp.rollback()

    # ----------------------------------------------------------- concurrency
    def test_binding_unique_in_database(self):
        self.receive("orders/create", "demo_order_1001.json")
        order = self.order_of(DEMO_ORDER_ID)
        twin = order.copy()
        with (
            self.assertRaises(psycopg2.IntegrityError),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self.bindings.create(
                {
                    "backend_id": self.shop.id,
                    "res_model": "sale.order",
                    "res_id": twin.id,
                    "external_id": DEMO_ORDER_ID,
                }
            )
        self.assertEqual(
            self.bindings.search(
                [
                    ("backend_id", "=", self.shop.id),
                    ("external_id", "=", DEMO_ORDER_ID),
                    ("res_model", "=", "sale.order"),
                ]
            ).res_id,
            order.id,
        )

    def test_race_is_retried_then_finds_the_order(self):
        """Message B read "no binding yet" while A imported the order (as a
        concurrent transaction would): B must not end with a second order."""
        created, updated, _paid = (payload for _topic, payload in self.versions())
        message_a = self.deliver("orders/create", created, "evt-race-a")
        message_b = self.deliver("orders/updated", updated, "evt-race-b")
        runner = self.shop._with_technical_user()
        self.process(message_a)
        order = self.order_of(DEMO_ORDER_ID)
        self.assertTrue(order)

        binding_class = type(self.bindings)
        real_find = binding_class._find
        hidden = []

        def find_hiding_once(model, backend, res_model, external_id):
            if res_model == "sale.order" and not hidden:
                hidden.append(external_id)
                return model.browse()
            return real_find(model, backend, res_model, external_id)

        job_b = message_b.with_env(runner.env)
        with (
            patch.object(binding_class, "_find", find_hiding_once),
            mute_logger("odoo.sql_db"),
            self.assertRaises(RetryableJobError),
        ):
            job_b._process_job()
        self.assertEqual(hidden, [DEMO_ORDER_ID])
        self.assertEqual(len(self.orders_with_ref("#1001")), 1)
        self.assertEqual(message_b.state, "received", "B is left for its retry")
        self.assertEqual(
            self.bindings._find(self.shop, "sale.order", DEMO_ORDER_ID).res_id, order.id
        )
        # The retry sees the binding and updates the one order.
        job_b._process_job()
        self.assertEqual(message_b.state, "done", message_b.last_error)
        self.assertEqual(message_b.res_id, order.id)
        self.assertEqual(len(self.orders_with_ref("#1001")), 1)
        self.assertIn("back door", str(order.note))

    def test_race_on_insert_is_retried(self):
        """Both transactions missed each other's binding entirely: the insert
        itself hits the unique index, and the job is retried."""
        created, updated, _paid = (payload for _topic, payload in self.versions())
        self.process(self.deliver("orders/create", created, "evt-insert-a"))
        message_b = self.deliver("orders/updated", updated, "evt-insert-b")
        binding_class = type(self.bindings)
        real_find = binding_class._find

        def find_nothing(model, backend, res_model, external_id):
            if res_model == "sale.order":
                return model.browse()
            return real_find(model, backend, res_model, external_id)

        job_b = message_b.with_env(self.shop._with_technical_user().env)
        with (
            patch.object(binding_class, "_find", find_nothing),
            mute_logger("odoo.sql_db"),
            self.assertRaises(RetryableJobError),
        ):
            job_b._process_job()
        self.assertEqual(len(self.orders_with_ref("#1001")), 1)
        job_b._process_job()
        self.assertEqual(message_b.state, "done", message_b.last_error)
        self.assertEqual(len(self.orders_with_ref("#1001")), 1)
