# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import os
from unittest import mock

from odoo import Command
from odoo.exceptions import AccessError
from odoo.service.model import get_public_method
from odoo.tests import new_test_user
from odoo.tools import config, mute_logger

from ..core.crypto import PREFIX, generate_key
from ..models.distribution_sync_secret import CONFIG_KEY, ENV_KEY
from .common import SECRET, DistributionSyncCase, order_payload, sign

USER_GROUP = "distribution_sync.group_distribution_sync_user"
MANAGER_GROUP = "distribution_sync.group_distribution_sync_manager"


class TestSecrets(DistributionSyncCase):
    def stored_secret(self, backend=None):
        return self.env["distribution.sync.secret"].search(
            [
                ("backend_id", "=", (backend or self.backend).id),
                ("key", "=", "webhook_secret"),
            ]
        )

    def test_secret_is_write_only_for_users(self):
        backend = self.backend.with_user(self.sync_user)
        values = backend.read(["webhook_secret", "webhook_secret_set"])[0]
        self.assertIs(values["webhook_secret"], False)
        self.assertIs(values["webhook_secret_set"], True)
        self.assertFalse(backend.webhook_secret)
        # Not even the manager's form shows it.
        self.assertFalse(self.backend.webhook_secret)

    def test_secret_table_closed_to_users(self):
        secrets = self.env["distribution.sync.secret"].with_user(self.sync_user)
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models"):
            secrets.search([])
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models"):
            secrets.browse(self.stored_secret().id).read(["value"])
        # Nor the technical user, whose jobs only use it through the code.
        technical = secrets.with_user(self.backend.user_id)
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models"):
            technical.search([])

    def test_secret_stored_encrypted(self):
        stored = self.stored_secret()
        self.assertEqual(len(stored), 1)
        self.assertTrue(stored.value.startswith(PREFIX))
        self.assertNotIn(SECRET, stored.value)
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT value FROM distribution_sync_secret WHERE id = %s", (stored.id,)
        )
        self.assertNotIn(SECRET, self.env.cr.fetchone()[0])
        self.assertEqual(self.backend._get_secret("webhook_secret"), SECRET)
        # A user's environment gets the plain value only through the code.
        self.assertEqual(
            self.backend.with_user(self.sync_user)._get_secret("webhook_secret"),
            SECRET,
        )

    def test_secret_change_is_audited(self):
        self.backend.webhook_secret = "another-secret"
        self.assertEqual(self.backend._get_secret("webhook_secret"), "another-secret")
        audit = self.env["distribution.sync.audit"].search(
            [("backend_id", "=", self.backend.id), ("action", "=", "secret")]
        )
        self.assertTrue(audit)
        self.assertFalse([a for a in audit if "another-secret" in (a.note or "")])


class TestKeyRotation(DistributionSyncCase):
    def setUp(self):
        super().setUp()
        self.old_keys = config.get(CONFIG_KEY) or os.environ.get(ENV_KEY)
        self.assertTrue(self.old_keys)
        # The environment and the configuration come back as they were.
        for patcher in (
            mock.patch.dict(os.environ, {ENV_KEY: self.old_keys}),
            mock.patch.dict(config.options, {CONFIG_KEY: ""}),
        ):
            patcher.start()
            self.addCleanup(patcher.stop)

    def use_keys(self, *keys):
        os.environ[ENV_KEY] = ",".join(keys)

    def test_rotation_keeps_secret_readable(self):
        secret = self.env["distribution.sync.secret"].search(
            [("backend_id", "=", self.backend.id), ("key", "=", "webhook_secret")]
        )
        before = secret.value
        new_key = generate_key()
        # New key first, old one kept: still readable.
        self.use_keys(new_key, self.old_keys)
        self.assertEqual(self.backend._get_secret("webhook_secret"), SECRET)
        # The new key alone cannot read what the old one encrypted.
        self.use_keys(new_key)
        self.assertIsNone(self.backend._get_secret("webhook_secret"))
        # Rotate with both, then the new key alone is enough.
        self.use_keys(new_key, self.old_keys)
        self.env["distribution.sync.secret"]._rotate_all()
        self.assertNotEqual(secret.value, before)
        self.assertTrue(secret.value.startswith(PREFIX))
        self.use_keys(new_key)
        self.assertEqual(self.backend._get_secret("webhook_secret"), SECRET)
        # And the old key alone no longer can.
        self.use_keys(self.old_keys)
        self.assertIsNone(self.backend._get_secret("webhook_secret"))

    def test_webhook_check_uses_rotated_secret(self):
        new_key = generate_key()
        self.use_keys(new_key, self.old_keys)
        self.env["distribution.sync.secret"]._rotate_all()
        self.use_keys(new_key)
        body = b'{"external_id": "K-1"}'
        self.assertTrue(
            self.backend._call("webhook_verify", body, {"X-Sync-Signature": sign(body)})
        )
        self.assertFalse(
            self.backend._call(
                "webhook_verify", body, {"X-Sync-Signature": sign(body, "other")}
            )
        )


