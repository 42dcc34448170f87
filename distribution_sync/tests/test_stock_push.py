# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import json
from datetime import timedelta
from unittest import mock

from odoo import fields
from odoo.exceptions import AccessError

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import DistributionSyncCase


class TestStockPush(DistributionSyncCase):
    """The core's stock push (``*_stock_mixin``), for any channel that
    implements the stock verbs: here the reference channel, given them for
    the test. A channel without them gets no stock push."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product.is_storable = True
        cls.other = cls.env["product.product"].create(
            {"name": "Unbound", "type": "consu", "is_storable": True}
        )
        cls.location = (
            cls.env["stock.warehouse"]
            .search([("company_id", "=", cls.company.id)], limit=1)
            .lot_stock_id
        )

    def give_stock_verbs(self, ready=True):
        """The reference channel takes stock: the bound products' on-hand
        quantity by SKU."""
        backends = type(self.env["distribution.sync.backend"])

        def stock_bindings(backend):
            return self.bindings.sudo().search(
                [
                    ("backend_id", "=", backend.id),
                    ("res_model", "=", "product.product"),
                ]
            )

        def stock_quantities(backend, bindings):
            products = self.env["product.product"].browse(bindings.mapped("res_id"))
            return [
                {"sku": product.default_code, "quantity": product.qty_available}
                for product in products.sorted("id")
            ]

        for name, method in (
            ("_generic_stock_bindings", stock_bindings),
            ("_generic_stock_quantities", stock_quantities),
            ("_generic_stock_ready", lambda backend: ready),
        ):
            patcher = mock.patch.object(backends, name, method, create=True)
            patcher.start()
            self.addCleanup(patcher.stop)

    def set_stock(self, product, quantity):
        """Count ``quantity`` of ``product`` (a done move)."""
        self.env["stock.quant"].with_context(inventory_mode=True).create(
            {
                "product_id": product.id,
                "location_id": self.location.id,
                "inventory_quantity": quantity,
            }
        ).action_apply_inventory()

    def stock_jobs(self, trap):
        """The pending stock jobs of the test's backend."""
        return [
            job
            for job in trap.enqueued_jobs
            if job.method_name == "_push_stock_job" and job.recordset == self.backend
        ]

    def outbound(self):
        return self.messages.search(
            [
                ("backend_id", "=", self.backend.id),
                ("direction", "=", "outbound"),
                ("topic", "=", "inventory/set"),
            ]
        )

    def push(self, trap):
        """Run the pending stock jobs (not the sends they queue: the reference
        channel has no server here)."""
        for job in self.stock_jobs(trap):
            trap.enqueued_jobs.remove(job)
            job.perform()

    # ----------------------------------------------------------------- tests
    def test_channel_without_stock_verbs_gets_no_push(self):
        self.bindings._bind(self.backend, self.product, "ITEM-1")
        with trap_jobs() as trap:
            self.set_stock(self.product, 4)
            self.assertFalse(self.stock_jobs(trap))
        self.assertIn("takes no stock", self.backend._push_stock_job(full=True))
        self.assertFalse(self.outbound())

    def test_moves_of_a_minute_make_one_job_and_one_message(self):
        self.give_stock_verbs()
        self.bindings._bind(self.backend, self.product, "ITEM-1")
        with trap_jobs() as trap:
            self.set_stock(self.product, 3)
            self.set_stock(self.other, 8)
            self.set_stock(self.product, 5)
            jobs = self.stock_jobs(trap)
            self.assertEqual(len(jobs), 1, "one pending job for the minute")
            self.assertTrue(jobs[0].eta)
            self.assertEqual(
                jobs[0].identity_key, f"distribution_sync:stock:{self.backend.id}"
            )
            self.push(trap)
            message = self.outbound()
            self.assertEqual(len(message), 1)
            # The message's send job is queued (other backends of a demo
            # database may queue their own stock pushes meanwhile).
            sends = [
                job
                for job in trap.enqueued_jobs
                if job.method_name == "_send_job" and job.recordset == message
            ]
            self.assertEqual(len(sends), 1)
        self.assertEqual(
            json.loads(message.payload), [{"sku": "DS-TEST-1", "quantity": 5.0}]
        )
        self.assertEqual(message.work_key, f"generic:stock:{self.backend.id}")
        self.assertTrue(self.backend.stock_checkpoint)

    def test_only_products_moved_since_the_checkpoint(self):
        self.give_stock_verbs()
        self.bindings._bind(self.backend, self.product, "ITEM-1")
        self.bindings._bind(self.backend, self.other, "ITEM-2")
        self.set_stock(self.other, 2)
        # That move is older than the last push (and its overlap).
        now = fields.Datetime.now()
        self.env["stock.move"].search([("product_id", "=", self.other.id)]).write(
            {"date": now - timedelta(hours=1)}
        )
        self.backend.sudo().stock_checkpoint = now - timedelta(minutes=1)
        with trap_jobs() as trap:
            self.set_stock(self.product, 6)
            self.push(trap)
        self.assertEqual(
            json.loads(self.outbound().payload),
            [{"sku": "DS-TEST-1", "quantity": 6.0}],
            "the product moved before the checkpoint is not pushed again",
        )

    def test_same_quantities_make_no_new_message(self):
        self.give_stock_verbs()
        self.bindings._bind(self.backend, self.product, "ITEM-1")
        self.set_stock(self.product, 3)
        with trap_jobs():
            self.backend._push_stock_job(full=True)
            self.backend._push_stock_job(full=True)
        self.assertEqual(len(self.outbound()), 1)
        self.set_stock(self.product, 4)
        with trap_jobs():
            self.backend._push_stock_job(full=True)
        self.set_stock(self.product, 3)
        with trap_jobs():
            self.backend._push_stock_job(full=True)
        # Back to the first quantities: pushed again.
        self.assertEqual(len(self.outbound()), 3)

    def test_channel_not_ready_or_owning_the_stock_queues_nothing(self):
        self.give_stock_verbs(ready=False)
        self.bindings._bind(self.backend, self.product, "ITEM-1")
        with trap_jobs() as trap:
            self.set_stock(self.product, 4)
            self.assertFalse(self.stock_jobs(trap))
        patcher = mock.patch.object(
            type(self.backend), "_generic_stock_ready", lambda backend: True
        )
        patcher.start()
        self.addCleanup(patcher.stop)
        self.backend.ownership_ids.filtered(
            lambda r: r.entity == "stock"
        ).owner = "channel"
        with trap_jobs() as trap:
            self.set_stock(self.product, 5)
            self.assertFalse(self.stock_jobs(trap))
        self.assertIn("owns the stock", self.backend._push_stock_job(full=True))
        self.assertFalse(self.outbound())

    def test_checkpoint_is_written_by_the_sync_only(self):
        manager = self.env.ref("base.user_admin")
        self.assertTrue(
            manager.has_group("distribution_sync.group_distribution_sync_manager")
        )
        with self.assertRaises(AccessError) as caught:
            self.backend.with_user(manager).stock_checkpoint = "2030-01-01 00:00:00"
        self.assertIn("stock_checkpoint", str(caught.exception))
