# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo.addons.queue_job.job import Job

from .common import (
    REFUNDABLE_ORDER_ID,
    SHIPPING_DISCOUNT_ORDER_ID,
    ShopifyCase,
)

FULL_REFUND_ID = "7100000000001"
PARTIAL_REFUND_ID = "7100000000002"
MISMATCH_REFUND_ID = "7100000000003"
DISCREPANCY_REFUND_ID = "1029384756111"


class TestShopifyRefund(ShopifyCase):
    """refunds/create: one credit note per refund, exact to the cent."""

    def import_order(self, name="order_refundable.json", order_id=REFUNDABLE_ORDER_ID):
        message = self.receive("orders/create", name)
        self.assertEqual(message.state, "done", message.last_error)
        order = self.order_of(order_id)
        self.assertEqual(order.state, "sale")
        return order

    def credit_notes(self, order):
        return self.env["account.move"].search(
            [("move_type", "=", "out_refund"), ("invoice_origin", "=", order.name)]
        )

    def credit_note_of(self, refund_id):
        return self.bindings._find_record(self.shop, "account.move", refund_id)

    def assertAmount(self, move, amount):
        self.assertEqual(
            move.currency_id.compare_amounts(move.amount_total, amount),
            0,
            f"{move.amount_total} != {amount}",
        )

    # ------------------------------------------------------------------ full
    def test_full_refund_credit_note(self):
        order = self.import_order()
        self.assertEqual(order.amount_total, 88.00)
        message = self.receive("refunds/create", "refund_full.json")
        self.assertEqual(message.state, "done", message.last_error)
        move = self.credit_note_of(FULL_REFUND_ID)
        self.assertEqual(move, self.credit_notes(order))
        self.assertEqual((message.res_model, message.res_id), ("account.move", move.id))
        self.assertEqual(move.move_type, "out_refund")
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.partner_id, order.partner_invoice_id)
        self.assertIn(FULL_REFUND_ID, move.ref)
        self.assertAmount(move, 88.00)
        kettle_line, mug_line, shipping_line = move.invoice_line_ids
        kettle_so, mug_so = order.order_line.filtered(
            lambda line: line.product_id != self.shop.shipping_product_id
        )
        self.assertEqual(kettle_line.sale_line_ids, kettle_so)
        self.assertEqual(kettle_line.quantity, 2)
        self.assertAlmostEqual(kettle_line.price_subtotal, 60.00, places=2)
        self.assertEqual(kettle_line.tax_ids, self.tax_10)
        self.assertEqual(mug_line.sale_line_ids, mug_so)
        self.assertAlmostEqual(mug_line.price_subtotal, 12.00, places=2)
        self.assertEqual(shipping_line.product_id, self.shop.shipping_product_id)
        self.assertEqual(shipping_line.name, "Shipping refund")
        self.assertAlmostEqual(shipping_line.price_subtotal, 8.00, places=2)
        self.assertAlmostEqual(move.amount_tax, 8.00, places=2)
        self.assertFalse(self.open_exceptions())

    def test_same_refund_twice_one_credit_note(self):
        order = self.import_order()
        first = self.receive("refunds/create", "refund_full.json", "evt-refund-1")
        again = self.receive("refunds/create", "refund_full.json", "evt-refund-2")
        self.assertEqual(first.state, "done", first.last_error)
        self.assertEqual(again.state, "skipped")
        self.assertEqual(again.res_id, first.res_id)
        self.assertEqual(len(self.credit_notes(order)), 1)
        # The same event delivered again is not even a second message.
        self.assertEqual(
            self.deliver("refunds/create", "refund_full.json", "evt-refund-1"), first
        )

    def test_partial_refund_exact_amount(self):
        order = self.import_order()
        message = self.receive("refunds/create", "refund_partial_return.json")
        self.assertEqual(message.state, "done", message.last_error)
        move = self.credit_note_of(PARTIAL_REFUND_ID)
        self.assertEqual(move.state, "posted")
        self.assertEqual(len(move.invoice_line_ids), 1)
        self.assertEqual(move.invoice_line_ids.quantity, 1)
        self.assertEqual(
            move.invoice_line_ids.sale_line_ids.distribution_sync_line_ref,
            "6200000000001",
        )
        self.assertAmount(move, 33.00)
        # Nothing was delivered: no return to prepare.
        self.assertFalse(
            order.picking_ids.filtered(lambda p: p.picking_type_code == "incoming")
        )

    def test_refund_of_delivered_items_prepares_return(self):
        order = self.import_order()
        delivery = self.ship(order)
        message = self.receive("refunds/create", "refund_partial_return.json")
        self.assertEqual(message.state, "done", message.last_error)
        returns = self.env["stock.picking"].search([("return_id", "=", delivery.id)])
        self.assertEqual(len(returns), 1)
        self.assertEqual(returns.picking_type_code, "incoming")
        self.assertNotEqual(returns.state, "done", "prepared, not validated")
        self.assertEqual(returns.move_ids.product_id, self.product_by_sku("DS-KETTLE"))
        self.assertEqual(returns.move_ids.product_uom_qty, 1)
        self.assertAmount(self.credit_note_of(PARTIAL_REFUND_ID), 33.00)

    def test_refund_before_its_order_waits(self):
        message = self.receive("refunds/create", "refund_full.json")
        self.assertEqual(message.state, "queued", "transient: retried later")
        self.assertTrue(message.next_retry_at)
        self.assertIn(REFUNDABLE_ORDER_ID, message.last_error)
        self.assertTrue(message.job_uuid)
        self.assertFalse(self.open_exceptions())
        self.assertFalse(self.credit_note_of(FULL_REFUND_ID))
        # The order arrives; the refund's retry job makes the credit note.
        order = self.import_order()
        Job.load(self.env, message.job_uuid).perform()
        self.assertEqual(message.state, "done", message.last_error)
        move = self.credit_note_of(FULL_REFUND_ID)
        self.assertEqual(move, self.credit_notes(order))
        self.assertAmount(move, 88.00)

    # ----------------------------------------------------------- reconciling
    def test_refund_discrepancy_becomes_adjustment_line(self):
        """One of two lamps returned, the discounted shipping refunded, and
        5.00 kept by the merchant (a refund_discrepancy)."""
        order = self.import_order(
            "order_shipping_discount.json", SHIPPING_DISCOUNT_ORDER_ID
        )
        self.assertEqual(order.amount_total, 96.25)
        message = self.receive(
            "refunds/create", "refund_partial_shipping_discrepancy.json"
        )
        self.assertEqual(message.state, "done", message.last_error)
        move = self.credit_note_of(DISCREPANCY_REFUND_ID)
        self.assertEqual(move.state, "posted")
        self.assertAmount(move, 47.25)
        adjustment = move.invoice_line_ids.filtered(lambda line: not line.product_id)
        self.assertEqual(len(adjustment), 1)
        self.assertAlmostEqual(adjustment.price_subtotal, -5.00, places=2)
        self.assertFalse(adjustment.tax_ids)
        shipping = move.invoice_line_ids.filtered(
            lambda line: line.product_id == self.shop.shipping_product_id
        )
        self.assertAlmostEqual(shipping.price_total, 8.25, places=2)
        self.assertIn("dented", str(move.narration))

    def test_nothing_reconciles_draft_and_exception(self):
        """The refunded line's tax (2.00) disagrees with the order's 10%, and
        the refund has no discrepancy to explain it: the shipping_refund
        adjustment it carries must not be used to paper over the gap."""
        self.import_order()
        message = self.receive("refunds/create", "refund_tax_mismatch.json")
        self.assertEqual(message.state, "blocked")
        move = self.credit_note_of(MISMATCH_REFUND_ID)
        self.assertTrue(move, "the credit note is kept for a person to correct")
        self.assertEqual(move.state, "draft")
        self.assertAmount(move, 41.80)
        self.assertFalse(
            move.invoice_line_ids.filtered(lambda line: not line.product_id)
        )
        exception = self.open_exceptions(message)
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.category, "validation")
        self.assertEqual(
            (exception.res_model, exception.res_id), ("account.move", move.id)
        )
        self.assertIn("40.80", exception.name)
        # Redelivered: still one credit note.
        self.receive("refunds/create", "refund_tax_mismatch.json")
        self.assertEqual(
            self.env["account.move"].search_count(
                [("move_type", "=", "out_refund"), ("ref", "ilike", MISMATCH_REFUND_ID)]
            ),
            1,
        )

    def test_retry_checks_the_corrected_credit_note(self):
        self.import_order()
        message = self.receive("refunds/create", "refund_tax_mismatch.json")
        move = self.credit_note_of(MISMATCH_REFUND_ID)
        exception = self.open_exceptions(message, "validation")
        # Retrying before anyone corrected it changes nothing.
        exception.action_retry()
        self.assertEqual(exception.state, "open")
        self.assertEqual(move.state, "draft")
        self.assertEqual(message.state, "blocked")
        # The accountant books the line's tax as Shopify did, then retries:
        # the credit note now matches, is posted, and the exception closes.
        kettle = move.invoice_line_ids.filtered(
            lambda line: line.product_id == self.product_by_sku("DS-KETTLE")
        )
        move.write(
            {
                "invoice_line_ids": [
                    (1, kettle.id, {"tax_ids": [(5, 0, 0)], "price_unit": 32.00})
                ]
            }
        )
        self.assertAmount(move, 40.80)
        exception.action_retry()
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(move.state, "posted")
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(self.credit_note_of(MISMATCH_REFUND_ID), move)
