# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import socket
from unittest.mock import patch

import requests
from lxml import etree

from odoo.exceptions import UserError
from odoo.tests import Form

from odoo.addons.queue_job.tests.common import trap_jobs

from ..core.errors import TransientError
from .common import DistributionSyncCase


def closed_port_url():
    """An API URL on a local port nobody listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/api"


class TestBackendForm(DistributionSyncCase):
    """What the backend form lets a functional consultant do alone: readable
    answers from its buttons, the webhook address, secrets shown as set,
    buttons that call out only once the credentials are there, payment
    statuses picked from a list."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend.api_url = "https://api.example.com"

    def form_arch(self):
        arch = self.env["distribution.sync.backend"].get_view(view_type="form")["arch"]
        return etree.fromstring(arch)

    # ------------------------------------------------------ button answers
    def test_outside_failures_of_test_connection_are_user_errors(self):
        failures = (
            requests.exceptions.ConnectionError("Connection refused by api.example"),
            requests.exceptions.ReadTimeout("api.example timed out"),
            ConnectionRefusedError(111, "Connection refused by api.example"),
            TransientError("HTTP 503 from api.example", hint="The job is retried."),
        )
        for failure in failures:
            with self.subTest(failure=type(failure).__name__):
                with (
                    patch.object(
                        type(self.backend),
                        "_generic_test_connection",
                        side_effect=failure,
                        create=True,
                    ),
                    self.assertRaises(UserError) as caught,
                ):
                    self.backend.action_test_connection()
                self.assertIn("api.example", str(caught.exception))
                self.assertNotIn("retried", str(caught.exception))

    def test_test_connection_needs_credentials(self):
        self.backend.api_url = False
        with self.assertRaises(UserError) as caught:
            self.backend.action_test_connection()
        self.assertIn(self.backend.name, str(caught.exception))

    def test_fetch_changes_answers_a_notification(self):
        with trap_jobs() as trap:
            action = self.backend.action_fetch_changes()
            trap.assert_jobs_count(1, only=self.backend._fetch_changes_job)
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn(self.backend.name, action["params"]["message"])

    def test_fetch_changes_without_credentials_queues_nothing(self):
        self.backend.api_url = False
        with trap_jobs() as trap:
            action = self.backend.action_fetch_changes()
            trap.assert_jobs_count(0)
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn(self.backend.name, action["params"]["message"])

    def test_fetch_changes_failure_is_a_user_error(self):
        # Jobs run at once (queue_job's no-delay mode): the unreachable
        # system's reason, not a traceback.
        self.backend.api_url = closed_port_url()
        backend = self.backend.with_context(queue_job__no_delay=True)
        with self.assertRaises(UserError) as caught:
            backend.action_fetch_changes()
        self.assertIn("127.0.0.1", str(caught.exception))

    # --------------------------------------------------------- webhook URL
    def test_webhook_url_is_shown_with_a_copy_button(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url")
        self.assertEqual(
            self.backend.webhook_url,
            f"{base.rstrip('/')}/distribution_sync/webhook/{self.backend.id}",
        )
        unsaved = self.env["distribution.sync.backend"].new({"name": "New"})
        self.assertFalse(unsaved.webhook_url)
        (field,) = self.form_arch().xpath("//field[@name='webhook_url']")
        self.assertEqual(field.get("widget"), "CopyClipboardChar")

    # ------------------------------------------------------------- secrets
    def test_secret_set_indicator_follows_the_secret(self):
        backend = self.env["distribution.sync.backend"].create(
            {"name": "No secret yet", "backend_type": "generic"}
        )
        self.assertFalse(backend.webhook_secret_set)
        backend.webhook_secret = "s3cr3t"
        self.assertTrue(backend.webhook_secret_set)
        self.assertFalse(backend.webhook_secret, "never shown")
        backend.with_context(secret_field="webhook_secret").action_clear_secret()
        self.assertFalse(backend.webhook_secret_set)
        self.assertTrue(self.form_arch().xpath("//field[@name='webhook_secret_set']"))

    # --------------------------------------------------------- credentials
    def test_buttons_that_call_out_wait_for_credentials(self):
        self.assertTrue(self.backend.credentials_set)
        self.backend.api_url = False
        self.assertFalse(self.backend.credentials_set)
        arch = self.form_arch()
        for name in ("action_test_connection", "action_fetch_changes"):
            with self.subTest(button=name):
                (button,) = arch.xpath(f"//header/button[@name='{name}']")
                self.assertIn("credentials_set", button.get("invisible"))

    # ----------------------------------------------------- confirm statuses
    def test_confirm_statuses_are_ticked(self):
        backend = self.backend
        backend.confirm_statuses = "paid,authorized,custom_code"
        self.assertTrue(backend.confirm_on_paid)
        self.assertTrue(backend.confirm_on_authorized)
        self.assertFalse(backend.confirm_on_partially_paid)
        backend.write({"confirm_on_pending": True, "confirm_on_authorized": False})
        # The stored text (read by the code and integrators) follows; a code
        # without a box is kept.
        self.assertEqual(backend.confirm_statuses, "pending,paid,custom_code")
        self.assertEqual(
            backend._confirm_statuses(), {"pending", "paid", "custom_code"}
        )
        arch = self.form_arch()
        self.assertTrue(arch.xpath("//field[@name='confirm_on_paid']"))
        self.assertFalse(
            arch.xpath("//field[@name='confirm_statuses'][not(@invisible)]"),
            "the raw codes are no longer typed",
        )

    def test_confirm_statuses_in_the_form(self):
        backend = self.backend
        with patch.object(
            type(backend), "_generic_order_channel", return_value=True, create=True
        ):
            backend.invalidate_recordset(["order_channel"])
            with Form(backend) as form:
                form.confirm_on_authorized = False
                form.confirm_on_voided = True
        self.assertEqual(backend.confirm_statuses, "partially_paid,paid,voided")
