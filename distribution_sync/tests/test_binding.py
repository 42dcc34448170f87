# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from datetime import datetime, timedelta

import psycopg2

from odoo.exceptions import UserError
from odoo.tools import mute_logger

from ..core.errors import BindingConflict
from .common import SECRET, DistributionSyncCase, order_payload


class TestBinding(DistributionSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls.env["res.partner"].create({"name": "Bound customer"})
        cls.other_partner = cls.env["res.partner"].create({"name": "Other customer"})
        cls.other_backend = cls.env["distribution.sync.backend"].create(
            {"name": "Other shop", "backend_type": "generic", "webhook_secret": SECRET}
        )

    def _create_binding(self, record, external_id, backend=None):
        return self.bindings.create(
            {
                "backend_id": (backend or self.backend).id,
                "res_model": record._name,
                "res_id": record.id,
                "external_id": external_id,
            }
        )

    def test_external_id_unique_in_database(self):
        self._create_binding(self.partner, "EXT-1")
        with (
            self.assertRaises(psycopg2.errors.UniqueViolation),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self._create_binding(self.other_partner, "EXT-1")
        self.assertEqual(
            self.bindings.search_count(
                [("backend_id", "=", self.backend.id), ("external_id", "=", "EXT-1")]
            ),
            1,
        )

    def test_record_unique_in_database(self):
        self._create_binding(self.partner, "EXT-1")
        with (
            self.assertRaises(psycopg2.errors.UniqueViolation),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self._create_binding(self.partner, "EXT-2")

    def test_same_external_id_on_other_backend_or_model(self):
        first = self._create_binding(self.partner, "EXT-1")
        other = self._create_binding(self.other_partner, "EXT-1", self.other_backend)
        self.assertTrue(other)
        self.assertNotEqual(first, other)
        # Another model of the same backend may use the same outside id too.
        order = self.env["sale.order"].create({"partner_id": self.partner.id})
        self.assertTrue(self._create_binding(order, "EXT-1"))
        self.assertEqual(
            self.bindings._find_record(self.backend, "res.partner", "EXT-1"),
            self.partner,
        )
        self.assertEqual(
            self.bindings._find_record(self.other_backend, "res.partner", "EXT-1"),
            self.other_partner,
        )

    def test_bind_refreshes_existing_binding(self):
        first = self.bindings._bind(
            self.backend,
            self.partner,
            "EXT-1",
            digest="digest-1",
            updated_at=datetime(2026, 1, 1, 10, 0),
        )
        old_sync = datetime(2020, 1, 1)
        first.sync_date = old_sync
        second = self.bindings._bind(
            self.backend,
            self.partner,
            "EXT-1",
            digest="digest-2",
            updated_at=datetime(2026, 1, 2, 10, 0),
            external_name="Customer 1",
        )
        self.assertEqual(second, first)
        self.assertEqual(
            self.bindings.search_count(
                [
                    ("backend_id", "=", self.backend.id),
                    ("res_model", "=", "res.partner"),
                ]
            ),
            1,
        )
        self.assertEqual(first.payload_digest, "digest-2")
        self.assertEqual(first.remote_updated_at, datetime(2026, 1, 2, 10, 0))
        self.assertEqual(first.external_name, "Customer 1")
        # A value under another name is an error, never silently dropped.
        with self.assertRaises(TypeError):
            self.bindings._bind(self.backend, self.partner, "EXT-1", name="Lost")
        self.assertGreater(first.sync_date, old_sync)
        self.assertTrue(first._is_unchanged("digest-2"))
        self.assertFalse(first._is_unchanged("digest-1"))
        self.assertTrue(first._is_stale(datetime(2026, 1, 1, 10, 0)))
        self.assertFalse(first._is_stale(datetime(2026, 1, 2, 10, 0)))

    def test_bind_with_the_binding_found_before(self):
        nothing = self.bindings._find(self.backend, "res.partner", "EXT-5")
        first = self.bindings._bind(
            self.backend, self.partner, "EXT-5", binding=nothing
        )
        found = self.bindings._find(self.backend, "res.partner", "EXT-5")
        self.assertEqual(found, first)
        second = self.bindings._bind(
            self.backend, self.partner, "EXT-5", binding=found, digest="digest-5"
        )
        self.assertEqual(second, first)
        self.assertEqual(first.payload_digest, "digest-5")
        # Bound to another live record: a conflict at once (waiting would not
        # change it), never a retry; the binding is not moved.
        with self.assertRaisesRegex(BindingConflict, "EXT-5 of the channel is bound"):
            self.bindings._bind(
                self.backend, self.other_partner, "EXT-5", binding=found
            )
        self.assertEqual(first._record(), self.partner)
        # Unless the caller says the outside record moved.
        moved = self.bindings._bind(
            self.backend, self.other_partner, "EXT-5", binding=found, rebind=True
        )
        self.assertEqual(moved, first)
        self.assertEqual(first._record(), self.other_partner)

    def test_unbind_refused_while_record_exists(self):
        message = self.process(
            self.intake(
                "partner/upsert",
                {"external_id": "C-77", "name": "Kept", "email": "kept@example.com"},
            )
        )
        self.assertEqual(message.state, "done")
        binding = self.bindings._find(self.backend, "res.partner", "C-77")
        self.assertTrue(binding)
        with self.assertRaises(UserError):
            binding.action_unbind_reimport()
        self.assertTrue(binding.exists())

    def test_unbind_reimport_deleted_partner(self):
        message = self.process(
            self.intake(
                "partner/upsert",
                {
                    "external_id": "C-78",
                    "name": "Deleted Dora",
                    "email": "dora@example.com",
                },
            )
        )
        binding = self.bindings._find(self.backend, "res.partner", "C-78")
        partner = binding._record()
        self.assertEqual(partner.name, "Deleted Dora")
        partner.unlink()
        self.assertFalse(binding._record())

        binding.action_unbind_reimport()

        self.assertFalse(binding.exists())
        new_binding = self.bindings._find(self.backend, "res.partner", "C-78")
        self.assertTrue(new_binding)
        new_partner = new_binding._record()
        self.assertTrue(new_partner)
        self.assertNotEqual(new_partner.id, partner.id)
        self.assertEqual(new_partner.email, "dora@example.com")
        self.assertEqual(message.state, "done")
        self.assertEqual(message.res_id, new_partner.id)
        self.assertTrue(
            self.env["distribution.sync.audit"].search_count(
                [("backend_id", "=", self.backend.id), ("action", "=", "unbind")]
            )
        )

    def test_unbind_reimport_deleted_order(self):
        self.process(self.intake("order/upsert", order_payload("SO-UNB")))
        binding = self.bindings._find(self.backend, "sale.order", "SO-UNB")
        order = binding._record()
        self.assertEqual(order.state, "sale")
        order._action_cancel()
        order.unlink()
        # A later message of the same outside id about another kind of record
        # is not the one to replay.
        self.process(
            self.intake(
                "partner/upsert",
                {"external_id": "SO-UNB", "name": "Same id", "email": "s@example.com"},
            )
        )

        binding.action_unbind_reimport()

        new_binding = self.bindings._find(self.backend, "sale.order", "SO-UNB")
        new_order = new_binding._record()
        self.assertTrue(new_order)
        self.assertNotEqual(new_order.id, order.id)
        self.assertEqual(new_order.client_order_ref, "#SO-UNB")
        self.assertEqual(new_order.state, "sale")
        self.assertEqual(
            self.env["sale.order"].search_count([("client_order_ref", "=", "#SO-UNB")]),
            1,
        )

    def test_unbind_only_removes_its_own_binding(self):
        """Unbinding one record leaves the bindings of other records alone."""
        kept = self._create_binding(self.other_partner, "EXT-KEEP")
        gone = self.env["res.partner"].create({"name": "Gone"})
        binding = self._create_binding(gone, "EXT-GONE")
        binding.sync_date = datetime.now() - timedelta(days=1)
        gone.unlink()
        action = binding.action_unbind_reimport()
        self.assertFalse(binding.exists())
        self.assertTrue(kept.exists())
        # No message ever produced it: removed, and the user is told so.
        self.assertEqual(action["params"]["title"], "Nothing to re-import")
        self.assertIn("EXT-GONE", action["params"]["message"])
