# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import json

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import RETURN_PREFIX, CarrierCase


@tagged("post_install", "-at_install")
class TestCancel(CarrierCase):
    """Cancelling a shipment asks the carrier to refund the unused label."""

    def test_cancel_asks_for_a_refund(self):
        picking = self.ship_and_label()
        shipment = picking.distribution_sync_shipment_ids
        reference = picking.carrier_tracking_ref
        picking.cancel_shipment()
        self.assertEqual(self.fake.refunds[shipment.external_id], "submitted")
        self.assertEqual(shipment.state, "refund_requested")
        self.assertFalse(picking.carrier_tracking_ref)
        self.assertIn(f"Shipment {reference} cancelled", picking.message_ids[0].body)
        self.assertFalse(
            self.carrier_messages(picking, topic="tracker/create"),
            "clearing the number registers nothing",
        )

    def test_cancel_refunds_every_package(self):
        washers = self.weighed_product("Bag of washers", weight=1.0)
        order = self.sell(quantity=1)
        order.order_line = [(0, 0, {"product_id": washers.id, "product_uom_qty": 1})]
        picking = self.delivery_of(order)
        picking.action_assign()
        for line in picking.move_line_ids:
            self.put_in_pack(picking, line)
        self.validate_packed(picking)
        self.run_carrier_jobs(picking)
        shipments = picking.distribution_sync_shipment_ids
        self.assertEqual(len(shipments), 2)
        picking.cancel_shipment()
        self.assertEqual(set(shipments.mapped("state")), {"refund_requested"})
        self.assertEqual(
            {self.fake.refunds[s.external_id] for s in shipments}, {"submitted"}
        )

    def test_refund_refused_is_a_readable_error(self):
        picking = self.ship_and_label()
        shipment = picking.distribution_sync_shipment_ids
        self.fake.fail_next("refund", 503)
        with self.assertRaises(UserError):
            picking.cancel_shipment()
        self.assertEqual(shipment.state, "bought")
        self.assertNotIn(shipment.external_id, self.fake.refunds)


@tagged("post_install", "-at_install")
class TestReturnLabel(CarrierCase):
    """A return picking gets an EasyPost return label (``is_return``) from
    the customer back to the warehouse."""

    def returned(self):
        picking = self.ship_and_label()
        wizard = (
            self.env["stock.return.picking"]
            .with_context(active_id=picking.id, active_model="stock.picking")
            .create({})
        )
        action = wizard.action_create_returns_all()
        back = self.env["stock.picking"].browse(action["res_id"])
        # Odoo clears the carrier of a return: the person picks one.
        back.carrier_id = self.delivery_method
        return picking, back

    def test_return_label_is_bought_as_a_return(self):
        picking, back = self.returned()
        self.assertTrue(back.is_return_picking)
        back.print_return_label()
        create = self.carrier_messages(back, topic="shipment/create")
        self.assertEqual(len(create), 1)
        self.assertTrue(json.loads(create.payload)["is_return"])
        self.run_carrier_jobs(back)
        self.assertEqual(set(self.carrier_messages(back).mapped("state")), {"done"})
        shipment = back.distribution_sync_shipment_ids
        self.assertEqual(len(shipment), 1, shipment.mapped("is_return"))
        self.assertTrue(shipment.is_return)
        self.assertEqual(shipment.state, "bought")
        at_carrier = self.fake_shipment(shipment)
        self.assertTrue(at_carrier["is_return"])
        self.assertEqual(self.fake.buys[shipment.external_id], 1)
        # From the customer back to the warehouse.
        self.assertEqual(at_carrier["from_address"]["zip"], "90277")
        self.assertEqual(at_carrier["to_address"]["zip"], "94104")
        # Only the return was bought for the return picking.
        self.assertEqual(self.fake_count("buy"), 2)
        self.assertEqual(len(picking.distribution_sync_shipment_ids), 1)

    def test_return_label_attachment(self):
        _picking, back = self.returned()
        back.print_return_label()
        self.run_carrier_jobs(back)
        shipment = back.distribution_sync_shipment_ids.filtered("is_return")
        self.assertEqual(len(shipment), 1)
        label = shipment.label_attachment_id
        self.assertEqual(label.name, f"{RETURN_PREFIX}-{shipment.tracking_code}.pdf")
        self.assertEqual(self.delivery_method.get_return_label_prefix(), RETURN_PREFIX)
        # Not stored and without dependencies: read anew, as a form would.
        back.invalidate_recordset(["return_label_ids"])
        self.assertEqual(back.return_label_ids, label)
        self.assertEqual(back.carrier_tracking_ref, shipment.tracking_code)

    def test_asking_twice_buys_one_return_label(self):
        _picking, back = self.returned()
        back.print_return_label()
        back.print_return_label()
        self.run_carrier_jobs(back)
        back.print_return_label()
        self.run_carrier_jobs(back)
        self.assertEqual(len(self.carrier_messages(back, topic="shipment/create")), 1)
        self.assertEqual(len(back.distribution_sync_shipment_ids), 1)
        self.assertEqual(self.fake_count("buy"), 2, "the delivery's and the return's")
