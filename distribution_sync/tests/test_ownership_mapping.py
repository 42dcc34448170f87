# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import psycopg2

from odoo.exceptions import ValidationError
from odoo.tools import mute_logger

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import SECRET, DistributionSyncCase, order_payload


class TestOwnership(DistributionSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ownership = cls.env["distribution.sync.ownership"]

    def _upsert(self, event_id=None, **values):
        payload = {
            "external_id": "C-10",
            "name": "Ann Smith",
            "email": "ann@example.com",
            "phone": "+1 555 0100",
        }
        payload.update(values)
        return self.process(self.intake("partner/upsert", payload, event_id=event_id))

    def _partner(self, external_id="C-10"):
        return self.bindings._find_record(self.backend, "res.partner", external_id)

    def _open_exceptions(self, message):
        return self.exceptions.search(
            [("message_id", "=", message.id), ("state", "=", "open")]
        )

    def _customer_rule(self):
        return self.backend.ownership_ids.filtered(
            lambda r: r.entity == "customer" and not r.field_name
        )

    def test_partner_upsert_creates_customer(self):
        self.assertEqual(self._customer_rule().owner, "channel")
        message = self._upsert()
        self.assertEqual(message.state, "done", message.last_error)
        partner = self._partner()
        self.assertTrue(partner)
        self.assertEqual(partner.name, "Ann Smith")
        self.assertEqual(partner.email, "ann@example.com")
        self.assertEqual(partner.phone, "+1 555 0100")
        self.assertEqual(partner.customer_rank, 1)
        self.assertEqual(
            (message.res_model, message.res_id), ("res.partner", partner.id)
        )

    def test_partner_update_applies_channel_fields(self):
        self._upsert(event_id="E-1")
        message = self._upsert(event_id="E-2", name="Ann Jones", phone="+1 555 0199")
        self.assertEqual(message.state, "done", message.last_error)
        partner = self._partner()
        self.assertEqual(partner.name, "Ann Jones")
        self.assertEqual(partner.phone, "+1 555 0199")
        self.assertFalse(self._open_exceptions(message))

    def test_field_owned_by_odoo_is_conflict(self):
        self._upsert(event_id="E-1")
        self.ownership.create(
            {
                "backend_id": self.backend.id,
                "entity": "customer",
                "field_name": "email",
                "owner": "odoo",
            }
        )
        message = self._upsert(
            event_id="E-2", email="ann.new@example.com", phone="+1 555 0142"
        )
        partner = self._partner()
        self.assertEqual(partner.email, "ann@example.com")
        self.assertEqual(partner.phone, "+1 555 0142")
        exception = self._open_exceptions(message)
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.category, "conflict")
        self.assertIn("email", exception.name)
        self.assertNotIn("phone", exception.name)
        self.assertEqual(
            (exception.res_model, exception.res_id), ("res.partner", partner.id)
        )
        self.assertEqual(partner.distribution_sync_exception_count, 1)

    def test_field_owned_by_odoo_ignored(self):
        self._upsert(event_id="E-1")
        self.ownership.create(
            {
                "backend_id": self.backend.id,
                "entity": "customer",
                "field_name": "email",
                "owner": "odoo",
                "on_conflict": "ignore",
            }
        )
        message = self._upsert(
            event_id="E-2", email="ann.new@example.com", phone="+1 555 0142"
        )
        self.assertEqual(message.state, "done", message.last_error)
        partner = self._partner()
        self.assertEqual(partner.email, "ann@example.com")
        self.assertEqual(partner.phone, "+1 555 0142")
        self.assertFalse(self.exceptions.search([("backend_id", "=", self.backend.id)]))

    def test_field_owned_by_odoo_not_written_on_create(self):
        self.ownership.create(
            {
                "backend_id": self.backend.id,
                "entity": "customer",
                "field_name": "phone",
                "owner": "odoo",
            }
        )
        message = self._upsert()
        self.assertEqual(message.state, "done", message.last_error)
        partner = self._partner()
        self.assertEqual(partner.email, "ann@example.com")
        self.assertFalse(partner.phone)

    def test_customer_owned_by_odoo_cannot_be_created(self):
        self._customer_rule().owner = "odoo"
        message = self._upsert()
        self.assertEqual(message.state, "blocked")
        self.assertFalse(self._partner())
        self.assertFalse(
            self.env["res.partner"].search([("email", "=", "ann@example.com")])
        )
        exception = self._open_exceptions(message)
        self.assertEqual(exception.category, "conflict")
        self.assertIn("ann@example.com is not one of them", exception.name)
        # Once the customer exists in Odoo, the retry goes through.
        self.env["res.partner"].create({"name": "Ann", "email": "ann@example.com"})
        exception.action_retry()
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(message.state, "done", message.last_error)

    def test_customer_owned_by_odoo_ignore_policy_still_needs_the_customer(self):
        rule = self._customer_rule()
        rule.write({"owner": "odoo", "on_conflict": "ignore"})
        message = self._upsert()
        self.assertEqual(message.state, "blocked")
        self.assertFalse(self._partner())
        exception = self._open_exceptions(message)
        self.assertEqual(exception.category, "conflict")
        self.assertIn("create the customer in Odoo", exception.name)

    def test_one_rule_per_entity(self):
        with self.assertRaises(ValidationError):
            self.ownership.create(
                {"backend_id": self.backend.id, "entity": "customer", "owner": "odoo"}
            )

    # ------------------------------------------------------------------ push
    def test_push_only_what_odoo_owns(self):
        partner = self.env["res.partner"].create({"name": "Pushed"})
        with trap_jobs() as trap:
            nothing = self.backend._push(
                partner, "partner/upsert", {"name": "Pushed"}, "customer"
            )
            self.assertFalse(nothing)
            trap.assert_jobs_count(0)

            message = self.backend._push(
                self.product, "product/upsert", {"sku": "DS-TEST-1"}, "product"
            )
            self.assertEqual(len(message), 1)
            self.assertEqual(message.direction, "outbound")
            self.assertEqual(message.topic, "product/upsert")
            self.assertEqual(
                (message.res_model, message.res_id),
                ("product.product", self.product.id),
            )
            self.assertEqual(message.state, "queued")
            trap.assert_jobs_count(1, only=message._send_job)

            again = self.backend._push(
                self.product, "product/upsert", {"sku": "DS-TEST-1"}, "product"
            )
            self.assertEqual(again, message)
            trap.assert_jobs_count(1)

            changed = self.backend._push(
                self.product, "product/upsert", {"sku": "DS-TEST-1", "x": 1}, "product"
            )
            self.assertNotEqual(changed, message)
            trap.assert_jobs_count(2)
        self.assertEqual(
            self.messages.search_count(
                [("backend_id", "=", self.backend.id), ("direction", "=", "outbound")]
            ),
            2,
        )

    def test_push_follows_ownership_change(self):
        self.backend.ownership_ids.filtered(
            lambda r: r.entity == "product" and not r.field_name
        ).owner = "channel"
        with trap_jobs() as trap:
            self.assertFalse(
                self.backend._push(
                    self.product, "product/upsert", {"sku": "DS-TEST-1"}, "product"
                )
            )
            trap.assert_jobs_count(0)


