# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import json

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from ..models.distribution_sync_backend_demo import SAMPLE_CODES, SAMPLES_DIR
from .common import CarrierCase


@tagged("post_install", "-at_install")
class TestDemoSamples(CarrierCase):
    """The sandbox action that shows a new user a delivered and a returned
    delivery, through the normal intake."""

    def sample_pickings(self):
        return self.env["stock.picking"].search(
            [
                ("carrier_id", "=", self.delivery_method.id),
                ("carrier_tracking_ref", "in", list(SAMPLE_CODES)),
            ],
            order="id",
        )

    def inbound(self):
        return self.messages.search(
            [
                ("backend_id", "=", self.carrier_backend.id),
                ("direction", "=", "inbound"),
            ],
            order="id",
        )

    def delivery_problems(self, picking):
        return self.exceptions.search(
            [
                ("category", "=", "delivery"),
                ("state", "=", "open"),
                ("res_model", "=", "stock.picking"),
                ("res_id", "=", picking.id),
            ]
        )

    def test_samples_show_a_delivered_and_a_returned_delivery(self):
        calls = len(self.fake.requests)
        with trap_jobs() as trap:
            action = self.carrier_backend.action_carrier_load_samples()
            trap.assert_jobs_count(2)
        pickings = self.sample_pickings()
        delivered, returned = (
            pickings.filtered(lambda p, c=code: p.carrier_tracking_ref == c)
            for code in SAMPLE_CODES
        )
        self.assertEqual((len(delivered), len(returned)), (1, 1))
        for picking in pickings:
            self.assertEqual(picking.state, "done")
            self.assertEqual(picking.picking_type_code, "outgoing")
            partner = picking.partner_id
            self.assertEqual(partner.country_id, self.env.ref("base.us"))
            self.assertTrue(partner.street and partner.city and partner.zip)
            self.assertTrue(partner.state_id)
            product = picking.move_ids.product_id
            self.assertTrue(product.is_storable)
            self.assertGreater(product.weight, 0)
        # Nothing asked of EasyPost: no label bought, no tracker registered.
        self.assertEqual(len(self.fake.requests), calls)
        self.assertFalse(
            self.messages.search(
                [
                    ("backend_id", "=", self.carrier_backend.id),
                    ("direction", "=", "outbound"),
                ]
            )
        )
        loaded = self.inbound()
        self.assertEqual(len(loaded), 2)
        self.assertEqual(set(loaded.mapped("state")), {"queued"})
        self.assertEqual(self.messages.search(action["domain"]), loaded)
        for message in loaded:
            self.process(message)
            self.assertEqual(message.state, "done", message.last_error)

        self.assertEqual(delivered.distribution_sync_tracking_status, "delivered")
        body = json.loads(
            (SAMPLES_DIR / "tracker-updated__ez4000000004_delivered.json").read_bytes()
        )
        self.assertEqual(
            len(delivered.distribution_sync_tracking_event_ids),
            len(body["result"]["tracking_details"]),
        )
        self.assertFalse(self.delivery_problems(delivered))

        self.assertEqual(returned.distribution_sync_tracking_status, "returned")
        self.assertTrue(returned.distribution_sync_tracking_event_ids)
        problem = self.delivery_problems(returned)
        self.assertEqual(len(problem), 1)
        self.assertIn("ADDRESSEE UNKNOWN", problem.name)
        self.assertEqual(
            problem.activity_ids.user_id, self.carrier_backend.responsible_user_id
        )

    def test_second_load_adds_nothing(self):
        self.carrier_backend.action_carrier_load_samples()
        pickings, loaded = self.sample_pickings(), self.inbound()
        self.assertEqual((len(pickings), len(loaded)), (2, 2))
        with trap_jobs() as trap:
            self.carrier_backend.action_carrier_load_samples()
            trap.assert_jobs_count(0)
        self.assertEqual(self.sample_pickings(), pickings)
        self.assertEqual(self.inbound(), loaded)

    def test_a_sync_manager_loads_them_a_sync_user_may_not(self):
        manager = new_test_user(
            self.env,
            login="carrier_demo_manager",
            groups="base.group_user,distribution_sync.group_distribution_sync_manager",
        )
        with trap_jobs() as trap, self.assertRaises(AccessError):
            self.carrier_backend.with_user(self.sync_user).action_carrier_load_samples()
        trap.assert_jobs_count(0)
        self.assertFalse(self.sample_pickings())
        with trap_jobs() as trap:
            self.carrier_backend.with_user(manager).action_carrier_load_samples()
            trap.assert_jobs_count(2)
        self.assertEqual(len(self.sample_pickings()), 2)

    def test_refused_outside_an_easypost_sandbox(self):
        self.carrier_backend.environment = "production"
        with trap_jobs() as trap, self.assertRaises(UserError):
            self.carrier_backend.action_carrier_load_samples()
        trap.assert_jobs_count(0)
        self.assertFalse(self.sample_pickings())
        self.assertFalse(self.inbound())
