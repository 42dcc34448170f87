# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import api, models

from odoo.addons.distribution_sync.models.distribution_sync_reconciliation import (
    amount_sql,
    sql_template,
)


class DistributionSyncReconciliation(models.Model):
    """Carrier ↔ Odoo: what the carrier says of a parcel against the
    delivery in Odoo, and what it charged against the rate quoted."""

    _inherit = "distribution.sync.reconciliation"

    @api.model
    def _reconciliation_checks(self):
        return super()._reconciliation_checks() + [
            {
                "code": "delivered_not_done",
                "name": self.env._("Delivered by the carrier, not done in Odoo"),
                "query": """
                    SELECT DISTINCT ON (s.backend_id, p.id)
                           s.backend_id, 'stock.picking', p.id, p.id::text,
                           COALESCE(s.tracking_code, s.external_id),
                           format(%(tpl_delivered)s, p.name,
                                  COALESCE(s.tracking_code, s.external_id)),
                           NULL, NULL, NULL::int, NULL::int
                      FROM distribution_sync_shipment s
                      JOIN stock_picking p ON p.id = s.picking_id
                     WHERE s.backend_id = ANY(%(backend_ids)s)
                       AND NOT COALESCE(s.is_return, false)
                       AND p.distribution_sync_tracking_status = 'delivered'
                       AND p.state NOT IN ('done', 'cancel')
                     ORDER BY s.backend_id, p.id, s.id""",
                "count_query": """
                    SELECT count(DISTINCT s.picking_id)
                      FROM distribution_sync_shipment s
                     WHERE s.backend_id = ANY(%(backend_ids)s)""",
                "hint": self.env._(
                    "Validate the delivery in Odoo (the goods are with the "
                    "customer), or ask the carrier why it reports it delivered."
                ),
                "params": {
                    "tpl_delivered": sql_template(
                        self.env._(
                            "%(picking)s: the carrier delivered parcel %(parcel)s, the "
                            "delivery is not done in Odoo."
                        ),
                        "picking",
                        "parcel",
                    )
                },
            },
            {
                "code": "shipped_without_tracking",
                "name": self.env._("Shipped without a tracking number"),
                "query": """
                    SELECT c.distribution_sync_backend_id, 'stock.picking', p.id,
                           p.id::text, p.name,
                           format(%(tpl_untracked)s, p.name,
                                  COALESCE(c.name->>'en_US', c.name::text)),
                           NULL, NULL, NULL::int, NULL::int
                      FROM stock_picking p
                      JOIN stock_picking_type pt ON pt.id = p.picking_type_id
                      JOIN delivery_carrier c ON c.id = p.carrier_id
                     WHERE c.distribution_sync_backend_id = ANY(%(backend_ids)s)
                       AND pt.code = 'outgoing' AND p.state = 'done'
                       AND COALESCE(p.carrier_tracking_ref, '') = ''
                       AND NOT EXISTS (
                         SELECT 1 FROM distribution_sync_shipment s
                          WHERE s.picking_id = p.id
                            AND COALESCE(s.tracking_code, '') != '')
                       AND NOT EXISTS (
                         SELECT 1 FROM distribution_sync_message m
                          WHERE m.direction = 'outbound'
                            AND m.res_model = 'stock.picking'
                            AND m.res_id = p.id
                            AND m.state IN ('received', 'queued', 'error'))""",
                "count_query": """
                    SELECT count(*) FROM stock_picking p
                      JOIN stock_picking_type pt ON pt.id = p.picking_type_id
                      JOIN delivery_carrier c ON c.id = p.carrier_id
                     WHERE c.distribution_sync_backend_id = ANY(%(backend_ids)s)
                       AND pt.code = 'outgoing' AND p.state = 'done'""",
                "hint": self.env._(
                    "Type the tracking number on the delivery (Additional info), "
                    "or buy its label again from the delivery."
                ),
                "params": {
                    "tpl_untracked": sql_template(
                        self.env._(
                            "%(picking)s was shipped with %(carrier)s but has no "
                            "tracking number."
                        ),
                        "picking",
                        "carrier",
                    )
                },
            },
            {
                "code": "postage_over_quote",
                "name": self.env._("Postage charged vs rate quoted"),
                "query": f"""
                    SELECT s.backend_id, 'stock.picking', p.id, s.external_id,
                           COALESCE(s.tracking_code, s.external_id),
                           format(%(tpl_postage)s, p.name,
                                  COALESCE(s.tracking_code, s.external_id),
                                  {amount_sql("s.charged_amount")}, cur.name,
                                  {amount_sql("s.quoted_amount")}),
                           s.quoted_amount, s.charged_amount, cur.id, NULL::int
                      FROM distribution_sync_shipment s
                      JOIN stock_picking p ON p.id = s.picking_id
                      JOIN distribution_sync_backend be ON be.id = s.backend_id
                      JOIN res_currency cur ON cur.id = s.currency_id
                     WHERE s.backend_id = ANY(%(backend_ids)s)
                       AND s.state = 'bought'
                       AND s.charged_amount IS NOT NULL
                       AND s.quoted_amount IS NOT NULL
                       AND round(abs(s.charged_amount - s.quoted_amount)
                                 / cur.rounding)
                           > round(COALESCE(be.carrier_postage_tolerance, 0)
                                   / cur.rounding)""",
                "count_query": """
                    SELECT count(*) FROM distribution_sync_shipment s
                     WHERE s.backend_id = ANY(%(backend_ids)s)
                       AND s.state = 'bought'
                       AND s.charged_amount IS NOT NULL""",
                "hint": self.env._(
                    "Check the parcel's weight and size against what was "
                    "declared; claim the difference from the carrier if it "
                    "charged wrongly."
                ),
                "params": {
                    "tpl_postage": sql_template(
                        self.env._(
                            "%(picking)s, parcel %(parcel)s: the carrier charged "
                            "%(charged)s %(currency)s, the rate quoted was "
                            "%(quoted)s %(currency)s."
                        ),
                        "picking",
                        "parcel",
                        "charged",
                        "currency",
                        "quoted",
                    )
                },
            },
        ]
