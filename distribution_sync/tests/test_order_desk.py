# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from datetime import datetime
from unittest.mock import patch

from lxml import etree

from odoo import Command
from odoo.tests import new_test_user

from .common import DistributionSyncCase, order_payload

HOLD_NOTE = "left as a quotation"


class TestOrderDesk(DistributionSyncCase):
    """Imported orders as the order desk reads them: salesperson and team,
    the channel's order date, discounts, a link to the channel, a note when
    held, and orders that arrive cancelled."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.desk = new_test_user(
            cls.env,
            login="desk_user",
            groups="base.group_user,sales_team.group_sale_salesman",
        )
        cls.team = cls.env["crm.team"].create(
            {"name": "Web shop", "company_id": cls.company.id}
        )

    def _import(self, payload, event_id=None, topic="order/upsert"):
        return self.process(self.intake(topic, payload, event_id=event_id))

    def _order(self, external_id="SO-1"):
        return self.bindings._find_record(self.backend, "sale.order", external_id)

    def _hold_notes(self, order):
        return order.message_ids.filtered(lambda m: HOLD_NOTE in str(m.body or ""))

    # ------------------------------------------------------------ salesperson
    def test_salesperson_and_team_of_the_backend(self):
        self.backend.write(
            {"order_user_id": self.desk.id, "order_team_id": self.team.id}
        )
        message = self._import(order_payload("SO-1"))
        self.assertEqual(message.state, "done", message.last_error)
        order = self._order()
        self.assertEqual(order.user_id, self.desk)
        self.assertEqual(order.team_id, self.team)
        # In the salesperson's "My Quotations".
        self.assertIn(
            order,
            self.env["sale.order"].search([("user_id", "=", self.desk.id)]),
        )

    def test_salesperson_defaults_to_the_exception_owner(self):
        self.backend.responsible_user_id = self.desk
        self._import(order_payload("SO-1"))
        order = self._order()
        self.assertEqual(order.user_id, self.desk)
        self.assertNotEqual(order.user_id, self.backend.user_id)

    def test_never_the_technical_user(self):
        portal = new_test_user(
            self.env, login="portal_owner", groups="base.group_portal"
        )
        self.backend.write(
            {"order_user_id": self.backend.user_id.id, "responsible_user_id": portal.id}
        )
        self._import(order_payload("SO-1"))
        order = self._order()
        self.assertTrue(order)
        self.assertFalse(order.user_id, "no internal user named: no salesperson")

    # ------------------------------------------------------------- order date
    def test_order_date_is_the_channels(self):
        message = self._import(
            order_payload("SO-1", ordered_at="2026-01-09T18:30:00-05:00")
        )
        self.assertEqual(message.state, "done", message.last_error)
        order = self._order()
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.date_order, datetime(2026, 1, 9, 23, 30))

    def test_held_order_keeps_its_date_when_confirmed_by_hand(self):
        self.backend.order_user_id = self.desk
        message = self._import(
            order_payload("SO-1", ordered_at="2026-01-09T18:30:00Z", total="25.00")
        )
        self.assertEqual(message.state, "blocked")
        order = self._order()
        self.assertEqual(order.state, "draft")
        order.with_user(self.desk).action_confirm()
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.date_order, datetime(2026, 1, 9, 18, 30))

    # -------------------------------------------------------------- discounts
    def test_discount_stays_a_percentage_of_the_list_price(self):
        message = self._import(
            order_payload(
                "SO-1",
                lines=[
                    {
                        "sku": "DS-TEST-1",
                        "quantity": 4,
                        "price_unit": "12.50",
                        "discount_amount": "4.00",
                    }
                ],
                total="46.00",
            )
        )
        self.assertEqual(message.state, "done", message.last_error)
        line = self._order().order_line
        self.assertEqual((line.price_unit, line.discount), (12.5, 8.0))
        self.assertAlmostEqual(self._order().amount_total, 46.0)
        self.assertTrue(self._order().distribution_sync_channel_order)

    def test_discount_in_the_price_is_said_in_the_description(self):
        # 1.00 off 100 x 12.34 is no 2-decimal percentage of the line: the
        # unit price takes it (12.33), the description says so.
        message = self._import(
            order_payload(
                "SO-1",
                lines=[
                    {
                        "sku": "DS-TEST-1",
                        "name": "Test widget",
                        "quantity": 100,
                        "price_unit": "12.34",
                        "discount_amount": "1.00",
                    }
                ],
                total="1233.00",
            )
        )
        self.assertEqual(message.state, "done", message.last_error)
        line = self._order().order_line
        self.assertEqual((line.price_unit, line.discount), (12.33, 0.0))
        self.assertIn("discount of", line.name)
        self.assertIn("1.00", line.name)
        self.assertAlmostEqual(self._order().amount_total, 1233.0)

    def _discount_columns(self, user):
        arch = (
            self.env["sale.order"]
            .with_user(user)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        return etree.fromstring(arch).xpath(
            "//field[@name='order_line']/list/field[@name='discount']"
        )

    def test_discount_column_without_the_discounts_setting(self):
        group = self.env.ref("sale.group_discount_per_so_line")
        self.env.ref("base.group_user").sudo().write(
            {"implied_ids": [Command.unlink(group.id)]}
        )
        without = new_test_user(
            self.env,
            login="desk_no_discounts",
            groups="base.group_user,sales_team.group_sale_salesman",
        )
        self.assertFalse(without.has_group("sale.group_discount_per_so_line"))
        columns = self._discount_columns(without)
        self.assertEqual(len(columns), 1, "a Disc.% column on channel orders")
        self.assertIn(
            "distribution_sync_channel_order", columns[0].get("column_invisible")
        )
        with_setting = new_test_user(
            self.env,
            login="desk_discounts",
            groups="base.group_user,sales_team.group_sale_salesman,"
            "sale.group_discount_per_so_line",
        )
        self.assertEqual(len(self._discount_columns(with_setting)), 1, "not twice")

    # ------------------------------------------------------------ channel link
    def test_link_to_the_order_in_the_channel(self):
        self._import(order_payload("SO-1"))
        order = self._order().with_user(self.desk)
        self.assertEqual(
            order.distribution_sync_channel_name, "Generic JSON (reference)"
        )
        self.assertFalse(order.distribution_sync_channel_url, "generic has no admin")

        def url(backend, record, external_id):
            return f"https://shop.example/admin/orders/{external_id}"

        backend_class = type(self.backend)
        with patch.object(backend_class, "_generic_document_url", url, create=True):
            order.invalidate_recordset()
            self.assertEqual(
                order.distribution_sync_channel_url,
                "https://shop.example/admin/orders/SO-1",
            )
            action = order.action_distribution_sync_open_channel()
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertEqual(action["url"], "https://shop.example/admin/orders/SO-1")
        self.assertEqual(action["target"], "new")

    # -------------------------------------------------------------- held note
    def test_held_order_gets_one_note(self):
        first = self._import(order_payload("SO-1", total="25.00"), event_id="E-1")
        self.assertEqual(first.state, "blocked")
        order = self._order()
        notes = self._hold_notes(order)
        self.assertEqual(len(notes), 1)
        self.assertIn("25.00", str(notes.body))
        self.assertIn(
            "action-distribution_sync.action_distribution_sync_exception",
            str(notes.body),
        )
        # A later version still failing the same check, then a retry: no more.
        again = self._import(
            order_payload(
                "SO-1", total="25.00", updated_at="2026-01-10T11:00:00Z", note="Gift"
            ),
            event_id="E-2",
        )
        self.assertEqual(again.state, "blocked")
        self.exceptions.search(
            [("message_id", "=", again.id), ("state", "=", "open")]
        ).action_retry()
        self.assertEqual(len(self._hold_notes(order)), 1)
        # Released, then held again: a new hold, a new note.
        self._import(
            order_payload(
                "SO-1",
                total="20.00",
                financial_status="pending",
                updated_at="2026-01-10T12:00:00Z",
            ),
            event_id="E-3",
        )
        self.assertFalse(order.distribution_sync_held_checks)
        self._import(
            order_payload(
                "SO-1",
                total="26.00",
                financial_status="pending",
                updated_at="2026-01-10T13:00:00Z",
            ),
            event_id="E-4",
        )
        self.assertEqual(len(self._hold_notes(order)), 2)

    # --------------------------------------------------------------- cancelled
    def test_order_arriving_cancelled_is_cancelled(self):
        message = self._import(
            order_payload("SO-1", cancelled_at="2026-01-10T09:00:00Z")
        )
        self.assertEqual(message.state, "done", message.last_error)
        order = self._order()
        self.assertEqual(order.state, "cancel")
        self.assertFalse(order.picking_ids, "never confirmed: no delivery")
        binding = self.bindings._for_record(self.backend, order)
        self.assertEqual(binding.remote_state, "cancelled")

    def test_known_order_cancelled_by_a_later_version(self):
        self._import(order_payload("SO-1"), event_id="E-1")
        order = self._order()
        self.assertEqual(order.state, "sale")
        delivery = order.picking_ids
        message = self._import(
            order_payload(
                "SO-1",
                updated_at="2026-01-10T11:00:00Z",
                cancelled_at="2026-01-10T11:00:00Z",
            ),
            event_id="E-2",
        )
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(order.state, "cancel")
        self.assertEqual(set(delivery.mapped("state")), {"cancel"})
