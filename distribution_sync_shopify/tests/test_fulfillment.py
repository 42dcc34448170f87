# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import functools
from unittest import mock

from odoo.addons.distribution_sync.core.errors import TransientError
from odoo.addons.queue_job.tests.common import trap_jobs

from ..core.client import ShopifyClient
from .common import SHOPIFY_TOKEN, ShopifyCase
from .fake_shopify import FakeShopify

ORDER_ID = "6100000003001"
KETTLE_LINE = "6200000000001"
MUG_LINE = "6200000000002"
BACKEND_MODULE = (
    "odoo.addons.distribution_sync_shopify.models.distribution_sync_backend"
)


class FulfillmentCase(ShopifyCase):
    """A Shopify order imported from the fake Shopify, ready to ship."""

    def setUp(self):
        super().setUp()
        self.fake = FakeShopify(access_token=SHOPIFY_TOKEN, api_version="2025-07")
        self.addCleanup(self.fake.stop)
        self.shop.api_url = self.fake.url
        self.fake.add_order(
            ORDER_ID,
            [
                {"line_item_id": KETTLE_LINE, "sku": "DS-KETTLE", "quantity": 2},
                {"line_item_id": MUG_LINE, "sku": "DS-MUG", "quantity": 1},
            ],
        )
        message = self.receive("orders/create", "order_refundable.json")
        self.assertEqual(message.state, "done", message.last_error)
        self.order = self.order_of(ORDER_ID)
        # No real waiting between retries in tests.
        patcher = mock.patch(
            f"{BACKEND_MODULE}.ShopifyClient",
            functools.partial(ShopifyClient, sleep=lambda seconds: None),
        )
        patcher.start()
        self.addCleanup(patcher.stop)


