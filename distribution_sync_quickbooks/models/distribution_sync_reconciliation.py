# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import api, models

from odoo.addons.distribution_sync.models.distribution_sync_reconciliation import (
    sql_template,
)

# Invoice messages still on their way (a retry may yet deliver them).
ON_THE_WAY = ("received", "queued", "error")
# The posted customer invoices and credit notes of the companies of the
# QuickBooks backends ``%(pushing_ids)s`` (Odoo owning invoices there) …
POSTED_OF_BACKENDS = """
                      FROM distribution_sync_backend be
                      JOIN account_move am ON am.company_id = be.company_id
                     WHERE be.id = ANY(%(pushing_ids)s)
                       AND am.move_type IN ('out_invoice', 'out_refund')
                       AND am.state = 'posted'"""
# … that are not bound on that backend.
UNBOUND = """
                       AND NOT EXISTS (
                         SELECT 1 FROM distribution_sync_binding b
                          WHERE b.backend_id = be.id
                            AND b.res_model = 'account.move'
                            AND b.res_id = am.id)"""


class DistributionSyncReconciliation(models.Model):
    """Odoo ↔ QuickBooks: every posted invoice and credit note of a company
    is in QuickBooks when Odoo owns invoices there (totals, open balances
    and payments are compared by the core's binding checks, with what
    QuickBooks last reported)."""

    _inherit = "distribution.sync.reconciliation"

    @api.model
    def _reconciliation_checks(self):
        backends = (
            self.env["distribution.sync.backend"]
            .sudo()
            .search([("backend_type", "=", "quickbooks")])
        )
        pushing = backends.filtered(lambda b: b._ownership_matrix().may_push("invoice"))
        return super()._reconciliation_checks() + [
            {
                "code": "not_in_accounting",
                "name": self.env._("Posted invoices not in QuickBooks"),
                "query": f"""
                    SELECT be.id, 'account.move', am.id, am.id::text, am.name,
                           format(%(tpl_missing)s, am.name, be.name),
                           am.amount_total, NULL, am.currency_id, NULL::int
                    {POSTED_OF_BACKENDS}
                       AND be.id = ANY(%(backend_ids)s) {UNBOUND}
                       AND NOT EXISTS (
                         SELECT 1 FROM distribution_sync_message m
                          WHERE m.backend_id = be.id
                            AND m.direction = 'outbound'
                            AND m.res_model = 'account.move'
                            AND m.res_id = am.id
                            AND m.state = ANY(%(on_the_way)s))""",
                "count_query": f"""
                    SELECT count(*) {POSTED_OF_BACKENDS}
                       AND be.id = ANY(%(backend_ids)s)""",
                "hint": self.env._(
                    "Send it from the backend (Send posted invoices), or open its "
                    "message: its exception says why QuickBooks refused it."
                ),
                "params": {
                    "pushing_ids": pushing.ids,
                    "on_the_way": list(ON_THE_WAY),
                    "tpl_missing": sql_template(
                        self.env._(
                            "%(move)s is posted in Odoo but not in %(backend)s."
                        ),
                        "move",
                        "backend",
                    ),
                },
            },
        ]
