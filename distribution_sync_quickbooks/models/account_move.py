# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import models


class AccountMove(models.Model):
    _inherit = "account.move"

    def button_cancel(self):
        """An invoice cancelled in Odoo is voided in QuickBooks (queued; only
        those that reached QuickBooks)."""
        res = super().button_cancel()
        cancelled = self.filtered(
            lambda m: (
                m.state == "cancel" and m.move_type in ("out_invoice", "out_refund")
            )
        )
        if not cancelled:
            return res
        bindings = (
            self.env["distribution.sync.binding"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "account.move"),
                    ("res_id", "in", cancelled.ids),
                    ("backend_id.backend_type", "=", "quickbooks"),
                ]
            )
        )
        for binding in bindings:
            move = cancelled.filtered(lambda m, b=binding: m.id == b.res_id)
            binding.backend_id._push(
                move,
                "invoice/void",
                {"move": move.name},
                "invoice",
                key=f"quickbooks:invoice/void:{move.id}",
                work_key=f"account.move:{move.id}",
            )
        return res
