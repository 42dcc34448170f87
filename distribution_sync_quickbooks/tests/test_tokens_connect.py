# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.distribution_sync.core.errors import SyncError

from .common import QuickbooksCase


@tagged("post_install", "-at_install")
class TestTokensConnect(QuickbooksCase):
    """Tokens rotate and stay secret; connecting checks its state; the
    connection's end is announced."""

    def test_refresh_rotates_and_never_reuses(self):
        for _n in range(3):
            self.fake.expire_access_tokens()
            self.sync_invoice()
        used = self.fake.refresh_tokens_used
        self.assertEqual(len(used), 3, used)
        self.assertEqual(len(used), len(set(used)))
        self.assertEqual(self.fake.invalid_grants, 0)
        # The stored one is the newest, still valid at Intuit.
        stored = self.env["distribution.sync.secret"]._get_fresh(
            self.qb, "quickbooks_refresh_token"
        )
        self.assertIn(stored, self.fake.valid_refresh_tokens())

    def test_expired_access_token_refreshes_once(self):
        self.sync_invoice()
        self.assertEqual(self.fake.count("token"), 1)
        self.fake.expire_access_tokens()
        self.sync_invoice()
        self.assertEqual(self.fake.count("token"), 2)
        self.assertEqual(len([r for r in self.fake.requests if r["status"] == 401]), 1)

    def test_invalid_grant_blocks_with_critical_exception(self):
        self.qb.quickbooks_refresh_token = "fake-rt-revoked-long-ago"
        move = self.make_invoice()
        message = self.run_qb_jobs(move)
        self.assertEqual(message.state, "blocked", message.last_error)
        exception = self.exceptions.search(
            [("message_id", "=", message.id), ("state", "=", "open")]
        )
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.severity, "critical")
        self.assertIn("Reconnect", exception.name + (exception.hint or ""))
        self.assertEqual(self.fake.invalid_grants, 1)
        self.assertFalse(self.fake.created.get("Invoice"))

    def test_tokens_never_readable_by_a_sync_user(self):
        self.sync_invoice()
        values = self.qb.with_user(self.sync_user).read(
            ["quickbooks_refresh_token", "quickbooks_client_secret"]
        )[0]
        self.assertFalse(values["quickbooks_refresh_token"])
        self.assertFalse(values["quickbooks_client_secret"])
        self.assertFalse(self.qb.quickbooks_refresh_token)

    def test_token_watch_opens_critical_exception(self):
        soon = fields.Datetime.now() + timedelta(days=10)
        self.qb.sudo().quickbooks_refresh_expires_at = soon
        self.env["distribution.sync.backend"]._cron_quickbooks_token_watch()
        exception = self.qb_exceptions(self.qb)
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.severity, "critical")
        self.assertIn(str(soon.date()), exception.name)
        # Run again: still one exception.
        self.env["distribution.sync.backend"]._cron_quickbooks_token_watch()
        self.assertEqual(len(self.qb_exceptions(self.qb)), 1)

    def test_token_watch_quiet_when_far(self):
        self.sync_invoice()
        self.assertGreater(
            self.qb.quickbooks_refresh_expires_at,
            fields.Datetime.now() + timedelta(days=90),
        )
        self.env["distribution.sync.backend"]._cron_quickbooks_token_watch()
        self.assertFalse(self.qb_exceptions(self.qb))

    def _connect_state(self):
        action = self.qb.action_quickbooks_connect()
        url = urlsplit(action["url"])
        self.assertEqual(url.netloc, "appcenter.intuit.com")
        query = parse_qs(url.query)
        self.assertEqual(query["client_id"], [self.fake.client_id])
        self.assertTrue(query["redirect_uri"][0].endswith("/oauth/callback"))
        return query["state"][0]

    def test_connect_stores_realm_and_tokens(self):
        self.env["distribution.sync.secret"]._set(
            self.qb, "quickbooks_refresh_token", False
        )
        self.qb.sudo().quickbooks_realm_id = False
        self.assertFalse(self.qb.quickbooks_connected)
        # Nothing to test or fetch before the connection.
        self.assertFalse(self.qb.credentials_set)
        self.assertTrue(self.qb.quickbooks_client_secret_set)
        state = self._connect_state()
        code = self.fake.authorization_code()
        backend = self.env["distribution.sync.backend"]._quickbooks_connect_callback(
            code, state, self.fake.realm_id
        )
        self.assertEqual(backend, self.qb)
        self.assertEqual(self.qb.quickbooks_realm_id, self.fake.realm_id)
        self.assertTrue(self.qb.quickbooks_connected)
        self.assertTrue(self.qb.credentials_set)
        self.assertTrue(self.qb.quickbooks_refresh_expires_at)
        stored = self.env["distribution.sync.secret"]._get_fresh(
            self.qb, "quickbooks_refresh_token"
        )
        self.assertIn(stored, self.fake.valid_refresh_tokens())
        # The tokens work.
        self.sync_invoice()

    def test_forged_state_is_refused(self):
        self._connect_state()
        with self.assertRaises(Exception) as caught:
            self.env["distribution.sync.backend"]._quickbooks_connect_callback(
                self.fake.authorization_code(), "forged.state.value", "123"
            )
        self.assertIsInstance(caught.exception, (UserError, SyncError))
        self.assertEqual(self.fake.count("token"), 0)

    def test_state_used_twice_is_refused(self):
        state = self._connect_state()
        backends = self.env["distribution.sync.backend"]
        backends._quickbooks_connect_callback(
            self.fake.authorization_code(), state, self.fake.realm_id
        )
        with self.assertRaisesRegex(UserError, "used already"):
            backends._quickbooks_connect_callback(
                self.fake.authorization_code(), state, "999"
            )
        self.assertEqual(self.qb.quickbooks_realm_id, self.fake.realm_id)

    def test_disconnect_revokes_at_intuit(self):
        self.sync_invoice()
        stored = self.env["distribution.sync.secret"]._get_fresh(
            self.qb, "quickbooks_refresh_token"
        )
        self.qb.action_quickbooks_disconnect()
        self.assertEqual(self.fake.count("revoke"), 1)
        self.assertNotIn(stored, self.fake.valid_refresh_tokens())
        self.assertFalse(self.qb.quickbooks_connected)
        self.assertFalse(self.qb.quickbooks_refresh_expires_at)

    def test_sync_user_cannot_connect_or_disconnect(self):
        backend = self.qb.with_user(self.sync_user)
        with self.assertRaises(AccessError):
            backend.action_quickbooks_connect()
        with self.assertRaises(AccessError):
            backend.action_quickbooks_disconnect()
        self.assertEqual(self.fake.count("revoke"), 0)
        self.assertTrue(self.qb.quickbooks_connected)


@tagged("post_install", "-at_install")
class TestBackendDefaults(QuickbooksCase):
    """What a new QuickBooks backend starts with."""

    def test_defaults(self):
        backend = self.env["distribution.sync.backend"].create(
            {"name": "QB defaults", "backend_type": "quickbooks"}
        )
        self.assertEqual(backend.api_url, "https://quickbooks.api.intuit.com")
        self.assertEqual(
            backend.quickbooks_token_url,
            "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
        )
        owners = {r.entity: r.owner for r in backend.ownership_ids if not r.field_name}
        self.assertEqual(owners["payment"], "channel")
        self.assertEqual(owners["invoice"], "odoo")
        self.assertFalse(backend.order_channel)
        self.assertFalse(backend.shipping_product_id)
        self.assertFalse(backend.quickbooks_connected)

    def test_no_realm_queues_nothing(self):
        self.qb.sudo().quickbooks_realm_id = False
        move = self.make_invoice()
        self.assertFalse(self.qb_messages(move))