class TestMultiCompany(DistributionSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "Sync Company B"})
        cls.backend_b = cls.env["distribution.sync.backend"].create(
            {
                "name": "Shop of B",
                "backend_type": "generic",
                "company_id": cls.company_b.id,
                "webhook_secret": "secret-of-b",
            }
        )
        cls.user_a = new_test_user(
            cls.env,
            login="sync_user_a",
            groups=f"base.group_user,{USER_GROUP}",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.user_b = new_test_user(
            cls.env,
            login="sync_user_b",
            groups=f"base.group_user,{USER_GROUP}",
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
        )

    def setUp(self):
        super().setUp()
        self.message_a = self.intake(
            "partner/upsert", {"external_id": "PA", "name": "A"}, event_id="a"
        )
        self.message_b = self.intake(
            "partner/upsert",
            {"external_id": "PB", "name": "B"},
            event_id="b",
            backend=self.backend_b,
        )
        self.exception_a = self.backend._open_exception(
            "validation", "Problem of A", message=self.message_a
        )
        self.exception_b = self.backend_b._open_exception(
            "validation", "Problem of B", message=self.message_b
        )

    def visible(self, user, model, records):
        return self.env[model].with_user(user).search([("id", "in", records.ids)])

    def test_company_b_invisible_to_user_of_a(self):
        backends = self.backend | self.backend_b
        messages = self.message_a | self.message_b
        exceptions = self.exception_a | self.exception_b
        model = "distribution.sync."
        self.assertEqual(
            self.visible(self.user_a, model + "backend", backends), self.backend
        )
        self.assertEqual(
            self.visible(self.user_a, model + "message", messages), self.message_a
        )
        self.assertEqual(
            self.visible(self.user_a, model + "exception", exceptions),
            self.exception_a,
        )
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models"):
            self.message_b.with_user(self.user_a).read(["payload"])
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models"):
            self.exception_b.with_user(self.user_a).read(["name"])

    def test_user_of_b_sees_only_company_b(self):
        model = "distribution.sync."
        self.assertEqual(
            self.visible(self.user_b, model + "backend", self.backend | self.backend_b),
            self.backend_b,
        )
        self.assertEqual(
            self.visible(
                self.user_b, model + "message", self.message_a | self.message_b
            ),
            self.message_b,
        )
        self.assertEqual(
            self.visible(
                self.user_b, model + "exception", self.exception_a | self.exception_b
            ),
            self.exception_b,
        )

    def test_records_follow_backend_company(self):
        self.assertEqual(self.message_b.company_id, self.company_b)
        self.assertEqual(self.exception_b.company_id, self.company_b)
        self.assertEqual(self.backend_b.user_id.company_id, self.company_b)
        self.assertEqual(self.backend_b.user_id.company_ids, self.company_b)


class TestTechnicalUser(DistributionSyncCase):
    def test_technical_user_least_privilege(self):
        user = self.backend.user_id
        self.assertTrue(user)
        self.assertTrue(user.active)
        self.assertTrue(user._is_internal())
        self.assertFalse(user.share)
        self.assertTrue(user.has_group(USER_GROUP))
        self.assertFalse(user.has_group(MANAGER_GROUP))
        self.assertFalse(user.has_group("base.group_system"))
        self.assertFalse(user.has_group("base.group_erp_manager"))
        self.assertFalse(user._is_admin())
        self.assertEqual(user.company_id, self.backend.company_id)
        self.assertEqual(user.company_ids, self.backend.company_id)
        # One technical user per backend.
        other = self.env["distribution.sync.backend"].create(
            {"name": "Second shop", "backend_type": "generic"}
        )
        self.assertTrue(other.user_id)
        self.assertNotEqual(other.user_id, user)

    def test_technical_user_may_not_configure(self):
        backend = self.backend.with_user(self.backend.user_id)
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models"):
            backend.write({"max_attempts": 1})

    def test_job_runs_as_technical_user(self):
        message = self.intake("order/upsert", order_payload("T-1"), event_id="t1")
        # Queued from a user's action, it still runs as the technical user.
        message.with_user(self.sync_user).action_requeue()
        job = self.env["queue.job"].search([("uuid", "=", message.job_uuid)])
        self.assertEqual(len(job), 1)
        self.assertEqual(job.user_id, self.backend.user_id)
        self.assertNotEqual(job.user_id, self.sync_user)
        self.assertEqual(job.channel, self.backend.channel_id.complete_name)


class TestAuditAndAccess(DistributionSyncCase):
    def test_retry_by_user_is_audited(self):
        message = self.intake(
            "order/upsert",
            order_payload(
                "AU-1",
                lines=[{"sku": "DS-LATE-1", "quantity": 1, "price_unit": "20.00"}],
            ),
            event_id="au1",
        )
        self.process(message)
        self.assertEqual(message.state, "blocked")
        exception = self.exceptions.search(
            [("message_id", "=", message.id), ("state", "=", "open")]
        )
        self.assertEqual(exception.category, "mapping")
        self.env["product.product"].create(
            {"name": "Late widget", "default_code": "DS-LATE-1", "list_price": 20.0}
        )
        exception.with_user(self.sync_user).action_retry()
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(message.state, "done")
        audit = self.env["distribution.sync.audit"].search(
            [
                ("action", "=", "retry"),
                ("res_model", "=", "distribution.sync.exception"),
                ("res_id", "=", exception.id),
            ]
        )
        self.assertEqual(len(audit), 1)
        self.assertEqual(audit.user_id, self.sync_user)
        self.assertEqual(audit.backend_id, self.backend)
        # The user may read the trail but not rewrite it.
        trail = audit.with_user(self.sync_user)
        self.assertEqual(trail.read(["action"])[0]["action"], "retry")
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models"):
            trail.write({"note": "nothing happened"})

    def test_user_cannot_create_or_write_backend(self):
        backends = self.env["distribution.sync.backend"].with_user(self.sync_user)
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models"):
            backends.create({"name": "Rogue shop", "backend_type": "generic"})
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models"):
            self.backend.with_user(self.sync_user).write({"name": "Renamed"})
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models"):
            self.backend.with_user(self.sync_user).write({"webhook_secret": "mine"})
        self.assertEqual(self.backend._get_secret("webhook_secret"), SECRET)
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models"):
            self.backend.with_user(self.sync_user).unlink()

    def test_user_cannot_clear_secrets(self):
        backend = self.backend.with_user(self.sync_user)
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models"):
            backend.with_context(secret_field="webhook_secret").action_clear_secret()
        self.assertEqual(self.backend._get_secret("webhook_secret"), SECRET)

    def test_user_cannot_rewrite_a_message(self):
        message = self.intake("order/upsert", order_payload("RW-1"), event_id="rw1")
        forged = order_payload("RW-1", total="0.01")
        for vals in (
            {"payload": str(forged)},
            {"state": "received"},
            {"idempotency_key": "event:other"},
        ):
            with self.assertRaises(AccessError):
                message.with_user(self.sync_user).write(vals)
        self.assertEqual(message.state, "received")
        self.assertIn('"total": "20.00"', message.payload)
        # The sync's own writes (superuser) still go through.
        message.sudo().write({"result_summary": "ok"})

    def test_channel_verbs_cannot_be_called_remotely(self):
        backends = self.env["distribution.sync.backend"]
        types = [key for key, _label in backends._fields["backend_type"].selection]
        public = [
            name
            for name in dir(type(backends))
            if any(name.startswith(f"{kind}_") for kind in types)
            and callable(getattr(type(backends), name))
        ]
        self.assertEqual(public, [], "channel methods callable over RPC")
        with self.assertRaises(AccessError):
            get_public_method(backends, "_generic_fetch_changes")
        # The dispatch still finds them.
        self.assertTrue(self.backend._call("webhook_verify", b"{}", {}) is False)

    def test_manager_can_configure(self):
        manager = new_test_user(
            self.env, login="sync_manager", groups=f"base.group_user,{MANAGER_GROUP}"
        )
        backend = (
            self.env["distribution.sync.backend"]
            .with_user(manager)
            .create({"name": "Managed shop", "backend_type": "generic"})
        )
        backend.write({"webhook_secret": "managed-secret", "max_attempts": 4})
        self.assertEqual(backend.max_attempts, 4)
        self.assertEqual(backend._get_secret("webhook_secret"), "managed-secret")
        self.assertTrue(backend.user_id)
        self.assertFalse(backend.user_id.has_group(MANAGER_GROUP))
