# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import api, fields, models

from ..core import validation as core_validation

DOCUMENT_TYPES = [
    ("sale_order", "Sales order"),
    ("invoice", "Customer invoice"),
    ("credit_note", "Credit note"),
    ("payment", "Payment"),
]


class DistributionSyncValidationRule(models.Model):
    """A check run before a document is confirmed or posted.

    ``block`` rules leave the document unconfirmed and open a validation
    exception; ``warn`` rules only open one. The checks themselves live in
    ``core.validation``.
    """

    _name = "distribution.sync.validation.rule"
    _description = "Distribution Sync Validation Rule"
    _order = "backend_id, document_type, sequence, id"

    name = fields.Char(compute="_compute_name", store=True, readonly=False)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    backend_id = fields.Many2one(
        "distribution.sync.backend", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        related="backend_id.company_id", store=True, index=True
    )
    document_type = fields.Selection(
        DOCUMENT_TYPES, required=True, default="sale_order"
    )
    rule_type = fields.Selection(core_validation.RULE_TYPES, required=True)
    severity = fields.Selection(
        list(core_validation.SEVERITIES),
        required=True,
        default=core_validation.SEVERITY_BLOCK,
    )
    tolerance = fields.Float(
        digits=(16, 4),
        help="Total tolerance: accepted absolute difference "
        "(0 = the currency rounding).",
    )
    percent = fields.Float(help="Price deviation: accepted difference in %.")
    amount = fields.Float(help="Maximum amount: highest accepted document total.")
    required_fields = fields.Char(
        default="email",
        help="Customer data: comma-separated among name, email, phone, street, "
        "city, zip, country_code.",
    )

    def write(self, vals):
        res = super().write(vals)
        if not self.env.su:
            # Record rules are checked before a write, not after it: nobody
            # moves a validation rule into a company they do not work in.
            self.check_access("write")
        return res

    @api.depends("rule_type")
    def _compute_name(self):
        labels = dict(core_validation.RULE_TYPES)
        for rule in self:
            if not rule.name:
                rule.name = labels.get(rule.rule_type, rule.rule_type)

    def _to_core(self):
        """The rule as ``core.validation.validate`` expects it."""
        self.ensure_one()
        params = {}
        if self.rule_type == "total_tolerance":
            params["tolerance"] = str(self.tolerance or 0)
        elif self.rule_type == "price_deviation":
            params["percent"] = str(self.percent or 0)
        elif self.rule_type == "max_amount":
            params["amount"] = str(self.amount or 0)
        elif self.rule_type == "partner_required":
            params["fields"] = [
                f.strip() for f in (self.required_fields or "").split(",") if f.strip()
            ]
        return {
            "code": self.rule_type,
            "severity": self.severity,
            "params": params,
            "name": self.name,
        }