class TestShopifyFulfillment(FulfillmentCase):
    """Validated deliveries become Shopify fulfillments, through the queue
    and a local fake of the GraphQL Admin API."""

    def outbound(self):
        return self.messages.search(
            [
                ("backend_id", "=", self.shop.id),
                ("direction", "=", "outbound"),
                ("topic", "=", "fulfillments/create"),
            ]
        )

    def fulfilled_quantities(self, index=-1):
        items = self.fake.fulfillments[index]["input"]["lineItemsByFulfillmentOrder"]
        by_line = {}
        for group in items:
            for item in group["fulfillmentOrderLineItems"]:
                by_line[item["id"]] = by_line.get(item["id"], 0) + item["quantity"]
        return {
            line: by_line.get(self.fake.fulfillment_order_line_id(ORDER_ID, line), 0)
            for line in (KETTLE_LINE, MUG_LINE)
        }

    def ship_partially(self, quantities):
        """Validate the delivery with ``{sku: quantity}``, keeping a backorder."""
        picking = self.order.picking_ids.filtered(
            lambda p: p.picking_type_code == "outgoing" and p.state != "done"
        )
        picking.action_assign()
        for move in picking.move_ids:
            move.quantity = quantities.get(move.product_id.default_code, 0)
        picking.move_ids.picked = True
        picking.with_context(picking_ids_not_to_backorder=[]).with_context(
            skip_backorder=True
        ).button_validate()
        self.assertEqual(picking.state, "done")
        return picking

    def test_delivery_pushes_one_fulfillment(self):
        with trap_jobs() as trap:
            picking = self.ship(self.order)
            trap.assert_jobs_count(1)
            trap.perform_enqueued_jobs()
        message = self.outbound()
        self.assertEqual(len(message), 1)
        self.assertEqual(
            (message.res_model, message.res_id), (picking._name, picking.id)
        )
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(len(self.fake.fulfillments), 1)
        self.assertTrue(message.external_id)
        self.assertIn(message.external_id, self.fake.fulfillments[0]["id"])
        self.assertEqual(self.fulfilled_quantities(), {KETTLE_LINE: 2, MUG_LINE: 1})
        # The token went in the header, to the versioned endpoint.
        request = self.fake.requests[-1]
        self.assertEqual(
            request["headers"].get("X-Shopify-Access-Token"), SHOPIFY_TOKEN
        )
        self.assertIn("/admin/api/2025-07/graphql.json", request["path"])

    def test_partial_delivery_then_backorder(self):
        with trap_jobs() as trap:
            self.ship_partially({"DS-KETTLE": 1, "DS-MUG": 1})
            trap.perform_enqueued_jobs()
        self.assertEqual(self.fulfilled_quantities(), {KETTLE_LINE: 1, MUG_LINE: 1})
        backorder = self.order.picking_ids.filtered(
            lambda p: p.picking_type_code == "outgoing" and p.state != "done"
        )
        self.assertEqual(len(backorder), 1, "the rest is a backorder")
        with trap_jobs() as trap:
            self.ship(self.order)
            trap.perform_enqueued_jobs()
        self.assertEqual(len(self.fake.fulfillments), 2)
        self.assertEqual(self.fulfilled_quantities(), {KETTLE_LINE: 1, MUG_LINE: 0})
        self.assertEqual(set(self.outbound().mapped("state")), {"done"})

    def test_pack_variant_is_reported_in_shopify_units(self):
        # The kettles were sold as one case of two (a variant of its own in
        # Shopify, 2 units in Odoo): Shopify counts one.
        kettles = self.order.order_line.filtered(
            lambda line: line.distribution_sync_line_ref == KETTLE_LINE
        )
        self.assertEqual(kettles.distribution_sync_channel_qty, 2)
        kettles.distribution_sync_channel_qty = 1
        with trap_jobs() as trap:
            self.ship_partially({"DS-KETTLE": 1, "DS-MUG": 1})
            trap.perform_enqueued_jobs()
        # Half a case shipped: a started case counts as one, and it is said.
        self.assertEqual(self.fulfilled_quantities(), {KETTLE_LINE: 1, MUG_LINE: 1})
        message = self.outbound()
        self.assertEqual(message.state, "done", message.last_error)
        self.assertIn("part of a Shopify unit", message.result_summary)
        self.assertIn(KETTLE_LINE, message.result_summary)

    def test_never_pushed_twice(self):
        with trap_jobs() as trap:
            picking = self.ship(self.order)
            trap.perform_enqueued_jobs()
        message = self.outbound()
        with trap_jobs() as trap:
            self.env["distribution.sync.backend"]._notify("delivery_validated", picking)
            trap.assert_jobs_count(0)
        self.assertEqual(self.outbound(), message, "same content, same message")
        self.assertIn("Nothing to do", message._send_job())
        self.assertEqual(len(self.fake.fulfillments), 1)

    def test_already_fulfilled_in_shopify_is_not_an_error(self):
        # Someone fulfilled the order in Shopify's admin first.
        for order in self.fake.orders.values():
            for fulfillment_order in order["fulfillment_orders"]:
                fulfillment_order["status"] = "CLOSED"
        with trap_jobs() as trap:
            self.ship(self.order)
            trap.perform_enqueued_jobs()
        message = self.outbound()
        self.assertEqual(message.state, "done", message.last_error)
        self.assertIn("Nothing left to fulfil", message.result_summary)
        self.assertFalse(self.fake.fulfillments)

    def test_channel_owned_shipments_are_not_pushed(self):
        self.shop.ownership_ids.filtered(
            lambda r: r.entity == "shipment"
        ).owner = "channel"
        with trap_jobs() as trap:
            self.ship(self.order)
            trap.assert_jobs_count(0)
        self.assertFalse(self.outbound())

    def test_refused_fulfillment_is_an_exception_without_retry(self):
        self.fake.fail_next_with_user_errors(
            [{"field": ["fulfillment", "trackingInfo"], "message": "Url is invalid"}]
        )
        with trap_jobs() as trap:
            self.ship(self.order)
            trap.perform_enqueued_jobs()
        message = self.outbound()
        self.assertEqual(message.state, "error")
        self.assertIn("Url is invalid", message.last_error)
        exception = self.open_exceptions(message=message)
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.category, "validation")
        self.assertFalse(self.fake.fulfillments)

    def test_shopify_down_is_retried_later(self):
        self.fake.fail_next(status=500, times=20)
        with trap_jobs() as trap:
            self.ship(self.order)
            trap.perform_enqueued_jobs()
            message = self.outbound()
            self.assertEqual(message.state, "queued", message.last_error)
            self.assertEqual(message.attempt_count, 1)
            self.assertTrue(message.next_retry_at)
            # The retry job is queued (the first one was performed); Shopify
            # is back.
            trap.assert_jobs_count(1)
            self.fake._failures.clear()
            trap.perform_enqueued_jobs()
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(len(self.fake.fulfillments), 1)

    def test_retry_after_a_lost_answer_does_not_fulfil_twice(self):
        """The fulfillment of a partial delivery is created in Shopify but
        its answer is lost: the retry finds it there and sends nothing more;
        the backorder then sends the rest, once."""
        create = ShopifyClient.create_fulfillment

        def answer_lost(client, *args, **kwargs):
            create(client, *args, **kwargs)
            raise TransientError("Shopify did not answer in time.")

        with trap_jobs() as trap:
            with mock.patch.object(ShopifyClient, "create_fulfillment", answer_lost):
                self.ship_partially({"DS-KETTLE": 1, "DS-MUG": 0})
                trap.perform_enqueued_jobs()
            message = self.outbound()
            self.assertEqual(message.state, "queued", "retried later")
            self.assertEqual(len(self.fake.fulfillments), 1)
            trap.perform_enqueued_jobs()
        self.assertEqual(message.state, "done", message.last_error)
        self.assertIn("Nothing left to fulfil", message.result_summary)
        self.assertEqual(len(self.fake.fulfillments), 1)
        self.assertEqual(self.fulfilled_quantities(), {KETTLE_LINE: 1, MUG_LINE: 0})
        with trap_jobs() as trap:
            self.ship(self.order)
            trap.perform_enqueued_jobs()
        self.assertEqual(len(self.fake.fulfillments), 2)
        self.assertEqual(self.fulfilled_quantities(), {KETTLE_LINE: 1, MUG_LINE: 1})
        self.assertEqual(set(self.outbound().mapped("state")), {"done"})

    def test_connection(self):
        action = self.shop.action_test_connection()
        self.assertIn(self.fake.shop_domain, action["params"]["message"])
        self.assertEqual(self.fake.count("shop"), 1)
