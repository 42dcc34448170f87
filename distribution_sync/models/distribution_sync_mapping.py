# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import api, fields, models

from ..core import mapping as core_mapping


class DistributionSyncMapping(models.Model):
    """External code → Odoo value, maintained by consultants.

    One table for every kind of mapping (units and pack sizes, taxes, status
    codes, carriers, payment methods, countries, states, payment terms,
    product aliases). A row without backend is shared by all backends of its
    company; a backend's own row wins over a shared one.
    """

    _name = "distribution.sync.mapping"
    _description = "Distribution Sync Mapping"
    _order = "mapping_type, external_code"
    _rec_name = "external_code"

    backend_id = fields.Many2one(
        "distribution.sync.backend",
        ondelete="cascade",
        index=True,
        help="Leave empty to share the mapping with every backend of the company.",
    )
    company_id = fields.Many2one(
        "res.company",
        compute="_compute_company_id",
        store=True,
        readonly=False,
        index=True,
    )
    mapping_type = fields.Selection(core_mapping.MAPPING_TYPES, required=True)
    external_code = fields.Char(required=True, help="The code the channel sends.")
    code_normalized = fields.Char(compute="_compute_code_normalized", store=True)
    active = fields.Boolean(default=True)
    note = fields.Char()
    # Targets, by mapping type.
    uom_id = fields.Many2one("uom.uom", string="Unit of measure")
    factor = fields.Float(
        digits=(16, 6),
        default=1.0,
        help="Odoo units per channel unit, e.g. 12 for a case of 12.",
    )
    rounding = fields.Float(
        digits=(16, 6), default=1.0, help="Smallest quantity step in Odoo units."
    )
    rounding_policy = fields.Selection(
        core_mapping.ROUNDING_POLICIES, default="exact", required=True
    )
    tax_id = fields.Many2one("account.tax")
    product_id = fields.Many2one("product.product")
    country_id = fields.Many2one("res.country")
    state_id = fields.Many2one("res.country.state")
    payment_term_id = fields.Many2one("account.payment.term")
    journal_id = fields.Many2one("account.journal")
    odoo_code = fields.Char(
        string="Odoo value", help="Status codes, carrier services: the Odoo code."
    )

    _sql_constraints = [
        (
            "code_uniq",
            "unique(backend_id, mapping_type, code_normalized)",
            "This code is already mapped for this backend.",
        ),
        ("factor_positive", "CHECK(factor > 0)", "The factor must be positive."),
        ("rounding_positive", "CHECK(rounding > 0)", "The rounding must be positive."),
    ]

    def init(self):
        # Shared rows (no backend) are unique per company too.
        self.env.cr.execute(
            """CREATE UNIQUE INDEX IF NOT EXISTS distribution_sync_mapping_shared_uniq
               ON distribution_sync_mapping
                  (coalesce(company_id, 0), mapping_type, code_normalized)
               WHERE backend_id IS NULL"""
        )

    @api.depends("backend_id")
    def _compute_company_id(self):
        for mapping in self:
            if mapping.backend_id:
                mapping.company_id = mapping.backend_id.company_id
            elif not mapping.company_id:
                mapping.company_id = self.env.company

    @api.depends("external_code")
    def _compute_code_normalized(self):
        for mapping in self:
            mapping.code_normalized = core_mapping.normalize_code(mapping.external_code)

    @api.model_create_multi
    def create(self, vals_list):
        # A running job must not go on with the mappings it read before.
        self.env["distribution.sync.backend"]._job_cache_clear()
        mappings = super().create(vals_list)
        exception_id = self.env.context.get("distribution_sync_exception_id")
        if exception_id:
            # Created from an exception: retry the blocked work at once.
            self.env["distribution.sync.exception"].browse(exception_id).action_retry()
        return mappings

    def action_retry_exception(self):
        """The dialog's Save and retry, opened from an exception: saving
        created the mapping and retried the work (``create``); this says how
        that went and closes the dialog."""
        self.check_access("write")
        exception = self.env["distribution.sync.exception"].browse(
            self.env.context.get("distribution_sync_exception_id")
        )
        action = exception.message_id._outcome_notification()
        if isinstance(action, dict):
            action["params"]["next"] = {"type": "ir.actions.act_window_close"}
            return action
        return {"type": "ir.actions.act_window_close"}

    def write(self, vals):
        self.env["distribution.sync.backend"]._job_cache_clear()
        res = super().write(vals)
        if not self.env.su:
            # Record rules are checked before a write, not after it: nobody
            # moves a mapping into a company they do not work in.
            self.check_access("write")
        return res

    def unlink(self):
        self.env["distribution.sync.backend"]._job_cache_clear()
        return super().unlink()

    def _convert_quantity(self, quantity):
        """Channel quantity → Odoo quantity with this row's pack size."""
        self.ensure_one()
        return core_mapping.convert_quantity(
            quantity,
            str(self.factor),
            rounding=str(self.rounding),
            policy=self.rounding_policy,
        )
