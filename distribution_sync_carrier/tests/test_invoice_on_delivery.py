# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo.tests import tagged

from .common import CarrierCase


@tagged("post_install", "-at_install")
class TestInvoiceOnDelivery(CarrierCase):
    """With the backend's "Invoice on delivery", the carrier's ``delivered``
    posts the customer invoice of the order."""

    def setUp(self):
        super().setUp()
        self.assertEqual(self.heavy.invoice_policy, "order")
        self.order = self.sell()
        self.picking = self.ship_and_label(self.order)
        self.trk = self.tracker(self.picking)

    def deliver(self):
        self.fake.advance(self.trk, "in_transit", "Departed", when=self.later(1))
        self.fake.advance(
            self.trk, "delivered", "Delivered, front door", when=self.later(2)
        )
        message = self.receive_tracker_event(self.trk)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(self.picking.distribution_sync_tracking_status, "delivered")
        return message

    def test_delivered_posts_the_invoice(self):
        self.carrier_backend.carrier_invoice_on_delivery = True
        self.assertFalse(self.order.invoice_ids)
        self.deliver()
        invoice = self.order.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.move_type, "out_invoice")
        self.assertAlmostEqual(invoice.amount_total, self.order.amount_total)
        self.assertEqual(self.order.invoice_status, "invoiced")
        self.assertIn(invoice.name, self.picking.message_ids[0].body)

    def test_draft_invoice_is_the_one_posted(self):
        self.carrier_backend.carrier_invoice_on_delivery = True
        draft = self.order._create_invoices()
        self.deliver()
        self.assertEqual(self.order.invoice_ids, draft)
        self.assertEqual(draft.state, "posted")

    def test_option_off_posts_nothing(self):
        self.assertFalse(self.carrier_backend.carrier_invoice_on_delivery)
        self.deliver()
        self.assertFalse(self.order.invoice_ids)
        self.assertEqual(self.order.invoice_status, "to invoice")

    def test_in_transit_posts_nothing(self):
        self.carrier_backend.carrier_invoice_on_delivery = True
        self.fake.advance(self.trk, "in_transit", "Departed", when=self.later(1))
        self.receive_tracker_event(self.trk)
        self.assertFalse(self.order.invoice_ids)

    def test_invoice_that_cannot_be_posted_is_an_exception(self):
        self.carrier_backend.carrier_invoice_on_delivery = True
        draft = self.order._create_invoices()
        # A negative total cannot be posted.
        draft.invoice_line_ids.price_unit = -40.0
        message = self.deliver()
        self.assertEqual(draft.state, "draft")
        exception = self.open_exceptions(category="validation")
        self.assertEqual(len(exception), 1)
        self.assertEqual(
            (exception.res_model, exception.res_id), ("sale.order", self.order.id)
        )
        self.assertIn(self.order.name, exception.name)
        self.assertIn("negative total", exception.name)
        # The tracking is applied all the same.
        self.assertEqual(message.res_id, self.picking.id)
        self.assertEqual(len(self.picking.distribution_sync_tracking_event_ids), 3)
