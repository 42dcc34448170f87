# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from datetime import datetime

from lxml import etree

from odoo import Command
from odoo.tests import new_test_user

from .common import (
    DEMO_ORDER_ID,
    SAMPLE_ORDER_ID,
    SHOP_DOMAIN,
    ShopifyCase,
    order_variant,
)

HOLD_NOTE = "left as a quotation"


class TestShopifyOrderDesk(ShopifyCase):
    """Shopify orders as the order desk reads them (webhooks in, as stored by
    the route)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.desk = new_test_user(
            cls.env,
            login="shopify_desk",
            groups="base.group_user,sales_team.group_sale_salesman",
        )
        cls.team = cls.env["crm.team"].create(
            {"name": "Shopify desk", "company_id": cls.company.id}
        )

    def test_salesperson_and_team(self):
        self.shop.write({"order_user_id": self.desk.id, "order_team_id": self.team.id})
        message = self.receive("orders/create", "demo_order_1001.json")
        self.assertEqual(message.state, "done", message.last_error)
        order = self.order_of(DEMO_ORDER_ID)
        self.assertEqual(order.user_id, self.desk)
        self.assertEqual(order.team_id, self.team)
        self.assertNotEqual(order.user_id, self.shop.user_id)

    def test_order_date_is_shopifys(self):
        # created_at 2026-11-02T09:15:00-05:00, no processed_at; paid, so
        # confirmed on import: the confirmation keeps the date.
        self.receive("orders/create", "demo_order_1001.json")
        order = self.order_of(DEMO_ORDER_ID)
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.date_order, datetime(2026, 11, 2, 14, 15))
        # processed_at (the date Shopify shows) wins over created_at.
        variant = order_variant(
            "demo_order_1001.json",
            "5610000001777",
            processed_at="2026-10-30T23:30:00-07:00",
        )
        self.receive("orders/create", variant)
        self.assertEqual(
            self.order_of("5610000001777").date_order, datetime(2026, 10, 31, 6, 30)
        )

    def test_discount_visible_and_total_kept(self):
        # 4 x 12.50 with 4.00 off: 46.00, which without a Disc.% column
        # read as a wrong amount.
        group = self.env.ref("sale.group_discount_per_so_line")
        self.env.ref("base.group_user").sudo().write(
            {"implied_ids": [Command.unlink(group.id)]}
        )
        desk = new_test_user(
            self.env,
            login="shopify_desk_no_discounts",
            groups="base.group_user,sales_team.group_sale_salesman",
        )
        self.receive("orders/create", "demo_order_1001.json")
        order = self.order_of(DEMO_ORDER_ID)
        widget = order.order_line.filtered(
            lambda line: line.product_id.default_code == "DS-WIDGET"
        )
        self.assertEqual((widget.price_unit, widget.discount), (12.5, 8.0))
        self.assertAlmostEqual(widget.price_subtotal, 46.0)
        self.assertAlmostEqual(order.amount_total, 63.60)
        self.assertTrue(order.with_user(desk).distribution_sync_channel_order)
        arch = (
            self.env["sale.order"]
            .with_user(desk)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        columns = etree.fromstring(arch).xpath(
            "//field[@name='order_line']/list/field[@name='discount']"
        )
        self.assertEqual(len(columns), 1)

    def test_view_in_shopify(self):
        self.receive("orders/create", "demo_order_1001.json")
        order = self.order_of(DEMO_ORDER_ID).with_user(self.desk)
        self.assertEqual(
            order.distribution_sync_channel_url,
            f"https://{SHOP_DOMAIN}/admin/orders/{DEMO_ORDER_ID}",
        )
        self.assertEqual(order.distribution_sync_channel_name, "Shopify")
        action = order.action_distribution_sync_open_channel()
        self.assertEqual(
            (action["type"], action["target"]), ("ir.actions.act_url", "new")
        )
        self.assertEqual(action["url"], order.distribution_sync_channel_url)

    def test_held_order_note_once(self):
        held = order_variant("demo_order_1001.json", total_price="70.00")
        message = self.receive("orders/create", held)
        self.assertEqual(message.state, "blocked")
        order = self.order_of(DEMO_ORDER_ID)
        self.assertEqual(order.state, "draft")

        def notes():
            return order.message_ids.filtered(lambda m: HOLD_NOTE in str(m.body))

        self.assertEqual(len(notes()), 1)
        self.assertIn("70.00", str(notes().body))
        # Shopify delivers again (another event id), then orders/updated of a
        # version still off: no second note.
        self.receive("orders/create", held)
        self.receive(
            "orders/updated",
            order_variant(
                "demo_order_1001.json",
                total_price="70.00",
                note="Leave at the door",
                updated_at="2026-11-02T10:00:00-05:00",
            ),
        )
        self.assertEqual(order.state, "draft")
        self.assertEqual(len(notes()), 1)

    def test_order_arriving_cancelled(self):
        """Shopify's sample order is cancelled: orders/create brings it in
        cancelled, with no delivery."""
        self.make_product("IPOD2008PINK", "IPod Nano - 8GB", 199.0)
        message = self.receive("orders/create", "webhook_orders_create.json")
        self.assertEqual(message.state, "done", message.last_error)
        order = self.order_of(SAMPLE_ORDER_ID)
        self.assertEqual(order.state, "cancel")
        self.assertFalse(order.picking_ids)
        # Its orders/cancelled then changes nothing.
        again = self.receive("orders/cancelled", "webhook_orders_create.json")
        self.assertEqual(again.state, "skipped")

    def test_paid_order_arriving_cancelled_is_not_confirmed(self):
        cancelled = order_variant(
            "demo_order_1001.json",
            cancelled_at="2026-11-02T11:00:00-05:00",
            cancel_reason="customer",
            updated_at="2026-11-02T11:00:05-05:00",
        )
        message = self.receive("orders/updated", cancelled)
        self.assertEqual(message.state, "done", message.last_error)
        order = self.order_of(DEMO_ORDER_ID)
        self.assertEqual(order.state, "cancel")
        self.assertFalse(order.picking_ids, "never confirmed: no delivery")
