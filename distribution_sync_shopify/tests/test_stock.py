# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import functools
import json
from datetime import timedelta
from unittest import mock

from odoo import fields

from odoo.addons.queue_job.tests.common import trap_jobs

from ..core.client import ShopifyClient
from .common import SHOPIFY_TOKEN, ShopifyCase
from .fake_shopify import FakeShopify

BACKEND_MODULE = (
    "odoo.addons.distribution_sync_shopify.models.distribution_sync_backend"
)
LOCATION_ID = "77001"
LOCATION_GID = f"gid://shopify/Location/{LOCATION_ID}"
KETTLE_ITEM = "43000000000001"
MUG_ITEM = "43000000000002"


def item_gid(item_id):
    return f"gid://shopify/InventoryItem/{item_id}"


class TestShopifyStock(ShopifyCase):
    """Available stock goes to Shopify per mapped location, one debounced job
    and one outbound message at a time."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.env.company.id)], limit=1
        )
        cls.kettle = cls.products.filtered(lambda p: p.default_code == "DS-KETTLE")
        cls.mug = cls.products.filtered(lambda p: p.default_code == "DS-MUG")
        cls.widget = cls.products.filtered(lambda p: p.default_code == "DS-WIDGET")
        (cls.kettle | cls.mug | cls.widget).write({"is_storable": True})
        cls.env["distribution.sync.shopify.location"].create(
            {
                "backend_id": cls.shop.id,
                "shopify_location_id": LOCATION_ID,
                "name": "Main store",
                "warehouse_id": cls.warehouse.id,
            }
        )

    def setUp(self):
        super().setUp()
        self.fake = FakeShopify(access_token=SHOPIFY_TOKEN, api_version="2025-07")
        self.addCleanup(self.fake.stop)
        self.shop.api_url = self.fake.url
        # No real waiting between retries in tests.
        patcher = mock.patch(
            f"{BACKEND_MODULE}.ShopifyClient",
            functools.partial(ShopifyClient, sleep=lambda seconds: None),
        )
        patcher.start()
        self.addCleanup(patcher.stop)

    # --------------------------------------------------------------- helpers
    def bind(self, product, item_id):
        return self.bindings._bind(self.shop, product, item_gid(item_id))

    def set_stock(self, product, quantity):
        """Count ``quantity`` of ``product`` in the warehouse (a done move)."""
        quant = (
            self.env["stock.quant"]
            .with_context(inventory_mode=True)
            .create(
                {
                    "product_id": product.id,
                    "location_id": self.warehouse.lot_stock_id.id,
                    "inventory_quantity": quantity,
                }
            )
        )
        quant.action_apply_inventory()

    @staticmethod
    def perform_all(trap):
        """Perform the queued jobs and those they queue (the stock job queues
        the message's send job)."""
        while trap.enqueued_jobs:
            trap.perform_enqueued_jobs()

    def outbound(self):
        return self.messages.search(
            [
                ("backend_id", "=", self.shop.id),
                ("direction", "=", "outbound"),
                ("topic", "=", "inventory/set"),
            ]
        )

    def stock_jobs(self, trap):
        return [
            job for job in trap.enqueued_jobs if job.method_name == "_push_stock_job"
        ]

    def product_update(self, variants):
        return {
            "id": 9100000000001,
            "admin_graphql_api_id": "gid://shopify/Product/9100000000001",
            "title": "Kitchen set",
            "variants": variants,
        }

    # ----------------------------------------------------------------- tests
    def test_product_update_binds_inventory_items_by_sku(self):
        message = self.receive(
            "products/update",
            self.product_update(
                [
                    {
                        "id": 1,
                        "sku": "DS-KETTLE",
                        "inventory_item_id": int(KETTLE_ITEM),
                    },
                    {"id": 2, "sku": "DS-MUG", "inventory_item_id": MUG_ITEM},
                    {"id": 3, "sku": "NO-SUCH-SKU", "inventory_item_id": 5},
                    {"id": 4, "sku": "", "inventory_item_id": 6},
                ]
            ),
        )
        self.assertEqual(message.state, "done", message.last_error)
        self.assertIn("DS-KETTLE", message.result_summary)
        self.assertIn("NO-SUCH-SKU", message.result_summary)
        self.assertFalse(self.open_exceptions(message=message))
        self.assertEqual(
            self.bindings._find_record(
                self.shop, "product.product", item_gid(KETTLE_ITEM)
            ),
            self.kettle,
        )
        self.assertEqual(
            self.bindings._find_record(
                self.shop, "product.product", item_gid(MUG_ITEM)
            ),
            self.mug,
        )
        # The binding says which SKU it was learnt from.
        binding = self.bindings._find(self.shop, "product.product", item_gid(MUG_ITEM))
        self.assertEqual(binding.external_name, "DS-MUG")
        # The product itself is not changed.
        self.assertEqual(self.kettle.name, "Enamel kettle")

    def test_inventory_item_follows_its_sku_to_another_variant(self):
        self.bind(self.kettle, KETTLE_ITEM)
        # The SKU of that inventory item is now the mug's: no retry for ever,
        # the item is bound to the mug.
        self.mug.default_code = "DS-KETTLE-NEW"
        message = self.receive(
            "products/update",
            self.product_update(
                [
                    {
                        "id": 1,
                        "sku": "DS-KETTLE-NEW",
                        "inventory_item_id": int(KETTLE_ITEM),
                    }
                ]
            ),
        )
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(
            self.bindings._find_record(
                self.shop, "product.product", item_gid(KETTLE_ITEM)
            ),
            self.mug,
        )
        self.assertFalse(self.bindings._for_record(self.shop, self.kettle))

    def test_moves_queue_one_job_that_pushes_once(self):
        self.bind(self.kettle, KETTLE_ITEM)
        with trap_jobs() as trap:
            self.set_stock(self.kettle, 7.6)
            self.set_stock(self.widget, 3)
            self.set_stock(self.kettle, 5.4)
            jobs = self.stock_jobs(trap)
            self.assertEqual(len(jobs), 1, "one pending job for the minute")
            self.assertTrue(jobs[0].eta)
            self.perform_all(trap)
        message = self.outbound()
        self.assertEqual(len(message), 1)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertIn("1 quantities set", message.result_summary)
        self.assertEqual(
            json.loads(message.payload),
            [
                {
                    "inventoryItemId": item_gid(KETTLE_ITEM),
                    "locationId": LOCATION_ID,
                    "quantity": 5,
                }
            ],
        )
        self.assertEqual(len(self.fake.inventory_calls), 1)
        self.assertEqual(
            self.fake.inventory, {(item_gid(KETTLE_ITEM), LOCATION_GID): 5}
        )
        self.assertTrue(self.shop.stock_checkpoint)

    def test_move_committed_after_the_last_run_is_pushed(self):
        self.bind(self.kettle, KETTLE_ITEM)
        with trap_jobs() as trap:
            self.set_stock(self.kettle, 9)
            # The last run started after the move was dated, but before its
            # transaction committed: it did not see it.
            self.shop.stock_checkpoint = fields.Datetime.now() + timedelta(minutes=1)
            self.perform_all(trap)
        message = self.outbound()
        self.assertEqual(len(message), 1)
        self.assertEqual(json.loads(message.payload)[0]["quantity"], 9)

    def test_unbound_product_is_not_pushed(self):
        with trap_jobs() as trap:
            self.set_stock(self.widget, 3)
            self.perform_all(trap)
        self.assertFalse(self.outbound())
        self.assertFalse(self.fake.inventory_calls)

    def test_channel_owned_stock_queues_nothing(self):
        self.bind(self.kettle, KETTLE_ITEM)
        self.shop.ownership_ids.filtered(
            lambda r: r.entity == "stock"
        ).owner = "channel"
        with trap_jobs() as trap:
            self.set_stock(self.kettle, 4)
            self.assertFalse(self.stock_jobs(trap))
        self.assertFalse(self.outbound())

    def test_no_location_queues_nothing(self):
        self.bind(self.kettle, KETTLE_ITEM)
        self.shop.shopify_location_ids.active = False
        with trap_jobs() as trap:
            self.set_stock(self.kettle, 4)
            self.assertFalse(self.stock_jobs(trap))

    def test_quantities_are_batched_by_the_client(self):
        products = self.env["product.product"].create(
            [
                {"name": f"Bulk {index}", "type": "consu", "is_storable": True}
                for index in range(600)
            ]
        )
        self.bindings.sudo().create(
            [
                {
                    "backend_id": self.shop.id,
                    "res_model": "product.product",
                    "res_id": product.id,
                    "external_id": item_gid(50000 + index),
                }
                for index, product in enumerate(products)
            ]
        )
        self.shop.stock_checkpoint = "2026-01-01 00:00:00"
        with trap_jobs() as trap:
            self.shop.action_shopify_push_stock()
            self.perform_all(trap)
        message = self.outbound()
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(len(json.loads(message.payload)), 600)
        self.assertEqual(len(self.fake.inventory_calls), 3)
        self.assertEqual(len(self.fake.inventory), 600)

    def test_user_error_is_an_exception(self):
        self.bind(self.kettle, KETTLE_ITEM)
        self.fake.fail_next_with_user_errors(
            [{"field": ["input", "quantities", "0"], "message": "Item not stocked"}]
        )
        with trap_jobs() as trap:
            self.set_stock(self.kettle, 2)
            self.perform_all(trap)
        message = self.outbound()
        self.assertEqual(message.state, "error")
        self.assertIn("Item not stocked", message.last_error)
        exception = self.open_exceptions(message=message)
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.category, "validation")

    def test_same_quantities_make_one_message(self):
        self.bind(self.kettle, KETTLE_ITEM)
        self.set_stock(self.kettle, 3)
        with trap_jobs() as trap:
            self.shop.action_shopify_push_stock()
            self.shop.action_shopify_push_stock()
            self.perform_all(trap)
        message = self.outbound()
        self.assertEqual(len(message), 1)
        self.assertEqual(len(self.fake.inventory_calls), 1)
        # Other quantities, then the first ones again: both are pushed.
        self.set_stock(self.kettle, 4)
        with trap_jobs() as trap:
            self.shop.action_shopify_push_stock()
            self.set_stock(self.kettle, 3)
            self.shop.action_shopify_push_stock()
            self.perform_all(trap)
        self.assertEqual(len(self.outbound()), 3)
        self.assertEqual(
            self.fake.inventory, {(item_gid(KETTLE_ITEM), LOCATION_GID): 3}
        )

    def test_negative_free_quantity_is_zero(self):
        self.bind(self.kettle, KETTLE_ITEM)
        self.env["stock.quant"]._update_available_quantity(
            self.kettle, self.warehouse.lot_stock_id, -4
        )
        with trap_jobs() as trap:
            self.shop.action_shopify_push_stock()
            self.perform_all(trap)
        self.assertEqual(
            self.fake.inventory, {(item_gid(KETTLE_ITEM), LOCATION_GID): 0}
        )

    # ------------------------------------------------------------- ordering
    def send(self, message):
        """Run the send job of ``message`` as queue_job would."""
        return (
            message.with_user(self.shop.user_id)
            .with_company(self.shop.company_id)
            ._send_job()
        )

    def test_older_push_retried_after_newer_never_sets_old_quantities(self):
        self.bind(self.kettle, KETTLE_ITEM)
        self.set_stock(self.kettle, 5)
        with trap_jobs():
            self.shop.action_shopify_push_stock()
        older = self.outbound()
        # Shopify unreachable for that push: it waits for its retry.
        self.fake.fail_next(status=503, times=20)
        self.send(older)
        self.assertEqual(older.state, "queued", older.last_error)
        self.fake.clear_failures()
        self.set_stock(self.kettle, 8)
        with trap_jobs():
            self.shop.action_shopify_push_stock()
        newer = self.outbound() - older
        self.send(newer)
        self.assertEqual(newer.state, "done", newer.last_error)
        calls = len(self.fake.inventory_calls)
        # The late retry of the older push must not put 5 back.
        with trap_jobs() as trap:
            self.send(older)
            trap.assert_jobs_count(0)
        self.assertEqual(older.state, "skipped", older.last_error)
        self.assertIn(f"newer stock push {newer.id}", older.result_summary)
        self.assertEqual(len(self.fake.inventory_calls), calls)
        self.assertEqual(
            self.fake.inventory, {(item_gid(KETTLE_ITEM), LOCATION_GID): 8}
        )
        self.assertEqual(self.outbound(), older | newer)

    def test_superseded_push_queues_current_quantities(self):
        """A failed push retried by hand after a newer push, while the stock
        moved again since: the current quantity is what Shopify gets."""
        self.bind(self.kettle, KETTLE_ITEM)
        self.bind(self.mug, MUG_ITEM)
        self.set_stock(self.kettle, 5)
        self.set_stock(self.mug, 2)
        self.fake.fail_next_with_user_errors(
            [{"field": ["input", "quantities", "0"], "message": "Item not stocked"}]
        )
        with trap_jobs() as trap:
            self.shop.action_shopify_push_stock()
            self.perform_all(trap)
        older = self.outbound()
        self.assertEqual(older.state, "error")
        exception = self.open_exceptions(message=older)
        self.assertEqual(len(exception), 1)
        self.set_stock(self.kettle, 9)
        with trap_jobs() as trap:
            self.shop.action_shopify_push_stock()
            self.perform_all(trap)
        newer = self.outbound() - older
        self.assertEqual(newer.state, "done", newer.last_error)
        # Moved again; its own push has not run yet when someone retries.
        self.set_stock(self.mug, 4)
        with trap_jobs() as trap:
            older.action_retry()
            self.assertEqual(older.state, "skipped", older.last_error)
            fresh = self.outbound() - older - newer
            self.assertEqual(len(fresh), 1)
            self.assertIn(str(fresh.id), older.result_summary)
            self.perform_all(trap)
        self.assertEqual(
            sorted(
                (row["inventoryItemId"], row["quantity"])
                for row in json.loads(fresh.payload)
            ),
            [(item_gid(KETTLE_ITEM), 9), (item_gid(MUG_ITEM), 4)],
        )
        self.assertEqual(fresh.state, "done", fresh.last_error)
        self.assertEqual(
            self.fake.inventory,
            {
                (item_gid(KETTLE_ITEM), LOCATION_GID): 9,
                (item_gid(MUG_ITEM), LOCATION_GID): 4,
            },
        )
        # Skipping ends the work of the failed push: its exception closes.
        self.assertEqual(exception.state, "resolved")