class TestMapping(DistributionSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mappings = cls.env["distribution.sync.mapping"]
        cls.other_backend = cls.env["distribution.sync.backend"].create(
            {"name": "Other shop", "backend_type": "generic", "webhook_secret": SECRET}
        )
        cls.alias_product = cls.env["product.product"].create(
            {
                "name": "Aliased",
                "default_code": "DS-ALIASED",
                "type": "consu",
                "list_price": 10.0,
                "taxes_id": [(5, 0, 0)],
            }
        )

    def _mapping(self, code, backend=None, mapping_type="uom", **values):
        vals = {
            "backend_id": backend.id if backend else False,
            "mapping_type": mapping_type,
            "external_code": code,
        }
        vals.update(values)
        return self.mappings.create(vals)

    def _import(self, payload):
        return self.process(self.intake("order/upsert", payload))

    def test_code_normalised(self):
        mapping = self._mapping("  Case   12 ", self.backend, factor=12)
        self.assertEqual(mapping.code_normalized, "case 12")
        self.assertEqual(self.backend._mapping_table().get("uom", "CASE 12"), mapping)

    def test_unique_per_backend_normalised(self):
        self._mapping(" Case12 ", self.backend, factor=12)
        with (
            self.assertRaises(psycopg2.errors.UniqueViolation),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self._mapping("case12", self.backend, factor=6)
        # Same code: another type, another backend or shared is allowed.
        self.assertTrue(
            self._mapping(
                "case12",
                self.backend,
                mapping_type="product",
                product_id=self.alias_product.id,
            )
        )
        self.assertTrue(self._mapping("CASE12", self.other_backend, factor=6))
        self.assertTrue(self._mapping("CASE12", factor=6))

    def test_shared_unique_per_company(self):
        self._mapping("CASE12", factor=12)
        with (
            self.assertRaises(psycopg2.errors.UniqueViolation),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self._mapping(" case12", factor=6)

    def test_factor_must_be_positive(self):
        with (
            self.assertRaises(psycopg2.errors.CheckViolation),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self._mapping("ZERO", self.backend, factor=0)

    def test_shared_mapping_used_when_backend_has_none(self):
        shared = self._mapping(
            "SHARED-ALIAS", mapping_type="product", product_id=self.alias_product.id
        )
        self.assertFalse(shared.backend_id)
        self.assertEqual(shared.company_id, self.company)
        message = self._import(
            order_payload(
                "SO-1",
                lines=[{"sku": "shared-alias", "quantity": 2, "price_unit": "10.00"}],
            )
        )
        self.assertEqual(message.state, "done", message.last_error)
        order = self.bindings._find_record(self.backend, "sale.order", "SO-1")
        self.assertEqual(order.order_line.product_id, self.alias_product)

    def test_backend_mapping_wins_over_shared(self):
        shared = self._mapping("CASE", factor=6)
        own = self._mapping("case", self.backend, factor=12)
        table = self.backend._mapping_table()
        self.assertEqual(table.get("uom", "CASE"), own)
        self.assertEqual(self.other_backend._mapping_table().get("uom", "CASE"), shared)
        message = self._import(
            order_payload(
                "SO-1",
                lines=[
                    {
                        "sku": "DS-TEST-1",
                        "quantity": 2,
                        "uom": "CASE",
                        "price_unit": "120.00",
                    }
                ],
                total="240.00",
            )
        )
        self.assertEqual(message.state, "done", message.last_error)
        order = self.bindings._find_record(self.backend, "sale.order", "SO-1")
        self.assertEqual(order.order_line.product_uom_qty, 24)

    def test_other_backend_mapping_not_used(self):
        self._mapping(
            "OTHER-ALIAS",
            self.other_backend,
            mapping_type="product",
            product_id=self.alias_product.id,
        )
        message = self._import(
            order_payload(
                "SO-1",
                lines=[{"sku": "OTHER-ALIAS", "quantity": 2, "price_unit": "10.00"}],
            )
        )
        self.assertEqual(message.state, "blocked")
        self.assertFalse(self.bindings._find(self.backend, "sale.order", "SO-1"))

    def test_archived_mapping_not_used(self):
        mapping = self._mapping(
            "OLD-ALIAS",
            self.backend,
            mapping_type="product",
            product_id=self.alias_product.id,
        )
        mapping.active = False
        self.assertFalse(self.backend._mapping_table().get("product", "OLD-ALIAS"))

    def test_mapping_version_changes(self):
        before = self.backend._mapping_version()
        self._mapping("NEW", self.backend, factor=2)
        self.assertNotEqual(self.backend._mapping_version(), before)

    def test_job_reads_mappings_once_until_they_change(self):
        backend = self.backend
        with backend._job_scope():
            table, version = backend._mapping_table(), backend._mapping_version()
            self.assertIs(backend._mapping_table(), table)
            self.assertEqual(backend._mapping_version(), version)
            mapping = self._mapping("NEW", backend, factor=2)
            self.assertEqual(backend._mapping_table().get("uom", "NEW"), mapping)
            self.assertNotEqual(backend._mapping_version(), version)
            table = backend._mapping_table()
            mapping.active = False
            self.assertFalse(backend._mapping_table().get("uom", "NEW"))
            table = backend._mapping_table()
            mapping.unlink()
            self.assertIsNot(backend._mapping_table(), table)
        # Outside a job nothing is kept.
        self.assertIsNot(backend._mapping_table(), backend._mapping_table())
