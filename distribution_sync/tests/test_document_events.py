# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from unittest import mock

from odoo import Command

from .common import DistributionSyncCase


class TestDocumentEvents(DistributionSyncCase):
    """Odoo's document events reach the channels that listen to them
    (``_<type>_on_<event>``), with the records of each backend's company."""

    def setUp(self):
        super().setUp()
        self.heard = {}
        backend_class = type(self.env["distribution.sync.backend"])
        for event in (
            "delivery_validated",
            "stock_moved",
            "invoice_posted",
            "payment_registered",
        ):
            patcher = mock.patch.object(
                backend_class,
                f"_generic_on_{event}",
                create=True,
                new=lambda backend, records, event=event: self.heard.setdefault(
                    event, []
                ).append((backend.id, records)),
            )
            patcher.start()
            self.addCleanup(patcher.stop)
        self.product.is_storable = True
        self.customer = self.env["res.partner"].create({"name": "Event customer"})
        warehouse = self.env["stock.warehouse"].search(
            [("company_id", "=", self.company.id)], limit=1
        )
        self.env["stock.quant"]._update_available_quantity(
            self.product, warehouse.lot_stock_id, 10
        )

    def heard_records(self, event):
        return [
            records for backend_id, records in self.heard.get(event, [])
            if backend_id == self.backend.id
        ]  # fmt: skip

    def sell(self, quantity=2):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [
                    Command.create(
                        {"product_id": self.product.id, "product_uom_qty": quantity}
                    )
                ],
            }
        )
        order.action_confirm()
        return order

    def test_delivery_validated_and_stock_moved(self):
        order = self.sell()
        picking = order.picking_ids
        picking.action_assign()
        picking.move_ids.quantity = 2
        picking.move_ids.picked = True
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        (validated,) = self.heard_records("delivery_validated")
        self.assertEqual(validated, picking)
        (moved,) = self.heard_records("stock_moved")
        self.assertEqual(moved, picking.move_ids)

    def test_invoice_posted_and_payment_registered(self):
        order = self.sell()
        order.order_line.qty_delivered = 2
        invoice = order._create_invoices()
        self.assertFalse(self.heard_records("invoice_posted"), "a draft is no event")
        invoice.action_post()
        (posted,) = self.heard_records("invoice_posted")
        self.assertEqual(posted, invoice)
        wizard = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({})
        )
        wizard._create_payments()
        (payments,) = self.heard_records("payment_registered")
        self.assertEqual(payments.partner_id, self.customer)
        self.assertEqual(payments.payment_type, "inbound")

    def test_other_company_and_silent_channels_hear_nothing(self):
        other = self.env["res.company"].create({"name": "Events B"})
        backend_b = self.env["distribution.sync.backend"].create(
            {"name": "events B", "company_id": other.id}
        )
        order = self.sell()
        order.order_line.qty_delivered = 2
        order._create_invoices().action_post()
        self.assertEqual(len(self.heard_records("invoice_posted")), 1)
        self.assertFalse(
            [
                bid
                for bid, _records in self.heard["invoice_posted"]
                if bid == backend_b.id
            ]
        )
        with self.assertRaises(ValueError):
            self.env["distribution.sync.backend"]._notify("order_teleported", order)
