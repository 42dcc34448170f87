# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from decimal import Decimal

from odoo.tests import Form, tagged

from .common import DistributionSyncCase


@tagged("post_install", "-at_install")
class TestCanonicalInvoice(DistributionSyncCase):
    """An Odoo customer invoice or credit note as the core's canonical
    invoice: what channels send and reconciliation compares."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tax = cls.make_tax(8.0, name="Test sales 8%")
        cls.partner = cls.env["res.partner"].create(
            {"name": "Canonical Customer", "email": "Canon@Example.com"}
        )

    def make_invoice(self, move_type="out_invoice", post=True):
        form = Form(self.env["account.move"].with_context(default_move_type=move_type))
        form.partner_id = self.partner
        with form.invoice_line_ids.new() as line:
            line.product_id = self.product
            line.quantity = 3
            line.price_unit = 10.0
            line.discount = 10.0
            line.tax_ids.clear()
            line.tax_ids.add(self.tax)
        with form.invoice_line_ids.new() as line:
            line.name = "Handling"
            line.quantity = 1
            line.price_unit = 5.55
            line.tax_ids.clear()
        move = form.save()
        if post:
            move.action_post()
        return move

    def test_posted_invoice(self):
        move = self.make_invoice()
        invoice = move._prepare_distribution_sync_invoice()
        self.assertEqual(invoice["move_type"], "invoice")
        self.assertEqual(invoice["state"], "posted")
        self.assertEqual(invoice["number"], move.name)
        self.assertEqual(invoice["partner"]["email"], "canon@example.com")
        self.assertEqual(invoice["amount_untaxed"], Decimal("32.55"))
        self.assertEqual(invoice["amount_tax"], Decimal("2.16"))
        self.assertEqual(invoice["amount_total"], Decimal("34.71"))
        self.assertEqual(invoice["amount_residual"], Decimal("34.71"))
        first, second = invoice["lines"]
        self.assertEqual(first["sku"], "DS-TEST-1")
        self.assertEqual(first["amount"], Decimal("27.00"))
        self.assertEqual(first["discount_amount"], Decimal("3.00"))
        self.assertEqual(second["amount"], Decimal("5.55"))
        self.assertIsNone(second["tax_code"])
        self.assertEqual(
            [(tax["amount"], tax["rate"]) for tax in invoice["taxes"]],
            [(Decimal("2.16"), Decimal("8"))],
        )
        self.assertEqual(invoice["date"], move.invoice_date)

    def test_credit_note_names_the_invoice_it_reverses(self):
        move = self.make_invoice()
        reversal = move._reverse_moves(cancel=True)
        note = reversal._prepare_distribution_sync_invoice()
        self.assertEqual(note["move_type"], "credit_note")
        self.assertEqual(note["reversed_invoice"], str(move.id))
        self.assertEqual(note["amount_total"], Decimal("34.71"))
        self.assertEqual(
            move._prepare_distribution_sync_invoice()["amount_residual"], Decimal(0)
        )

    def test_draft_invoice(self):
        invoice = self.make_invoice(post=False)._prepare_distribution_sync_invoice()
        self.assertEqual(invoice["state"], "draft")
        self.assertIsNone(invoice["number"])
