# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import EASYPOST_KEY, CarrierCase


@tagged("post_install", "-at_install")
class TestCarrierSecurity(CarrierCase):
    """Warehouse people read the shipments and scans of their companies;
    only the synchronisation writes them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clerk = new_test_user(
            cls.env, login="stock_clerk", groups="stock.group_stock_user"
        )
        cls.other_company = cls.env["res.company"].create({"name": "Other Co"})
        cls.other_backend = cls.env["distribution.sync.backend"].create(
            {
                "name": "EasyPost other company",
                "backend_type": "easypost",
                "api_url": cls.fake.url,
                "easypost_api_key": EASYPOST_KEY,
                "company_id": cls.other_company.id,
            }
        )

    def setUp(self):
        super().setUp()
        self.picking = self.ship_and_label()
        tracker = self.tracker(self.picking)
        self.fake.advance(tracker, "in_transit", "Departed", when=self.later(1))
        self.receive_tracker_event(tracker)
        self.shipment = self.picking.distribution_sync_shipment_ids
        self.scan = self.picking.distribution_sync_tracking_event_ids[0]

    def other_company_rows(self):
        """A delivery of the other company with a shipment and a scan."""
        company = self.other_company
        picking_type = self.env["stock.picking.type"].search(
            [("company_id", "=", company.id), ("code", "=", "outgoing")], limit=1
        )
        picking = (
            self.env["stock.picking"]
            .with_company(company)
            .create(
                {
                    "picking_type_id": picking_type.id,
                    "partner_id": self.customer.id,
                    "company_id": company.id,
                }
            )
        )
        shipment = self.env["distribution.sync.shipment"].create(
            {
                "backend_id": self.other_backend.id,
                "picking_id": picking.id,
                "parcel_key": "picking",
                "external_id": "shp_othercompany0001",
                "state": "bought",
                "tracking_code": "EZ9000000001",
            }
        )
        scan = self.env["distribution.sync.tracking.event"].create(
            {
                "picking_id": picking.id,
                "backend_id": self.other_backend.id,
                "status": "in_transit",
                "event_time": "2026-01-10 10:00:00",
                "scan_key": "other-company-scan",
            }
        )
        return picking, shipment, scan

    def test_stock_user_reads_shipments_and_scans(self):
        picking = self.picking.with_user(self.clerk)
        shipment = picking.distribution_sync_shipment_ids
        self.assertEqual(shipment.id, self.shipment.id)
        self.assertEqual(shipment.tracking_code, picking.carrier_tracking_ref)
        self.assertAlmostEqual(shipment.charged_amount, 9.11)
        self.assertTrue(shipment.label_attachment_id.name)
        self.assertEqual(picking.distribution_sync_tracking_status, "in_transit")
        self.assertEqual(
            picking.distribution_sync_tracking_event_ids.ids,
            self.picking.distribution_sync_tracking_event_ids.ids,
        )

    @mute_logger("odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_stock_user_cannot_change_shipments_or_scans(self):
        shipment = self.shipment.with_user(self.clerk)
        with self.assertRaises(AccessError):
            shipment.write({"state": "refunded"})
        with self.assertRaises(AccessError):
            shipment.unlink()
        with self.assertRaises(AccessError):
            self.env["distribution.sync.shipment"].with_user(self.clerk).create(
                {
                    "backend_id": self.carrier_backend.id,
                    "picking_id": self.picking.id,
                    "parcel_key": "forged",
                    "external_id": "shp_forged",
                }
            )
        with self.assertRaises(AccessError):
            self.scan.with_user(self.clerk).write({"status": "delivered"})
        with self.assertRaises(AccessError):
            self.env["distribution.sync.tracking.event"].with_user(self.clerk).create(
                {
                    "picking_id": self.picking.id,
                    "status": "delivered",
                    "event_time": "2026-01-10 10:00:00",
                    "scan_key": "forged",
                }
            )
        self.assertEqual(self.shipment.state, "bought")

    @mute_logger("odoo.addons.base.models.ir_rule")
    def test_other_company_rows_are_hidden(self):
        _picking, shipment, scan = self.other_company_rows()
        shipments = self.env["distribution.sync.shipment"].with_user(self.clerk)
        scans = self.env["distribution.sync.tracking.event"].with_user(self.clerk)
        self.assertIn(self.shipment, shipments.search([]))
        self.assertNotIn(shipment, shipments.search([]))
        self.assertNotIn(scan, scans.search([]))
        with self.assertRaises(AccessError):
            shipments.browse(shipment.id).read(["tracking_code"])
        # A user of both companies sees both, with both companies selected.
        self.clerk.company_ids = [Command.link(self.other_company.id)]
        both = shipments.with_context(
            allowed_company_ids=[self.env.company.id, self.other_company.id]
        ).search([])
        self.assertIn(shipment, both)
        self.assertIn(self.shipment, both)

    def test_jobs_run_as_the_technical_user(self):
        technical = self.carrier_backend.user_id
        self.assertFalse(technical.has_group("base.group_system"))
        self.assertEqual(self.shipment.create_uid, technical)
        self.assertEqual(self.shipment.label_attachment_id.create_uid, technical)
        self.assertEqual(self.scan.create_uid, technical)
        outbound = self.carrier_messages(self.picking).filtered(
            lambda m: m.direction == "outbound"
        )
        self.assertEqual(len(outbound), 2)
        for message in outbound:
            job = self.env["queue.job"].search([("uuid", "=", message.job_uuid)])
            self.assertEqual(job.user_id, technical)
            self.assertEqual(message.state, "done")
