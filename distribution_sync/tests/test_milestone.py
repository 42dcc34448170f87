# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from datetime import datetime, timedelta

from odoo import Command, fields
from odoo.tests import new_test_user

from ..models.distribution_sync_milestone import ORDERS_TABLE
from .common import DistributionSyncCase

# A Friday (2026-03-06) and the Monday and Tuesday after it.
FRIDAY = datetime(2026, 3, 6, 10, 0)
MONDAY = datetime(2026, 3, 9, 10, 0)
TUESDAY = datetime(2026, 3, 10, 10, 0)


class MilestoneCase(DistributionSyncCase):
    """Bound channel orders, their anchors and their deliveries."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.milestones = cls.env["distribution.sync.milestone"]
        cls.customer = cls.env["res.partner"].create({"name": "Milestone customer"})
        cls.salesman = new_test_user(
            cls.env,
            login="milestone_salesman",
            groups="base.group_user,sales_team.group_sale_salesman",
        )

    def make_order(self, confirm=True, backend=None, user=None):
        """A channel order (bound to ``backend``), confirmed unless told; no
        salesperson unless ``user`` (nobody to give a late step to)."""
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "user_id": user.id if user else False,
                "order_line": [
                    Command.create(
                        {"product_id": self.product.id, "product_uom_qty": 2}
                    )
                ],
            }
        )
        if confirm:
            order.action_confirm()
        self.bindings._bind(backend or self.backend, order, f"MS-{order.id}")
        return order

    def set_anchors(self, order, received=None, confirmed=None):
        """Move when the order was received (its binding) and confirmed."""
        self.env.flush_all()
        if received:
            self.env.cr.execute(
                """UPDATE distribution_sync_binding SET create_date = %s
                    WHERE res_model = 'sale.order' AND res_id = %s""",
                (received, order.id),
            )
        if confirmed:
            self.env.cr.execute(
                """UPDATE sale_order
                      SET date_order = %s, distribution_sync_confirmed_at = %s
                    WHERE id = %s""",
                (confirmed, confirmed, order.id),
            )
        self.env.invalidate_all()

    def ship(self, order):
        picking = order.picking_ids.filtered(
            lambda p: p.picking_type_code == "outgoing"
        )
        return self.validate_in_full(picking)

    def refresh(self, *orders):
        return self.milestones._refresh(order_ids=[o.id for o in orders])

    def step(self, order, code):
        return order.distribution_sync_milestone_ids.filtered(lambda m: m.step == code)

    def use_calendar(self, tz="UTC"):
        """A Monday-to-Friday calendar for the company, in ``tz``."""
        calendar = self.env["resource.calendar"].create(
            {
                "name": "Mon-Fri",
                "tz": tz,
                "company_id": self.company.id,
                "attendance_ids": [
                    Command.create(
                        {
                            "name": f"Day {day}",
                            "dayofweek": str(day),
                            "hour_from": 8,
                            "hour_to": 17,
                            "day_period": "morning",
                        }
                    )
                    for day in range(5)
                ],
            }
        )
        self.company.resource_calendar_id = calendar
        return calendar


class TestMilestoneSteps(MilestoneCase):
    """What each step records, and when it is reached."""

    def test_confirmed_order_gets_core_steps(self):
        """Received and confirmed are reached at once; the rest wait."""
        order = self.make_order()
        result = self.refresh(order)
        self.assertEqual(result["orders"], 1)
        steps = order.distribution_sync_milestone_ids
        self.assertTrue(
            {"received", "confirmed", "shipped", "invoiced", "paid"}
            <= set(steps.mapped("step"))
        )
        binding = self.bindings._for_record(self.backend, order)
        self.assertEqual(self.step(order, "received").reached_at, binding.create_date)
        self.assertEqual(
            self.step(order, "confirmed").reached_at,
            order.distribution_sync_confirmed_at,
        )
        for code in ("shipped", "invoiced", "paid"):
            self.assertFalse(self.step(order, code).reached_at, code)
        self.assertEqual(steps.backend_id, self.backend)
        self.assertEqual(steps.company_id, order.company_id)
        shipped = self.step(order, "shipped")
        self.assertEqual(shipped.anchor_at, order.distribution_sync_confirmed_at)
        self.assertEqual(shipped.state, "pending")
        self.assertGreater(shipped.due_at, order.distribution_sync_confirmed_at)

    def test_unbound_order_is_not_tracked(self):
        order = self.env["sale.order"].create({"partner_id": self.customer.id})
        self.assertEqual(self.refresh(order)["orders"], 0)
        self.assertFalse(order.distribution_sync_milestone_ids)

    def test_quotation_is_received_not_confirmed(self):
        order = self.make_order(confirm=False)
        self.refresh(order)
        self.assertTrue(self.step(order, "received").reached_at)
        self.assertFalse(self.step(order, "confirmed").reached_at)

    def test_shipped_when_delivery_validated(self):
        """Shipped is the validation of the last delivery, reached on time."""
        order = self.make_order()
        self.refresh(order)
        self.assertFalse(self.step(order, "shipped").reached_at)
        picking = self.ship(order)
        self.refresh(order)
        shipped = self.step(order, "shipped")
        self.assertEqual(shipped.reached_at, picking.date_done)
        self.assertEqual(shipped.state, "on_time")
        self.assertEqual(shipped.on_time_rate, 100.0)
        self.assertAlmostEqual(
            shipped.lead_time_hours,
            (picking.date_done - order.distribution_sync_confirmed_at).total_seconds()
            / 3600,
            places=3,
        )

    def test_invoiced_when_invoice_posted(self):
        order = self.make_order()
        self.ship(order)
        invoice = order._create_invoices()
        self.refresh(order)
        self.assertFalse(self.step(order, "invoiced").reached_at, "a draft is not")
        invoice.action_post()
        self.refresh(order)
        self.assertEqual(self.step(order, "invoiced").reached_at, invoice.create_date)
        self.assertFalse(self.step(order, "paid").reached_at)

    def test_cancelled_order_keeps_only_reached_steps(self):
        order = self.make_order()
        self.refresh(order)
        self.assertGreater(len(order.distribution_sync_milestone_ids), 2)
        order._action_cancel()
        self.refresh(order)
        order.invalidate_recordset()
        self.assertEqual(
            set(order.distribution_sync_milestone_ids.mapped("step")),
            {"received", "confirmed"},
        )

    def test_finished_order_is_not_read_again(self):
        """A refresh of every order skips those with every step reached."""
        order = self.make_order()
        first = self.milestones._refresh()
        self.env.cr.execute(f"SELECT order_id FROM {ORDERS_TABLE}")
        self.assertIn(order.id, [row[0] for row in self.env.cr.fetchall()])
        self.env.cr.execute(
            """UPDATE distribution_sync_milestone SET reached_at = now()
                WHERE sale_order_id = %s AND reached_at IS NULL""",
            (order.id,),
        )
        self.env.invalidate_all()
        second = self.milestones._refresh()
        self.env.cr.execute(f"SELECT order_id FROM {ORDERS_TABLE}")
        self.assertNotIn(order.id, [row[0] for row in self.env.cr.fetchall()])
        self.assertEqual(second["orders"], first["orders"] - 1)

    def test_inactive_backend_is_not_tracked(self):
        order = self.make_order()
        self.backend.active = False
        self.assertEqual(self.refresh(order)["orders"], 0)

    def collected(self):
        self.env.cr.execute(f"SELECT order_id FROM {ORDERS_TABLE}")
        return [row[0] for row in self.env.cr.fetchall()]

    def test_order_with_untracked_step_is_finished(self):
        """Finished once the steps its backend tracks are reached: a step
        switched off does not keep the order coming back."""
        self.env["distribution.sync.milestone.sla"].create(
            {"backend_id": self.backend.id, "step": "paid", "tracked": False}
        )
        order = self.make_order()
        self.milestones._refresh()
        self.assertIn(order.id, self.collected())
        self.assertFalse(self.step(order, "paid"))
        self.env.cr.execute(
            """UPDATE distribution_sync_milestone SET reached_at = now()
                WHERE sale_order_id = %s AND reached_at IS NULL""",
            (order.id,),
        )
        self.env.invalidate_all()
        self.milestones._refresh()
        self.assertNotIn(order.id, self.collected())

    def test_cancelled_order_is_not_counted_nor_read_again(self):
        """A cancelled order comes back once, to lose its unreached steps,
        and is never counted among the orders refreshed."""
        order = self.make_order()
        self.milestones._refresh()  # every bound order has its rows
        before = self.milestones._refresh()["orders"]
        order._action_cancel()
        dropping = self.milestones._refresh()
        self.assertEqual(dropping["orders"], before - 1)
        self.assertEqual(
            set(order.distribution_sync_milestone_ids.mapped("step")),
            {"received", "confirmed"},
        )
        again = self.milestones._refresh()
        self.assertEqual(again["orders"], before - 1, "not read again")
        self.assertEqual(self.refresh(order)["orders"], 0)


class TestMilestoneDueDates(MilestoneCase):
    """Due dates count working days of the company's calendar."""

    def test_friday_anchor_is_due_monday(self):
        self.use_calendar()
        order = self.make_order()
        self.set_anchors(order, FRIDAY - timedelta(hours=2), FRIDAY)
        self.refresh(order)
        self.assertEqual(
            self.step(order, "confirmed").due_at, FRIDAY + timedelta(hours=2)
        )
        self.assertEqual(self.step(order, "shipped").anchor_at, FRIDAY)
        self.assertEqual(self.step(order, "shipped").due_at, MONDAY)
        self.assertFalse(self.step(order, "received").due_at, "no SLA")
        self.assertFalse(self.step(order, "invoiced").due_at, "not shipped yet")
        # Invoicing is due a working day after shipping.
        picking = self.ship(order)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE stock_picking SET date_done = %s WHERE id = %s",
            (FRIDAY + timedelta(hours=3), picking.id),
        )
        self.refresh(order)
        self.assertEqual(self.step(order, "shipped").state, "on_time")
        self.assertEqual(
            self.step(order, "invoiced").anchor_at, FRIDAY + timedelta(hours=3)
        )
        self.assertEqual(
            self.step(order, "invoiced").due_at, MONDAY + timedelta(hours=3)
        )

    def test_public_holiday_pushes_the_due_date(self):
        calendar = self.use_calendar()
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Holiday",
                "calendar_id": calendar.id,
                "company_id": self.company.id,
                "date_from": datetime(2026, 3, 9, 0, 0),
                "date_to": datetime(2026, 3, 9, 23, 59, 59),
            }
        )
        order = self.make_order()
        self.set_anchors(order, FRIDAY - timedelta(hours=2), FRIDAY)
        self.refresh(order)
        self.assertEqual(self.step(order, "shipped").due_at, TUESDAY)

    def test_weekend_anchor_counts_from_monday(self):
        self.use_calendar()
        order = self.make_order()
        saturday = FRIDAY + timedelta(days=1, hours=5)
        self.set_anchors(order, saturday - timedelta(hours=1), saturday)
        self.refresh(order)
        self.assertEqual(
            self.step(order, "shipped").due_at, datetime(2026, 3, 10, 0, 0)
        )

    def test_due_dates_in_the_calendar_time_zone(self):
        """Friday 10:00 in New York (EST) is due Monday 10:00 (EDT)."""
        self.use_calendar("America/New_York")
        order = self.make_order()
        friday_utc = datetime(2026, 3, 6, 15, 0)  # 10:00 EST
        self.set_anchors(order, friday_utc - timedelta(hours=1), friday_utc)
        self.refresh(order)
        self.assertEqual(
            self.step(order, "shipped").due_at, datetime(2026, 3, 9, 14, 0)
        )

    def test_holiday_in_the_calendar_time_zone(self):
        """A Monday off in New York is stored from 04:00 UTC Monday to 03:59
        UTC Tuesday: only Monday is off, the step is due Tuesday."""
        calendar = self.use_calendar("America/New_York")
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Holiday",
                "calendar_id": calendar.id,
                "company_id": self.company.id,
                "date_from": datetime(2026, 3, 9, 4, 0),
                "date_to": datetime(2026, 3, 10, 3, 59, 59),
            }
        )
        order = self.make_order()
        friday_utc = datetime(2026, 3, 6, 15, 0)  # 10:00 EST
        self.set_anchors(order, friday_utc - timedelta(hours=1), friday_utc)
        self.refresh(order)
        self.assertEqual(
            self.step(order, "shipped").due_at, datetime(2026, 3, 10, 14, 0)
        )

    def test_sla_hours_override(self):
        self.use_calendar()
        other = self.env["distribution.sync.backend"].create({"name": "Other shop"})
        self.env["distribution.sync.milestone.sla"].create(
            [
                {"backend_id": self.backend.id, "step": "shipped", "hours": 48},
                {"backend_id": self.backend.id, "step": "confirmed", "hours": 0},
            ]
        )
        order = self.make_order()
        default = self.make_order(backend=other)
        for each in (order, default):
            self.set_anchors(each, FRIDAY - timedelta(hours=2), FRIDAY)
        self.refresh(order, default)
        self.assertEqual(self.step(order, "shipped").due_at, TUESDAY)
        self.assertFalse(self.step(order, "confirmed").due_at, "0 h: no deadline")
        self.assertEqual(self.step(order, "confirmed").state, "on_time")
        self.assertTrue(self.step(default, "confirmed").due_at)
        self.assertEqual(self.step(default, "shipped").due_at, MONDAY)

    def test_untracked_step_is_left_out(self):
        other = self.env["distribution.sync.backend"].create({"name": "Other shop"})
        sla = self.env["distribution.sync.milestone.sla"].create(
            {"backend_id": self.backend.id, "step": "paid", "tracked": False}
        )
        self.assertEqual(sla.anchor, "invoiced")
        order = self.make_order()
        tracked = self.make_order(backend=other)
        self.refresh(order, tracked)
        self.assertFalse(self.step(order, "paid"))
        self.assertTrue(self.step(order, "shipped"))
        self.assertTrue(self.step(tracked, "paid"))


