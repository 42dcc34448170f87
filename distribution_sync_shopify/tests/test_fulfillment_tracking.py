# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from unittest import mock

from odoo.addons.queue_job.tests.common import trap_jobs

from .test_fulfillment import FulfillmentCase

TRACKING = {
    "number": "1Z999AA10123456784",
    "url": "https://track.example.com/1Z999AA10123456784",
    "company": "UPS",
}
OTHER_TRACKING = {
    "number": "9400100000000000000000",
    "url": "https://track.example.com/9400100000000000000000",
    "company": "USPS",
}


class TestShopifyFulfillmentTracking(FulfillmentCase):
    """Tracking that a carrier addon learns after a delivery was validated
    (the ``tracking_changed`` document event) reaches its Shopify
    fulfillment, once per change."""

    def setUp(self):
        super().setUp()
        # What a carrier addon knows of a delivery, as the core's tracking
        # hook answers it (stock_delivery's fields need not be installed).
        self.tracking = {}
        pickings = type(self.env["stock.picking"])
        hook = pickings._distribution_sync_tracking

        def tracking_of(picking):
            return dict(self.tracking.get(picking.id) or hook(picking))

        patcher = mock.patch.object(
            pickings, "_distribution_sync_tracking", tracking_of
        )
        patcher.start()
        self.addCleanup(patcher.stop)

    # --------------------------------------------------------------- helpers
    def set_tracking(self, picking, tracking):
        """Record ``tracking`` on the delivery as a carrier addon does; the
        test tells the channels itself (``tracking_changed``), also when a
        carrier addon installed would on the write."""
        self.tracking[picking.id] = dict(tracking)
        if "carrier_tracking_ref" in picking._fields:
            backends = type(self.env["distribution.sync.backend"])
            # The number of the carrier's own label: a carrier addon gives it
            # no tracker of its own (``distribution_sync_send``).
            with mock.patch.object(backends, "_notify"):
                picking.with_context(
                    distribution_sync_send=True
                ).carrier_tracking_ref = tracking["number"]

    def tracking_changed(self, picking):
        self.env["distribution.sync.backend"]._notify("tracking_changed", picking)

    def messages_of(self, topic):
        return self.messages.search(
            [
                ("backend_id", "=", self.shop.id),
                ("direction", "=", "outbound"),
                ("topic", "=", topic),
            ]
        )

    def shipped(self, tracking=None):
        """Validate the delivery (with ``tracking`` known before) and push
        its fulfillment to the fake."""
        picking = self.order.picking_ids.filtered(
            lambda p: p.picking_type_code == "outgoing" and p.state != "done"
        )
        if tracking:
            self.set_tracking(picking, tracking)
        with trap_jobs() as trap:
            self.ship(self.order)
            trap.perform_enqueued_jobs()
        fulfillment = self.messages_of("fulfillments/create")
        self.assertEqual(fulfillment.state, "done", fulfillment.last_error)
        return picking

    def fulfillment_tracking(self, index=0):
        return self.fake.fulfillments[index]["trackingInfo"]

    # ----------------------------------------------------------------- tests
    def test_tracking_known_at_fulfillment_goes_with_it(self):
        picking = self.shipped(TRACKING)
        fulfillment_input = self.fake.fulfillments[0]["input"]
        self.assertEqual(fulfillment_input["trackingInfo"], TRACKING)
        self.assertEqual(fulfillment_input["notifyCustomer"], False)
        # The carrier reports the same tracking: Shopify has it already.
        with trap_jobs() as trap:
            self.tracking_changed(picking)
            trap.perform_enqueued_jobs()
        message = self.messages_of("fulfillments/tracking")
        self.assertEqual(message.state, "done", message.last_error)
        self.assertIn("already has", message.result_summary)
        self.assertEqual(self.fake.tracking_updates, [])
        self.assertEqual(self.fake.count("fulfillmentTrackingInfoUpdate"), 0)

    def test_tracking_after_the_fulfillment_updates_it(self):
        picking = self.shipped()
        self.assertNotIn("trackingInfo", self.fake.fulfillments[0]["input"])
        self.set_tracking(picking, TRACKING)
        with trap_jobs() as trap:
            self.tracking_changed(picking)
            trap.assert_jobs_count(1)
            trap.perform_enqueued_jobs()
        message = self.messages_of("fulfillments/tracking")
        self.assertEqual(len(message), 1)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(
            (message.res_model, message.res_id), (picking._name, picking.id)
        )
        fulfillment_gid = self.fake.fulfillments[0]["id"]
        self.assertEqual(message.external_id, fulfillment_gid.rsplit("/", 1)[-1])
        self.assertEqual(
            self.fake.tracking_updates,
            [
                {
                    "id": fulfillment_gid,
                    "trackingInfoInput": TRACKING,
                    "notifyCustomer": False,
                }
            ],
        )
        self.assertEqual(self.fulfillment_tracking(), [TRACKING])

    def test_same_tracking_twice_is_sent_once(self):
        picking = self.shipped()
        self.set_tracking(picking, TRACKING)
        with trap_jobs() as trap:
            self.tracking_changed(picking)
            trap.perform_enqueued_jobs()
            # A carrier status change: the same tracking again.
            self.tracking_changed(picking)
            trap.assert_jobs_count(0)
        self.assertEqual(len(self.messages_of("fulfillments/tracking")), 1)
        self.assertEqual(len(self.fake.tracking_updates), 1)
        # A new label, then the first one again: each is sent.
        with trap_jobs() as trap:
            self.set_tracking(picking, OTHER_TRACKING)
            self.tracking_changed(picking)
            trap.perform_enqueued_jobs()
            self.set_tracking(picking, TRACKING)
            self.tracking_changed(picking)
            trap.perform_enqueued_jobs()
        self.assertEqual(
            [update["trackingInfoInput"] for update in self.fake.tracking_updates],
            [TRACKING, OTHER_TRACKING, TRACKING],
        )
        self.assertEqual(self.fulfillment_tracking(), [TRACKING])
        self.assertEqual(len(self.messages_of("fulfillments/tracking")), 3)

    def test_older_tracking_run_late_is_not_sent(self):
        picking = self.shipped()
        with trap_jobs() as trap:
            self.set_tracking(picking, TRACKING)
            self.tracking_changed(picking)
            # A new label before the first update was sent.
            self.set_tracking(picking, OTHER_TRACKING)
            self.tracking_changed(picking)
            trap.assert_jobs_count(2)
            trap.perform_enqueued_jobs()
        older, newer = self.messages_of("fulfillments/tracking").sorted("id")
        self.assertEqual(older.state, "skipped", older.last_error)
        self.assertIn(f"newer tracking update {newer.id}", older.result_summary)
        self.assertEqual(newer.state, "done", newer.last_error)
        self.assertEqual(
            [update["trackingInfoInput"] for update in self.fake.tracking_updates],
            [OTHER_TRACKING],
        )
        self.assertEqual(self.fulfillment_tracking(), [OTHER_TRACKING])

    def test_pending_fulfillment_is_waited_for(self):
        picking = self.order.picking_ids.filtered(
            lambda p: p.picking_type_code == "outgoing"
        )
        with trap_jobs() as trap:
            self.ship(self.order)
            self.set_tracking(picking, TRACKING)
            self.tracking_changed(picking)
            message = self.messages_of("fulfillments/tracking")
            tracking_jobs = [
                job for job in trap.enqueued_jobs if job.recordset == message
            ]
            self.assertEqual(len(tracking_jobs), 1)
            # The tracking job runs before the fulfillment's.
            trap.enqueued_jobs.remove(tracking_jobs[0])
            tracking_jobs[0].perform()
            self.assertEqual(message.state, "queued", message.last_error)
            self.assertIn("not in Shopify yet", message.last_error)
            self.assertTrue(message.next_retry_at)
            self.assertFalse(self.fake.tracking_updates)
            # The fulfillment's job, then the tracking's retry.
            trap.assert_jobs_count(2)
            trap.perform_enqueued_jobs()
        self.assertEqual(
            self.messages_of("fulfillments/create").state, "done", "fulfilled"
        )
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(len(self.fake.tracking_updates), 1)
        self.assertEqual(self.fulfillment_tracking(), [TRACKING])

    def test_delivery_of_another_order_queues_nothing(self):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.env["res.partner"].create({"name": "Walk-in"}).id,
                "order_line": [
                    (0, 0, {"product_id": self.product_by_sku("DS-MUG").id})
                ],
            }
        )
        order.action_confirm()
        with trap_jobs() as trap:
            picking = self.ship(order)
            self.set_tracking(picking, TRACKING)
            self.tracking_changed(picking)
            trap.assert_jobs_count(0)
        self.assertFalse(self.messages_of("fulfillments/tracking"))
        self.assertFalse(self.fake.requests)

    def test_nothing_fulfilled_in_shopify_is_skipped(self):
        # Someone fulfilled the order in Shopify's admin first: Odoo's
        # delivery made no fulfillment there.
        for order in self.fake.orders.values():
            for fulfillment_order in order["fulfillment_orders"]:
                fulfillment_order["status"] = "CLOSED"
        picking = self.shipped()
        self.assertFalse(self.fake.fulfillments)
        self.set_tracking(picking, TRACKING)
        with trap_jobs() as trap:
            self.tracking_changed(picking)
            trap.perform_enqueued_jobs()
        message = self.messages_of("fulfillments/tracking")
        self.assertEqual(message.state, "skipped", message.last_error)
        self.assertIn("No Shopify fulfillment", message.result_summary)
        self.assertFalse(self.fake.tracking_updates)

    def test_fulfillment_gone_in_shopify_is_an_exception(self):
        picking = self.shipped()
        self.fake.fulfillments.clear()
        self.set_tracking(picking, TRACKING)
        with trap_jobs() as trap:
            self.tracking_changed(picking)
            trap.perform_enqueued_jobs()
        message = self.messages_of("fulfillments/tracking")
        self.assertEqual(message.state, "error")
        self.assertIn("Fulfillment does not exist", message.last_error)
        exception = self.open_exceptions(message=message)
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.category, "validation")

    def test_channel_owned_shipments_get_no_tracking(self):
        picking = self.shipped()
        self.shop.ownership_ids.filtered(
            lambda r: r.entity == "shipment"
        ).owner = "channel"
        self.set_tracking(picking, TRACKING)
        with trap_jobs() as trap:
            self.tracking_changed(picking)
            trap.assert_jobs_count(0)
        self.assertFalse(self.messages_of("fulfillments/tracking"))

    def test_tracking_hook_reads_the_delivery(self):
        """The core's hook itself (nothing recorded by the test's carrier):
        stock_delivery's tracking fields when that module is installed,
        nothing otherwise."""
        picking = self.order.picking_ids[:1]
        self.assertFalse(self.tracking)
        if "carrier_tracking_ref" in picking._fields:
            picking.carrier_tracking_ref = TRACKING["number"]
            self.assertEqual(
                picking._distribution_sync_tracking()["number"], TRACKING["number"]
            )
        else:
            self.assertEqual(
                picking._distribution_sync_tracking(),
                {"number": None, "url": None, "company": None},
            )
