# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from datetime import timedelta

from odoo import fields, models

# (channel order, days ago received, days ago shipped or None, channel total
# minus Odoo's, held by a check)
DEMO_ORDERS = (
    ("SO-1901", 6, 5.5, 0, False),
    ("SO-1902", 5, None, 0, False),
    ("SO-1903", 4, 0.5, 0, False),
    ("SO-1904", 0.1, None, 0, False),
    ("SO-1905", 1, None, 3, False),
    ("SO-1906", 0.2, None, 0, True),
)


class DistributionSyncBackend(models.Model):
    _inherit = "distribution.sync.backend"  # pylint: disable=consider-merging-classes-inherited

    def _demo_load_order_history(self, partner_id, product_id):
        """Demo: a week of channel orders on this backend, as the overview
        shows them: shipped on time, shipped late, late and not shipped,
        just in, one whose total differs from the channel's, one held by a
        check. Then milestones are refreshed and a reconciliation run made."""
        self.ensure_one()
        partner = self.env["res.partner"].browse(partner_id)
        product = self.env["product.product"].browse(product_id)
        now = fields.Datetime.now()
        cr = self.env.cr
        for external_id, received, shipped, difference, held in DEMO_ORDERS:
            order = (
                self.env["sale.order"]
                .with_company(self.company_id)
                .create(self._prepare_demo_order_vals(external_id, partner, product))
            )
            self.env["distribution.sync.binding"]._bind(
                self,
                order,
                external_id,
                external_name=external_id,
                remote_amount=order.amount_total + difference,
                remote_state="paid",
            )
            if held:
                self._open_exception(
                    "validation",
                    self.env._(
                        "%(order)s: %(product)s is priced below its floor "
                        "price. Check it, then confirm the quotation.",
                        order=order.name,
                        product=product.display_name,
                    ),
                    record=order,
                    work_key=f"order:{external_id}",
                )
                continue
            order.action_confirm()
            # Dates are set in SQL below: what the ORM still holds goes first.
            self.env.flush_all()
            received_at = now - timedelta(days=received)
            cr.execute(
                """UPDATE sale_order
                      SET date_order = %s, distribution_sync_confirmed_at = %s
                    WHERE id = %s""",
                (
                    received_at + timedelta(minutes=5),
                    received_at + timedelta(minutes=5),
                    order.id,
                ),
            )
            cr.execute(
                """UPDATE distribution_sync_binding SET create_date = %s
                    WHERE res_model = 'sale.order' AND res_id = %s""",
                (received_at, order.id),
            )
            if shipped is not None:
                for picking in order.picking_ids:
                    for move in picking.move_ids:
                        move.quantity = move.product_uom_qty
                    picking.with_context(skip_backorder=True).button_validate()
                    self.env.flush_all()
                    cr.execute(
                        "UPDATE stock_picking SET date_done = %s WHERE id = %s",
                        (now - timedelta(days=shipped), picking.id),
                    )
        self.env.invalidate_all()
        self.env["distribution.sync.milestone"]._refresh()
        self.env["distribution.sync.reconciliation"].create(
            {"name": self.env._("Demo reconciliation"), "backend_ids": self.ids}
        ).action_run()

    def _prepare_demo_order_vals(self, external_id, partner, product):
        return {
            "partner_id": partner.id,
            "client_order_ref": external_id,
            "user_id": self.responsible_user_id.id or self.env.uid,
            "order_line": [
                fields.Command.create({"product_id": product.id, "product_uom_qty": 4})
            ],
        }