class TestLateSteps(MilestoneCase):
    """A late step gets one to-do for the salesperson, done once reached."""

    def make_late_order(self, user=None):
        order = self.make_order(user=user or self.salesman)
        confirmed = fields.Datetime.now() - timedelta(days=10)
        self.set_anchors(order, confirmed - timedelta(hours=1), confirmed)
        return order

    def test_late_step_gets_one_activity(self):
        order = self.make_late_order()
        result = self.refresh(order)
        shipped = self.step(order, "shipped")
        self.assertEqual(shipped.state, "late")
        self.assertFalse(shipped.reached_at)
        self.assertEqual(result["late"], 1)
        self.assertEqual(self.step(order, "confirmed").state, "on_time")
        self.assertEqual(self.step(order, "invoiced").state, "pending")
        activity = shipped.activity_id
        self.assertEqual(order.activity_ids, activity)
        self.assertEqual(activity.res_model, "sale.order")
        self.assertEqual(activity.user_id, self.salesman)
        self.assertIn(order.name, activity.summary)

        again = self.refresh(order)
        self.assertEqual(again["late"], 0)
        order.invalidate_recordset()
        self.assertEqual(order.activity_ids, activity, "no second to-do")
        self.assertEqual(self.step(order, "shipped").activity_id, activity)

    def test_reached_late_step_closes_its_activity(self):
        order = self.make_late_order()
        self.refresh(order)
        activity = self.step(order, "shipped").activity_id
        self.assertIn(activity, order.activity_ids)
        self.ship(order)
        self.refresh(order)
        order.invalidate_recordset()
        shipped = self.step(order, "shipped")
        self.assertTrue(shipped.reached_at)
        self.assertEqual(shipped.state, "late", "reached after its due date")
        self.assertEqual(shipped.on_time_rate, 0.0)
        self.assertGreater(shipped.lead_time_hours, 24 * 9)
        self.assertFalse(shipped.activity_id)
        self.assertNotIn(activity, order.activity_ids)
        self.assertFalse(activity.exists() and activity.active)

    def test_backend_owner_without_salesperson(self):
        self.backend.responsible_user_id = self.sync_user
        order = self.make_late_order()
        order.user_id = False
        self.refresh(order)
        self.assertEqual(
            self.step(order, "shipped").activity_id.user_id, self.sync_user
        )

    def test_two_steps_late_at_once(self):
        """Shipped and paid of one order late in the same refresh: a to-do
        each, the salesperson following the order once."""
        self.product.invoice_policy = "order"
        order = self.make_order(user=self.salesman)
        invoice = order._create_invoices()
        invoice.action_post()
        long_ago = fields.Datetime.now() - timedelta(days=60)
        self.set_anchors(order, long_ago - timedelta(hours=1), long_ago)
        self.env.cr.execute(
            "UPDATE account_move SET create_date = %s WHERE id = %s",
            (long_ago + timedelta(hours=1), invoice.id),
        )
        self.env.invalidate_all()
        result = self.refresh(order)
        late = order.distribution_sync_milestone_ids.filtered(
            lambda m: m.state == "late" and not m.reached_at
        )
        self.assertTrue({"shipped", "paid"} <= set(late.mapped("step")))
        self.assertEqual(result["late"], len(late))
        self.assertEqual(order.activity_ids, late.activity_id)
        self.assertEqual(len(late.activity_id), len(late))
        self.assertEqual(late.activity_id.user_id, self.salesman)
        self.assertIn(self.salesman.partner_id, order.message_partner_ids)

    def test_cancelled_order_closes_its_activity(self):
        """The to-do of a late step goes with the step when the order is
        cancelled."""
        order = self.make_late_order()
        self.refresh(order)
        activity = self.step(order, "shipped").activity_id
        self.assertTrue(activity)
        order._action_cancel()
        self.refresh(order)
        order.invalidate_recordset()
        self.assertFalse(self.step(order, "shipped"))
        self.assertFalse(order.activity_ids)
        self.assertFalse(activity.exists() and activity.active)

    def test_step_no_longer_tracked_loses_its_row_and_activity(self):
        """Switching a step off for a backend removes its unreached rows and
        marks their to-dos done; reached steps stay."""
        order = self.make_late_order()
        self.refresh(order)
        activity = self.step(order, "shipped").activity_id
        self.assertTrue(activity)
        self.env["distribution.sync.milestone.sla"].create(
            {"backend_id": self.backend.id, "step": "shipped", "tracked": False}
        )
        self.refresh(order)
        order.invalidate_recordset()
        self.assertFalse(self.step(order, "shipped"))
        self.assertTrue(self.step(order, "confirmed").reached_at)
        self.assertFalse(order.activity_ids)
        self.assertFalse(activity.exists() and activity.active)


class TestMilestoneQueries(MilestoneCase):
    """The refresh is set-based: its statements do not grow with the orders."""

    def queries(self, orders):
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        result = self.refresh(*orders)
        self.assertEqual(result["orders"], len(orders))
        return self.env.cr.sql_log_count - before

    def test_query_count_does_not_grow(self):
        self.refresh(self.make_order())  # caches warm
        one = self.queries([self.make_order()])
        many = self.queries([self.make_order() for _n in range(50)])
        self.assertEqual(many, one)
