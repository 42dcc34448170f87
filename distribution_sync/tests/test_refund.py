# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo.addons.queue_job.job import Job

from .common import DistributionSyncCase, order_payload


def refund_payload(external_id="R-1", order_id="SO-1", **overrides):
    """A canonical refund body of the reference (``generic``) channel: both
    units of line L1 of ``order_payload`` and the 5.00 of shipping."""
    payload = {
        "external_id": external_id,
        "order_id": order_id,
        "note": "Arrived broken",
        "lines": [{"line_external_id": "L1", "quantity": 2, "subtotal": "20.00"}],
        "shipping": "5.00",
        "total": "25.00",
    }
    payload.update(overrides)
    return payload


class TestRefund(DistributionSyncCase):
    """``refund/create`` of the reference channel: the core's path from a
    canonical refund to a credit note (and a return), as every channel's."""

    def setUp(self):
        super().setUp()
        message = self.receive(
            "order/upsert",
            order_payload(
                shipping=[{"code": "std", "title": "Standard", "price": "5.00"}],
                total="25.00",
            ),
        )
        self.assertEqual(message.state, "done", message.last_error)
        self.order = self.bindings._find_record(self.backend, "sale.order", "SO-1")
        self.assertEqual(self.order.state, "sale")
        self.assertEqual(self.order.amount_total, 25.0)

    # --------------------------------------------------------------- helpers
    def receive(self, topic, payload, event_id=None):
        return self.process(self.intake(topic, payload, event_id=event_id))

    def credit_note_of(self, refund_id):
        return self.bindings._find_record(self.backend, "account.move", refund_id)

    def credit_notes(self):
        return self.env["account.move"].search(
            [("move_type", "=", "out_refund"), ("invoice_origin", "=", self.order.name)]
        )

    def assertAmount(self, move, amount):
        self.assertEqual(
            move.currency_id.compare_amounts(move.amount_total, amount),
            0,
            f"{move.amount_total} != {amount}",
        )

    def ship(self):
        """Validate the order's delivery in full (needs sale_stock)."""
        if "picking_ids" not in self.order._fields:
            self.skipTest("sale_stock is not installed: orders have no delivery")
        picking = self.order.picking_ids.filtered(
            lambda p: p.picking_type_code == "outgoing" and p.state != "done"
        )
        self.assertEqual(len(picking), 1)
        return self.validate_in_full(picking)

    def returns_of(self, delivery):
        return self.env["stock.picking"].search([("return_id", "=", delivery.id)])

    # ----------------------------------------------------------------- tests
    def test_full_refund_posted_credit_note_of_the_order(self):
        invoice = self.order._create_invoices()
        invoice.action_post()
        message = self.receive("refund/create", refund_payload())
        self.assertEqual(message.state, "done", message.last_error)
        move = self.credit_note_of("R-1")
        self.assertEqual(move, self.credit_notes())
        self.assertEqual((message.res_model, message.res_id), ("account.move", move.id))
        self.assertEqual(move.move_type, "out_refund")
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.partner_id, self.order.partner_invoice_id)
        self.assertEqual(move.reversed_entry_id, invoice)
        self.assertIn("R-1", move.ref)
        self.assertIn("Arrived broken", str(move.narration))
        self.assertAmount(move, 25.00)
        product_line, shipping_line = move.invoice_line_ids
        widget_line = self.order.order_line.filtered(
            lambda line: line.product_id == self.product
        )
        self.assertEqual(product_line.sale_line_ids, widget_line)
        self.assertEqual(product_line.quantity, 2)
        self.assertAlmostEqual(product_line.price_subtotal, 20.00, places=2)
        self.assertEqual(shipping_line.product_id, self.backend.shipping_product_id)
        self.assertEqual(shipping_line.name, "Shipping refund")
        self.assertAlmostEqual(shipping_line.price_subtotal, 5.00, places=2)
        # The credit note counts against what was invoiced of the line.
        self.assertEqual(widget_line.qty_invoiced, 0)
        self.assertFalse(self.exceptions.search([("backend_id", "=", self.backend.id)]))

    def test_partial_refund_with_restock_prepares_the_return(self):
        delivery = self.ship()
        message = self.receive(
            "refund/create",
            refund_payload(
                lines=[
                    {
                        "line_external_id": "L1",
                        "quantity": 1,
                        "subtotal": "10.00",
                        "restock": True,
                    }
                ],
                shipping=None,
                # The shop kept 2.00 of the unit's price.
                discrepancy="2.00",
                total="8.00",
            ),
        )
        self.assertEqual(message.state, "done", message.last_error)
        move = self.credit_note_of("R-1")
        self.assertEqual(move.state, "posted")
        self.assertAmount(move, 8.00)
        adjustment = move.invoice_line_ids.filtered(lambda line: not line.product_id)
        self.assertAlmostEqual(adjustment.price_subtotal, -2.00, places=2)
        returns = self.returns_of(delivery)
        self.assertEqual(len(returns), 1)
        self.assertEqual(returns.picking_type_code, "incoming")
        self.assertNotEqual(returns.state, "done", "prepared, not validated")
        self.assertEqual(returns.move_ids.product_id, self.product)
        self.assertEqual(returns.move_ids.product_uom_qty, 1)

    def test_refund_without_restock_returns_nothing(self):
        delivery = self.ship()
        message = self.receive(
            "refund/create",
            refund_payload(
                lines=[{"line_external_id": "L1", "quantity": 1, "subtotal": "10.00"}],
                shipping=None,
                total="10.00",
            ),
        )
        self.assertEqual(message.state, "done", message.last_error)
        self.assertAmount(self.credit_note_of("R-1"), 10.00)
        self.assertFalse(self.returns_of(delivery))

    def test_pack_refund_is_counted_in_odoo_units(self):
        """A line sold as one case of two in the channel (two units in
        Odoo): one case refunded and restocked is two units."""
        widget_line = self.order.order_line.filtered(
            lambda line: line.product_id == self.product
        )
        widget_line.distribution_sync_channel_qty = 1
        delivery = self.ship()
        message = self.receive(
            "refund/create",
            refund_payload(
                lines=[
                    {
                        "line_external_id": "L1",
                        "quantity": 1,
                        "subtotal": "20.00",
                        "restock": True,
                    }
                ],
                shipping=None,
                total="20.00",
            ),
        )
        self.assertEqual(message.state, "done", message.last_error)
        move = self.credit_note_of("R-1")
        self.assertEqual(move.invoice_line_ids.quantity, 2)
        self.assertAlmostEqual(move.invoice_line_ids.price_unit, 10.00, places=2)
        self.assertEqual(self.returns_of(delivery).move_ids.product_uom_qty, 2)

    def test_same_refund_twice_one_credit_note(self):
        first = self.receive("refund/create", refund_payload(), "evt-r1")
        again = self.receive("refund/create", refund_payload(), "evt-r2")
        self.assertEqual(first.state, "done", first.last_error)
        self.assertEqual(again.state, "skipped", again.last_error)
        self.assertEqual(again.res_id, first.res_id)
        self.assertEqual(len(self.credit_notes()), 1)

    def test_total_mismatch_draft_and_exception(self):
        """The channel says it refunded 26.00 for 25.00 of lines and shipping,
        with no discrepancy to explain the difference."""
        message = self.receive("refund/create", refund_payload(total="26.00"))
        self.assertEqual(message.state, "blocked")
        move = self.credit_note_of("R-1")
        self.assertTrue(move, "kept for a person to correct")
        self.assertEqual(move.state, "draft")
        self.assertAmount(move, 25.00)
        exception = self.exceptions.search(
            [("message_id", "=", message.id), ("state", "=", "open")]
        )
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.category, "validation")
        self.assertEqual(
            (exception.res_model, exception.res_id), ("account.move", move.id)
        )
        self.assertIn("26.00", exception.name)
        # Corrected by hand, then retried: posted, and the exception closes.
        move.write(
            {
                "invoice_line_ids": [
                    (0, 0, {"name": "Goodwill", "quantity": 1, "price_unit": 1.0})
                ]
            }
        )
        exception.action_retry()
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(move.state, "posted")
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(len(self.credit_notes()), 1)

    def test_refund_of_an_unknown_line_is_a_mapping_exception(self):
        message = self.receive(
            "refund/create",
            refund_payload(
                lines=[{"line_external_id": "L9", "quantity": 1, "subtotal": "1.00"}],
                shipping=None,
                total="1.00",
            ),
        )
        self.assertEqual(message.state, "blocked")
        self.assertFalse(self.credit_note_of("R-1"), "nothing half made")
        exception = self.exceptions.search([("message_id", "=", message.id)])
        self.assertEqual(exception.category, "mapping")

    def test_refund_before_its_order_waits(self):
        message = self.receive(
            "refund/create",
            refund_payload(order_id="SO-2", shipping=None, total="20.00"),
        )
        self.assertEqual(message.state, "queued", "transient: retried later")
        self.assertIn("SO-2", message.last_error)
        self.assertFalse(self.credit_note_of("R-1"))
        self.receive("order/upsert", order_payload("SO-2"))
        Job.load(self.env, message.job_uuid).perform()
        self.assertEqual(message.state, "done", message.last_error)
        self.assertAmount(self.credit_note_of("R-1"), 20.00)

    def test_bad_refund_is_a_payload_exception(self):
        message = self.receive(
            "refund/create",
            refund_payload(lines=[{"line_external_id": "L1", "quantity": -1}]),
        )
        self.assertEqual(message.state, "error")
        self.assertIn("lines[0].quantity", message.last_error)
        self.assertFalse(self.credit_note_of("R-1"))
