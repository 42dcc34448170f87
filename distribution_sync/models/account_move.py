# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import models

from ..core.documents import parse_invoice


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "distribution.sync.document.mixin"]

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        self.env["distribution.sync.backend"]._notify(
            "invoice_posted",
            posted.filtered(
                lambda m: (
                    m.state == "posted" and m.move_type in ("out_invoice", "out_refund")
                )
            ),
        )
        return posted

    # ------------------------------------------------------- canonical form
    def _distribution_sync_invoice_state(self):
        if self.state == "posted":
            return "posted"
        return "cancelled" if self.state == "cancel" else "draft"

    def _prepare_distribution_sync_invoice_line(self, line):
        """One product line of the canonical invoice (``core.documents``)."""
        taxes = line.tax_ids
        return {
            "line_ref": str(line.id),
            "sku": line.product_id.default_code or None,
            "description": (line.name or line.product_id.display_name or "")[:500],
            "tax_code": ",".join(taxes.mapped("name")) or None,
            "quantity": str(line.quantity),
            "unit_price": str(line.price_unit),
            "discount_amount": str(
                line.currency_id.round(
                    line.quantity * line.price_unit * (line.discount or 0.0) / 100
                )
            ),
            "amount": str(line.price_subtotal),
        }

    def _prepare_distribution_sync_invoice(self):
        """This customer invoice or credit note as the canonical invoice of
        ``core.documents`` (checked: its totals add up), for the channels
        that send invoices and for reconciliation."""
        self.ensure_one()
        currency = self.currency_id
        product_lines = self.invoice_line_ids.filtered(
            lambda line: line.display_type in ("product", "rounding")
        )
        taxes = {}
        for line in self.line_ids.filtered("tax_line_id"):
            tax = line.tax_line_id
            entry = taxes.setdefault(
                tax.id, {"code": tax.name, "rate": str(tax.amount), "amount": 0.0}
            )
            entry["amount"] += abs(line.amount_currency)
        reversed_entry = self.reversed_entry_id
        return parse_invoice(
            {
                "external_id": str(self.id),
                "number": self.name if self.name and self.name != "/" else None,
                "move_type": "credit_note"
                if self.move_type == "out_refund"
                else "invoice",
                "state": self._distribution_sync_invoice_state(),
                "date": self.invoice_date.isoformat() if self.invoice_date else None,
                "due_date": self.invoice_date_due.isoformat()
                if self.invoice_date_due
                else None,
                "currency": currency.name,
                "rounding": str(currency.rounding),
                "partner": {
                    "external_id": str(self.partner_id.id),
                    "name": self.partner_id.name,
                    "email": self.partner_id.email or None,
                },
                "lines": [
                    self._prepare_distribution_sync_invoice_line(line)
                    for line in product_lines
                ],
                "taxes": [
                    dict(entry, amount=str(currency.round(entry["amount"])))
                    for entry in taxes.values()
                ],
                "amount_untaxed": str(self.amount_untaxed),
                "amount_tax": str(self.amount_tax),
                "amount_total": str(self.amount_total),
                "amount_residual": str(self.amount_residual),
                "reversed_invoice": str(reversed_entry.id)
                if reversed_entry and self.move_type == "out_refund"
                else None,
                "updated_at": self.write_date.isoformat() + "Z"
                if self.write_date
                else None,
            }
        )
