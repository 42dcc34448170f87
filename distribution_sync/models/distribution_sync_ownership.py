# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..core import ownership as core_ownership


class DistributionSyncOwnership(models.Model):
    """System of record per backend, entity and (optionally) field.

    The decisions are made by ``core.ownership.OwnershipMatrix``; these rows
    are its configuration.
    """

    _name = "distribution.sync.ownership"
    _description = "Distribution Sync Ownership Rule"
    _order = "backend_id, entity, field_name"

    backend_id = fields.Many2one(
        "distribution.sync.backend", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        related="backend_id.company_id", store=True, index=True
    )
    entity = fields.Selection(
        [(e, core_ownership.ENTITY_LABELS[e]) for e in core_ownership.ENTITIES],
        required=True,
    )
    field_name = fields.Char(
        string="Field",
        help="Leave empty for the whole entity; a field rule overrides it.",
    )
    owner = fields.Selection(
        list(core_ownership.OWNERS),
        string="System of record",
        required=True,
        default=core_ownership.OWNER_ODOO,
    )
    on_conflict = fields.Selection(
        list(core_ownership.CONFLICT_POLICIES),
        string="When the channel changes it",
        required=True,
        default=core_ownership.POLICY_EXCEPTION,
        help="What happens when the channel changes what it does not own.",
    )

    _sql_constraints = [
        (
            "entity_field_uniq",
            "unique(backend_id, entity, field_name)",
            "One rule per entity and field.",
        )
    ]

    def write(self, vals):
        res = super().write(vals)
        if not self.env.su:
            # Record rules are checked before a write, not after it: nobody
            # moves an ownership row into a company they do not work in.
            self.check_access("write")
        return res

    @api.constrains("backend_id", "entity", "field_name")
    def _check_unique_entity_rule(self):
        # NULL field names are distinct for a unique constraint: check by hand.
        for rule in self.filtered(lambda r: not r.field_name):
            if (
                self.search_count(
                    [
                        ("backend_id", "=", rule.backend_id.id),
                        ("entity", "=", rule.entity),
                        ("field_name", "=", False),
                    ]
                )
                > 1
            ):
                raise ValidationError(
                    self.env._("There is already a rule for the whole %s.", rule.entity)
                )
