# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import functools
import json
from datetime import date, datetime, timedelta
from unittest import mock

from odoo import fields
from odoo.tests import Form

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.tests.common import trap_jobs

from ..core.client import ShopifyClient
from .common import SHOPIFY_TOKEN, ShopifyCase, order_variant
from .fake_shopify import FakeShopify

ORDER_ID = "6100000003001"
SAMPLE = "order_refundable.json"
# updated_at of the sample, 2026-03-02T10:01:30+01:00, as GraphQL writes it.
SAMPLE_UPDATED = "2026-03-02T09:01:30Z"
LATER = "2026-03-02T11:30:00+01:00"
LATER_UPDATED = "2026-03-02T10:30:00Z"
BACKEND_MODULE = (
    "odoo.addons.distribution_sync_shopify.models.distribution_sync_backend"
)


class TestShopifyDrift(ShopifyCase):
    """Orders whose webhooks went missing or broke come in from Shopify's
    ``updated_at`` (GraphQL list, REST body), through the normal intake."""

    def setUp(self):
        super().setUp()
        self.fake = FakeShopify(access_token=SHOPIFY_TOKEN, api_version="2025-07")
        self.addCleanup(self.fake.stop)
        self.shop.api_url = self.fake.url
        # The last fetch ran before the sample orders changed.
        self.shop.sudo().fetch_checkpoint = datetime(2026, 3, 2, 9, 0)
        # No real waiting between retries in tests.
        patcher = mock.patch(
            f"{BACKEND_MODULE}.ShopifyClient",
            functools.partial(ShopifyClient, sleep=lambda seconds: None),
        )
        patcher.start()
        self.addCleanup(patcher.stop)

    # --------------------------------------------------------------- helpers
    def run_all(self, trap):
        """Perform the trapped jobs and those they queue, until none is left."""
        for _round in range(5):
            if not trap.enqueued_jobs:
                return
            trap.perform_enqueued_jobs()
        self.fail("jobs keep queueing jobs")

    def fetch(self):
        """The periodic fetch as the cron queues it, and the jobs it queues."""
        with trap_jobs() as trap:
            self.shop.action_fetch_changes()
            trap.assert_jobs_count(1, only=self.shop._fetch_changes_job)
            self.run_all(trap)

    def drift_messages(self, order_id=ORDER_ID):
        return self.messages.search(
            [
                ("backend_id", "=", self.shop.id),
                ("idempotency_key", "=like", f"drift:{order_id}:%"),
            ],
            order="id",
        )

    def order_messages(self, order_id=ORDER_ID):
        return self.messages.search(
            [("backend_id", "=", self.shop.id), ("work_key", "=", f"order:{order_id}")]
        )

    # ----------------------------------------------------------------- tests
    def test_missed_webhook_is_imported(self):
        body = order_variant(SAMPLE)
        self.fake.add_order(ORDER_ID, rest_body=body)
        checkpoint = self.shop.fetch_checkpoint
        self.fetch()
        message = self.drift_messages()
        self.assertEqual(len(message), 1)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(message.idempotency_key, f"drift:{ORDER_ID}:{SAMPLE_UPDATED}")
        self.assertEqual(message.topic, "orders/updated")
        self.assertEqual(message.external_id, ORDER_ID)
        self.assertEqual(message.work_key, f"order:{ORDER_ID}")
        self.assertEqual(json.loads(message.payload), body)
        order = self.order_of(ORDER_ID)
        self.assertTrue(order)
        self.assertEqual((message.res_model, message.res_id), ("sale.order", order.id))
        self.assertEqual(order.client_order_ref, "#3001")
        self.assertEqual(order.amount_total, 88.0)
        self.assertEqual(order.state, "sale")
        self.assertGreater(self.shop.fetch_checkpoint, checkpoint)
        # From the checkpoint minus the overlap; one GraphQL page, one REST read.
        self.assertEqual(
            self.fake.requests[0]["json"]["variables"]["query"],
            "updated_at:>='2026-03-02T08:50:00Z'",
        )
        self.assertEqual(self.fake.count("orders"), 1)
        self.assertEqual(self.fake.count("rest_order"), 1)
        self.assertEqual(
            self.fake.requests[1]["path"], f"/admin/api/2025-07/orders/{ORDER_ID}.json"
        )

    def test_fetching_twice_adds_nothing(self):
        self.fake.add_order(ORDER_ID, rest_body=order_variant(SAMPLE))
        self.fetch()
        message = self.drift_messages()
        with trap_jobs() as trap:
            self.shop._fetch_changes_job()
            trap.assert_jobs_count(0)
        self.assertEqual(self.drift_messages(), message)
        self.assertEqual(len(self.order_messages()), 1)
        self.assertEqual(len(self.orders_with_ref("#3001")), 1)
        # The known version is not read again.
        self.assertEqual(self.fake.count("rest_order"), 1)

    def test_version_applied_by_webhook_is_not_fetched(self):
        body = order_variant(SAMPLE)
        webhook_message = self.receive("orders/create", body)
        self.assertEqual(webhook_message.state, "done", webhook_message.last_error)
        self.fake.add_order(ORDER_ID, rest_body=body)
        self.fetch()
        self.assertFalse(self.drift_messages())
        self.assertEqual(self.fake.count("rest_order"), 0)
        # A newer version whose webhook never came is fetched and applied (the
        # checkpoint goes back before it: the sample dates are in the past).
        self.shop.sudo().fetch_checkpoint = datetime(2026, 3, 2, 9, 0)
        self.fake.set_rest_order(
            ORDER_ID, order_variant(SAMPLE, updated_at=LATER, note="Leave at the door")
        )
        self.fetch()
        message = self.drift_messages()
        self.assertEqual(len(message), 1)
        self.assertEqual(message.idempotency_key, f"drift:{ORDER_ID}:{LATER_UPDATED}")
        self.assertEqual(message.state, "done", message.last_error)
        order = self.order_of(ORDER_ID)
        self.assertIn("Leave at the door", str(order.note))
        self.assertEqual(len(self.orders_with_ref("#3001")), 1)

    def test_newer_version_repairs_an_unknown_sku(self):
        first = order_variant(SAMPLE)
        first["line_items"][1]["sku"] = "DS-NEW-MUG"
        webhook_message = self.receive("orders/create", first)
        self.assertEqual(webhook_message.state, "blocked")
        exception = self.open_exceptions(webhook_message)
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.mapping_type, "product")
        self.assertFalse(self.order_of(ORDER_ID))
        # The product is created in Odoo; the order changes again in Shopify
        # and that webhook is lost.
        mug = self.make_product("DS-NEW-MUG", "New mug", 12.0)
        second = order_variant(SAMPLE, updated_at=LATER)
        second["line_items"][1]["sku"] = "DS-NEW-MUG"
        self.fake.add_order(ORDER_ID, rest_body=second)
        self.fetch()
        message = self.drift_messages()
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(message.work_key, webhook_message.work_key)
        order = self.order_of(ORDER_ID)
        self.assertIn(mug, order.order_line.product_id)
        self.assertEqual(order.state, "sale")
        self.assertEqual(exception.state, "resolved")
        self.assertFalse(self.open_exceptions())
        self.assertEqual(webhook_message.state, "blocked", "the old delivery is kept")

    def test_newer_version_repairs_a_total_mismatch(self):
        wrong = {"amount": "99.00", "currency_code": "USD"}
        first = order_variant(
            SAMPLE,
            total_price="99.00",
            total_price_set={"shop_money": wrong, "presentment_money": wrong},
        )
        webhook_message = self.receive("orders/create", first)
        self.assertEqual(webhook_message.state, "blocked")
        order = self.order_of(ORDER_ID)
        self.assertEqual(order.state, "draft")
        exception = self.open_exceptions(webhook_message, "validation")
        self.assertEqual(len(exception), 1)
        self.fake.add_order(ORDER_ID, rest_body=order_variant(SAMPLE, updated_at=LATER))
        self.fetch()
        message = self.drift_messages()
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(self.order_of(ORDER_ID), order)
        self.assertEqual(order.state, "sale")
        self.assertEqual(exception.state, "resolved")
        self.assertFalse(self.open_exceptions())

    def test_missed_cancellation_cancels_the_order(self):
        body = order_variant(SAMPLE)
        self.assertEqual(self.receive("orders/create", body).state, "done")
        order = self.order_of(ORDER_ID)
        self.assertEqual(order.state, "sale")
        cancelled = order_variant(
            SAMPLE,
            updated_at=LATER,
            cancelled_at=LATER,
            cancel_reason="customer",
        )
        self.fake.add_order(ORDER_ID, rest_body=cancelled)
        self.fetch()
        message = self.drift_messages()
        self.assertEqual(message.topic, "orders/cancelled")
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(order.state, "cancel")

    def test_first_fetch_starts_at_the_backend_creation(self):
        self.shop.sudo().fetch_checkpoint = False
        self.fake.add_order(ORDER_ID, rest_body=order_variant(SAMPLE))
        self.shop._fetch_changes_job()
        self.assertFalse(self.drift_messages(), "older than the backend")
        since = self.fake.requests[0]["json"]["variables"]["query"]
        self.assertEqual(
            since,
            f"updated_at:>='{self.shop.create_date.strftime('%Y-%m-%dT%H:%M:%SZ')}'",
        )
        self.assertTrue(self.shop.fetch_checkpoint)

    def test_import_wizard_queues_one_job_and_keeps_the_checkpoint(self):
        self.fake.add_order(ORDER_ID, rest_body=order_variant(SAMPLE))
        checkpoint = fields.Datetime.now() - timedelta(hours=1)
        self.shop.sudo().fetch_checkpoint = checkpoint
        action = self.shop.action_shopify_import_orders()
        self.assertEqual(action["res_model"], "distribution.sync.shopify.import.wizard")
        with Form(
            self.env[action["res_model"]].with_context(**action["context"])
        ) as form:
            form.date_from = date(2026, 3, 1)
        wizard = form.record
        self.assertEqual(wizard.backend_id, self.shop)
        with trap_jobs() as trap:
            wizard.action_import()
            wizard.action_import()
            trap.assert_jobs_count(1, only=self.shop._fetch_changes_job)
            job = trap.enqueued_jobs[0]
            self.assertEqual(
                job.identity_key,
                f"distribution_sync:import:{self.shop.id}:2026-03-01 00:00:00",
            )
            self.assertEqual(job.user_id, self.shop.user_id.id)
            self.assertFalse(self.drift_messages(), "nothing before the job runs")
            self.run_all(trap)
        self.assertEqual(
            self.fake.requests[0]["json"]["variables"]["query"],
            "updated_at:>='2026-03-01T00:00:00Z'",
        )
        message = self.drift_messages()
        self.assertEqual(message.state, "done", message.last_error)
        self.assertTrue(self.order_of(ORDER_ID))
        self.assertEqual(self.shop.fetch_checkpoint, checkpoint)

    def test_shopify_down_keeps_the_checkpoint(self):
        self.fake.add_order(ORDER_ID, rest_body=order_variant(SAMPLE))
        checkpoint = self.shop.fetch_checkpoint
        self.fake.fail_next(500, times=50)
        with trap_jobs() as trap:
            # Handed back to queue_job, which retries it later.
            with self.assertRaises(RetryableJobError):
                self.shop._fetch_changes_job()
            trap.assert_jobs_count(0)
        self.assertEqual(self.shop.fetch_checkpoint, checkpoint)
        self.assertFalse(self.drift_messages())
        # The import job hands a transient failure back to queue_job.
        self.fake.clear_failures()
        self.fake.fail_next(503, times=50)
        with self.assertRaises(RetryableJobError):
            self.shop._fetch_changes_job(
                since="2026-03-01 00:00:00", move_checkpoint=False
            )
        self.assertFalse(self.drift_messages())
        self.assertEqual(self.shop.fetch_checkpoint, checkpoint)

    def test_order_gone_before_it_is_read_is_skipped(self):
        gone = "6100000003009"
        self.fake.add_order(ORDER_ID, rest_body=order_variant(SAMPLE))
        self.fake.add_order(gone, rest_body=order_variant(SAMPLE, gone))
        # Deleted in Shopify between the listing and the read.
        del self.fake.rest_orders[gone]
        self.fetch()
        self.assertEqual(self.drift_messages().state, "done")
        self.assertFalse(self.drift_messages(gone))
        self.assertGreater(self.shop.fetch_checkpoint, datetime(2026, 3, 2, 9, 0))

    def test_a_long_listing_is_fetched_one_page_per_job(self):
        """Each job reads one page (its REST reads included) and queues the
        next; a page that fails is retried alone and the checkpoint moves
        only once the last page is in."""
        ids = [f"61000000040{index:02d}" for index in range(5)]
        for order_id in ids:
            self.fake.add_order(order_id, rest_body=order_variant(SAMPLE, order_id))
        checkpoint = self.shop.fetch_checkpoint
        with mock.patch(f"{BACKEND_MODULE}.FETCH_PAGE_SIZE", 2):
            with trap_jobs() as trap:
                self.shop._fetch_changes_job()
                trap.assert_jobs_count(1, only=self.shop._fetch_changes_job)
                second = trap.enqueued_jobs[-1]
                for job in trap.enqueued_jobs[:-1]:
                    job.perform()  # the orders of the first page
            self.assertEqual(self.fake.count("rest_order"), 2)
            self.assertEqual(self.shop.fetch_checkpoint, checkpoint)
            # Shopify fails while the second page is read: that job alone is
            # handed back to queue_job, with the cursor it had.
            self.fake.fail_next(500, times=50)
            with self.assertRaises(RetryableJobError), trap_jobs():
                second.perform()
            self.fake.clear_failures()
            self.assertEqual(self.shop.fetch_checkpoint, checkpoint)
            with trap_jobs() as trap:
                second.perform()
                self.run_all(trap)
        self.assertEqual(self.fake.count("rest_order"), 5)
        for order_id in ids:
            self.assertEqual(self.drift_messages(order_id).state, "done")
            self.assertTrue(self.order_of(order_id))
        self.assertGreater(self.shop.fetch_checkpoint, checkpoint)
