# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import Command, api, models

from odoo.addons.distribution_sync.core.errors import (
    MappingMissing,
    TransientError,
    ValidationFailed,
)
from odoo.addons.distribution_sync.core.money import money_compare, to_decimal
from odoo.addons.distribution_sync.core.validation import RuleFailure


class DistributionSyncImporter(models.AbstractModel):
    _inherit = "distribution.sync.importer"

    @api.model
    def _find_product(self, backend, table, line):
        """Shopify line items carry no barcode: many shops key their products
        by it, so an SKU that is no internal reference is also tried as a
        barcode (before the mapping table)."""
        if backend.backend_type == "shopify" and line.get("sku"):
            line = dict(line, barcode=line.get("barcode") or line["sku"])
        return super()._find_product(backend, table, line)

    @api.model
    def _refund_sale_line(self, order, line):
        """The order line a refunded line refers to."""
        so_lines = order.order_line.filtered(lambda sol: not sol.display_type)
        found = so_lines.filtered(
            lambda sol: (
                sol.distribution_sync_line_ref
                and sol.distribution_sync_line_ref == line.get("line_external_id")
            )
        )[:1]
        if not found and line.get("sku"):
            found = so_lines.filtered(
                lambda sol: sol.product_id.default_code == line["sku"]
            )[:1]
        if not found:
            raise MappingMissing(
                "product",
                line.get("sku") or line.get("line_external_id"),
                hint=f"The refunded line is not on order {order.name}: check the "
                "order, then retry.",
            )
        return found

    @api.model
    def _prepare_credit_note_line_vals(self, sale_line, quantity, amount, name=None):
        quantity = to_decimal(quantity)
        amount = to_decimal(amount)
        if not quantity:
            quantity = to_decimal(1)
        return {
            "product_id": sale_line.product_id.id,
            "name": name or sale_line.name,
            "quantity": float(quantity),
            "product_uom_id": sale_line.product_uom.id,
            "price_unit": float(amount / quantity),
            "tax_ids": [Command.set(sale_line.tax_id.ids)],
            "sale_line_ids": [Command.set(sale_line.ids)],
        }

    @api.model
    def _prepare_credit_note_vals(self, backend, order, refund, lines):
        invoices = order.invoice_ids.filtered(
            lambda m: m.move_type == "out_invoice" and m.state == "posted"
        )
        vals = {
            "move_type": "out_refund",
            "partner_id": order.partner_invoice_id.id,
            "company_id": order.company_id.id,
            "currency_id": order.currency_id.id,
            "invoice_origin": order.name,
            "ref": self.env._(
                "Refund %(refund)s of %(order)s",
                refund=refund["external_id"],
                order=order.client_order_ref or order.name,
            ),
            "narration": refund.get("note") or False,
            "invoice_line_ids": [Command.create(line) for line in lines],
        }
        if len(invoices) == 1:
            vals["reversed_entry_id"] = invoices.id
        return vals

    @api.model
    def _import_credit_note(self, backend, refund, message):
        """One customer credit note per channel refund id.

        Refunded lines, shipping and adjustments are credited exactly to the
        cent: the credit note total must equal what the channel refunded,
        otherwise it stays in draft and a validation exception says why.
        A refund with items returned to stock also prepares the return.
        """
        binding_model = self.env["distribution.sync.binding"]
        result = {
            "res_model": "account.move",
            "canonical": refund,
            "external_id": refund["external_id"],
        }
        existing = binding_model._find_record(
            backend, "account.move", refund["external_id"]
        )
        if existing and existing.state == "draft":
            # Left in draft because it did not match the refund: check it again
            # (a person may have corrected it) and post it once it matches.
            problems = self._credit_note_total_problems(existing, refund)
            if not problems:
                existing.action_post()
            return dict(
                result,
                res_id=existing.id,
                state="blocked" if problems else "done",
                problems=problems,
                summary=f"{existing.name} ({existing.state})",
            )
        if existing:
            return dict(
                result,
                res_id=existing.id,
                state="skipped",
                summary=f"{existing.name} already made for this refund.",
            )
        order = binding_model._find_record(backend, "sale.order", refund["order_id"])
        if not order:
            # Refunds can overtake their order: wait for it.
            raise TransientError(
                self.env._(
                    "Order %(order)s of refund %(refund)s is not imported yet.",
                    order=refund["order_id"],
                    refund=refund["external_id"],
                )
            )
        lines = []
        returns = {}
        for line in refund.get("lines") or ():
            sale_line = self._refund_sale_line(order, line)
            lines.append(
                self._prepare_credit_note_line_vals(
                    sale_line, line.get("quantity") or 0, line.get("subtotal") or 0
                )
            )
            if line.get("restock_type") == "return" and line.get("quantity"):
                returns[sale_line] = returns.get(sale_line, 0) + float(line["quantity"])
        shipping = to_decimal(refund.get("shipping") or 0)
        if shipping:
            shipping_line = order.order_line.filtered(
                lambda sol: sol.product_id == backend.shipping_product_id
            )[:1]
            if not shipping_line:
                raise MappingMissing(
                    "carrier",
                    "shipping",
                    hint=f"Order {order.name} has no shipping line to refund.",
                )
            lines.append(
                self._prepare_credit_note_line_vals(
                    shipping_line, 1, shipping, name=self.env._("Shipping refund")
                )
            )
        move = (
            self.env["account.move"]
            .with_company(order.company_id)
            .create(self._prepare_credit_note_vals(backend, order, refund, lines))
        )
        problems = self._adjust_credit_note(move, refund)
        if not problems:
            move.action_post()
        if returns:
            self._prepare_return(order, returns)
        binding_model._bind(
            backend,
            move,
            refund["external_id"],
            updated_at=refund.get("created_at"),
            digest=message.payload_digest,
            external_name=move.name,
        )
        return dict(
            result,
            res_id=move.id,
            state="blocked" if problems else "done",
            problems=problems,
            summary=f"{move.name} ({move.state})",
        )

    @api.model
    def _adjust_credit_note(self, move, refund):
        """Match the refunded total to the cent; return validation problems."""
        expected = refund.get("total")
        if expected is None:
            return []
        rounding = str(move.currency_id.rounding)
        difference = to_decimal(expected) - to_decimal(move.amount_total)
        if money_compare(difference, 0, rounding) == 0:
            return []
        discrepancy = to_decimal(refund.get("discrepancy") or 0)
        if money_compare(discrepancy, 0, rounding) != 0:
            # Shopify's refund discrepancy (what the merchant kept, or refunded
            # on top), credited as an untaxed line of exactly that amount: it
            # must not absorb any other difference.
            move.write(
                {
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": self.env._("Refund adjustment"),
                                "quantity": 1,
                                "price_unit": float(-discrepancy),
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ]
                }
            )
        return self._credit_note_total_problems(move, refund)

    @api.model
    def _credit_note_total_problems(self, move, refund):
        """A validation problem when the credit note does not total what the
        channel refunded (to the cent), else nothing."""
        expected = refund.get("total")
        if expected is None:
            return []
        difference = to_decimal(expected) - to_decimal(move.amount_total)
        if money_compare(difference, 0, str(move.currency_id.rounding)) == 0:
            return []
        failure = RuleFailure(
            code="total_tolerance",
            severity="block",
            message=self.env._(
                "Credit note %(move)s totals %(computed)s but the channel refunded "
                "%(expected)s: correct the credit note, then retry.",
                move=move.name or move.display_name,
                computed=move.amount_total,
                expected=expected,
            ),
            value=str(expected),
        )
        problem = ValidationFailed([failure])
        problem.record = move
        return [problem]

    @api.model
    def _prepare_return(self, order, quantities):
        """Prepare (not validate) the return of refunded items to stock."""
        pickings = order.picking_ids.filtered(
            lambda p: p.state == "done" and p.picking_type_code == "outgoing"
        )
        if not pickings:
            return self.env["stock.picking"]
        picking = pickings[-1]
        # The wizard posts on the return's chatter; the technical user running
        # the job has no email address, which only superuser mode tolerates.
        wizard = (
            self.env["stock.return.picking"]
            .sudo()
            .with_context(active_id=picking.id, active_model="stock.picking")
            .create({"picking_id": picking.id})
        )
        for return_line in wizard.product_return_moves:
            sale_line = return_line.move_id.sale_line_id
            return_line.quantity = min(
                quantities.get(sale_line, 0.0), return_line.move_id.quantity
            )
        if not any(wizard.product_return_moves.mapped("quantity")):
            return self.env["stock.picking"]
        action = wizard.action_create_returns()
        return self.env["stock.picking"].browse(action["res_id"])
