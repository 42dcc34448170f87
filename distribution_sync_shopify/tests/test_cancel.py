# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from .common import (
    DEMO_ORDER_ID,
    SAMPLE_ORDER_ID,
    ShopifyCase,
    order_variant,
)


class TestShopifyCancel(ShopifyCase):
    """orders/cancelled: cancel what has not shipped, else ask for a return."""

    def cancelled(self):
        return order_variant(
            "demo_order_1001.json",
            cancelled_at="2026-11-02T11:00:00-05:00",
            cancel_reason="customer",
            financial_status="refunded",
            updated_at="2026-11-02T11:00:05-05:00",
        )

    def test_unshipped_order_cancelled(self):
        self.receive("orders/create", "demo_order_1001.json")
        order = self.order_of(DEMO_ORDER_ID)
        self.assertEqual(order.state, "sale")
        delivery = order.picking_ids
        self.assertTrue(delivery, "a confirmed order has its delivery")
        message = self.receive("orders/cancelled", self.cancelled())
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(order.state, "cancel")
        self.assertEqual(set(delivery.mapped("state")), {"cancel"})
        self.assertEqual((message.res_model, message.res_id), ("sale.order", order.id))
        self.assertFalse(self.open_exceptions())
        # Delivered again: nothing more happens.
        again = self.receive("orders/cancelled", self.cancelled())
        self.assertEqual(again.state, "skipped")
        self.assertEqual(len(self.orders_with_ref("#1001")), 1)

    def test_shipped_order_needs_a_return(self):
        self.receive("orders/create", "demo_order_1001.json")
        order = self.order_of(DEMO_ORDER_ID)
        picking = self.ship(order)
        message = self.receive("orders/cancelled", self.cancelled())
        self.assertEqual(message.state, "blocked")
        self.assertEqual(order.state, "sale", "a shipped order stays confirmed")
        self.assertEqual(picking.state, "done")
        exception = self.open_exceptions(message)
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.category, "conflict")
        self.assertEqual(
            (exception.res_model, exception.res_id), ("sale.order", order.id)
        )
        self.assertIn(order.name, exception.name)
        self.assertIn("return", exception.name)

    def test_cancelled_before_imported(self):
        """Shopify's own sample webhook: a cancelled, voided order whose
        "id" lost precision in a JavaScript round trip."""
        self.make_product("IPOD2008PINK", "IPod Nano - 8GB", 199.0)
        message = self.receive("orders/cancelled", "webhook_orders_create.json")
        self.assertEqual(message.state, "done", message.last_error)
        order = self.order_of(SAMPLE_ORDER_ID)
        self.assertTrue(order, "bound under the exact GraphQL id")
        self.assertEqual(order.client_order_ref, "#9999")
        self.assertEqual(order.state, "cancel")
        self.assertEqual(len(self.orders_with_ref("#9999")), 1)
        self.assertEqual(order.partner_id.email, "john@example.com")
        self.assertFalse(
            self.bindings._find(self.shop, "sale.order", "820982911946154500")
        )
