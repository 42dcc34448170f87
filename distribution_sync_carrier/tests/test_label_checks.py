# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CarrierCase


@tagged("post_install", "-at_install")
class TestNeverTwoLabels(CarrierCase):
    """Lost answers, slow answers, carrier errors and retried jobs never buy
    a second label for one parcel."""

    def created(self, order=None):
        """A validated delivery whose shipment is created (not bought yet)."""
        picking = self.validate(self.delivery_of(order or self.sell()))
        create = self.carrier_messages(picking, topic="shipment/create")
        self.process(create)
        self.assertEqual(create.state, "done", create.last_error)
        return picking, self.carrier_messages(picking, topic="shipment/buy")

    def test_slow_buy_answer_buys_nothing_more(self):
        picking, buy = self.created()
        self.carrier_backend.request_timeout = 1
        self.patch_fake(slow_seconds=1.5)
        self.fake.fail_next("buy", "slow")
        with self.short_timeouts():
            self.process(buy)
        self.assertEqual(buy.state, "queued")
        self.assertFalse(picking.carrier_tracking_ref)
        shipment = picking.distribution_sync_shipment_ids
        self.assertEqual(shipment.state, "created")
        self.assertEqual(self.fake.buys[shipment.external_id], 1, "bought, unheard")
        self.process(buy)
        self.assertEqual(buy.state, "done", buy.last_error)
        self.assertEqual(self.fake.buys[shipment.external_id], 1)
        self.assertEqual(self.fake_count("buy"), 1, "read back, not bought again")
        self.assertEqual(shipment.state, "bought")
        self.assertEqual(picking.carrier_tracking_ref, shipment.tracking_code)
        self.assertEqual(len(self.labels(picking)), 1)

    def test_lost_create_answer_buys_one_label(self):
        order = self.sell()
        picking = self.validate(self.delivery_of(order))
        create = self.carrier_messages(picking, topic="shipment/create")
        self.fake.fail_next("create_shipment", "drop")
        self.process(create)
        self.assertEqual(create.state, "queued")
        self.assertFalse(picking.distribution_sync_shipment_ids)
        self.run_carrier_jobs(picking)
        self.assertEqual(create.state, "done", create.last_error)
        # The carrier made two shipments; Odoo knows one and buys it only.
        created_ids = [
            shipment_id
            for shipment_id, shipment in self.fake.shipments.items()
            if shipment["reference"] and shipment["reference"].startswith(picking.name)
        ]
        self.assertEqual(len(created_ids), 2)
        self.assertEqual(sum(self.fake.buys.get(i, 0) for i in created_ids), 1)
        shipment = picking.distribution_sync_shipment_ids
        self.assertEqual(len(shipment), 1)
        self.assertEqual(shipment.state, "bought")
        self.assertEqual(self.fake.buys[shipment.external_id], 1)

    def test_jobs_run_again_after_success_buy_nothing(self):
        picking = self.ship_and_label()
        shipment = picking.distribution_sync_shipment_ids
        reference = picking.carrier_tracking_ref
        create = self.carrier_messages(picking, topic="shipment/create")
        buy = self.carrier_messages(picking, topic="shipment/buy")
        mark = len(self.fake.requests)
        # The job runner runs a job again: a finished message is left alone.
        self.assertTrue(buy._job().startswith("Nothing to do"))
        self.assertTrue(create._job().startswith("Nothing to do"))
        # A forced re-run reads what exists and buys nothing.
        self.process(create)
        self.process(buy)
        self.assertEqual(buy.state, "done", buy.last_error)
        operations = {r["operation"] for r in self.fake.requests[mark:]}
        self.assertFalse(operations & {"create_shipment", "buy"}, operations)
        self.assertEqual(self.fake.buys[shipment.external_id], 1)
        self.assertEqual(picking.distribution_sync_shipment_ids, shipment)
        self.assertEqual(picking.carrier_tracking_ref, reference)
        self.assertEqual(len(self.labels(picking)), 1)
        # A delivered outbound message is not replayed.
        with self.assertRaises(UserError):
            buy.action_replay()

    def test_carrier_server_error_is_retried(self):
        picking, buy = self.created()
        self.fake.fail_next("buy", 500)
        self.process(buy)
        self.assertEqual(buy.state, "queued")
        self.assertEqual(buy.attempt_count, 1)
        self.assertIn("500", buy.last_error)
        self.assertTrue(buy.next_retry_at)
        self.assertFalse(self.open_exceptions(picking))
        self.process(buy)
        self.assertEqual(buy.state, "done", buy.last_error)
        shipment = picking.distribution_sync_shipment_ids
        self.assertEqual(self.fake.buys[shipment.external_id], 1)
        self.assertEqual(picking.carrier_tracking_ref, shipment.tracking_code)

    def test_rate_limit_waits_as_long_as_asked(self):
        picking, buy = self.created()
        self.fake.fail_next("buy", 429, retry_after=3600)
        before = fields.Datetime.now()
        self.process(buy)
        self.assertEqual(buy.state, "queued")
        self.assertGreaterEqual(buy.next_retry_at, before + timedelta(seconds=3600))
        self.assertEqual(
            self.fake.buys.get(picking.distribution_sync_shipment_ids.external_id, 0), 0
        )
        self.process(buy)
        self.assertEqual(buy.state, "done", buy.last_error)

    def test_label_download_failure_buys_nothing_more(self):
        picking, buy = self.created()
        self.fake.fail_next("label", 503)
        self.process(buy)
        self.assertEqual(buy.state, "queued")
        shipment = picking.distribution_sync_shipment_ids
        self.assertEqual(self.fake.buys[shipment.external_id], 1)
        self.process(buy)
        self.assertEqual(buy.state, "done", buy.last_error)
        self.assertEqual(self.fake.buys[shipment.external_id], 1)
        self.assertEqual(self.fake_count("buy"), 1)
        self.assertTrue(shipment.label_attachment_id.raw.startswith(b"%PDF"))


