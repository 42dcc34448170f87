# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import json

from odoo.tests import tagged

from odoo.addons.distribution_sync_shopify.tests.common import (
    SHOPIFY_TOKEN,
    ShopifyCase,
)
from odoo.addons.distribution_sync_shopify.tests.fake_shopify import FakeShopify

from .common import CarrierCase

ORDER_ID = "6100000003001"
KETTLE_LINE = "6200000000001"
MUG_LINE = "6200000000002"


@tagged("post_install", "-at_install")
class TestShopifyTracking(CarrierCase, ShopifyCase):
    """A Shopify order shipped with a carrier backend: the Shopify
    fulfillment gets the label's tracking number, link and carrier, also
    when the label is bought after the fulfillment was created."""

    def setUp(self):
        super().setUp()
        backend_class = type(self.env["distribution.sync.backend"])
        if not hasattr(backend_class, "_shopify_on_tracking_changed"):
            self.skipTest(
                "distribution_sync_shopify does not listen to tracking_changed "
                "(no _shopify_on_tracking_changed): fulfillments get no tracking."
            )
        self.shopify = FakeShopify(access_token=SHOPIFY_TOKEN, api_version="2025-07")
        self.addCleanup(self.shopify.stop)
        self.shop.api_url = self.shopify.url
        self.shopify.add_order(
            ORDER_ID,
            [
                {"line_item_id": KETTLE_LINE, "sku": "DS-KETTLE", "quantity": 2},
                {"line_item_id": MUG_LINE, "sku": "DS-MUG", "quantity": 1},
            ],
        )
        for sku, weight in (("DS-KETTLE", 1.2), ("DS-MUG", 0.4)):
            self.product_by_sku(sku).weight = weight
        message = self.receive("orders/create", "order_refundable.json")
        self.assertEqual(message.state, "done", message.last_error)
        self.order = self.order_of(ORDER_ID)
        self.picking = self.delivery_of(self.order)
        self.picking.carrier_id = self.delivery_method

    def shop_messages(self, topic):
        return self.messages.search(
            [
                ("backend_id", "=", self.shop.id),
                ("direction", "=", "outbound"),
                ("topic", "=", topic),
                ("res_id", "=", self.picking.id),
            ],
            order="id",
        )

    def test_fulfillment_gets_the_label_tracking(self):
        self.ship(self.order)
        fulfillment = self.shop_messages("fulfillments/create")
        self.assertEqual(len(fulfillment), 1)
        self.process(fulfillment)
        self.assertEqual(fulfillment.state, "done", fulfillment.last_error)
        created = self.shopify.fulfillments[-1]["trackingInfo"]
        self.assertFalse(created and created[0]["number"], "no number yet")
        # The label is bought after the fulfillment exists.
        self.run_carrier_jobs(self.picking)
        shipment = self.picking.distribution_sync_shipment_ids
        self.assertEqual(shipment.state, "bought")
        tracking = self.shop_messages("fulfillments/tracking")
        self.assertEqual(len(tracking), 1)
        self.assertEqual(
            json.loads(tracking.payload)["tracking"]["number"], shipment.tracking_code
        )
        self.process(tracking)
        self.assertEqual(tracking.state, "done", tracking.last_error)
        sent = self.shopify.tracking_updates[-1]["trackingInfoInput"]
        self.assertEqual(sent["number"], shipment.tracking_code)
        self.assertEqual(sent["url"], shipment.public_url)
        # The carrier, which Shopify turns into its own tracking link.
        self.assertEqual(sent["company"], shipment.carrier)
        self.assertEqual(shipment.carrier, "UPS")
        self.assertEqual(
            self.shopify.fulfillments[-1]["trackingInfo"][0]["number"],
            shipment.tracking_code,
        )

    def test_carrier_status_change_sends_no_new_tracking(self):
        self.ship(self.order)
        self.process(self.shop_messages("fulfillments/create"))
        self.run_carrier_jobs(self.picking)
        self.process(self.shop_messages("fulfillments/tracking"))
        tracker = self.tracker(self.picking)
        self.fake.advance(tracker, "in_transit", "Departed", when=self.later(1))
        self.receive_tracker_event(tracker)
        self.assertEqual(self.picking.distribution_sync_tracking_status, "in_transit")
        # Same number, link and carrier: nothing new for Shopify.
        self.assertEqual(len(self.shop_messages("fulfillments/tracking")), 1)
        self.assertEqual(len(self.shopify.tracking_updates), 1)
