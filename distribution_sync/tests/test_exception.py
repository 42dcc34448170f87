# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from datetime import timedelta

import psycopg2

from odoo import fields
from odoo.exceptions import UserError
from odoo.tools import mute_logger

from .common import DistributionSyncCase, order_payload


class TestException(DistributionSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.audits = cls.env["distribution.sync.audit"]

    def _unknown_sku_order(self, external_id="SO-1", sku="MISSING-1", **overrides):
        payload = order_payload(
            external_id,
            lines=[{"sku": sku, "quantity": 1, "price_unit": "20.00"}],
            **overrides,
        )
        return payload

    def _fail(self, external_id="SO-1", sku="MISSING-1", event_id=None, **overrides):
        message = self.process(
            self.intake(
                "order/upsert",
                self._unknown_sku_order(external_id, sku, **overrides),
                event_id=event_id,
            )
        )
        self.assertEqual(message.state, "blocked")
        return message

    def _open_for(self, message):
        return self.exceptions.search(
            [("message_id", "=", message.id), ("state", "=", "open")]
        )

    def _create_sku(self, sku="MISSING-1"):
        return self.env["product.product"].create(
            {
                "name": f"Product {sku}",
                "default_code": sku,
                "type": "consu",
                "taxes_id": [(5, 0, 0)],
            }
        )

    def _last_audit(self, action, record):
        return self.audits.search(
            [
                ("action", "=", action),
                ("res_model", "=", record._name),
                ("res_id", "=", record.id),
            ],
            limit=1,
        )

    # ------------------------------------------------------ one per problem
    def test_same_failure_twice_is_one_exception(self):
        message = self._fail()
        exception = self._open_for(message)
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.occurrence_count, 1)
        self.assertEqual(exception.work_key, "order:SO-1")

        message.action_retry()
        self.assertEqual(message.state, "blocked")
        self.assertEqual(message.attempt_count, 2)
        self.assertEqual(
            self.exceptions.search_count(
                [
                    ("backend_id", "=", self.backend.id),
                    ("state", "=", "open"),
                    ("problem_key", "=", exception.problem_key),
                ]
            ),
            1,
        )
        self.assertEqual(exception.occurrence_count, 2)
        self.assertEqual(exception.state, "open")
        self.assertEqual(self._last_audit("retry", message).user_id, self.env.user)

    def test_same_sku_in_two_orders_is_two_exceptions(self):
        first = self._open_for(self._fail("SO-1"))
        second = self._open_for(self._fail("SO-2"))
        self.assertTrue(first and second)
        self.assertNotEqual(first, second)
        self.assertNotEqual(first.problem_key, second.problem_key)

    def test_open_problem_unique_in_database(self):
        exception = self._open_for(self._fail())
        vals = {
            "name": "Same problem again",
            "backend_id": self.backend.id,
            "category": exception.category,
            "problem_key": exception.problem_key,
            "state": "open",
        }
        with (
            self.assertRaises(psycopg2.errors.UniqueViolation),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self.exceptions.create(vals)
        # Once the first one is resolved the same problem may open again.
        exception.action_resolve()
        self.env.flush_all()
        again = self.exceptions.create(vals)
        self.assertEqual(again.state, "open")

    def test_open_reuses_the_open_exception(self):
        first = self.backend._open_exception("validation", "Broken", value="X")
        second = self.backend._open_exception("validation", "Broken again", value="X")
        self.assertEqual(first, second)
        self.assertEqual(first.occurrence_count, 2)
        self.assertEqual(first.name, "Broken again")
        first.action_resolve()
        third = self.backend._open_exception("validation", "Broken", value="X")
        self.assertNotEqual(third, first)

    # ----------------------------------------------------------- auto-resolve
    def test_later_success_of_same_work_resolves(self):
        failed = self._fail("SO-1", event_id="E-1")
        exception = self._open_for(failed)
        other = self._open_for(self._fail("SO-2", sku="MISSING-2"))
        self._create_sku()
        later = self.process(
            self.intake(
                "order/upsert",
                self._unknown_sku_order("SO-1", updated_at="2026-01-10T11:00:00Z"),
                event_id="E-2",
            )
        )
        self.assertEqual(later.state, "done", later.last_error)
        self.assertEqual(exception.state, "resolved")
        self.assertIn("automatically", exception.resolution_note)
        self.assertTrue(exception.resolved_date)
        # Another order's problem stays open.
        self.assertEqual(other.state, "open")

    def test_skipped_redelivery_does_not_resolve_newer_problem(self):
        applied = order_payload("SO-1")
        self.process(self.intake("order/upsert", applied, event_id="E-1"))
        newer = self._fail("SO-1", event_id="E-2", updated_at="2026-01-10T11:00:00Z")
        exception = self._open_for(newer)
        # The applied version delivered again is skipped: the newer version's
        # problem is still there.
        again = self.process(self.intake("order/upsert", applied, event_id="E-3"))
        self.assertEqual(again.state, "skipped")
        self.assertEqual(exception.state, "open")

    def test_skipped_message_resolves_its_own_exceptions(self):
        message = self._fail("SO-1", event_id="E-1")
        exception = self._open_for(message)
        # A newer version is applied meanwhile; the old one, retried, is stale.
        self._create_sku()
        newer = self.process(
            self.intake(
                "order/upsert",
                self._unknown_sku_order("SO-1", updated_at="2026-01-10T12:00:00Z"),
                event_id="E-2",
            )
        )
        self.assertEqual(newer.state, "done", newer.last_error)
        self.assertEqual(exception.state, "resolved")
        exception.action_reopen()
        message.action_retry()
        self.assertEqual(message.state, "skipped")
        self.assertEqual(exception.state, "resolved")

    def test_retry_resolves_on_success(self):
        message = self._fail()
        exception = self._open_for(message)
        self._create_sku()
        exception.action_retry()
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(exception.state, "resolved")
        self.assertTrue(self._last_audit("retry", exception))

    def test_retry_without_message(self):
        exception = self.backend._open_exception("reconciliation", "Off by 1.00")
        with self.assertRaises(UserError):
            exception.action_retry()

    # -------------------------------------------------------- manual actions
    def test_resolve_ignore_reopen_with_audit(self):
        exception = self._open_for(self._fail())
        as_user = exception.with_user(self.sync_user)

        as_user.resolution_note = "Fixed the product by hand"
        as_user.action_resolve()
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(exception.resolved_by_id, self.sync_user)
        audit = self._last_audit("resolve", exception)
        self.assertEqual(audit.user_id, self.sync_user)
        self.assertEqual(audit.backend_id, self.backend)
        self.assertEqual(audit.note, "Fixed the product by hand")

        as_user.action_reopen()
        self.assertEqual(exception.state, "open")
        self.assertFalse(exception.resolved_by_id)
        self.assertEqual(self._last_audit("reopen", exception).user_id, self.sync_user)

        as_user.action_ignore()
        self.assertEqual(exception.state, "ignored")
        self.assertEqual(self._last_audit("ignore", exception).user_id, self.sync_user)
        self.assertEqual(
            self.audits.search_count(
                [
                    ("res_model", "=", exception._name),
                    ("res_id", "=", exception.id),
                    ("action", "in", ("resolve", "reopen", "ignore")),
                ]
            ),
            3,
        )

    def test_resolve_keeps_closed_exceptions_closed(self):
        exception = self._open_for(self._fail())
        exception.action_ignore()
        exception.action_resolve()
        # Resolving an ignored exception does not change it.
        self.assertEqual(exception.state, "ignored")

    # ------------------------------------------------------------- activities
    def test_activity_for_responsible_and_closed_on_resolve(self):
        self.sync_user.notification_type = "inbox"
        self.backend.responsible_user_id = self.sync_user
        exception = self._open_for(self._fail())
        activity = exception.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.sync_user)
        self.assertEqual(
            activity.activity_type_id, self.env.ref("mail.mail_activity_data_todo")
        )
        # The same problem again does not add an activity.
        exception.message_id.action_retry()
        self.assertEqual(len(exception.activity_ids), 1)

        exception.action_resolve()
        self.assertFalse(exception.activity_ids)
        self.assertFalse(
            self.env["mail.activity"].search(
                [
                    ("res_model", "=", exception._name),
                    ("res_id", "=", exception.id),
                ]
            )
        )
        done = exception.message_ids.filtered("mail_activity_type_id")
        self.assertTrue(done, "the activity is marked done, not just deleted")

    def test_no_activity_without_responsible(self):
        self.backend.responsible_user_id = False
        exception = self._open_for(self._fail())
        self.assertFalse(exception.activity_ids)

    # ------------------------------------------------------------------- SLA
    def test_sla_deadline_from_backend(self):
        self.backend.exception_sla_hours = 2
        before = fields.Datetime.now()
        exception = self.backend._open_exception("validation", "Late", value="SLA")
        after = fields.Datetime.now()
        self.assertGreaterEqual(exception.sla_deadline, before + timedelta(hours=2))
        self.assertLessEqual(exception.sla_deadline, after + timedelta(hours=2))
        self.assertEqual(exception.sla_status, "on_time")

    def _age(self, exception, hours):
        now = fields.Datetime.now()
        self.env.flush_all()
        self.env.cr.execute(
            """UPDATE distribution_sync_exception
                  SET create_date = %s, sla_deadline = %s
                WHERE id = %s""",
            (
                now - timedelta(hours=hours),
                now
                - timedelta(hours=hours)
                + timedelta(hours=exception.backend_id.exception_sla_hours),
                exception.id,
            ),
        )
        exception.invalidate_recordset()
        self.backend.invalidate_recordset()

    def test_sla_status_overdue(self):
        self.backend.exception_sla_hours = 4
        exception = self.backend._open_exception("validation", "Late", value="SLA")
        self._age(exception, 3.5)
        self.assertEqual(exception.sla_status, "due_soon")
        self.assertEqual(self.backend.count_overdue_exceptions, 0)
        self._age(exception, 5)
        self.assertEqual(exception.sla_status, "overdue")
        self.assertAlmostEqual(exception.age_hours, 5, delta=0.1)
        self.assertEqual(self.backend.count_overdue_exceptions, 1)
        exception.action_resolve()
        self.assertEqual(exception.sla_status, "on_time")

    def test_sla_status_follows_deadline(self):
        exception = self.backend._open_exception("validation", "Late", value="SLA")
        self.assertEqual(exception.sla_status, "on_time")
        self._age(exception, 2)
        # A shorter SLA set later does not move existing deadlines.
        self.backend.exception_sla_hours = 1
        exception.invalidate_recordset(["sla_status"])
        self.assertEqual(exception.sla_status, "on_time")
        exception.sla_deadline = fields.Datetime.now() - timedelta(minutes=1)
        self.assertEqual(exception.sla_status, "overdue")
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.count_overdue_exceptions, 1)

    # -------------------------------------------------------- create mapping
    def test_create_mapping_from_exception(self):
        message = self._fail(sku="SHOP-ALIAS-7")
        exception = self._open_for(message)
        action = exception.action_create_mapping()
        self.assertEqual(action["res_model"], "distribution.sync.mapping")
        context = action["context"]
        self.assertEqual(context["default_external_code"], "SHOP-ALIAS-7")
        self.assertEqual(context["default_mapping_type"], "product")
        self.assertEqual(context["default_backend_id"], self.backend.id)

        mapping = (
            self.env["distribution.sync.mapping"]
            .with_context(**context)
            .create({"product_id": self.product.id})
        )
        self.assertEqual(mapping.external_code, "SHOP-ALIAS-7")
        self.assertEqual(mapping.mapping_type, "product")
        self.assertEqual(mapping.backend_id, self.backend)
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(message.state, "done", message.last_error)
        order = self.bindings._find_record(self.backend, "sale.order", "SO-1")
        self.assertEqual(order.order_line.product_id, self.product)

    def test_create_tax_mapping_from_exception(self):
        payload = order_payload(
            "SO-1",
            lines=[
                {
                    "sku": "DS-TEST-1",
                    "quantity": 2,
                    "price_unit": "10.00",
                    "taxes": [{"name": "Eco levy 3.3%", "rate": "3.3"}],
                }
            ],
            # Mapped below to a tax included in the price.
            total="20.00",
        )
        message = self.process(self.intake("order/upsert", payload))
        self.assertEqual(message.state, "blocked")
        exception = self._open_for(message)
        action = exception.action_create_mapping()
        self.assertEqual(action["context"]["default_mapping_type"], "tax")
        tax = self.env["account.tax"].create(
            {
                "name": "Levy 3.3",
                "amount": 3.3,
                "type_tax_use": "sale",
                "company_id": self.company.id,
                "price_include_override": "tax_included",
            }
        )
        self.env["distribution.sync.mapping"].with_context(**action["context"]).create(
            {"tax_id": tax.id}
        )
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(message.state, "done", message.last_error)
        order = self.bindings._find_record(self.backend, "sale.order", "SO-1")
        # Only the mapping leads there: the rate lookup needs "excluded".
        self.assertEqual(order.order_line.tax_id, tax)