@tagged("post_install", "-at_install")
class TestChecksBeforeBuying(CarrierCase):
    """What a person must fix is a ``validation`` exception on the delivery
    before anything is created or bought at the carrier; once fixed, a retry
    buys the label."""

    def blocked(self, order, state="blocked"):
        picking = self.validate(self.delivery_of(order))
        create = self.carrier_messages(picking, topic="shipment/create")
        self.process(create)
        self.assertEqual(create.state, state, create.last_error)
        self.assertFalse(self.carrier_messages(picking, topic="shipment/buy"))
        self.assertFalse(picking.distribution_sync_shipment_ids)
        self.assertEqual(self.fake_count("buy"), 0)
        exception = self.open_exceptions(picking, "validation")
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.message_id, create)
        return picking, create, exception

    def test_missing_weight_blocks_before_anything_is_created(self):
        feather = self.weighed_product("Feather", weight=0.0)
        picking, create, exception = self.blocked(self.sell(product=feather))
        self.assertEqual(self.fake_count("create_shipment"), 0)
        self.assertEqual(
            (exception.res_model, exception.res_id), (picking._name, picking.id)
        )
        self.assertIn("no weight", exception.name)
        self.assertIn(picking.name, exception.name)
        # Fixed, then retried from the exception inbox.
        feather.weight = 0.4
        exception.action_retry()
        self.assertEqual(create.state, "done", create.last_error)
        self.assertEqual(exception.state, "resolved")
        self.run_carrier_jobs(picking)
        shipment = picking.distribution_sync_shipment_ids
        self.assertEqual(shipment.state, "bought")
        self.assertAlmostEqual(shipment.weight_kg, 0.8)
        self.assertEqual(self.fake_count("buy"), 1)

    def test_address_without_zip_blocks_until_fixed(self):
        customer = self.make_customer(zip=False)
        picking, create, exception = self.blocked(self.sell(partner=customer))
        self.assertEqual(self.fake_count("create_shipment"), 0)
        self.assertIn("ZIP", exception.name)
        self.assertIn("delivery address", exception.name)
        customer.zip = "90277"
        create.action_retry()
        self.assertEqual(create.state, "done", create.last_error)
        self.assertEqual(exception.state, "resolved")
        self.run_carrier_jobs(picking)
        self.assertTrue(picking.carrier_tracking_ref)
        self.assertEqual(self.fake_count("buy"), 1)

    def test_address_without_street_blocks(self):
        customer = self.make_customer(street=False)
        _picking, _create, exception = self.blocked(self.sell(partner=customer))
        self.assertIn("street", exception.name)
        self.assertEqual(self.fake_count("create_shipment"), 0)

    def test_warehouse_without_city_blocks(self):
        self.warehouse.partner_id.city = False
        _picking, _create, exception = self.blocked(self.sell())
        self.assertIn("sender address", exception.name)
        self.assertIn("city", exception.name)
        self.assertEqual(self.fake_count("create_shipment"), 0)

    def test_address_the_carrier_cannot_verify(self):
        customer = self.make_customer(zip="00000")
        picking, create, exception = self.blocked(
            self.sell(partner=customer), state="error"
        )
        refused = self.fake_requests("create_shipment")
        self.assertEqual([r["status"] for r in refused], [422])
        self.assertEqual(exception.res_id, picking.id)
        self.assertIn("zip", exception.name)
        self.assertIn("Invalid ZIP code 00000", exception.name)
        customer.zip = "90277"
        exception.action_retry()
        self.assertEqual(create.state, "done", create.last_error)
        self.run_carrier_jobs(picking)
        self.assertEqual(self.fake_count("buy"), 1)

    def test_service_not_offered_lists_the_offered_rates(self):
        method = self.make_method("FedEx/Overnight")
        _picking, _create, exception = self.blocked(self.sell(carrier=method))
        self.assertIn("FedEx/Overnight", exception.name)
        for offered in ("USPS/Priority (7.58 USD)", "UPS/Ground (9.10 USD)"):
            self.assertIn(offered, exception.name)

    def test_method_without_service(self):
        method = self.make_method("UPS/Ground")
        method.distribution_sync_service = False
        _picking, _create, exception = self.blocked(self.sell(carrier=method))
        self.assertIn("names no carrier service", exception.name)
        self.assertEqual(self.fake_requests(), [])
