# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from odoo import fields, models
from odoo.exceptions import UserError


def linked_display_names(records):
    """``{record id: name of its linked document}`` for ``records`` (with
    ``res_model`` and ``res_id``) whose document still exists: one query per
    model, however many rows a list shows."""
    ids_by_model = {}
    for record in records:
        if record.res_model in records.env and record.res_id:
            ids_by_model.setdefault(record.res_model, set()).add(record.res_id)
    names = {}
    for model, ids in ids_by_model.items():
        for document in records.env[model].browse(ids).exists():
            names[(model, document.id)] = document.display_name
    return {
        record.id: names[(record.res_model, record.res_id)]
        for record in records
        if (record.res_model, record.res_id) in names
    }


class DistributionSyncRecordLinkMixin(models.AbstractModel):
    """A link to the Odoo document a sync record concerns (any model)."""

    _name = "distribution.sync.record.link.mixin"
    _description = "Distribution Sync Document Link"

    res_model = fields.Char(string="Document model", index=True)
    res_id = fields.Many2oneReference(model_field="res_model", string="Document ID")
    document_name = fields.Char(compute="_compute_document_name", string="Document")

    def _compute_document_name(self):
        names = linked_display_names(self)
        for record in self:
            record.document_name = names.get(record.id, False)

    def _document(self):
        """The linked document, or ``None`` when there is none (any more)."""
        self.ensure_one()
        if not self.res_model or not self.res_id or self.res_model not in self.env:
            return None
        return self.env[self.res_model].browse(self.res_id).exists() or None

    def action_open_document(self):
        self.check_access("read")
        self.ensure_one()
        document = self._document()
        if not document:
            raise UserError(self.env._("There is no document to open."))
        return {
            "type": "ir.actions.act_window",
            "res_model": document._name,
            "res_id": document.id,
            "view_mode": "form",
        }
