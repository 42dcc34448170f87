# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
"""The exception inbox as people work it: one problem, one exception; every
Retry answers; what cannot be retried offers no Retry; a scheduled fetch that
fails lands in the inbox; deadlines on the company's working days."""

from datetime import datetime
from unittest import mock

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import Form

from ..core.errors import ConfigurationError, TransientError
from .common import DistributionSyncCase, order_payload


class TestInbox(DistributionSyncCase):
    def _open(self, message=None, **domain):
        search = [("state", "=", "open"), ("backend_id", "=", self.backend.id)]
        if message:
            search.append(("message_id", "=", message.id))
        search += [(key, "=", value) for key, value in domain.items()]
        return self.exceptions.search(search)

    def _unknown_sku(self, external_id="SO-IN-1", sku="IN-SKU-1", total="20.00"):
        return self.process(
            self.intake(
                "order/upsert",
                order_payload(
                    external_id,
                    lines=[{"sku": sku, "quantity": 2, "price_unit": "10.00"}],
                    total=total,
                ),
            )
        )

    def _product(self, sku):
        return self.env["product.product"].create(
            {"name": sku, "default_code": sku, "type": "consu", "taxes_id": [(5,)]}
        )

    # ------------------------------------------------- one problem, one record
    def test_mapping_exception_resolves_when_the_order_is_held_by_a_check(self):
        """Create mapping and retry: the order exists now, held by the total
        check; the mapping exception is resolved, the check's is open."""
        message = self._unknown_sku(total="25.00")
        mapping_exc = self._open(message)
        self.assertEqual(mapping_exc.category, "mapping")
        action = mapping_exc.action_create_mapping()
        form = Form(
            self.env["distribution.sync.mapping"].with_context(**action["context"]),
            view=action["views"][0][0],
        )
        form.product_id = self.product
        mapping = form.save()
        answer = mapping.action_retry_exception()

        self.assertEqual(message.state, "blocked")
        order = self.bindings._find_record(self.backend, "sale.order", "SO-IN-1")
        self.assertEqual(order.state, "draft")
        self.assertEqual(mapping_exc.state, "resolved")
        # Raised before the order existed, it leads to the order now.
        self.assertEqual(mapping_exc.action_open_document()["res_id"], order.id)
        open_now = self._open(message)
        self.assertEqual(open_now.mapped("category"), ["validation"])
        params = answer["params"]
        self.assertEqual(params["type"], "warning")
        self.assertIn(f"{order.name} (draft), held by 1 check(s)", params["message"])
        self.assertEqual(params["next"], {"type": "ir.actions.act_window_close"})

    def test_retry_failing_for_a_new_reason_replaces_the_exception(self):
        message = self._unknown_sku(sku="IN-SKU-A")
        first = self._open(message)
        # The payload now fails elsewhere: a crash inside the work.
        with mock.patch.object(
            type(self.backend),
            "_generic_process_message",
            side_effect=ValueError("boom"),
            autospec=True,
        ):
            answer = first.action_retry()
        self.assertEqual(first.state, "resolved")
        current = self._open(message)
        self.assertEqual(len(current), 1)
        self.assertEqual(current.category, "technical")
        self.assertEqual(answer["params"]["type"], "danger")
        self.assertIn("Still failing", answer["params"]["message"])
        self.assertIn("boom", answer["params"]["message"])

    def test_retrying_an_unreachable_channel_keeps_one_exception(self):
        message = self._unknown_sku(sku="IN-SKU-B")
        for attempt in range(3):
            exc = self._open(message)
            self.assertEqual(len(exc), 1, f"attempt {attempt}")
            with mock.patch.object(
                type(self.backend),
                "_generic_process_message",
                side_effect=TransientError("Connection refused"),
                autospec=True,
            ):
                self.backend.max_attempts = 1
                exc.action_retry()
        self.assertEqual(message.state, "dead")
        self.assertEqual(len(self._open(message)), 1)
        self.assertEqual(self._open(message).category, "transient")

    def test_retry_success_answers_done(self):
        message = self._unknown_sku(sku="IN-SKU-C")
        exc = self._open(message)
        self._product("IN-SKU-C")
        answer = exc.action_retry()
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(answer["params"]["type"], "success")
        self.assertIn("done", answer["params"]["message"])
        self.assertEqual(
            answer["params"]["next"],
            {"type": "ir.actions.client", "tag": "soft_reload"},
        )

    def test_message_retry_answers_too(self):
        message = self._unknown_sku(sku="IN-SKU-D")
        answer = message.action_retry()
        self.assertEqual(answer["tag"], "display_notification")
        self.assertIn("Still failing", answer["params"]["message"])
        self.assertIn("IN-SKU-D", answer["params"]["message"])

    # --------------------------------------------------- what Retry can't fix
    def test_known_problem_keeps_no_traceback_a_crash_does(self):
        message = self._unknown_sku(sku="IN-SKU-E")
        self.assertFalse(message.sudo().error_details)
        with mock.patch.object(
            type(self.backend),
            "_generic_process_message",
            side_effect=KeyError("lines"),
            autospec=True,
        ):
            message.action_retry()
        self.assertIn("Traceback", message.sudo().error_details)

    def test_bad_payload_has_its_category_and_no_retry(self):
        message = self.process(self.intake("order/upsert", order_payload(total="x")))
        exc = self._open(message)
        self.assertEqual(exc.category, "payload")
        self.assertFalse(exc.retryable)
        with self.assertRaisesRegex(UserError, "cannot be solved by running it again"):
            exc.action_retry()
        self.assertFalse(message.sudo().error_details)

    def test_body_that_is_no_json_is_a_validation_exception_without_retry(self):
        status, _text = self.backend._webhook_intake(
            b'{"broken": ', {"X-Topic": "order/upsert"}
        )
        self.assertEqual(status, 200)
        exc = self._open()
        self.assertEqual(exc.category, "validation")  # the webhook contract
        self.assertFalse(exc.retryable)

    def test_instruction_shown_apart_from_the_problem(self):
        exc = self._open(self._unknown_sku(sku="IN-SKU-F"))
        self.assertEqual(exc.summary, 'No mapping for product alias "IN-SKU-F".')
        self.assertTrue(exc.hint)
        self.assertNotIn(exc.hint, exc.summary)
        self.assertIn(exc.hint, exc.name)  # the full text is kept

    # ------------------------------------------------------ scheduled fetch
    def _fetch_failing(self, error):
        with mock.patch.object(
            type(self.backend),
            "_generic_fetch_changes",
            side_effect=error,
            autospec=True,
        ):
            return self.backend._fetch_changes_job()

    def test_failed_scheduled_fetch_lands_in_the_inbox(self):
        checkpoint = self.backend.fetch_checkpoint
        result = self._fetch_failing(
            ConfigurationError(
                "The access token is missing.", hint="Set it on the backend."
            )
        )
        self.assertIn("Fetch failed", result)
        exc = self._open(work_key=f"fetch:{self.backend.id}")
        self.assertEqual(exc.category, "configuration")
        self.assertIn("access token is missing", exc.name)
        self.assertEqual(exc.hint, "Set it on the backend.")
        self.assertFalse(exc.retryable)
        self.assertEqual(
            (exc.res_model, exc.res_id), (self.backend._name, self.backend.id)
        )
        self.assertEqual(self.backend.fetch_checkpoint, checkpoint)
        # The same failure next hour: the same record.
        self._fetch_failing(
            ConfigurationError(
                "The access token is missing.", hint="Set it on the backend."
            )
        )
        self.assertEqual(self._open(work_key=f"fetch:{self.backend.id}"), exc)
        self.assertEqual(exc.occurrence_count, 2)
        # Another reason replaces it; a crash keeps its trace for the integrator.
        self._fetch_failing(ValueError("unexpected answer"))
        crash = self._open(work_key=f"fetch:{self.backend.id}")
        self.assertEqual(len(crash), 1)
        self.assertEqual(crash.category, "technical")
        self.assertIn("Traceback", crash.sudo().error_details)
        self.assertEqual(exc.state, "resolved")
        # Fixed: the next fetch resolves it.
        with mock.patch.object(
            type(self.backend),
            "_generic_fetch_changes",
            return_value=([], None),
            autospec=True,
        ):
            self.backend._fetch_changes_job()
        self.assertEqual(crash.state, "resolved")
        self.assertTrue(self.backend.fetch_checkpoint)

    def test_unreachable_fetch_is_retried_then_reaches_the_inbox(self):
        from odoo.addons.queue_job.exception import RetryableJobError

        with self.assertRaises(RetryableJobError):
            self._fetch_failing(TransientError("Connection refused"))
        self.assertFalse(self._open(work_key=f"fetch:{self.backend.id}"))
        # The job's last try: no more retries, a person must look.
        with mock.patch.object(
            type(self.backend), "_job_retries_left", return_value=False
        ):
            self._fetch_failing(TransientError("Connection refused"))
        exc = self._open(work_key=f"fetch:{self.backend.id}")
        self.assertEqual(exc.category, "transient")

    # --------------------------------------------------------- working days
    def test_deadline_runs_on_the_company_working_days(self):
        calendar = self.company.resource_calendar_id
        self.assertTrue(calendar.attendance_ids, "a standard Monday-Friday calendar")
        calendar.tz = "UTC"
        self.backend.exception_sla_hours = 24
        friday = datetime(2026, 11, 27, 16, 0)  # a Friday
        with mock.patch.object(fields.Datetime, "now", return_value=friday):
            exc = self.backend._open_exception("validation", "Late", value="WD")
        # 8 h left on Friday, the weekend off, 16 h on Monday.
        self.assertEqual(exc.sla_deadline, datetime(2026, 11, 30, 16, 0))
        # A public holiday on Monday moves it to Tuesday.
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Holiday",
                "calendar_id": calendar.id,
                "date_from": datetime(2026, 11, 30, 0, 0),
                "date_to": datetime(2026, 11, 30, 23, 59),
            }
        )
        with mock.patch.object(fields.Datetime, "now", return_value=friday):
            exc2 = self.backend._open_exception("validation", "Late", value="WD2")
        self.assertEqual(exc2.sla_deadline, datetime(2026, 12, 1, 16, 0))
        # Saturday morning, the 24 h deadline is not "due soon" yet.
        saturday = datetime(2026, 11, 28, 10, 0)
        with mock.patch.object(fields.Datetime, "now", return_value=saturday):
            exc.invalidate_recordset(["sla_status"])
            self.env.flush_all()
            self.env.cr.execute(
                "UPDATE distribution_sync_exception SET create_date = %s WHERE id = %s",
                (friday, exc.id),
            )
            exc.invalidate_recordset()
            self.assertEqual(exc.sla_status, "on_time")

    def test_exception_created_without_deadline_gets_one(self):
        exc = self.exceptions.create(
            {
                "backend_id": self.backend.id,
                "category": "validation",
                "name": "Made by hand",
                "problem_key": "by-hand",
            }
        )
        self.assertTrue(exc.sla_deadline)
        self.assertGreater(exc.sla_deadline, fields.Datetime.now())
        self.assertEqual(exc.sla_status, "on_time")

    # ------------------------------------------------------------ the screens
    def test_inbox_opens_on_the_work(self):
        action = self.env.ref("distribution_sync.action_distribution_sync_exception")
        context = action.context
        self.assertIn("search_default_open", context)
        self.assertNotIn("group", context)
        self.assertNotIn("group", str(self.backend.action_open_exceptions()))
        self.assertTrue(self.exceptions._order.startswith("state, sla_deadline"))
        arch = self.exceptions.get_view(view_type="list")["arch"]
        self.assertIn('name="summary"', arch)
        self.assertNotIn('name="name"', arch)
        self.assertIn("not retryable", arch)
        fields_ = self.exceptions.fields_get(["sla_status", "sla_deadline", "hint"])
        self.assertEqual(fields_["sla_status"]["string"], "SLA status")
        self.assertEqual(fields_["sla_deadline"]["string"], "Due")
        form = self.exceptions.get_view(view_type="form")["arch"]
        # The instruction once: the title leaves it out, the box says it.
        self.assertIn('<field name="summary"', form)
        self.assertEqual(form.count('name="hint"'), 1)

    def test_held_documents_open_the_held_quotations(self):
        message = self.process(
            self.intake("order/upsert", order_payload("SO-HELD-1", total="25.00"))
        )
        self.assertEqual(message.state, "blocked")
        order = self.bindings._find_record(self.backend, "sale.order", "SO-HELD-1")
        action = self.backend.action_open_blocked_documents()
        self.assertEqual(action["res_model"], "sale.order")
        self.assertEqual(self.env["sale.order"].search(action["domain"]), order)
        # Blocked before any document exists: the messages.
        self._unknown_sku("SO-HELD-2", sku="IN-SKU-G")
        action = self.backend.action_open_blocked_documents()
        self.assertEqual(action["res_model"], "distribution.sync.message")

    # ------------------------------------------------------------ held orders
    def _held(self, external_id="SO-REL-1"):
        message = self.process(
            self.intake("order/upsert", order_payload(external_id, total="25.00"))
        )
        self.assertEqual(message.state, "blocked")
        order = self.bindings._find_record(self.backend, "sale.order", external_id)
        return message, order

    def test_check_exception_names_the_rule_not_its_code(self):
        message, _order = self._held("SO-REL-0")
        exc = self._open(message)
        self.assertEqual(exc.value, "Document total matches the channel total")

    def test_release_confirms_and_resolves_the_checks_in_the_name_of_the_person(self):
        message, order = self._held()
        self.assertIn("25.00", order.distribution_sync_hold_reason)
        answer = order.action_distribution_sync_release()
        self.assertEqual(order.state, "sale")
        self.assertTrue(order.distribution_sync_confirmed_at)
        self.assertEqual(message.state, "done")
        self.assertFalse(order.distribution_sync_hold_reason)
        closed = self.exceptions.search(
            [("res_model", "=", "sale.order"), ("res_id", "=", order.id)]
        )
        self.assertEqual(closed.mapped("state"), ["resolved"])
        self.assertIn("Released by", closed.resolution_note)
        self.assertIn("Released by", order.message_ids[0].body)
        self.assertTrue(
            self.env["distribution.sync.audit"].search_count(
                [("action", "=", "release"), ("res_id", "=", order.id)]
            )
        )
        self.assertIn(f"{order.name} released", answer["params"]["message"])
        self.assertIn("1 check(s)", answer["params"]["message"])
        # The held orders figure of the overview is empty again.
        overview = self.env["distribution.sync.dashboard"].create({})
        self.assertNotIn(order.id, overview._held_order_ids())
        with self.assertRaisesRegex(UserError, "Only a quotation held"):
            order.action_distribution_sync_release()

    def test_plain_confirm_by_a_person_releases_too(self):
        message, order = self._held("SO-REL-2")
        order.action_confirm()
        self.assertEqual(message.state, "done")
        self.assertFalse(order._distribution_sync_holds())

    def test_confirmed_step_counts_from_the_confirmation(self):
        """The order keeps the shop's date; the confirmed step is when it was
        confirmed (here: released), not that date."""
        message, order = self._held("SO-REL-3")
        shop_date = order.date_order
        order.action_distribution_sync_release()
        self.assertEqual(order.date_order, shop_date)
        self.env["distribution.sync.milestone"]._refresh([order.id])
        confirmed = order.distribution_sync_milestone_ids.filtered(
            lambda m: m.step == "confirmed"
        )
        self.assertEqual(confirmed.reached_at, order.distribution_sync_confirmed_at)

    # ------------------------------------------------------------------ demo
    def test_demo_inbox_reads_well(self):
        """The demo's exceptions: none overdue at install, the body that is
        no JSON offers no Retry, each with its short name."""
        demo = self.env.ref(
            "distribution_sync.demo_exception_validation", raise_if_not_found=False
        )
        if not demo:
            self.skipTest("No demo data in this database.")
        exceptions = (
            self.env.ref("distribution_sync.demo_exception_mapping")
            | demo
            | self.env.ref("distribution_sync.demo_exception_transient")
        )
        for exc in exceptions:
            self.assertGreater(exc.sla_deadline, exc.create_date, exc.name)
            self.assertNotEqual(exc.sla_status, "overdue", exc.name)
        self.assertFalse(demo.retryable)
        mapping = self.env.ref("distribution_sync.demo_exception_mapping")
        self.assertEqual(
            mapping.summary, 'No mapping for product alias "DS-GADGET-XL".'
        )
